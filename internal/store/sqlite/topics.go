package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/rules"
)

// Scoped suppressions (topic_suppressions): an unsubscribe from one topic or list
// suppresses the address for that topic only. Organization-wide suppressions
// (suppressions) win over them in every check; hard bounces and complaints are never
// scoped.

func loadTopicSuppression(tx *txc, org int64, email, topic string) (suppressionRow, error) {
	var r suppressionRow
	err := tx.scan(`SELECT reason, source, event_id, detail, occurred_at, customer_id FROM topic_suppressions WHERE org_id = ? AND email = ? AND topic = ?`,
		[]any{org, email, topic}, &r.s.Reason, &r.s.Source, &r.s.EventID, &r.s.Detail, &r.s.At, &r.customerID)
	if errors.Is(err, sql.ErrNoRows) {
		return suppressionRow{}, nil
	}
	if err != nil {
		return r, fmt.Errorf("sqlite: topic suppression: %w", err)
	}
	r.found = true
	return r, nil
}

// writeTopicSuppression moves an address's suppression for one topic from cur to next
// (added or replaced, as derive decided) and appends the history entry.
func writeTopicSuppression(tx *txc, c change, topic string, cur suppressionRow, next rules.Suppress, action string) error {
	cust := c.customerID
	if cust == "" {
		cust = cur.customerID
	}
	var err error
	if cur.found {
		_, err = tx.exec(`UPDATE topic_suppressions SET reason = ?, source = ?, event_id = ?, detail = ?, occurred_at = ?, customer_id = ?, created_at = ?
			WHERE org_id = ? AND email = ? AND topic = ?`, next.Reason, next.Source, next.EventID, next.Detail, next.At, cust, c.now, c.org, c.email, topic)
	} else {
		_, err = tx.exec(`INSERT INTO topic_suppressions (org_id, email, topic, display_email, customer_id, reason, source, event_id, detail, occurred_at, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, c.org, c.email, topic, displayOf(c.email, c.display), cust, next.Reason, next.Source, next.EventID, next.Detail, next.At, c.now)
	}
	if err != nil {
		return fmt.Errorf("sqlite: write topic suppression: %w", err)
	}
	return addTopicHistory(tx, c, topic, action, next, cust)
}

func addTopicHistory(tx *txc, c change, topic, action string, s rules.Suppress, cust string) error {
	_, err := tx.exec(`INSERT INTO suppression_history (org_id, email, topic, action, reason, source, event_id, detail, customer_id, actor, note, at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, c.org, c.email, topic, action, s.Reason, s.Source, s.EventID, s.Detail, cust, c.actor, c.note, c.now)
	if err != nil {
		return fmt.Errorf("sqlite: suppression history: %w", err)
	}
	return nil
}

// RemoveTopicSuppression removes an address's suppression for one topic, recording who
// removed it and why. It returns the removed suppression; ENOTFOUND when the address is
// not suppressed for that topic.
func (db *DB) RemoveTopicSuppression(ctx context.Context, orgID, email, topic, actor, why string) (*mailtrail.Suppression, error) {
	org, err := db.orgInternal(ctx, orgID)
	if err != nil {
		return nil, err
	}
	email = mailtrail.NormalizeEmail(email)
	now := db.now().UnixMilli()
	tx, done, err := db.writeTx(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	cur, err := loadTopicSuppression(tx, org, email, topic)
	if err != nil {
		return nil, err
	}
	if !cur.found {
		return nil, mailtrail.Errorf(mailtrail.ENOTFOUND, "%s is not suppressed for topic %q", email, topic)
	}
	var created int64
	var display string
	if err := tx.scan(`SELECT created_at, coalesce(nullif(display_email, ''), email) FROM topic_suppressions WHERE org_id = ? AND email = ? AND topic = ?`,
		[]any{org, email, topic}, &created, &display); err != nil {
		return nil, fmt.Errorf("sqlite: topic suppression: %w", err)
	}
	if _, err := tx.exec(`DELETE FROM topic_suppressions WHERE org_id = ? AND email = ? AND topic = ?`, org, email, topic); err != nil {
		return nil, fmt.Errorf("sqlite: remove topic suppression: %w", err)
	}
	if err := addTopicHistory(tx, change{org: org, email: email, actor: actor, note: why, now: now}, topic, mailtrail.ActionRemoved, cur.s, cur.customerID); err != nil {
		return nil, err
	}
	if err := tx.commit(); err != nil {
		return nil, err
	}
	return &mailtrail.Suppression{OrgID: orgID, Email: display, CustomerID: cur.customerID, Reason: cur.s.Reason, Source: cur.s.Source,
		EventID: cur.s.EventID, Detail: cur.s.Detail, SuppressedAt: fromMS(cur.s.At), CreatedAt: fromMS(created), Topic: topic}, nil
}

// CheckTopicSuppressions returns the scoped suppressions of the given addresses for the
// given topics, by normalized address (erased addresses' under their hash are found
// too), in one query. Organization-wide suppressions are CheckSuppressions'.
func (db *DB) CheckTopicSuppressions(ctx context.Context, orgID string, emails, topics []string) (map[string][]mailtrail.Suppression, error) {
	org, err := db.orgInternal(ctx, orgID)
	if err != nil {
		return nil, err
	}
	byKey := map[string]string{} // stored key → normalized address
	for _, e := range emails {
		k := mailtrail.NormalizeEmail(e)
		if k == "" {
			continue
		}
		byKey[k] = k
		byKey[mailtrail.EmailHash(k)] = k
	}
	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	kl, _ := json.Marshal(keys)
	tl, _ := json.Marshal(topics)
	rows, err := db.rquery(ctx, `SELECT coalesce(nullif(s.display_email, ''), s.email), s.customer_id, s.reason, s.source, s.event_id, s.detail, s.note,
		s.occurred_at, s.created_at, s.topic FROM json_each(?) AS j CROSS JOIN json_each(?) AS t CROSS JOIN topic_suppressions AS s
		WHERE s.org_id = ? AND s.email = j.value AND s.topic = t.value`, string(kl), string(tl), org)
	if err != nil {
		return nil, fmt.Errorf("sqlite: check topic suppressions: %w", err)
	}
	defer rows.Close()
	out := map[string][]mailtrail.Suppression{}
	for rows.Next() {
		s, err := scanSuppression(rows, orgID)
		if err != nil {
			return nil, fmt.Errorf("sqlite: check topic suppressions: %w", err)
		}
		k := byKey[suppressionKey(&s)]
		if s.EmailHash != "" {
			s.Email = k
		}
		out[k] = append(out[k], s)
	}
	return out, rows.Err()
}

// hashTopicSuppressions moves an erased address's scoped suppressions to its hash h, as
// hashSuppression does for the organization-wide one; a topic the hash holds already
// keeps the earlier unsubscribe.
func hashTopicSuppressions(tx *txc, org int64, addr, h string, custID, scrub func(string) string) error {
	type row struct {
		topic, customer, detail, note string
		s                             rules.Suppress
	}
	var rs []row
	q, err := tx.query(`SELECT topic, customer_id, detail, note, reason, source, event_id, occurred_at FROM topic_suppressions WHERE org_id = ? AND email = ?`, org, addr)
	if err != nil {
		return fmt.Errorf("sqlite: erase topic suppressions: %w", err)
	}
	for q.Next() {
		var r row
		if err := q.Scan(&r.topic, &r.customer, &r.detail, &r.note, &r.s.Reason, &r.s.Source, &r.s.EventID, &r.s.At); err != nil {
			q.Close()
			return fmt.Errorf("sqlite: erase topic suppressions: %w", err)
		}
		r.s.Detail = r.detail
		rs = append(rs, r)
	}
	q.Close()
	if err := q.Err(); err != nil {
		return fmt.Errorf("sqlite: erase topic suppressions: %w", err)
	}
	if _, err := tx.exec(`UPDATE OR REPLACE topic_resubscribes SET email = ? WHERE org_id = ? AND email = ?`, h, org, addr); err != nil {
		return fmt.Errorf("sqlite: erase topic resubscribes: %w", err)
	}
	for _, r := range rs {
		prev, err := loadTopicSuppression(tx, org, h, r.topic)
		if err != nil {
			return err
		}
		if prev.found && !rules.Replaces(prev.s, r.s) {
			_, err = tx.exec(`DELETE FROM topic_suppressions WHERE org_id = ? AND email = ? AND topic = ?`, org, addr, r.topic)
		} else {
			_, err = tx.exec(`UPDATE OR REPLACE topic_suppressions SET email = ?, display_email = '', customer_id = ?, detail = ?, note = ?
				WHERE org_id = ? AND email = ? AND topic = ?`, h, custID(r.customer), scrub(r.detail), scrub(r.note), org, addr, r.topic)
		}
		if err != nil {
			return fmt.Errorf("sqlite: erase topic suppressions: %w", err)
		}
	}
	return nil
}

// Resubscribe records that addresses joined topics again (reported by a vendor, on behalf
// of actor) and lifts each one's suppression for that topic when its unsubscribe is not
// later (history action lifted, note "resubscribed"). The latest resubscribe of each
// address and topic is kept, so an older unsubscribe that arrives afterwards does not
// suppress again. Organization-wide suppressions are never touched. It returns how many
// suppressions were lifted; repeating a call changes nothing.
func (db *DB) Resubscribe(ctx context.Context, orgID string, rs []mailtrail.Resubscribe, actor string) (int, error) {
	org, err := db.orgInternal(ctx, orgID)
	if err != nil {
		return 0, err
	}
	now := db.now().UnixMilli()
	tx, done, err := db.writeTx(ctx)
	if err != nil {
		return 0, err
	}
	defer done()
	lifted := 0
	for _, r := range rs {
		email := mailtrail.NormalizeEmail(r.Email)
		if email == "" || r.Topic == "" {
			continue
		}
		at := r.At.UnixMilli()
		if _, err := tx.exec(`INSERT INTO topic_resubscribes (org_id, email, topic, at) VALUES (?, ?, ?, ?)
			ON CONFLICT (org_id, email, topic) DO UPDATE SET at = max(at, excluded.at)`, org, email, r.Topic, at); err != nil {
			return 0, fmt.Errorf("sqlite: topic resubscribes: %w", err)
		}
		cur, err := loadTopicSuppression(tx, org, email, r.Topic)
		if err != nil {
			return 0, err
		}
		if !cur.found || cur.s.At > at {
			continue
		}
		if _, err := tx.exec(`DELETE FROM topic_suppressions WHERE org_id = ? AND email = ? AND topic = ?`, org, email, r.Topic); err != nil {
			return 0, fmt.Errorf("sqlite: lift topic suppression: %w", err)
		}
		c := change{org: org, email: email, actor: actor, note: "resubscribed", now: now}
		if err := addTopicHistory(tx, c, r.Topic, mailtrail.ActionLifted, cur.s, cur.customerID); err != nil {
			return 0, err
		}
		lifted++
	}
	return lifted, tx.commit()
}
