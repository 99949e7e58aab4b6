package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/mailtrail/mailtrail"
)

// Connections, as the SQLite store keeps them (internal/store/sqlite, connections.go and
// reseal.go): shared by every API node, so a connection created, rotated or disabled on
// one is what the webhooks on every other one verify against.

const connCols = `c.public_id, o.public_id, c.vendor, c.name, c.disabled, c.created_at, c.last_webhook_at, c.prev_until, c.secret, c.prev_secret,
	c.imap_url, c.imap_poll_ms, c.imap_delete, c.imap_secret`

func scanConnection(r pgx.Row) (*mailtrail.Connection, error) {
	var (
		c                                mailtrail.Connection
		created, last, prevUntil, pollMS int64
		prev                             []byte
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

// CreateConnection stores a new connection of c.OrgID with its sealed credentials (c.ID,
// c.Vendor, c.Name, c.Sealed and the optional mailbox fields are the caller's). It sets
// c.CreatedAt. ENOTFOUND for an unknown organization, ECONFLICT when the id exists.
func (db *DB) CreateConnection(ctx context.Context, c *mailtrail.Connection) error {
	org, err := db.orgInternal(ctx, db.pool, c.OrgID)
	if err != nil {
		return err
	}
	now := db.now().UTC().Truncate(time.Millisecond)
	_, err = db.pool.Exec(ctx, `INSERT INTO connections (public_id, org_id, vendor, name, secret, disabled, created_at,
		imap_url, imap_poll_ms, imap_delete, imap_secret) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		c.ID, org, c.Vendor, c.Name, c.Sealed, c.Disabled, now.UnixMilli(), c.IMAPURL, c.IMAPPollSeconds*1000, c.IMAPDelete, c.SealedIMAP)
	if isUniqueViolation(err) {
		return mailtrail.Errorf(mailtrail.ECONFLICT, "connection %q exists", c.ID)
	}
	if err != nil {
		return fmt.Errorf("postgres: create connection: %w", err)
	}
	c.CreatedAt = now
	return nil
}

// Connections lists an organization's connections, oldest first, with their sealed
// credentials (the caller must not show them); ENOTFOUND for an unknown organization.
func (db *DB) Connections(ctx context.Context, orgID string) ([]mailtrail.Connection, error) {
	org, err := db.orgInternal(ctx, db.pool, orgID)
	if err != nil {
		return nil, err
	}
	out, err := db.connections(ctx, `WHERE c.org_id = $1`, org)
	if out == nil && err == nil {
		out = []mailtrail.Connection{}
	}
	return out, err
}

// Connection returns a connection of the organization, or ENOTFOUND. An empty orgID
// finds it in any organization: the webhook route, where the unguessable id and the
// vendor's credentials are what authenticate the caller.
func (db *DB) Connection(ctx context.Context, orgID, id string) (*mailtrail.Connection, error) {
	c, err := scanConnection(db.pool.QueryRow(ctx, `SELECT `+connCols+` FROM connections c JOIN orgs o ON o.id = c.org_id WHERE c.public_id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && orgID != "" && c.OrgID != orgID) {
		return nil, mailtrail.Errorf(mailtrail.ENOTFOUND, "connection not found")
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: connection: %w", err)
	}
	return c, nil
}

// MailboxConnections lists the enabled connections of every organization that name a
// bounce mailbox (IMAPURL set), oldest first, with their sealed credentials.
func (db *DB) MailboxConnections(ctx context.Context) ([]mailtrail.Connection, error) {
	return db.connections(ctx, `WHERE c.imap_url <> '' AND NOT c.disabled`)
}

// connections lists the connections that where selects, oldest first.
func (db *DB) connections(ctx context.Context, where string, args ...any) ([]mailtrail.Connection, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+connCols+` FROM connections c JOIN orgs o ON o.id = c.org_id `+where+` ORDER BY c.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: connections: %w", err)
	}
	defer rows.Close()
	var out []mailtrail.Connection
	for rows.Next() {
		c, err := scanConnection(rows)
		if err != nil {
			return nil, fmt.Errorf("postgres: connections: %w", err)
		}
		out = append(out, *c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: connections: %w", err)
	}
	return out, nil
}

// SetConnectionDisabled disables or enables a connection of the organization; ENOTFOUND
// when it has none with that id.
func (db *DB) SetConnectionDisabled(ctx context.Context, orgID, id string, disabled bool) error {
	return db.updateConnection(ctx, orgID, id, `UPDATE connections SET disabled = $1 WHERE public_id = $2 AND org_id = $3`, disabled)
}

// RotateConnection replaces a connection's sealed credentials with sealed; the current
// ones become the previous, accepted until previousUntil (a zero time drops them at once).
// ENOTFOUND when the organization has no such connection.
func (db *DB) RotateConnection(ctx context.Context, orgID, id string, sealed []byte, previousUntil time.Time) error {
	var until int64
	if !previousUntil.IsZero() {
		until = previousUntil.UnixMilli()
	}
	return db.updateConnection(ctx, orgID, id, `UPDATE connections SET prev_secret = secret, prev_until = $1, secret = $2
		WHERE public_id = $3 AND org_id = $4`, until, sealed)
}

// TouchConnection records the arrival time of a verified webhook on a connection, never
// moving it back (nodes touch it in any order). It is not scoped by organization: the
// caller has just looked the connection up by its id.
func (db *DB) TouchConnection(ctx context.Context, id string, at time.Time) error {
	if _, err := db.pool.Exec(ctx, `UPDATE connections SET last_webhook_at = greatest(last_webhook_at, $1) WHERE public_id = $2`,
		at.UnixMilli(), id); err != nil {
		return fmt.Errorf("postgres: touch connection: %w", err)
	}
	return nil
}

// updateConnection runs q with args then (public id, org row id) as its last arguments;
// ENOTFOUND when it changes no row.
func (db *DB) updateConnection(ctx context.Context, orgID, id, q string, args ...any) error {
	org, err := db.orgInternal(ctx, db.pool, orgID)
	if err != nil {
		return err
	}
	tag, err := db.pool.Exec(ctx, q, append(args, id, org)...)
	if err != nil {
		return fmt.Errorf("postgres: update connection: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return mailtrail.Errorf(mailtrail.ENOTFOUND, "connection not found")
	}
	return nil
}

// ResealConnections passes every connection (all organizations, disabled ones too) to f
// inside one transaction that holds their rows (FOR UPDATE: a rotation on another node
// waits for it), and stores the sealed fields (Sealed, SealedPrevious, SealedIMAP) of
// each connection for which f returns true, in one statement. Only ID, OrgID, Vendor and
// the sealed fields are filled; SealedPrevious is given even when its grace period is
// over. f must not call the store. An error of f rolls back every change and is returned.
// It returns how many connections were stored.
func (db *DB) ResealConnections(ctx context.Context, f func(*mailtrail.Connection) (bool, error)) (int, error) {
	n := 0
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT c.id, c.public_id, o.public_id, c.vendor, c.secret, c.prev_secret, c.imap_secret
			FROM connections c JOIN orgs o ON o.id = c.org_id ORDER BY c.id FOR UPDATE OF c`)
		if err != nil {
			return fmt.Errorf("postgres: reseal connections: %w", err)
		}
		var ids []int64
		var all []mailtrail.Connection
		for rows.Next() {
			var id int64
			var c mailtrail.Connection
			if err := rows.Scan(&id, &c.ID, &c.OrgID, &c.Vendor, &c.Sealed, &c.SealedPrevious, &c.SealedIMAP); err != nil {
				rows.Close()
				return fmt.Errorf("postgres: reseal connections: %w", err)
			}
			ids, all = append(ids, id), append(all, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("postgres: reseal connections: %w", err)
		}
		var uid []int64
		var sealed, prev, imap [][]byte
		for i := range all {
			changed, err := f(&all[i])
			if err != nil {
				return err
			}
			if changed {
				c := &all[i]
				uid, sealed, prev, imap = append(uid, ids[i]), append(sealed, c.Sealed), append(prev, c.SealedPrevious), append(imap, c.SealedIMAP)
			}
		}
		if len(uid) == 0 {
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE connections c SET secret = v.s, prev_secret = v.p, imap_secret = v.i
			FROM unnest($1::bigint[], $2::bytea[], $3::bytea[], $4::bytea[]) AS v(id, s, p, i) WHERE c.id = v.id`, uid, sealed, prev, imap); err != nil {
			return fmt.Errorf("postgres: reseal connections: %w", err)
		}
		n = len(uid)
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}
