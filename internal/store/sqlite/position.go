package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/ingest"
)

// logPosition is where in a log (its stream) the batch of a WriteAt comes from.
type logPosition struct {
	stream string
	pos    uint64
}

// claim moves the stream's position to p.pos in the transaction tx, or returns
// ingest.ErrApplied when the stored position is p.pos or past it. One statement: the row
// changes only when the new position is greater.
func (p *logPosition) claim(tx *txc, now time.Time) error {
	res, err := tx.exec(`INSERT INTO projection_positions (stream, pos, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (stream) DO UPDATE SET pos = excluded.pos, updated_at = excluded.updated_at WHERE excluded.pos > pos`,
		p.stream, int64(p.pos), now.UnixMilli())
	if err != nil {
		return fmt.Errorf("sqlite: projection position: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: projection position: %w", err)
	} else if n == 0 {
		return ingest.ErrApplied
	}
	return nil
}

// WriteAt writes batch exactly as Write does and, in the same transaction, sets the
// position of stream (a log this store is a projection of) to pos: after a crash the
// store holds the batch and its position, or neither. When the stored position is pos or
// past it the batch was applied before: nothing is written and the error is
// ingest.ErrApplied, with an empty change-set. pos must be at least 1 (a log's first
// position) and fit in an int64; stream must not be empty (EINVALID otherwise).
func (db *DB) WriteAt(ctx context.Context, stream string, pos uint64, batch []*mailtrail.Event) (ingest.ChangeSet, error) {
	if stream == "" || pos == 0 || pos > math.MaxInt64 {
		return ingest.ChangeSet{}, mailtrail.Errorf(mailtrail.EINVALID, "a projection position needs a stream and a position from 1 to 2^63-1")
	}
	return db.writeBatch(ctx, batch, &logPosition{stream: stream, pos: pos})
}

// Position returns the position of the last record of stream written with WriteAt, 0
// when none was.
func (db *DB) Position(ctx context.Context, stream string) (uint64, error) {
	var pos int64
	err := db.rrow(ctx, `SELECT pos FROM projection_positions WHERE stream = ?`, []any{stream}, &pos)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("sqlite: projection position: %w", err)
	}
	return uint64(pos), nil
}
