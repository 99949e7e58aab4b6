package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/storekit"
)

// CountSuppressions returns how many of an organization's suppressions, organization-wide
// and scoped to a topic, match f (its cursor, limit and order aside); ENOTFOUND for an
// unknown organization.
func (db *DB) CountSuppressions(ctx context.Context, orgID string, f mailtrail.SuppressionFilter) (int, error) {
	org, err := db.orgInternal(ctx, db.pool, orgID)
	if err != nil {
		return 0, err
	}
	where, args := suppressionWhere(org, f)
	cond := strings.Join(where, " AND ")
	var n int64
	if err := db.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM suppressions WHERE `+cond+`) + (SELECT count(*) FROM topic_suppressions WHERE `+cond+`)`,
		args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("postgres: count suppressions: %w", err)
	}
	return int(n), nil
}

// scanSuppressions reads rows of suppressionCols (the row's key last) and calls f with
// each suppression and its key.
func scanSuppressions(rows pgx.Rows, err error, orgID, what string, f func(s mailtrail.Suppression, key string)) error {
	if err != nil {
		return fmt.Errorf("postgres: %s: %w", what, err)
	}
	defer rows.Close()
	for rows.Next() {
		s := mailtrail.Suppression{OrgID: orgID}
		var at, created int64
		var key string
		if err := rows.Scan(&s.Email, &s.CustomerID, &s.Reason, &s.Source, &s.EventID, &s.Detail, &s.Note, &at, &created, &s.Topic, &key); err != nil {
			return fmt.Errorf("postgres: %s: %w", what, err)
		}
		s.SuppressedAt, s.CreatedAt = fromMS(at), fromMS(created)
		f(s, key)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("postgres: %s: %w", what, err)
	}
	return nil
}

// CheckSuppressions returns the organization-wide suppressions of the given addresses
// that are suppressed, by normalized address, in one statement; ENOTFOUND for an unknown
// organization.
func (db *DB) CheckSuppressions(ctx context.Context, orgID string, emails []string) (map[string]mailtrail.Suppression, error) {
	org, err := db.orgInternal(ctx, db.pool, orgID)
	if err != nil {
		return nil, err
	}
	keys := make([]string, len(emails))
	for i, e := range emails {
		keys[i] = mailtrail.NormalizeEmail(e)
	}
	out := map[string]mailtrail.Suppression{}
	rows, err := db.pool.Query(ctx, `SELECT `+fmt.Sprintf(suppressionColsS, "''")+` FROM unnest($2::text[]) AS k(email)
		JOIN suppressions s ON s.org_id = $1 AND s.email = k.email`, org, distinct(keys))
	err = scanSuppressions(rows, err, orgID, "check suppressions", func(s mailtrail.Suppression, key string) { out[key] = s })
	if err != nil {
		return nil, err
	}
	return out, db.checkErased(ctx, org, orgID, emails, out)
}

// CheckTopicSuppressions returns the scoped suppressions of the given addresses for the
// given topics, by normalized address, in one statement; organization-wide suppressions
// are CheckSuppressions'. ENOTFOUND for an unknown organization.
func (db *DB) CheckTopicSuppressions(ctx context.Context, orgID string, emails, topics []string) (map[string][]mailtrail.Suppression, error) {
	org, err := db.orgInternal(ctx, db.pool, orgID)
	if err != nil {
		return nil, err
	}
	var keys []string
	for _, e := range emails {
		if k := mailtrail.NormalizeEmail(e); k != "" {
			keys = append(keys, k)
		}
	}
	out := map[string][]mailtrail.Suppression{}
	rows, err := db.pool.Query(ctx, `SELECT `+fmt.Sprintf(suppressionColsS, "s.topic")+` FROM unnest($2::text[]) AS k(email)
		CROSS JOIN unnest($3::text[]) AS t(topic) JOIN topic_suppressions s ON s.org_id = $1 AND s.email = k.email AND s.topic = t.topic`,
		org, distinct(keys), distinct(topics))
	err = scanSuppressions(rows, err, orgID, "check topic suppressions", func(s mailtrail.Suppression, key string) { out[key] = append(out[key], s) })
	if err != nil {
		return nil, err
	}
	return out, nil
}

// suppressionColsS are suppressionCols of the table aliased s.
const suppressionColsS = `coalesce(nullif(s.display_email, ''), s.email), s.customer_id, s.reason, s.source, s.event_id, s.detail, s.note, s.occurred_at,
	s.created_at, %s, s.email`

// SuppressionHistory returns every change of an address's suppression (organization-wide
// and scoped), oldest first, and its current organization-wide suppression (nil when
// none); ENOTFOUND for an unknown organization.
func (db *DB) SuppressionHistory(ctx context.Context, orgID, email string) ([]mailtrail.SuppressionChange, *mailtrail.Suppression, error) {
	org, err := db.orgInternal(ctx, db.pool, orgID)
	if err != nil {
		return nil, nil, err
	}
	key := mailtrail.NormalizeEmail(email)
	// With the history kept under the address's hash if its customer was erased.
	rows, err := db.pool.Query(ctx, `SELECT action, reason, source, event_id, detail, customer_id, actor, note, at, topic FROM suppression_history
		WHERE org_id = $1 AND email = ANY($2::text[]) ORDER BY id`, org, append([]string{key}, storekit.ErasedHashes(email)...))
	if err != nil {
		return nil, nil, fmt.Errorf("postgres: suppression history: %w", err)
	}
	out := []mailtrail.SuppressionChange{}
	for rows.Next() {
		var c mailtrail.SuppressionChange
		var at int64
		if err := rows.Scan(&c.Action, &c.Reason, &c.Source, &c.EventID, &c.Detail, &c.CustomerID, &c.Actor, &c.Note, &at, &c.Topic); err != nil {
			rows.Close()
			return nil, nil, fmt.Errorf("postgres: suppression history: %w", err)
		}
		c.At = fromMS(at)
		out = append(out, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("postgres: suppression history: %w", err)
	}
	cur, err := db.CheckSuppressions(ctx, orgID, []string{email})
	if err != nil {
		return nil, nil, err
	}
	if s, ok := cur[key]; ok {
		return out, &s, nil
	}
	return out, nil, nil
}
