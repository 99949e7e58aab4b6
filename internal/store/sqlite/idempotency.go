package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/mailtrail/mailtrail"
)

// idempotent looks an event's idempotency key up in its organization. When an event
// already holds it, ev takes that event's id and true is returned: the event is a
// duplicate, whatever its type, time or content.
func (w *batchWriter) idempotent(org int64, key []byte, ev *mailtrail.Event) (bool, error) {
	var uid string
	err := w.tx.scan(`SELECT event_uid FROM idempotency_keys WHERE org_id = ? AND key = ?`, []any{org, key}, &uid)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("sqlite: idempotency key: %w", err)
	}
	ev.ID = uid
	return true, nil
}

// claimIdempotencyKey records the key for ev (not stored yet) in the batch's transaction,
// unless its organization holds it already: then it returns false and changes nothing.
// The row is the one keepIdempotencyKey would write once ev is stored; when ev turns out
// to be a duplicate of an event stored before, settleIdempotencyKey gives the row that
// event's id, as keepIdempotencyKey would have.
func (w *batchWriter) claimIdempotencyKey(org int64, key []byte, ev *mailtrail.Event) (bool, error) {
	res, err := w.tx.exec(`INSERT OR IGNORE INTO idempotency_keys (org_id, key, event_uid, created_at) VALUES (?, ?, ?, ?)`,
		org, key, ev.ID, ev.ReceivedAt.UnixMilli())
	if err != nil {
		return false, fmt.Errorf("sqlite: idempotency key: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sqlite: idempotency key: %w", err)
	}
	return n == 1, nil
}

// settleIdempotencyKey points a key claimed for ev at ev's id, which the store changed to
// the id of the event stored before (a duplicate by its dedupe key).
func (w *batchWriter) settleIdempotencyKey(org int64, key []byte, ev *mailtrail.Event) error {
	if _, err := w.tx.exec(`UPDATE idempotency_keys SET event_uid = ? WHERE org_id = ? AND key = ?`, ev.ID, org, key); err != nil {
		return fmt.Errorf("sqlite: idempotency key: %w", err)
	}
	return nil
}

// keepIdempotencyKey records that ev (stored now, or before under its dedupe key) holds
// its idempotency key, in the batch's transaction.
func (w *batchWriter) keepIdempotencyKey(org int64, key []byte, ev *mailtrail.Event) error {
	if _, err := w.tx.exec(`INSERT OR IGNORE INTO idempotency_keys (org_id, key, event_uid, created_at) VALUES (?, ?, ?, ?)`,
		org, key, ev.ID, ev.ReceivedAt.UnixMilli()); err != nil {
		return fmt.Errorf("sqlite: idempotency key: %w", err)
	}
	return nil
}

// PruneIdempotencyKeys forgets the idempotency keys of events received before the
// cutoff (callers pass now minus ingest.IdempotencyHorizon), at most chunk per
// transaction, and returns how many it removed, also when it stops on an error.
func (db *DB) PruneIdempotencyKeys(ctx context.Context, cutoff time.Time, chunk int) (int, error) {
	if chunk <= 0 {
		chunk = DefaultRetentionChunk
	}
	total := 0
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		tx, done, err := db.writeTx(ctx)
		if err != nil {
			return total, err
		}
		res, err := tx.exec(`DELETE FROM idempotency_keys WHERE (org_id, key) IN
			(SELECT org_id, key FROM idempotency_keys WHERE created_at < ? ORDER BY created_at LIMIT ?)`, cutoff.UnixMilli(), chunk)
		if err == nil {
			err = tx.commit()
		}
		done()
		if err != nil {
			return total, fmt.Errorf("sqlite: prune idempotency keys: %w", err)
		}
		n, _ := res.RowsAffected()
		total += int(n)
		if n < int64(chunk) {
			return total, nil
		}
	}
}
