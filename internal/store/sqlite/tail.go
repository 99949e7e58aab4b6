package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"
)

// tailIndex lists, per customer, the events past the customer index's watermark (the tail
// the background indexer has not moved into customer_events yet), so a customer query
// reads its own tail events by primary key instead of scanning the whole tail.
//
// The writer adds events after each commit, before the pipeline acknowledges them. The
// indexer drops events only tailKeep after its commit moved them into customer_events:
// a reader whose snapshot predates that commit still finds them here, and one whose
// snapshot follows it finds them in the index; queries keep only ids past their
// snapshot's watermark, so no event is read twice.
type tailIndex struct {
	mu      sync.Mutex
	byCust  map[int64][]int64 // customer row id → event row ids, ascending
	indexed []tailMark        // indexer commits whose events are still listed
}

type tailMark struct {
	upTo int64
	at   time.Time
}

// tailKeep is how long events stay listed after the indexer indexed them: far longer
// than any read transaction of a customer query.
const tailKeep = 10 * time.Second

func newTailIndex() *tailIndex { return &tailIndex{byCust: map[int64][]int64{}} }

func (t *tailIndex) add(adds [][2]int64) {
	if len(adds) == 0 {
		return
	}
	t.mu.Lock()
	for _, a := range adds {
		t.byCust[a[0]] = append(t.byCust[a[0]], a[1])
	}
	t.mu.Unlock()
}

// ids returns customer cust's listed event ids as a JSON array, for json_each.
func (t *tailIndex) ids(cust int64) string {
	t.mu.Lock()
	b, _ := json.Marshal(t.byCust[cust])
	t.mu.Unlock()
	if string(b) == "null" {
		return "[]"
	}
	return string(b)
}

// indexedUpTo records that the indexer committed every event up to id upTo, and drops
// the events of earlier commits that are older than tailKeep.
func (t *tailIndex) indexedUpTo(upTo int64, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.indexed = append(t.indexed, tailMark{upTo, now})
	var drop int64
	keep := t.indexed[:0]
	for _, m := range t.indexed {
		if now.Sub(m.at) >= tailKeep {
			drop = max(drop, m.upTo)
		} else {
			keep = append(keep, m)
		}
	}
	t.indexed = keep
	if drop == 0 {
		return
	}
	for c, ids := range t.byCust {
		i := 0
		for i < len(ids) && ids[i] <= drop {
			i++
		}
		switch {
		case i == len(ids):
			delete(t.byCust, c)
		case i > 0:
			t.byCust[c] = append(ids[:0:0], ids[i:]...)
		}
	}
}

// loadTail lists the events past the watermark at open (the tail a previous process left).
func (db *DB) loadTail(ctx context.Context) error {
	rows, err := db.w.QueryContext(ctx, `SELECT customer_id, id FROM events
		WHERE id > (SELECT last_id FROM indexer_state WHERE name = 'customer_events') ORDER BY id`)
	if err != nil {
		return fmt.Errorf("sqlite: customer tail: %w", err)
	}
	defer rows.Close()
	var adds [][2]int64
	for rows.Next() {
		var a [2]int64
		if err := rows.Scan(&a[0], &a[1]); err != nil {
			return fmt.Errorf("sqlite: customer tail: %w", err)
		}
		adds = append(adds, a)
	}
	db.tail.add(adds)
	return rows.Err()
}
