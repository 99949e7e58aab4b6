package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/mailtrail/mailtrail"
)

// APIKeys lists an organization's keys in the order they were created (never their
// secrets); ENOTFOUND for an unknown organization.
func (db *DB) APIKeys(ctx context.Context, orgID string) ([]mailtrail.APIKey, error) {
	org, err := db.orgInternal(ctx, db.pool, orgID)
	if err != nil {
		return nil, err
	}
	rows, err := db.pool.Query(ctx, `SELECT public_id, name, prefix, scope, created_at, coalesce(revoked_at, 0) FROM api_keys WHERE org_id = $1 ORDER BY id`, org)
	if err != nil {
		return nil, fmt.Errorf("postgres: keys: %w", err)
	}
	defer rows.Close()
	var out []mailtrail.APIKey
	for rows.Next() {
		k := mailtrail.APIKey{OrgID: orgID}
		var created, revoked int64
		if err := rows.Scan(&k.ID, &k.Name, &k.Prefix, &k.Scope, &created, &revoked); err != nil {
			return nil, fmt.Errorf("postgres: keys: %w", err)
		}
		k.CreatedAt = fromMS(created)
		if revoked != 0 {
			t := fromMS(revoked)
			k.RevokedAt = &t
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: keys: %w", err)
	}
	return out, nil
}

// RevokeAPIKey revokes a key of the organization; ENOTFOUND if it has no such key or the
// key is revoked already.
func (db *DB) RevokeAPIKey(ctx context.Context, orgID, keyID string) error {
	org, err := db.orgInternal(ctx, db.pool, orgID)
	if err != nil {
		return err
	}
	tag, err := db.pool.Exec(ctx, `UPDATE api_keys SET revoked_at = $1 WHERE public_id = $2 AND org_id = $3 AND revoked_at IS NULL`,
		db.now().UnixMilli(), keyID, org)
	if err != nil {
		return fmt.Errorf("postgres: revoke key: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return mailtrail.Errorf(mailtrail.ENOTFOUND, "api key %q not found", keyID)
	}
	return nil
}

// APIKeyID returns the public id of an active API key secret, for audit entries;
// EUNAUTHORIZED for an unknown or revoked key.
func (db *DB) APIKeyID(ctx context.Context, secret string) (string, error) {
	var id string
	err := db.pool.QueryRow(ctx, `SELECT public_id FROM api_keys WHERE hash = $1 AND revoked_at IS NULL`, hashKey(secret)).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", mailtrail.Errorf(mailtrail.EUNAUTHORIZED, "invalid or revoked API key")
	}
	if err != nil {
		return "", fmt.Errorf("postgres: api key: %w", err)
	}
	return id, nil
}

// TrackingHostOrg returns the public id of the organization whose tracking domain is host
// (as in a request's Host, any case, with a port when not the default); "" when none is.
// An answer is kept for hostTTL: a tracking host another node changes applies here
// within that; this store's own changes (UpdateOrgSettings) at once.
func (db *DB) TrackingHostOrg(ctx context.Context, host string) (string, error) {
	if id, ok := db.cache.host(host, db.now()); ok {
		return id, nil
	}
	var id string
	err := db.pool.QueryRow(ctx, `SELECT public_id FROM orgs WHERE tracking_host = $1`, strings.ToLower(host)).Scan(&id)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("postgres: tracking host: %w", err)
	}
	db.cache.keepHost(host, id, db.now())
	return id, nil
}
