package sqlite

import (
	"context"
	"fmt"
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
