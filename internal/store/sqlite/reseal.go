package sqlite

import (
	"context"
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
	type row struct {
		id int64
		c  mailtrail.Connection
	}
	db.wmu.Lock()
	defer db.wmu.Unlock()
	t, err := db.begin(ctx)
	if err != nil {
		return 0, err
	}
	defer t.rollback()
	rows, err := t.query(`SELECT c.id, c.public_id, o.public_id, c.vendor, c.secret, c.prev_secret, c.imap_secret
		FROM connections c JOIN orgs o ON o.id = c.org_id ORDER BY c.id`)
	if err != nil {
		return 0, fmt.Errorf("sqlite: reseal connections: %w", err)
	}
	var all []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.c.ID, &r.c.OrgID, &r.c.Vendor, &r.c.Sealed, &r.c.SealedPrevious, &r.c.SealedIMAP); err != nil {
			rows.Close()
			return 0, fmt.Errorf("sqlite: reseal connections: %w", err)
		}
		all = append(all, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("sqlite: reseal connections: %w", err)
	}
	n := 0
	for i := range all {
		r := &all[i]
		changed, err := f(&r.c)
		if err != nil {
			return 0, err
		}
		if !changed {
			continue
		}
		if _, err := t.exec(`UPDATE connections SET secret = ?, prev_secret = ?, imap_secret = ? WHERE id = ?`,
			r.c.Sealed, r.c.SealedPrevious, r.c.SealedIMAP, r.id); err != nil {
			return 0, fmt.Errorf("sqlite: reseal connections: %w", err)
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

// ResealSubscriptions passes every subscription (all organizations, disabled ones too)
// to f inside one write transaction, and stores the Sealed secret of each for which f
// returns true. Only ID, OrgID and Sealed are filled. f runs under the writer lock: it
// must not call the store. An error of f rolls back every change and is returned. It
// returns how many subscriptions were stored.
func (db *DB) ResealSubscriptions(ctx context.Context, f func(*mailtrail.Subscription) (bool, error)) (int, error) {
	type row struct {
		id int64
		s  mailtrail.Subscription
	}
	db.wmu.Lock()
	defer db.wmu.Unlock()
	t, err := db.begin(ctx)
	if err != nil {
		return 0, err
	}
	defer t.rollback()
	rows, err := t.query(`SELECT s.id, s.public_id, o.public_id, s.secret FROM subscriptions s JOIN orgs o ON o.id = s.org_id ORDER BY s.id`)
	if err != nil {
		return 0, fmt.Errorf("sqlite: reseal subscriptions: %w", err)
	}
	var all []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.s.ID, &r.s.OrgID, &r.s.Sealed); err != nil {
			rows.Close()
			return 0, fmt.Errorf("sqlite: reseal subscriptions: %w", err)
		}
		all = append(all, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("sqlite: reseal subscriptions: %w", err)
	}
	n := 0
	for i := range all {
		r := &all[i]
		changed, err := f(&r.s)
		if err != nil {
			return 0, err
		}
		if !changed {
			continue
		}
		if _, err := t.exec(`UPDATE subscriptions SET secret = ? WHERE id = ?`, r.s.Sealed, r.id); err != nil {
			return 0, fmt.Errorf("sqlite: reseal subscriptions: %w", err)
		}
		n++
	}
	if n == 0 {
		return 0, nil
	}
	if err := t.commit(); err != nil {
		return 0, err
	}
	return n, nil
}
