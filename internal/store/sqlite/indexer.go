package sqlite

import (
	"context"
	"fmt"
	"time"
)

// indexChunk is the most events one indexer transaction moves into customer_events.
const indexChunk = 50_000

// IndexCustomerEvents moves events past the customer index's watermark into the index,
// at most indexChunk of them, sorted by key so each index page is written once per run.
// It returns how many events it indexed.
func (db *DB) IndexCustomerEvents(ctx context.Context) (int, error) {
	tx, done, err := db.writeTx(ctx)
	if err != nil {
		return 0, err
	}
	defer done()
	var last, top int64
	if err := tx.scan(`SELECT last_id FROM indexer_state WHERE name = 'customer_events'`, nil, &last); err != nil {
		return 0, fmt.Errorf("sqlite: indexer: %w", err)
	}
	if err := tx.scan(`SELECT coalesce(max(id), 0) FROM (SELECT id FROM events WHERE id > ? ORDER BY id LIMIT ?)`, []any{last, indexChunk}, &top); err != nil {
		return 0, fmt.Errorf("sqlite: indexer: %w", err)
	}
	if top <= last {
		return 0, nil
	}
	res, err := tx.exec(`INSERT OR IGNORE INTO customer_events (customer_id, occurred_at, event_id)
		SELECT customer_id, occurred_at, id FROM events WHERE id > ? AND id <= ? ORDER BY customer_id, occurred_at, id`, last, top)
	if err != nil {
		return 0, fmt.Errorf("sqlite: indexer: %w", err)
	}
	if _, err := tx.exec(`UPDATE indexer_state SET last_id = ? WHERE name = 'customer_events'`, top); err != nil {
		return 0, fmt.Errorf("sqlite: indexer: %w", err)
	}
	if err := tx.commit(); err != nil {
		return 0, err
	}
	db.tail.indexedUpTo(top, time.Now())
	n, _ := res.RowsAffected()
	return int(n), nil
}

// RunIndexer keeps the customer index close behind ingest until ctx ends: it indexes
// whenever there is a tail, and sleeps interval when there is none. Readers are exact
// whatever the lag; the lag only bounds how many tail events a customer query scans.
func (db *DB) RunIndexer(ctx context.Context, interval time.Duration, onErr func(error)) {
	t := time.NewTimer(interval)
	defer t.Stop()
	for {
		n, err := db.IndexCustomerEvents(ctx)
		if err != nil && ctx.Err() == nil && onErr != nil {
			onErr(err)
		}
		wait := interval
		if n == indexChunk {
			wait = 0 // more to do
		}
		t.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
