package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/mailtrail/mailtrail"
)

// SaveSegment stores rule (validated JSON) under name for the organization, replacing the
// rule of a segment of that name; created tells whether the name was new. EINVALID when
// the organization has mailtrail.MaxSavedSegments already and the name is new.
func (db *DB) SaveSegment(ctx context.Context, orgID, name string, rule json.RawMessage) (seg *mailtrail.SavedSegment, created bool, err error) {
	org, err := db.orgInternal(ctx, orgID)
	if err != nil {
		return nil, false, err
	}
	tx, done, err := db.writeTx(ctx)
	if err != nil {
		return nil, false, err
	}
	defer done()
	now := db.now().UTC().Truncate(time.Millisecond)
	var createdAt int64
	err = tx.scan(`SELECT created_at FROM saved_segments WHERE org_id = ? AND name = ?`, []any{org, name}, &createdAt)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		var n int
		if err := tx.scan(`SELECT COUNT(*) FROM saved_segments WHERE org_id = ?`, []any{org}, &n); err != nil {
			return nil, false, fmt.Errorf("sqlite: save segment: %w", err)
		}
		if n >= mailtrail.MaxSavedSegments {
			return nil, false, mailtrail.Errorf(mailtrail.EINVALID, "at most %d saved segments: delete one first", mailtrail.MaxSavedSegments)
		}
		created, createdAt = true, now.UnixMilli()
	case err != nil:
		return nil, false, fmt.Errorf("sqlite: save segment: %w", err)
	}
	if _, err := tx.exec(`INSERT INTO saved_segments (org_id, name, rule, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (org_id, name) DO UPDATE SET rule = excluded.rule, updated_at = excluded.updated_at`,
		org, name, string(rule), createdAt, now.UnixMilli()); err != nil {
		return nil, false, fmt.Errorf("sqlite: save segment: %w", err)
	}
	if err := tx.commit(); err != nil {
		return nil, false, err
	}
	return &mailtrail.SavedSegment{Name: name, Rule: rule, CreatedAt: fromMS(createdAt), UpdatedAt: now}, created, nil
}

// SavedSegments returns the organization's saved segments by name.
func (db *DB) SavedSegments(ctx context.Context, orgID string) ([]mailtrail.SavedSegment, error) {
	org, err := db.orgInternal(ctx, orgID)
	if err != nil {
		return nil, err
	}
	rows, err := db.rquery(ctx, `SELECT name, rule, created_at, updated_at FROM saved_segments WHERE org_id = ? ORDER BY name`, org)
	if err != nil {
		return nil, fmt.Errorf("sqlite: saved segments: %w", err)
	}
	defer rows.Close()
	out := []mailtrail.SavedSegment{}
	for rows.Next() {
		var s mailtrail.SavedSegment
		var rule string
		var c, u int64
		if err := rows.Scan(&s.Name, &rule, &c, &u); err != nil {
			return nil, fmt.Errorf("sqlite: saved segments: %w", err)
		}
		s.Rule, s.CreatedAt, s.UpdatedAt = json.RawMessage(rule), fromMS(c), fromMS(u)
		out = append(out, s)
	}
	return out, rows.Err()
}

// SavedSegment returns the organization's segment saved under name; ENOTFOUND if none.
func (db *DB) SavedSegment(ctx context.Context, orgID, name string) (*mailtrail.SavedSegment, error) {
	org, err := db.orgInternal(ctx, orgID)
	if err != nil {
		return nil, err
	}
	s := mailtrail.SavedSegment{Name: name}
	var rule string
	var c, u int64
	err = db.rrow(ctx, `SELECT rule, created_at, updated_at FROM saved_segments WHERE org_id = ? AND name = ?`, []any{org, name}, &rule, &c, &u)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, mailtrail.Errorf(mailtrail.ENOTFOUND, "no saved segment %q", name)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: saved segment: %w", err)
	}
	s.Rule, s.CreatedAt, s.UpdatedAt = json.RawMessage(rule), fromMS(c), fromMS(u)
	return &s, nil
}

// DeleteSavedSegment deletes the organization's segment saved under name; ENOTFOUND if
// none.
func (db *DB) DeleteSavedSegment(ctx context.Context, orgID, name string) error {
	org, err := db.orgInternal(ctx, orgID)
	if err != nil {
		return err
	}
	tx, done, err := db.writeTx(ctx)
	if err != nil {
		return err
	}
	defer done()
	res, err := tx.exec(`DELETE FROM saved_segments WHERE org_id = ? AND name = ?`, org, name)
	if err != nil {
		return fmt.Errorf("sqlite: delete segment: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return mailtrail.Errorf(mailtrail.ENOTFOUND, "no saved segment %q", name)
	}
	return tx.commit()
}
