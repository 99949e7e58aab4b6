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

// logPosition is where in a log (its stream) the batch of a WriteAt comes from: the
// records after position after, up to and including pos.
type logPosition struct {
	stream     string
	after, pos uint64
}

// claim moves the stream's position from p.after to p.pos in the transaction tx. When the
// stored position is p.pos or past it, it returns ingest.ErrApplied; when it is another
// position before p.pos, ingest.ErrPositionMoved; then nothing is changed.
func (p *logPosition) claim(tx *txc, now time.Time) error {
	var stored int64
	err := tx.scan(`SELECT pos FROM projection_positions WHERE stream = ?`, []any{p.stream}, &stored)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("sqlite: projection position: %w", err)
	}
	switch {
	case uint64(stored) >= p.pos:
		return ingest.ErrApplied
	case uint64(stored) != p.after:
		return fmt.Errorf("%w: stored %d, the write starts after %d", ingest.ErrPositionMoved, stored, p.after)
	}
	if _, err := tx.exec(`INSERT INTO projection_positions (stream, pos, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (stream) DO UPDATE SET pos = excluded.pos, updated_at = excluded.updated_at`,
		p.stream, int64(p.pos), now.UnixMilli()); err != nil {
		return fmt.Errorf("sqlite: projection position: %w", err)
	}
	return nil
}

// WriteAt writes batch exactly as Write does and, in the same transaction, moves the
// position of stream (a log this store is a projection of) from after to pos: batch holds
// the log's records after position after up to and including pos, and after a crash the
// store holds the batch and its position, or neither. It writes nothing when the stored
// position is not after: ingest.ErrApplied when it is pos or past it (the batch was
// applied before), ingest.ErrPositionMoved when it is another position before pos (part
// of the batch was applied, or records before it were not); the change-set is then empty.
// pos must be greater than after and fit in an int64, and stream must not be empty
// (EINVALID otherwise). A store's position starts at 0.
func (db *DB) WriteAt(ctx context.Context, stream string, after, pos uint64, batch []*mailtrail.Event) (ingest.ChangeSet, error) {
	if stream == "" || pos <= after || pos > math.MaxInt64 {
		return ingest.ChangeSet{}, mailtrail.Errorf(mailtrail.EINVALID, "a projection write needs a stream and positions after < pos ≤ 2^63-1")
	}
	return db.writeBatch(ctx, batch, &logPosition{stream: stream, after: after, pos: pos})
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

// Positions returns every log position the store holds (see Position), by stream name.
func (db *DB) Positions(ctx context.Context) (map[string]uint64, error) {
	rows, err := db.rquery(ctx, `SELECT stream, pos FROM projection_positions`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: projection positions: %w", err)
	}
	defer rows.Close()
	out := map[string]uint64{}
	for rows.Next() {
		var stream string
		var pos int64
		if err := rows.Scan(&stream, &pos); err != nil {
			return nil, fmt.Errorf("sqlite: projection positions: %w", err)
		}
		out[stream] = uint64(pos)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: projection positions: %w", err)
	}
	return out, nil
}

// Follow records that the store follows stream, at position 0 when it has none yet: a
// log the store is the projection of, before anything of it is applied (Positions then
// lists it).
func (db *DB) Follow(ctx context.Context, stream string) error {
	tx, done, err := db.writeTx(ctx)
	if err != nil {
		return err
	}
	defer done()
	if _, err := tx.exec(`INSERT INTO projection_positions (stream, pos, updated_at) VALUES (?, 0, ?) ON CONFLICT (stream) DO NOTHING`,
		stream, time.Now().UnixMilli()); err != nil {
		return fmt.Errorf("sqlite: projection position: %w", err)
	}
	return tx.commit()
}
