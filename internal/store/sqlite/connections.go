package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/mailtrail/mailtrail"
)

const connCols = `c.public_id, o.public_id, c.vendor, c.name, c.disabled, c.created_at, c.last_webhook_at, c.prev_until, c.secret, c.prev_secret,
	c.imap_url, c.imap_poll_ms, c.imap_delete, c.imap_secret`

type rowScanner interface{ Scan(dest ...any) error }

func scanConnection(r rowScanner) (*mailtrail.Connection, error) {
	var (
		c                        mailtrail.Connection
		created, last, prevUntil int64
		pollMS                   int64
		prev                     []byte
	)
	if err := r.Scan(&c.ID, &c.OrgID, &c.Vendor, &c.Name, &c.Disabled, &created, &last, &prevUntil, &c.Sealed, &prev,
		&c.IMAPURL, &pollMS, &c.IMAPDelete, &c.SealedIMAP); err != nil {
		return nil, err
	}
	c.IMAPPollSeconds = pollMS / 1000
	c.CreatedAt = fromMS(created)
	if last != 0 {
		t := fromMS(last)
		c.LastWebhookAt = &t
	}
	if prevUntil != 0 && len(prev) > 0 {
		t := fromMS(prevUntil)
		c.PreviousValidUntil = &t
		c.SealedPrevious = prev
	}
	return &c, nil
}

// CreateConnection stores a new connection of c.OrgID with its sealed credentials
// (c.ID, c.Vendor, c.Name, c.Sealed and the optional mailbox fields are the caller's). It sets c.CreatedAt. ENOTFOUND
// for an unknown organization, ECONFLICT when the id exists.
func (db *DB) CreateConnection(ctx context.Context, c *mailtrail.Connection) error {
	org, err := db.orgInternal(ctx, c.OrgID)
	if err != nil {
		return err
	}
	now := db.now().UTC().Truncate(time.Millisecond)
	db.wmu.Lock()
	defer db.wmu.Unlock()
	_, err = db.wc.ExecContext(ctx, `INSERT INTO connections (public_id, org_id, vendor, name, secret, disabled, created_at,
		imap_url, imap_poll_ms, imap_delete, imap_secret) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, org, c.Vendor, c.Name, c.Sealed, c.Disabled, ms(now), c.IMAPURL, c.IMAPPollSeconds*1000, c.IMAPDelete, c.SealedIMAP)
	err = db.autocommit(err)
	if isUniqueViolation(err) {
		return mailtrail.Errorf(mailtrail.ECONFLICT, "connection %q exists", c.ID)
	}
	if err != nil {
		return fmt.Errorf("sqlite: create connection: %w", err)
	}
	c.CreatedAt = now
	return nil
}

// Connections lists an organization's connections, oldest first, with their sealed
// credentials (the caller must not show them).
func (db *DB) Connections(ctx context.Context, orgID string) ([]mailtrail.Connection, error) {
	org, err := db.orgInternal(ctx, orgID)
	if err != nil {
		return nil, err
	}
	rows, err := db.r.QueryContext(ctx, `SELECT `+connCols+` FROM connections c JOIN orgs o ON o.id = c.org_id WHERE c.org_id = ? ORDER BY c.id`, org)
	if err != nil {
		return nil, fmt.Errorf("sqlite: connections: %w", err)
	}
	defer rows.Close()
	out := []mailtrail.Connection{}
	for rows.Next() {
		c, err := scanConnection(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: connections: %w", err)
		}
		out = append(out, *c)
	}
	return out, rows.Err()
}

// Connection returns a connection of the organization, or ENOTFOUND. An empty orgID
// finds it in any organization: the webhook route, where the unguessable id and the
// vendor's credentials are what authenticate the caller.
func (db *DB) Connection(ctx context.Context, orgID, id string) (*mailtrail.Connection, error) {
	c, err := scanConnection(db.r.QueryRowContext(ctx, `SELECT `+connCols+` FROM connections c JOIN orgs o ON o.id = c.org_id WHERE c.public_id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) || (err == nil && orgID != "" && c.OrgID != orgID) {
		return nil, mailtrail.Errorf(mailtrail.ENOTFOUND, "connection not found")
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: connection: %w", err)
	}
	return c, nil
}

// MailboxConnections lists the enabled connections of every organization that name a
// bounce mailbox (IMAPURL set), oldest first, with their sealed credentials.
func (db *DB) MailboxConnections(ctx context.Context) ([]mailtrail.Connection, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT `+connCols+` FROM connections c JOIN orgs o ON o.id = c.org_id
		WHERE c.imap_url != '' AND c.disabled = 0 ORDER BY c.id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: mailbox connections: %w", err)
	}
	defer rows.Close()
	var out []mailtrail.Connection
	for rows.Next() {
		c, err := scanConnection(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: mailbox connections: %w", err)
		}
		out = append(out, *c)
	}
	return out, rows.Err()
}

// SetConnectionDisabled disables or enables a connection of the organization; ENOTFOUND
// when it has none with that id.
func (db *DB) SetConnectionDisabled(ctx context.Context, orgID, id string, disabled bool) error {
	return db.updateConnection(ctx, orgID, id, `UPDATE connections SET disabled = ? WHERE public_id = ? AND org_id = ?`, disabled)
}

// RotateConnection replaces a connection's sealed credentials with sealed; the current
// ones become the previous, accepted until previousUntil (a zero time drops them at once).
// ENOTFOUND when the organization has no such connection.
func (db *DB) RotateConnection(ctx context.Context, orgID, id string, sealed []byte, previousUntil time.Time) error {
	return db.updateConnection(ctx, orgID, id, `UPDATE connections SET prev_secret = secret, prev_until = ?, secret = ? WHERE public_id = ? AND org_id = ?`,
		ms(previousUntil), sealed)
}

// TouchConnection records the arrival time of a verified webhook on a connection. It is
// not scoped by organization: the caller has just looked the connection up by its id.
func (db *DB) TouchConnection(ctx context.Context, id string, at time.Time) error {
	db.wmu.Lock()
	defer db.wmu.Unlock()
	_, err := db.wc.ExecContext(ctx, `UPDATE connections SET last_webhook_at = max(last_webhook_at, ?) WHERE public_id = ?`, ms(at), id)
	if err = db.autocommit(err); err != nil {
		return fmt.Errorf("sqlite: touch connection: %w", err)
	}
	return nil
}

// updateConnection runs q with args then (public id, org row id) as its last arguments.
func (db *DB) updateConnection(ctx context.Context, orgID, id, q string, args ...any) error {
	org, err := db.orgInternal(ctx, orgID)
	if err != nil {
		return err
	}
	db.wmu.Lock()
	defer db.wmu.Unlock()
	res, err := db.wc.ExecContext(ctx, q, append(args, id, org)...)
	if err = db.autocommit(err); err != nil {
		return fmt.Errorf("sqlite: update connection: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return mailtrail.Errorf(mailtrail.ENOTFOUND, "connection not found")
	}
	return nil
}
