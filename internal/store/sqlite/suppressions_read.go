package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/storekit"
)

// suppressionCols are read by scanSuppression: the address as first spelled (or the key),
// …, and the topic (” for the organization-wide table).
const suppressionCols = `coalesce(nullif(display_email, ''), email), customer_id, reason, source, event_id, detail, note, occurred_at, created_at, ''`

// topicSuppressionCols are suppressionCols of topic_suppressions.
const topicSuppressionCols = `coalesce(nullif(display_email, ''), email), customer_id, reason, source, event_id, detail, note, occurred_at, created_at, topic`

// scanSuppression scans suppressionCols, and into extra any columns after them.
func scanSuppression(r rowScanner, orgID string, extra ...any) (mailtrail.Suppression, error) {
	s := mailtrail.Suppression{OrgID: orgID}
	var at, created int64
	err := r.Scan(append([]any{&s.Email, &s.CustomerID, &s.Reason, &s.Source, &s.EventID, &s.Detail, &s.Note, &at, &created, &s.Topic}, extra...)...)
	s.SuppressedAt, s.CreatedAt = fromMS(at), fromMS(created)
	storekit.MarkErased(&s)
	return s, err
}

// anySlice returns s as query arguments.
func anySlice(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
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

// Suppressions returns a page of an organization's suppressions, organization-wide and
// scoped to a topic, in the order they were suppressed (then by address and topic),
// newest first if f.Newest. Query matches a substring of the address, ASCII letters in
// any case.
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
	whereT, argsT := slices.Clone(where), slices.Clone(args)
	cmp, dir := ">", ""
	if f.Newest {
		cmp, dir = "<", " DESC"
	}
	if f.Cursor != "" {
		at, email, topic, err := storekit.ParseSuppressionCursor(f.Cursor)
		if err != nil {
			return nil, err
		}
		// An organization-wide row sorts as topic "": before the same address's topics. The
		// plain bound on occurred_at lets the time index start the range at the cursor.
		where, args = append(where, "occurred_at "+cmp+"= ?", "(occurred_at, email, '') "+cmp+" (?, ?, ?)"), append(args, at, at, email, topic)
		whereT, argsT = append(whereT, "(occurred_at, email, topic) "+cmp+" (?, ?, ?)"), append(argsT, at, email, topic)
	}
	// Each table pages on its own time index; the merge sorts at most two pages.
	args = append(append(append(args, f.Limit+1), argsT...), f.Limit+1, f.Limit+1)
	rows, err := db.rquery(ctx, `SELECT * FROM (SELECT * FROM (SELECT `+suppressionCols+`, email AS k FROM suppressions WHERE `+strings.Join(where, " AND ")+
		` ORDER BY occurred_at`+dir+`, email`+dir+` LIMIT ?) UNION ALL SELECT * FROM (SELECT `+topicSuppressionCols+`, email AS k FROM topic_suppressions WHERE `+
		strings.Join(whereT, " AND ")+` ORDER BY occurred_at`+dir+`, email`+dir+`, topic`+dir+` LIMIT ?)) ORDER BY 8`+dir+`, 11`+dir+`, 10`+dir+` LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: suppressions: %w", err)
	}
	defer rows.Close()
	page := &mailtrail.SuppressionPage{Suppressions: []mailtrail.Suppression{}}
	for rows.Next() {
		if len(page.Suppressions) == f.Limit {
			last := page.Suppressions[len(page.Suppressions)-1]
			page.NextCursor = storekit.SuppressionCursor(last.SuppressedAt.UnixMilli(), suppressionKey(&last), last.Topic)
			break
		}
		var k string
		s, err := scanSuppression(rows, orgID, &k)
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
	cond := strings.Join(where, " AND ")
	var n int
	if err := db.rrow(ctx, `SELECT (SELECT COUNT(*) FROM suppressions WHERE `+cond+`) + (SELECT COUNT(*) FROM topic_suppressions WHERE `+cond+`)`,
		append(slices.Clone(args), args...), &n); err != nil {
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
	rows, err := db.rquery(ctx, `SELECT `+suppressionColsS+`
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
	return out, db.checkErased(ctx, org, orgID, emails, out)
}

// SuppressionHistory returns every change of an address's suppression, oldest first,
// and its current suppression (nil when none).
func (db *DB) SuppressionHistory(ctx context.Context, orgID, email string) ([]mailtrail.SuppressionChange, *mailtrail.Suppression, error) {
	org, err := db.orgInternal(ctx, orgID)
	if err != nil {
		return nil, nil, err
	}
	raw := email
	email = mailtrail.NormalizeEmail(email)
	// With the history kept under the address's hash if its customer was erased.
	keys := append([]any{org, email}, anySlice(storekit.ErasedHashes(raw))...)
	rows, err := db.rquery(ctx, `SELECT action, reason, source, event_id, detail, customer_id, actor, note, at, topic FROM suppression_history
		WHERE org_id = ? AND email IN (`+placeholders(len(keys)-1)+`) ORDER BY id`, keys...)
	if err != nil {
		return nil, nil, fmt.Errorf("sqlite: suppression history: %w", err)
	}
	defer rows.Close()
	out := []mailtrail.SuppressionChange{}
	for rows.Next() {
		var c mailtrail.SuppressionChange
		var at int64
		if err := rows.Scan(&c.Action, &c.Reason, &c.Source, &c.EventID, &c.Detail, &c.CustomerID, &c.Actor, &c.Note, &at, &c.Topic); err != nil {
			return nil, nil, fmt.Errorf("sqlite: suppression history: %w", err)
		}
		c.At = fromMS(at)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	cur, err := db.CheckSuppressions(ctx, orgID, []string{raw})
	if err != nil {
		return nil, nil, err
	}
	if s, ok := cur[email]; ok {
		return out, &s, nil
	}
	return out, nil, nil
}
