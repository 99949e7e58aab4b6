package sqlite

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/mailtrail/mailtrail"
)

const suppressionCols = `email, customer_id, reason, source, event_id, detail, note, occurred_at, created_at`

func scanSuppression(r rowScanner, orgID string) (mailtrail.Suppression, error) {
	s := mailtrail.Suppression{OrgID: orgID}
	var at, created int64
	err := r.Scan(&s.Email, &s.CustomerID, &s.Reason, &s.Source, &s.EventID, &s.Detail, &s.Note, &at, &created)
	s.SuppressedAt, s.CreatedAt = fromMS(at), fromMS(created)
	markErased(&s)
	return s, err
}

func encodeSuppressionCursor(at int64, email string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(at, 10) + "." + email))
}

func decodeSuppressionCursor(c string) (int64, string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err == nil {
		if a, email, ok := strings.Cut(string(b), "."); ok {
			if at, err := strconv.ParseInt(a, 10, 64); err == nil {
				return at, email, nil
			}
		}
	}
	return 0, "", mailtrail.Errorf(mailtrail.EINVALID, "invalid cursor")
}

// likeEscape escapes LIKE's wildcards in s (escape character '\').
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// suppressionWhere returns the conditions of f but its cursor, for the organization's
// internal id org.
func suppressionWhere(org int64, f mailtrail.SuppressionFilter) ([]string, []any) {
	where, args := []string{"org_id = ?"}, []any{org}
	if f.Reason != "" {
		where, args = append(where, "reason = ?"), append(args, f.Reason)
	}
	if f.Source != "" {
		where, args = append(where, "source = ?"), append(args, f.Source)
	}
	if !f.Since.IsZero() {
		where, args = append(where, "occurred_at >= ?"), append(args, f.Since.UnixMilli())
	}
	if !f.Until.IsZero() {
		where, args = append(where, "occurred_at < ?"), append(args, f.Until.UnixMilli())
	}
	if f.Query != "" {
		where, args = append(where, `email LIKE ? ESCAPE '\'`), append(args, "%"+likeEscape(f.Query)+"%")
	}
	return where, args
}

// Suppressions returns a page of an organization's suppressions in the order they were
// suppressed (then by address), newest first if f.Newest. Query matches a substring of
// the address, ASCII letters in any case.
func (db *DB) Suppressions(ctx context.Context, orgID string, f mailtrail.SuppressionFilter) (*mailtrail.SuppressionPage, error) {
	org, err := db.orgInternal(ctx, orgID)
	if err != nil {
		return nil, err
	}
	if f.Limit <= 0 {
		f.Limit = 100
	}
	f.Limit = min(f.Limit, 10000)
	where, args := suppressionWhere(org, f)
	cmp, order := ">", "occurred_at, email"
	if f.Newest {
		cmp, order = "<", "occurred_at DESC, email DESC"
	}
	if f.Cursor != "" {
		at, email, err := decodeSuppressionCursor(f.Cursor)
		if err != nil {
			return nil, err
		}
		where, args = append(where, "(occurred_at, email) "+cmp+" (?, ?)"), append(args, at, email)
	}
	args = append(args, f.Limit+1)
	rows, err := db.rquery(ctx, `SELECT `+suppressionCols+` FROM suppressions WHERE `+strings.Join(where, " AND ")+
		` ORDER BY `+order+` LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: suppressions: %w", err)
	}
	defer rows.Close()
	page := &mailtrail.SuppressionPage{Suppressions: []mailtrail.Suppression{}}
	for rows.Next() {
		if len(page.Suppressions) == f.Limit {
			last := page.Suppressions[len(page.Suppressions)-1]
			page.NextCursor = encodeSuppressionCursor(last.SuppressedAt.UnixMilli(), suppressionKey(&last))
			break
		}
		s, err := scanSuppression(rows, orgID)
		if err != nil {
			return nil, fmt.Errorf("sqlite: suppressions: %w", err)
		}
		page.Suppressions = append(page.Suppressions, s)
	}
	return page, rows.Err()
}

// CountSuppressions returns how many of an organization's suppressions match f (its
// cursor, limit and order aside).
func (db *DB) CountSuppressions(ctx context.Context, orgID string, f mailtrail.SuppressionFilter) (int, error) {
	org, err := db.orgInternal(ctx, orgID)
	if err != nil {
		return 0, err
	}
	where, args := suppressionWhere(org, f)
	var n int
	if err := db.rrow(ctx, `SELECT COUNT(*) FROM suppressions WHERE `+strings.Join(where, " AND "), args, &n); err != nil {
		return 0, fmt.Errorf("sqlite: count suppressions: %w", err)
	}
	return n, nil
}

// CheckSuppressions returns the suppressions of the given addresses that are suppressed,
// by normalized address, in one query.
func (db *DB) CheckSuppressions(ctx context.Context, orgID string, emails []string) (map[string]mailtrail.Suppression, error) {
	org, err := db.orgInternal(ctx, orgID)
	if err != nil {
		return nil, err
	}
	norm := make([]string, len(emails))
	for i, e := range emails {
		norm[i] = mailtrail.NormalizeEmail(e)
	}
	// Sorted probes walk the primary key in order: neighbouring pages, fewer misses.
	slices.Sort(norm)
	norm = slices.Compact(norm)
	list, _ := json.Marshal(norm)
	// CROSS JOIN keeps json_each the outer loop: one primary-key probe per address,
	// never a scan of the organization's list.
	rows, err := db.rquery(ctx, `SELECT s.email, s.customer_id, s.reason, s.source, s.event_id, s.detail, s.note, s.occurred_at, s.created_at
		FROM json_each(?) AS j CROSS JOIN suppressions AS s WHERE s.org_id = ? AND s.email = j.value`, string(list), org)
	if err != nil {
		return nil, fmt.Errorf("sqlite: check suppressions: %w", err)
	}
	defer rows.Close()
	out := map[string]mailtrail.Suppression{}
	for rows.Next() {
		s, err := scanSuppression(rows, orgID)
		if err != nil {
			return nil, fmt.Errorf("sqlite: check suppressions: %w", err)
		}
		out[suppressionKey(&s)] = s
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// Addresses of erased customers are suppressed under their hash (privacy.go).
	return out, db.checkErased(ctx, org, orgID, norm, out)
}

// SuppressionHistory returns every change of an address's suppression, oldest first,
// and its current suppression (nil when none).
func (db *DB) SuppressionHistory(ctx context.Context, orgID, email string) ([]mailtrail.SuppressionChange, *mailtrail.Suppression, error) {
	org, err := db.orgInternal(ctx, orgID)
	if err != nil {
		return nil, nil, err
	}
	email = mailtrail.NormalizeEmail(email)
	// With the history kept under the address's hash if its customer was erased.
	rows, err := db.rquery(ctx, `SELECT action, reason, source, event_id, detail, customer_id, actor, note, at FROM suppression_history
		WHERE org_id = ? AND email IN (?, ?) ORDER BY id`, org, email, mailtrail.EmailHash(email))
	if err != nil {
		return nil, nil, fmt.Errorf("sqlite: suppression history: %w", err)
	}
	defer rows.Close()
	out := []mailtrail.SuppressionChange{}
	for rows.Next() {
		var c mailtrail.SuppressionChange
		var at int64
		if err := rows.Scan(&c.Action, &c.Reason, &c.Source, &c.EventID, &c.Detail, &c.CustomerID, &c.Actor, &c.Note, &at); err != nil {
			return nil, nil, fmt.Errorf("sqlite: suppression history: %w", err)
		}
		c.At = fromMS(at)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	cur, err := db.CheckSuppressions(ctx, orgID, []string{email})
	if err != nil {
		return nil, nil, err
	}
	if s, ok := cur[email]; ok {
		return out, &s, nil
	}
	return out, nil, nil
}
