package postgres

import (
	"context"
	"fmt"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/ingest"
)

// Seen tells, for each event in order, the id of the stored event it duplicates ("" when
// none), as the SQLite store's Seen does: by its idempotency key in its organization,
// else by its dedupe key (ingest.DedupeKey). It reads what is committed: an API node's
// event log sink asks it before an append, together with what it appended itself and
// the workers have not applied yet. One statement per kind of key for the whole batch.
func (db *DB) Seen(ctx context.Context, events []*mailtrail.Event) ([]string, error) {
	out := make([]string, len(events))
	var orgs []int64
	var idem [][]byte
	var idemAt []int
	for i, ev := range events {
		key := ingest.IdempotencyKey(ev)
		if key == nil {
			continue
		}
		org, err := db.orgInternal(ctx, db.pool, ev.OrgID)
		if mailtrail.ErrorCode(err) == mailtrail.ENOTFOUND {
			continue
		}
		if err != nil {
			return nil, err
		}
		orgs, idem, idemAt = append(orgs, org), append(idem, key), append(idemAt, i)
	}
	if len(idem) > 0 {
		found, err := db.seenKeys(ctx, `SELECT k.i, k2.event_uid FROM unnest($1::bigint[], $2::bytea[]) WITH ORDINALITY AS k(org, key, i)
			JOIN idempotency_keys k2 ON k2.org_id = k.org AND k2.key = k.key`, orgs, idem)
		if err != nil {
			return nil, fmt.Errorf("postgres: idempotency keys: %w", err)
		}
		for j, uid := range found {
			out[idemAt[j]] = uid
		}
	}
	var dedupe [][]byte
	var dedupeAt []int
	for i, ev := range events {
		if out[i] != "" {
			continue
		}
		if dk := ingest.DedupeKey(ev); dk != nil {
			dedupe, dedupeAt = append(dedupe, dk), append(dedupeAt, i)
		}
	}
	if len(dedupe) > 0 {
		found, err := db.seenKeys(ctx, `SELECT k.i, e.uid FROM unnest($1::bytea[]) WITH ORDINALITY AS k(key, i) JOIN events e ON e.dedupe = k.key`, dedupe)
		if err != nil {
			return nil, fmt.Errorf("postgres: dedupe keys: %w", err)
		}
		for j, uid := range found {
			out[dedupeAt[j]] = uid
		}
	}
	return out, nil
}

// seenKeys runs q, which answers (ordinality, uid) pairs, and returns the uids by
// position (ordinality - 1).
func (db *DB) seenKeys(ctx context.Context, q string, args ...any) (map[int]string, error) {
	rows, err := db.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	found := map[int]string{}
	for rows.Next() {
		var i int64
		var uid string
		if err := rows.Scan(&i, &uid); err != nil {
			return nil, err
		}
		found[int(i-1)] = uid
	}
	return found, rows.Err()
}
