package sqlite

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/ingest"
)

// seenChunk is how many keys one lookup of Seen asks for (a shorter chunk repeats its last
// key, so each query text is prepared once).
const seenChunk = 64

var (
	seenIdemQuery   = `SELECT key, event_uid FROM idempotency_keys WHERE org_id = ? AND key IN (?` + strings.Repeat(", ?", seenChunk-1) + `)`
	seenDedupeQuery = `SELECT dedupe, uid FROM events WHERE dedupe IN (?` + strings.Repeat(", ?", seenChunk-1) + `)`
)

// Seen tells, for each event in order, the id of the stored event it duplicates ("" when
// none), as Write would find it: by its idempotency key in its organization, else by its
// dedupe key (ingest.DedupeKey). Events without either are never duplicates. It reads
// what is committed: the writer side of an event log asks it before an append, together
// with what it appended but the projection has not applied yet. The keys are looked up
// seenChunk at a time, not one query per event.
func (db *DB) Seen(ctx context.Context, events []*mailtrail.Event) ([]string, error) {
	out := make([]string, len(events))
	byOrg := map[int64][]int{} // events with an idempotency key, by organization
	for i, ev := range events {
		if ingest.IdempotencyKey(ev) == nil {
			continue
		}
		org, err := db.orgInternal(ctx, ev.OrgID)
		if mailtrail.ErrorCode(err) == mailtrail.ENOTFOUND {
			continue
		}
		if err != nil {
			return nil, err
		}
		byOrg[org] = append(byOrg[org], i)
	}
	for org, idx := range byOrg {
		keys := make([][]byte, len(idx))
		for j, i := range idx {
			keys[j] = ingest.IdempotencyKey(events[i])
		}
		found, err := db.seenKeys(ctx, seenIdemQuery, []any{org}, keys)
		if err != nil {
			return nil, fmt.Errorf("sqlite: idempotency keys: %w", err)
		}
		for j, i := range idx {
			out[i] = found[string(keys[j])]
		}
	}
	var idx []int
	var keys [][]byte
	for i, ev := range events {
		if out[i] != "" {
			continue
		}
		if dk := ingest.DedupeKey(ev); dk != nil {
			idx, keys = append(idx, i), append(keys, dk)
		}
	}
	if len(keys) > 0 {
		found, err := db.seenKeys(ctx, seenDedupeQuery, nil, keys)
		if err != nil {
			return nil, fmt.Errorf("sqlite: dedupe keys: %w", err)
		}
		for j, i := range idx {
			out[i] = found[string(keys[j])]
		}
	}
	return out, nil
}

// seenKeys runs q (prefix arguments, then seenChunk keys) over keys in chunks and returns
// the uid found for each key.
func (db *DB) seenKeys(ctx context.Context, q string, prefix []any, keys [][]byte) (map[string]string, error) {
	found := map[string]string{}
	args := make([]any, len(prefix)+seenChunk)
	copy(args, prefix)
	for start := 0; start < len(keys); start += seenChunk {
		chunk := keys[start:min(start+seenChunk, len(keys))]
		for j := range seenChunk {
			args[len(prefix)+j] = chunk[min(j, len(chunk)-1)]
		}
		rows, err := db.rquery(ctx, q, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var key []byte
			var uid string
			if err := rows.Scan(&key, &uid); err != nil {
				rows.Close()
				return nil, err
			}
			found[string(key)] = uid
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, err
		}
	}
	return found, nil
}

// storedKeysChunk is how many keys one query of StoredKeys reads (tests make it small):
// each chunk is its own short read, so a scan of millions of keys holds no snapshot that
// would stop the WAL from being checkpointed.
var storedKeysChunk = 20000

// CountStoredKeys returns how many keys StoredKeys would report, about.
func (db *DB) CountStoredKeys(ctx context.Context) (int, error) {
	var idem, ded int
	if err := db.rrow(ctx, `SELECT count(*) FROM idempotency_keys`, nil, &idem); err != nil {
		return 0, fmt.Errorf("sqlite: count idempotency keys: %w", err)
	}
	if err := db.rrow(ctx, `SELECT count(*) FROM events WHERE dedupe > x''`, nil, &ded); err != nil {
		return 0, fmt.Errorf("sqlite: count dedupe keys: %w", err)
	}
	return idem + ded, nil
}

// StoredKeys calls fn with every key Seen finds events by that the store holds: each
// idempotency key with its organization's public id, and each event's dedupe key
// (ingest.DedupeKey) with org "". The writer side of an event log builds a filter from them, so that it asks Seen only about
// keys the store may hold. The scan reads storedKeysChunk keys per query in key order, so
// a key committed during the scan may be reported or not; fn must not keep key.
func (db *DB) StoredKeys(ctx context.Context, fn func(org string, key []byte) error) error {
	orgs := map[int64]string{}
	rows, err := db.rquery(ctx, `SELECT id, public_id FROM orgs`)
	if err != nil {
		return fmt.Errorf("sqlite: stored keys: %w", err)
	}
	for rows.Next() {
		var id int64
		var public string
		if err := rows.Scan(&id, &public); err != nil {
			rows.Close()
			return fmt.Errorf("sqlite: stored keys: %w", err)
		}
		orgs[id] = public
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: stored keys: %w", err)
	}
	var org int64 = -1 << 63
	key := []byte{}
	for {
		n := 0
		rows, err := db.rquery(ctx, `SELECT org_id, key FROM idempotency_keys WHERE (org_id, key) > (?, ?) ORDER BY org_id, key LIMIT `+strconv.Itoa(storedKeysChunk), org, key)
		if err != nil {
			return fmt.Errorf("sqlite: stored idempotency keys: %w", err)
		}
		for rows.Next() {
			if err := rows.Scan(&org, &key); err != nil {
				rows.Close()
				return fmt.Errorf("sqlite: stored idempotency keys: %w", err)
			}
			n++
			// An organization created after orgs was read has only keys its events
			// brought after the scan began, which the caller learns as it appends them.
			if public, ok := orgs[org]; ok {
				if err := fn(public, key); err != nil {
					rows.Close()
					return err
				}
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("sqlite: stored idempotency keys: %w", err)
		}
		if n < storedKeysChunk {
			break
		}
		key = append([]byte(nil), key...)
	}
	from := []byte{} // below every key
	for {
		n := 0
		rows, err := db.rquery(ctx, `SELECT dedupe FROM events WHERE dedupe > ? ORDER BY dedupe LIMIT `+strconv.Itoa(storedKeysChunk), from)
		if err != nil {
			return fmt.Errorf("sqlite: stored dedupe keys: %w", err)
		}
		var last []byte
		for rows.Next() {
			if err := rows.Scan(&last); err != nil {
				rows.Close()
				return fmt.Errorf("sqlite: stored dedupe keys: %w", err)
			}
			n++
			if err := fn("", last); err != nil {
				rows.Close()
				return err
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("sqlite: stored dedupe keys: %w", err)
		}
		if n < storedKeysChunk {
			return nil
		}
		from = append([]byte(nil), last...)
	}
}
