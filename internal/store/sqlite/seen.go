package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/ingest"
)

// Seen tells, for each event in order, the id of the stored event it duplicates ("" when
// none), as Write would find it: by its idempotency key in its organization, else by its
// dedupe key (ingest.DedupeKey). Events without either are never duplicates. It reads
// what is committed: the writer side of an event log asks it before an append, together
// with what it appended but the projection has not applied yet.
func (db *DB) Seen(ctx context.Context, events []*mailtrail.Event) ([]string, error) {
	out := make([]string, len(events))
	for i, ev := range events {
		if ik := ingest.IdempotencyKey(ev); ik != nil {
			org, err := db.orgInternal(ctx, ev.OrgID)
			if mailtrail.ErrorCode(err) == mailtrail.ENOTFOUND {
				continue
			}
			if err != nil {
				return nil, err
			}
			err = db.rrow(ctx, `SELECT event_uid FROM idempotency_keys WHERE org_id = ? AND key = ?`, []any{org, ik}, &out[i])
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return nil, fmt.Errorf("sqlite: idempotency key: %w", err)
			}
			if out[i] != "" {
				continue
			}
		}
		if dk := ingest.DedupeKey(ev); dk != nil {
			err := db.rrow(ctx, `SELECT uid FROM events WHERE dedupe = ?`, []any{dk}, &out[i])
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return nil, fmt.Errorf("sqlite: dedupe key: %w", err)
			}
		}
	}
	return out, nil
}
