package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
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

// storedKeysChunk is how many keys one query of StoredKeys reads (tests make it small).
var storedKeysChunk = 20000

// CountStoredKeys returns how many keys StoredKeys would report, about.
func (db *DB) CountStoredKeys(ctx context.Context) (int, error) {
	var n int
	if err := db.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM idempotency_keys) + (SELECT count(*) FROM events WHERE dedupe IS NOT NULL)`).Scan(&n); err != nil {
		return 0, fmt.Errorf("postgres: count stored keys: %w", err)
	}
	return n, nil
}

// StoredKeys calls fn with every key Seen finds events by that the store holds, as the
// SQLite store's does: each idempotency key with its organization's public id, and each
// event's dedupe key with org "", storedKeysChunk keys per query in key order (a key
// committed during the scan may be reported or not). An API node's event log sink builds
// its filter of the store's keys from them; fn must not keep key.
func (db *DB) StoredKeys(ctx context.Context, fn func(org string, key []byte) error) error {
	org, key := int64(-1<<63), []byte{}
	for {
		rows, err := db.pool.Query(ctx, `SELECT k.org_id, o.public_id, k.key FROM idempotency_keys k JOIN orgs o ON o.id = k.org_id
			WHERE (k.org_id, k.key) > ($1, $2) ORDER BY k.org_id, k.key LIMIT $3`, org, key, storedKeysChunk)
		if err != nil {
			return fmt.Errorf("postgres: stored idempotency keys: %w", err)
		}
		n := 0
		var public string
		_, err = pgx.ForEachRow(rows, []any{&org, &public, &key}, func() error {
			n++
			return fn(public, key)
		})
		if err != nil {
			return err
		}
		if n < storedKeysChunk {
			break
		}
		key = append([]byte(nil), key...)
	}
	from := []byte{}
	for {
		rows, err := db.pool.Query(ctx, `SELECT dedupe FROM events WHERE dedupe > $1 ORDER BY dedupe LIMIT $2`, from, storedKeysChunk)
		if err != nil {
			return fmt.Errorf("postgres: stored dedupe keys: %w", err)
		}
		n := 0
		var last []byte
		_, err = pgx.ForEachRow(rows, []any{&last}, func() error {
			n++
			return fn("", last)
		})
		if err != nil {
			return err
		}
		if n < storedKeysChunk {
			return nil
		}
		from = append([]byte(nil), last...)
	}
}
