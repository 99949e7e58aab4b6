package postgres

import "context"

// MarkedBelow exposes markedBelow to the tests.
var MarkedBelow = markedBelow

// InsertInFlight begins a transaction that inserts events as the write path does (marked
// first), inserts a copy of the store's first event (uid uid) and leaves the transaction
// open: it returns the copy's id and the transaction's end (commit, else roll back; a
// second call does nothing).
func InsertInFlight(ctx context.Context, db *DB, uid string) (id int64, end func(commit bool) error, err error) {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return 0, nil, err
	}
	if err = db.markInsert(ctx, tx); err == nil {
		err = tx.QueryRow(ctx, `INSERT INTO events (uid, org_id, campaign_id, customer_id, message_id, type, occurred_at, received_at, source, counted)
			SELECT $1, org_id, campaign_id, customer_id, message_id, type, occurred_at, received_at, source, counted FROM events ORDER BY id LIMIT 1
			RETURNING id`, uid).Scan(&id)
	}
	if err != nil {
		tx.Rollback(ctx)
		return 0, nil, err
	}
	return id, func(commit bool) error {
		if commit {
			return tx.Commit(ctx)
		}
		return tx.Rollback(ctx)
	}, nil
}

// SetStoredKeysChunk sets storedKeysChunk and returns what restores it.
func SetStoredKeysChunk(n int) (restore func()) {
	old := storedKeysChunk
	storedKeysChunk = n
	return func() { storedKeysChunk = old }
}
