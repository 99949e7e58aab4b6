package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/mailtrail/mailtrail"
)

// ResealConnections passes every connection (all organizations, disabled ones too) to f
// inside one write transaction, and stores the sealed fields (Sealed, SealedPrevious,
// SealedIMAP) of each connection for which f returns true. Only ID, OrgID, Vendor and the
// sealed fields are filled; SealedPrevious is given even when its grace period is over.
// f runs under the writer lock: it must not call the store. An error of f rolls back
// every change and is returned. It returns how many connections were stored.
func (db *DB) ResealConnections(ctx context.Context, f func(*mailtrail.Connection) (bool, error)) (int, error) {
	return reseal(db, ctx, "connections", `SELECT c.id, c.public_id, o.public_id, c.vendor, c.secret, c.prev_secret, c.imap_secret
		FROM connections c JOIN orgs o ON o.id = c.org_id ORDER BY c.id`,
		func(rows *sql.Rows, id *int64, c *mailtrail.Connection) error {
			return rows.Scan(id, &c.ID, &c.OrgID, &c.Vendor, &c.Sealed, &c.SealedPrevious, &c.SealedIMAP)
		}, f,
		func(t *txc, id int64, c *mailtrail.Connection) error {
			_, err := t.exec(`UPDATE connections SET secret = ?, prev_secret = ?, imap_secret = ? WHERE id = ?`,
				c.Sealed, c.SealedPrevious, c.SealedIMAP, id)
			return err
		})
}

// ResealSubscriptions passes every subscription (all organizations, disabled ones too)
// to f inside one write transaction, and stores the Sealed secret of each for which f
// returns true. Only ID, OrgID and Sealed are filled. f runs under the writer lock: it
// must not call the store. An error of f rolls back every change and is returned. It
// returns how many subscriptions were stored.
func (db *DB) ResealSubscriptions(ctx context.Context, f func(*mailtrail.Subscription) (bool, error)) (int, error) {
	return reseal(db, ctx, "subscriptions", `SELECT s.id, s.public_id, o.public_id, s.secret FROM subscriptions s
		JOIN orgs o ON o.id = s.org_id ORDER BY s.id`,
		func(rows *sql.Rows, id *int64, s *mailtrail.Subscription) error {
			return rows.Scan(id, &s.ID, &s.OrgID, &s.Sealed)
		}, f,
		func(t *txc, id int64, s *mailtrail.Subscription) error {
			_, err := t.exec(`UPDATE subscriptions SET secret = ? WHERE id = ?`, s.Sealed, id)
			return err
		})
}

// reseal reads every row of q (row id first) with scan, passes each to f and writes
// back with update the rows f changed, in one write transaction; it returns how many.
func reseal[T any](db *DB, ctx context.Context, table, q string, scan func(*sql.Rows, *int64, *T) error,
	f func(*T) (bool, error), update func(*txc, int64, *T) error) (int, error) {
	type row struct {
		id int64
		v  T
	}
	t, done, err := db.writeTx(ctx)
	if err != nil {
		return 0, err
	}
	defer done()
	rows, err := t.query(q)
	if err != nil {
		return 0, fmt.Errorf("sqlite: reseal %s: %w", table, err)
	}
	var all []row
	for rows.Next() {
		var r row
		if err := scan(rows, &r.id, &r.v); err != nil {
			rows.Close()
			return 0, fmt.Errorf("sqlite: reseal %s: %w", table, err)
		}
		all = append(all, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("sqlite: reseal %s: %w", table, err)
	}
	n := 0
	for i := range all {
		r := &all[i]
		changed, err := f(&r.v)
		if err != nil {
			return 0, err
		}
		if !changed {
			continue
		}
		if err := update(t, r.id, &r.v); err != nil {
			return 0, fmt.Errorf("sqlite: reseal %s: %w", table, err)
		}
		n++
	}
	if n == 0 {
		return 0, nil // the deferred rollback ends the transaction: nothing was written
	}
	if err := t.commit(); err != nil {
		return 0, err
	}
	return n, nil
}
