package sqlite

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/mailtrail/mailtrail"
)

func randomID(prefix string, n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

func hashKey(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// CreateOrg creates an organization and its first API key; it returns the organization and
// the key's secret, which is not stored and cannot be shown again.
func (db *DB) CreateOrg(ctx context.Context, name, timezone string) (*mailtrail.Organization, string, error) {
	now := db.now().UTC().Truncate(time.Millisecond)
	o := &mailtrail.Organization{ID: randomID("org_", 9), Name: name, Timezone: timezone, CreatedAt: now}
	db.wmu.Lock()
	defer db.wmu.Unlock()
	tx, err := db.wc.BeginTx(ctx, nil)
	if err != nil {
		return nil, "", fmt.Errorf("sqlite: create org: %w", db.werr(err))
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `INSERT INTO orgs (public_id, name, timezone, created_at) VALUES (?, ?, ?, ?)`, o.ID, name, timezone, ms(now))
	if err != nil {
		return nil, "", fmt.Errorf("sqlite: create org: %w", db.werr(err))
	}
	orgID, _ := res.LastInsertId()
	_, secret, err := insertKey(ctx, tx, orgID, o.ID, "default", mailtrail.ScopeAll, now)
	if err != nil {
		return nil, "", db.werr(err)
	}
	if err := tx.Commit(); err != nil {
		return nil, "", fmt.Errorf("sqlite: create org: %w", db.werr(err))
	}
	db.wrote()
	return o, secret, nil
}

func insertKey(ctx context.Context, tx *sql.Tx, orgID int64, orgPublic, name, scope string, now time.Time) (*mailtrail.APIKey, string, error) {
	secret := randomID("mt_", 24)
	k := &mailtrail.APIKey{ID: randomID("key_", 9), OrgID: orgPublic, Name: name, Prefix: secret[:10], Scope: scope, CreatedAt: now}
	_, err := tx.ExecContext(ctx, `INSERT INTO api_keys (public_id, org_id, name, prefix, hash, scope, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		k.ID, orgID, name, k.Prefix, hashKey(secret), scope, ms(now))
	if err != nil {
		return nil, "", fmt.Errorf("sqlite: create key: %w", err)
	}
	return k, secret, nil
}

// Org returns the organization with the public id, or ENOTFOUND.
func (db *DB) Org(ctx context.Context, id string) (*mailtrail.Organization, error) {
	var o mailtrail.Organization
	var created int64
	err := db.rrow(ctx, `SELECT public_id, name, timezone, created_at FROM orgs WHERE public_id = ?`, []any{id}, &o.ID, &o.Name, &o.Timezone, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, mailtrail.Errorf(mailtrail.ENOTFOUND, "organization %q not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: org: %w", err)
	}
	o.CreatedAt = fromMS(created)
	return &o, nil
}

// Orgs lists every organization, oldest first.
func (db *DB) Orgs(ctx context.Context) ([]mailtrail.Organization, error) {
	rows, err := db.rquery(ctx, `SELECT public_id, name, timezone, created_at FROM orgs ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: orgs: %w", err)
	}
	defer rows.Close()
	var out []mailtrail.Organization
	for rows.Next() {
		var o mailtrail.Organization
		var created int64
		if err := rows.Scan(&o.ID, &o.Name, &o.Timezone, &created); err != nil {
			return nil, err
		}
		o.CreatedAt = fromMS(created)
		out = append(out, o)
	}
	return out, rows.Err()
}

// CreateAPIKey adds a key to an organization and returns it with its secret.
func (db *DB) CreateAPIKey(ctx context.Context, orgID, name, scope string) (*mailtrail.APIKey, string, error) {
	if scope != mailtrail.ScopeAll && scope != mailtrail.ScopeRead {
		return nil, "", mailtrail.Errorf(mailtrail.EINVALID, "scope must be %s or %s", mailtrail.ScopeAll, mailtrail.ScopeRead)
	}
	internal, err := db.orgInternal(ctx, orgID)
	if err != nil {
		return nil, "", err
	}
	db.wmu.Lock()
	defer db.wmu.Unlock()
	tx, err := db.wc.BeginTx(ctx, nil)
	if err != nil {
		return nil, "", fmt.Errorf("sqlite: create key: %w", db.werr(err))
	}
	defer tx.Rollback()
	k, secret, err := insertKey(ctx, tx, internal, orgID, name, scope, db.now().UTC().Truncate(time.Millisecond))
	if err != nil {
		return nil, "", db.werr(err)
	}
	if err := tx.Commit(); err != nil {
		return nil, "", fmt.Errorf("sqlite: create key: %w", db.werr(err))
	}
	db.wrote()
	return k, secret, nil
}

// APIKeys lists an organization's keys (never their secrets).
func (db *DB) APIKeys(ctx context.Context, orgID string) ([]mailtrail.APIKey, error) {
	internal, err := db.orgInternal(ctx, orgID)
	if err != nil {
		return nil, err
	}
	rows, err := db.rquery(ctx, `SELECT public_id, name, prefix, scope, created_at, coalesce(revoked_at, 0) FROM api_keys WHERE org_id = ? ORDER BY id`, internal)
	if err != nil {
		return nil, fmt.Errorf("sqlite: keys: %w", err)
	}
	defer rows.Close()
	var out []mailtrail.APIKey
	for rows.Next() {
		k := mailtrail.APIKey{OrgID: orgID}
		var created, revoked int64
		if err := rows.Scan(&k.ID, &k.Name, &k.Prefix, &k.Scope, &created, &revoked); err != nil {
			return nil, err
		}
		k.CreatedAt = fromMS(created)
		if revoked != 0 {
			t := fromMS(revoked)
			k.RevokedAt = &t
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// RevokeAPIKey revokes a key of the organization; ENOTFOUND if it has no such key.
func (db *DB) RevokeAPIKey(ctx context.Context, orgID, keyID string) error {
	internal, err := db.orgInternal(ctx, orgID)
	if err != nil {
		return err
	}
	db.wmu.Lock()
	defer db.wmu.Unlock()
	res, err := db.wc.ExecContext(ctx, `UPDATE api_keys SET revoked_at = ? WHERE public_id = ? AND org_id = ? AND revoked_at IS NULL`,
		db.now().UnixMilli(), keyID, internal)
	if err = db.autocommit(err); err != nil {
		return fmt.Errorf("sqlite: revoke key: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return mailtrail.Errorf(mailtrail.ENOTFOUND, "api key %q not found", keyID)
	}
	return nil
}

// Authenticate returns the organization of an API key secret, or EUNAUTHORIZED for an
// unknown or revoked key. Only the key's hash is looked up.
func (db *DB) Authenticate(ctx context.Context, secret string) (*mailtrail.Organization, error) {
	var o mailtrail.Organization
	var created int64
	err := db.rrow(ctx, `SELECT o.public_id, o.name, o.timezone, o.created_at, k.scope FROM api_keys k JOIN orgs o ON o.id = k.org_id
		WHERE k.hash = ? AND k.revoked_at IS NULL`, []any{hashKey(secret)}, &o.ID, &o.Name, &o.Timezone, &created, &o.KeyScope)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, mailtrail.Errorf(mailtrail.EUNAUTHORIZED, "invalid or revoked API key")
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: authenticate: %w", err)
	}
	o.CreatedAt = fromMS(created)
	return &o, nil
}

// orgInternal maps a public organization id to its row id (cached; organizations are
// never deleted).
func (db *DB) orgInternal(ctx context.Context, public string) (int64, error) {
	db.mu.Lock()
	id, ok := db.cache.orgs[public]
	db.mu.Unlock()
	if ok {
		return id, nil
	}
	err := db.rrow(ctx, `SELECT id FROM orgs WHERE public_id = ?`, []any{public}, &id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, mailtrail.Errorf(mailtrail.ENOTFOUND, "organization %q not found", public)
	}
	if err != nil {
		return 0, fmt.Errorf("sqlite: org lookup: %w", err)
	}
	db.mu.Lock()
	db.cache.orgs[public] = id
	db.mu.Unlock()
	return id, nil
}
