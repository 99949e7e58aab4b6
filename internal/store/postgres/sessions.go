package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/mailtrail/mailtrail"
)

// The dashboard's sessions (dashboard.SessionStore): opaque rows an API node writes at
// sign-in and every node reads at each request.

// PutSession stores or replaces the session of id until expires, and removes the
// sessions that expired before now.
func (db *DB) PutSession(ctx context.Context, id, data []byte, expires, now time.Time) error {
	b := &pgx.Batch{}
	b.Queue(`DELETE FROM dashboard_sessions WHERE expires_at < $1`, now.UnixMilli())
	b.Queue(`INSERT INTO dashboard_sessions (id, data, expires_at) VALUES ($1, $2, $3)
		ON CONFLICT (id) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at`, id, data, expires.UnixMilli())
	if err := db.pool.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("postgres: put session: %w", err)
	}
	return nil
}

// GetSession returns the session of id and its expiry; ENOTFOUND when there is none.
func (db *DB) GetSession(ctx context.Context, id []byte) ([]byte, time.Time, error) {
	var data []byte
	var expires int64
	err := db.pool.QueryRow(ctx, `SELECT data, expires_at FROM dashboard_sessions WHERE id = $1`, id).Scan(&data, &expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, time.Time{}, mailtrail.Errorf(mailtrail.ENOTFOUND, "no such session")
	}
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("postgres: session: %w", err)
	}
	return data, time.UnixMilli(expires), nil
}

// DeleteSession removes the session of id.
func (db *DB) DeleteSession(ctx context.Context, id []byte) error {
	if _, err := db.pool.Exec(ctx, `DELETE FROM dashboard_sessions WHERE id = $1`, id); err != nil {
		return fmt.Errorf("postgres: delete session: %w", err)
	}
	return nil
}

// PutImport stores or replaces the status of a dashboard import (dashboard.ImportStore)
// until expires, and removes the statuses that expired before now.
func (db *DB) PutImport(ctx context.Context, id, orgID string, status []byte, expires, now time.Time) error {
	b := &pgx.Batch{}
	b.Queue(`DELETE FROM dashboard_imports WHERE expires_at < $1`, now.UnixMilli())
	b.Queue(`INSERT INTO dashboard_imports (id, org_id, status, expires_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (id) DO UPDATE SET status = excluded.status, expires_at = excluded.expires_at WHERE dashboard_imports.org_id = excluded.org_id`,
		id, orgID, status, expires.UnixMilli())
	if err := db.pool.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("postgres: put import: %w", err)
	}
	return nil
}

// GetImport returns the status of import id of orgID; ENOTFOUND when there is none, it
// is another organization's, or it expired.
func (db *DB) GetImport(ctx context.Context, id, orgID string) ([]byte, error) {
	var status []byte
	err := db.pool.QueryRow(ctx, `SELECT status FROM dashboard_imports WHERE id = $1 AND org_id = $2 AND expires_at >= $3`,
		id, orgID, db.now().UnixMilli()).Scan(&status)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, mailtrail.Errorf(mailtrail.ENOTFOUND, "no such import")
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: import: %w", err)
	}
	return status, nil
}
