package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/derive"
	"github.com/mailtrail/mailtrail/internal/segment"
	"github.com/mailtrail/mailtrail/internal/storekit"
)

// CreateOrg creates an organization and its first API key; it returns the organization and
// the key's secret, which is not stored and cannot be shown again.
func (db *DB) CreateOrg(ctx context.Context, name, timezone string) (*mailtrail.Organization, string, error) {
	now := db.now().UTC().Truncate(time.Millisecond)
	o := &mailtrail.Organization{ID: randomID("org_", 9), Name: name, Timezone: timezone, CreatedAt: now}
	var secret string
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		var id int64
		if err := tx.QueryRow(ctx, `INSERT INTO orgs (public_id, name, timezone, created_at) VALUES ($1, $2, $3, $4) RETURNING id`,
			o.ID, name, timezone, now.UnixMilli()).Scan(&id); err != nil {
			return fmt.Errorf("postgres: create org: %w", err)
		}
		var err error
		_, secret, err = insertKey(ctx, tx, id, o.ID, "default", mailtrail.ScopeAll, now)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	return o, secret, nil
}

func insertKey(ctx context.Context, tx pgx.Tx, orgID int64, orgPublic, name, scope string, now time.Time) (*mailtrail.APIKey, string, error) {
	secret := randomID("mt_", 24)
	k := &mailtrail.APIKey{ID: randomID("key_", 9), OrgID: orgPublic, Name: name, Prefix: secret[:10], Scope: scope, CreatedAt: now}
	if _, err := tx.Exec(ctx, `INSERT INTO api_keys (public_id, org_id, name, prefix, hash, scope, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		k.ID, orgID, name, k.Prefix, hashKey(secret), scope, now.UnixMilli()); err != nil {
		return nil, "", fmt.Errorf("postgres: create key: %w", err)
	}
	return k, secret, nil
}

// CreateAPIKey adds a key to an organization and returns it with its secret; EINVALID
// for an unknown scope, ENOTFOUND for an unknown organization.
func (db *DB) CreateAPIKey(ctx context.Context, orgID, name, scope string) (*mailtrail.APIKey, string, error) {
	if scope != mailtrail.ScopeAll && scope != mailtrail.ScopeRead {
		return nil, "", mailtrail.Errorf(mailtrail.EINVALID, "scope must be %s or %s", mailtrail.ScopeAll, mailtrail.ScopeRead)
	}
	org, err := db.orgInternal(ctx, db.pool, orgID)
	if err != nil {
		return nil, "", err
	}
	var k *mailtrail.APIKey
	var secret string
	err = pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		k, secret, err = insertKey(ctx, tx, org, orgID, name, scope, db.now().UTC().Truncate(time.Millisecond))
		return err
	})
	if err != nil {
		return nil, "", err
	}
	return k, secret, nil
}

// Org returns the organization with the public id, or ENOTFOUND.
func (db *DB) Org(ctx context.Context, id string) (*mailtrail.Organization, error) {
	var o mailtrail.Organization
	var created int64
	err := db.pool.QueryRow(ctx, `SELECT public_id, name, timezone, created_at FROM orgs WHERE public_id = $1`, id).Scan(&o.ID, &o.Name, &o.Timezone, &created)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, mailtrail.Errorf(mailtrail.ENOTFOUND, "organization %q not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: org: %w", err)
	}
	o.CreatedAt = fromMS(created)
	return &o, nil
}

// Authenticate returns the organization of an API key secret, or EUNAUTHORIZED for an
// unknown or revoked key. Only the key's hash is looked up.
func (db *DB) Authenticate(ctx context.Context, secret string) (*mailtrail.Organization, error) {
	var o mailtrail.Organization
	var created int64
	err := db.pool.QueryRow(ctx, `SELECT o.public_id, o.name, o.timezone, o.created_at, k.scope FROM api_keys k JOIN orgs o ON o.id = k.org_id
		WHERE k.hash = $1 AND k.revoked_at IS NULL`, hashKey(secret)).Scan(&o.ID, &o.Name, &o.Timezone, &created, &o.KeyScope)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, mailtrail.Errorf(mailtrail.EUNAUTHORIZED, "invalid or revoked API key")
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: authenticate: %w", err)
	}
	o.CreatedAt = fromMS(created)
	return &o, nil
}

// OrgSettings returns an organization's settings; ENOTFOUND for an unknown organization.
func (db *DB) OrgSettings(ctx context.Context, orgID string) (*mailtrail.OrgSettings, error) {
	org, err := db.orgInternal(ctx, db.pool, orgID)
	if err != nil {
		return nil, err
	}
	var s mailtrail.OrgSettings
	if err := db.pool.QueryRow(ctx, `SELECT soft_bounce_limit, keep_full_ip, retention_days, tracking_url, brand_logo_url, brand_color FROM orgs WHERE id = $1`, org).
		Scan(&s.SoftBounceLimit, &s.KeepFullIP, &s.RetentionDays, &s.TrackingURL, &s.BrandLogoURL, &s.BrandColor); err != nil {
		return nil, fmt.Errorf("postgres: org settings: %w", err)
	}
	return &s, nil
}

// UpdateOrgSettings stores an organization's settings (validated by the caller); ECONFLICT
// when another organization has the tracking host. The write path reads the settings in
// each batch's transaction (nothing is cached), so a batch committed after this sees them.
func (db *DB) UpdateOrgSettings(ctx context.Context, orgID string, s mailtrail.OrgSettings) error {
	org, err := db.orgInternal(ctx, db.pool, orgID)
	if err != nil {
		return err
	}
	host, err := storekit.TrackingHost(s.TrackingURL)
	if err != nil {
		return err
	}
	err = pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		floor, err := db.segmentFloor(ctx, tx, `id = $1`, org, s.RetentionDays)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE orgs SET soft_bounce_limit = $1, keep_full_ip = $2, retention_days = $3, tracking_url = $4,
			tracking_host = $5, brand_logo_url = $6, brand_color = $7, segment_floor = $8 WHERE id = $9`, s.SoftBounceLimit, s.KeepFullIP, s.RetentionDays, s.TrackingURL, host,
			s.BrandLogoURL, s.BrandColor, floor, org)
		return err
	})
	if isUniqueViolation(err) {
		return mailtrail.Errorf(mailtrail.ECONFLICT, "another organization uses the tracking host %s", host)
	}
	if err != nil {
		return fmt.Errorf("postgres: org settings: %w", err)
	}
	db.cache.forgetHosts()
	return nil
}

// AdoptOrg creates organization o with its public id, name, time zone and creation time,
// and settings s, as another store holds them, or brings an existing one's up to date:
// how the organizations of a store that ran before the cluster mode reach PostgreSQL,
// whose projection refuses events of an organization it does not know. ECONFLICT when
// another organization has the tracking host.
func (db *DB) AdoptOrg(ctx context.Context, o mailtrail.Organization, s mailtrail.OrgSettings) error {
	if o.ID == "" || o.Name == "" {
		return mailtrail.Errorf(mailtrail.EINVALID, "an organization needs its id and name")
	}
	host, err := storekit.TrackingHost(s.TrackingURL)
	if err != nil {
		return err
	}
	err = pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		floor, err := db.segmentFloor(ctx, tx, `public_id = $1`, o.ID, s.RetentionDays)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO orgs (public_id, name, timezone, created_at, soft_bounce_limit, keep_full_ip, retention_days,
			tracking_url, tracking_host, brand_logo_url, brand_color, segment_floor) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
			ON CONFLICT (public_id) DO UPDATE SET name = excluded.name, timezone = excluded.timezone, soft_bounce_limit = excluded.soft_bounce_limit,
			keep_full_ip = excluded.keep_full_ip, retention_days = excluded.retention_days, tracking_url = excluded.tracking_url,
			tracking_host = excluded.tracking_host, brand_logo_url = excluded.brand_logo_url, brand_color = excluded.brand_color,
			segment_floor = excluded.segment_floor`,
			o.ID, o.Name, o.Timezone, o.CreatedAt.UnixMilli(), s.SoftBounceLimit, s.KeepFullIP, s.RetentionDays, s.TrackingURL, host, s.BrandLogoURL, s.BrandColor, floor)
		return err
	})
	if isUniqueViolation(err) {
		return mailtrail.Errorf(mailtrail.ECONFLICT, "another organization uses the tracking host %s", host)
	}
	if err != nil {
		return fmt.Errorf("postgres: adopt org: %w", err)
	}
	return nil
}

// segmentFloor locks the organization's row (where: a condition on $1 = key) and returns
// the segment floor it must keep when its retention becomes days (segment.RaisedFloor);
// segment.NoFloor for an organization not created yet.
func (db *DB) segmentFloor(ctx context.Context, tx pgx.Tx, where string, key any, days int) (int32, error) {
	var old int
	floor := segment.NoFloor
	err := tx.QueryRow(ctx, `SELECT retention_days, segment_floor FROM orgs WHERE `+where+` FOR UPDATE`, key).Scan(&old, &floor)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("postgres: org settings: %w", err)
	}
	return segment.RaisedFloor(floor, old, days, db.now()), nil
}

// orgInternal maps a public organization id to its row id, read with q when not cached
// (organizations are never deleted): a transaction passes itself, so that it never waits
// for a second connection of the pool; ENOTFOUND for an unknown one.
func (db *DB) orgInternal(ctx context.Context, q querier, public string) (int64, error) {
	db.mu.Lock()
	id, ok := db.orgs[public]
	db.mu.Unlock()
	if ok {
		return id, nil
	}
	err := q.QueryRow(ctx, `SELECT id FROM orgs WHERE public_id = $1`, public).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, mailtrail.Errorf(mailtrail.ENOTFOUND, "organization %q not found", public)
	}
	if err != nil {
		return 0, fmt.Errorf("postgres: org lookup: %w", err)
	}
	db.remember(id, public)
	return id, nil
}

func (db *DB) remember(id int64, public string) {
	db.mu.Lock()
	db.orgs[public], db.orgPublic[id] = id, public
	db.mu.Unlock()
}

// querier is what a pool, a connection and a transaction have in common.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// orgPublicID maps a row id to the public organization id, read with q when not cached.
func (db *DB) orgPublicID(ctx context.Context, q querier, id int64) (string, error) {
	db.mu.Lock()
	p, ok := db.orgPublic[id]
	db.mu.Unlock()
	if ok {
		return p, nil
	}
	if err := q.QueryRow(ctx, `SELECT public_id FROM orgs WHERE id = $1`, id).Scan(&p); err != nil {
		return "", fmt.Errorf("postgres: org: %w", err)
	}
	db.remember(id, p)
	return p, nil
}

// orgSettings reads what the planner needs of organizations' settings, in tx.
func orgSettings(ctx context.Context, tx pgx.Tx, ids []int64) (map[int64]derive.Org, error) {
	out := make(map[int64]derive.Org, len(ids))
	rows, err := tx.Query(ctx, `SELECT id, keep_full_ip, soft_bounce_limit FROM orgs WHERE id = ANY($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("postgres: org settings: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var o derive.Org
		if err := rows.Scan(&id, &o.KeepFullIP, &o.SoftBounceLimit); err != nil {
			return nil, fmt.Errorf("postgres: org settings: %w", err)
		}
		out[id] = o
	}
	return out, rows.Err()
}
