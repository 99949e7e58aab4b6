package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/mailtrail/mailtrail"
)

// Saved segments, as the SQLite store keeps them (saved_segments.go there): what the API
// nodes of a cluster share, so a segment saved through one is found through any.

// SaveSegment stores rule (validated JSON) under name for the organization, replacing the
// rule of a segment of that name; created tells whether the name was new. EINVALID when
// the organization has mailtrail.MaxSavedSegments already and the name is new; ENOTFOUND
// for an unknown organization.
func (db *DB) SaveSegment(ctx context.Context, orgID, name string, rule json.RawMessage) (seg *mailtrail.SavedSegment, created bool, err error) {
	org, err := db.orgInternal(ctx, db.pool, orgID)
	if err != nil {
		return nil, false, err
	}
	now := db.now().UTC().Truncate(time.Millisecond)
	var createdAt int64
	err = pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		// One writer per organization at a time, so the limit holds under concurrent saves.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, lockKey(fmt.Sprintf("segments %d", org), db.schema)); err != nil {
			return err
		}
		err := tx.QueryRow(ctx, `SELECT created_at FROM saved_segments WHERE org_id = $1 AND name = $2`, org, name).Scan(&createdAt)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			var n int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM saved_segments WHERE org_id = $1`, org).Scan(&n); err != nil {
				return err
			}
			if n >= mailtrail.MaxSavedSegments {
				return mailtrail.Errorf(mailtrail.EINVALID, "at most %d saved segments: delete one first", mailtrail.MaxSavedSegments)
			}
			created, createdAt = true, now.UnixMilli()
		case err != nil:
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO saved_segments (org_id, name, rule, created_at, updated_at) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (org_id, name) DO UPDATE SET rule = EXCLUDED.rule, updated_at = EXCLUDED.updated_at`, org, name, string(rule), createdAt, now.UnixMilli())
		return err
	})
	if mailtrail.ErrorCode(err) == mailtrail.EINVALID {
		return nil, false, err
	}
	if err != nil {
		return nil, false, fmt.Errorf("postgres: save segment: %w", err)
	}
	return &mailtrail.SavedSegment{Name: name, Rule: rule, CreatedAt: fromMS(createdAt), UpdatedAt: now}, created, nil
}

// savedSegment is a row of saved_segments.
type savedSegment struct {
	Name string
	Rule string
	C, U int64
}

func (r savedSegment) segment() mailtrail.SavedSegment {
	return mailtrail.SavedSegment{Name: r.Name, Rule: json.RawMessage(r.Rule), CreatedAt: fromMS(r.C), UpdatedAt: fromMS(r.U)}
}

// SavedSegments returns the organization's saved segments by name; ENOTFOUND for an
// unknown organization.
func (db *DB) SavedSegments(ctx context.Context, orgID string) ([]mailtrail.SavedSegment, error) {
	org, err := db.orgInternal(ctx, db.pool, orgID)
	if err != nil {
		return nil, err
	}
	rows, err := collect(ctx, db.pool, pgx.RowToStructByPos[savedSegment], `SELECT name, rule, created_at, updated_at FROM saved_segments
		WHERE org_id = $1 ORDER BY name`, org)
	if err != nil {
		return nil, fmt.Errorf("postgres: saved segments: %w", err)
	}
	out := make([]mailtrail.SavedSegment, len(rows))
	for i, r := range rows {
		out[i] = r.segment()
	}
	return out, nil
}

// SavedSegment returns the organization's segment saved under name; ENOTFOUND if none.
func (db *DB) SavedSegment(ctx context.Context, orgID, name string) (*mailtrail.SavedSegment, error) {
	org, err := db.orgInternal(ctx, db.pool, orgID)
	if err != nil {
		return nil, err
	}
	r := savedSegment{Name: name}
	err = db.pool.QueryRow(ctx, `SELECT rule, created_at, updated_at FROM saved_segments WHERE org_id = $1 AND name = $2`, org, name).Scan(&r.Rule, &r.C, &r.U)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, mailtrail.Errorf(mailtrail.ENOTFOUND, "no saved segment %q", name)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: saved segment: %w", err)
	}
	s := r.segment()
	return &s, nil
}

// DeleteSavedSegment deletes the organization's segment saved under name; ENOTFOUND if
// none.
func (db *DB) DeleteSavedSegment(ctx context.Context, orgID, name string) error {
	org, err := db.orgInternal(ctx, db.pool, orgID)
	if err != nil {
		return err
	}
	tag, err := db.pool.Exec(ctx, `DELETE FROM saved_segments WHERE org_id = $1 AND name = $2`, org, name)
	if err != nil {
		return fmt.Errorf("postgres: delete segment: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return mailtrail.Errorf(mailtrail.ENOTFOUND, "no saved segment %q", name)
	}
	return nil
}
