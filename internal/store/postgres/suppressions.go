package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/storekit"
)

// Suppressed returns the organization-wide suppression of an address in the
// organization (any case), or nil; ENOTFOUND for an unknown organization.
func (db *DB) Suppressed(ctx context.Context, orgID, email string) (*mailtrail.Suppression, error) {
	org, err := db.orgInternal(ctx, db.pool, orgID)
	if err != nil {
		return nil, err
	}
	s := mailtrail.Suppression{OrgID: orgID}
	var created int64
	err = db.pool.QueryRow(ctx, `SELECT coalesce(nullif(display_email, ''), email), customer_id, reason, source, event_id, created_at
		FROM suppressions WHERE org_id = $1 AND email = $2`, org, mailtrail.NormalizeEmail(email)).
		Scan(&s.Email, &s.CustomerID, &s.Reason, &s.Source, &s.EventID, &created)
	if errors.Is(err, pgx.ErrNoRows) {
		// An erased customer's address is suppressed under its hash (privacy.go).
		found := map[string]mailtrail.Suppression{}
		if err := db.checkErased(ctx, org, orgID, []string{email}, found); err != nil {
			return nil, err
		}
		if s, ok := found[mailtrail.NormalizeEmail(email)]; ok {
			return &s, nil
		}
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: suppression: %w", err)
	}
	s.CreatedAt = fromMS(created)
	return &s, nil
}

// suppressionCols are the columns scanSuppression reads, then the row's key.
const suppressionCols = `coalesce(nullif(display_email, ''), email), customer_id, reason, source, event_id, detail, note, occurred_at, created_at, %s, email`

// Suppressions returns a page of an organization's suppressions, organization-wide and
// scoped to a topic, in the order they were suppressed (then by address and topic),
// newest first if f.Newest, as the SQLite store pages them (its cursors are the same);
// ENOTFOUND for an unknown organization, EINVALID for a bad cursor.
func (db *DB) Suppressions(ctx context.Context, orgID string, f mailtrail.SuppressionFilter) (*mailtrail.SuppressionPage, error) {
	org, err := db.orgInternal(ctx, db.pool, orgID)
	if err != nil {
		return nil, err
	}
	if f.Limit <= 0 {
		f.Limit = 100
	}
	f.Limit = min(f.Limit, 10000)
	where, args := suppressionWhere(org, f)
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	whereT := append([]string(nil), where...)
	op, dir := ">", ""
	if f.Newest {
		op, dir = "<", " DESC"
	}
	if f.Cursor != "" {
		at, email, topic, err := storekit.ParseSuppressionCursor(f.Cursor)
		if err != nil {
			return nil, err
		}
		a, e, t := arg(at), arg(email), arg(topic)
		where = append(where, "(occurred_at, email, ''::text COLLATE \"C\") "+op+" ("+a+", "+e+", "+t+")")
		whereT = append(whereT, "(occurred_at, email, topic) "+op+" ("+a+", "+e+", "+t+")")
	}
	lim := arg(f.Limit + 1)
	q := `SELECT * FROM (
		(SELECT ` + fmt.Sprintf(suppressionCols, `''::text COLLATE "C"`) + ` FROM suppressions WHERE ` + strings.Join(where, " AND ") +
		` ORDER BY occurred_at` + dir + `, email` + dir + ` LIMIT ` + lim + `)
		UNION ALL
		(SELECT ` + fmt.Sprintf(suppressionCols, "topic") + ` FROM topic_suppressions WHERE ` + strings.Join(whereT, " AND ") +
		` ORDER BY occurred_at` + dir + `, email` + dir + `, topic` + dir + ` LIMIT ` + lim + `)) AS s
		ORDER BY 8` + dir + `, 11` + dir + `, 10` + dir + ` LIMIT ` + lim
	rows, err := db.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: suppressions: %w", err)
	}
	defer rows.Close()
	page := &mailtrail.SuppressionPage{Suppressions: []mailtrail.Suppression{}}
	var lastKey string
	for rows.Next() {
		if len(page.Suppressions) == f.Limit {
			last := page.Suppressions[len(page.Suppressions)-1]
			page.NextCursor = storekit.SuppressionCursor(last.SuppressedAt.UnixMilli(), lastKey, last.Topic)
			break
		}
		s := mailtrail.Suppression{OrgID: orgID}
		var at, created int64
		if err := rows.Scan(&s.Email, &s.CustomerID, &s.Reason, &s.Source, &s.EventID, &s.Detail, &s.Note, &at, &created, &s.Topic, &lastKey); err != nil {
			return nil, fmt.Errorf("postgres: suppressions: %w", err)
		}
		s.SuppressedAt, s.CreatedAt = fromMS(at), fromMS(created)
		storekit.MarkErased(&s)
		page.Suppressions = append(page.Suppressions, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: suppressions: %w", err)
	}
	return page, nil
}

// suppressionWhere returns the conditions of f but its cursor, for the organization's
// row id org, and their arguments ($1, $2, … in order).
func suppressionWhere(org int64, f mailtrail.SuppressionFilter) ([]string, []any) {
	args := []any{org}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	where := []string{"org_id = $1"}
	if f.Reason != "" {
		where = append(where, "reason = "+arg(f.Reason))
	}
	if f.Source != "" {
		where = append(where, "source = "+arg(f.Source))
	}
	if !f.Since.IsZero() {
		where = append(where, "occurred_at >= "+arg(f.Since.UnixMilli()))
	}
	if !f.Until.IsZero() {
		where = append(where, "occurred_at < "+arg(f.Until.UnixMilli()))
	}
	if f.Query != "" {
		q := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(asciiLower(f.Query))
		where = append(where, `email LIKE `+arg("%"+q+"%")+` ESCAPE '\'`)
	}
	return where, args
}

// asciiLower lower-cases the ASCII letters of s: SQLite's LIKE, which the listing's query
// mirrors, ignores the case of ASCII letters only.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
