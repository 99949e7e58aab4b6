package postgres

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/rules"
	"github.com/mailtrail/mailtrail/internal/storekit"
)

// Suppressions written by hand (the API, the dashboard, imports) and the vendors'
// resubscribes, as the SQLite store writes them (internal/store/sqlite, suppressions.go
// and topics.go). They run in write transactions of the projection (writeTx), so they
// serialize with the write path, which loads suppression rows and applies the planner's
// changes to them. Each is a few statements whatever the number of addresses: rows are
// loaded in one statement, decided in order in memory, and written in one pgx.Batch.
//
// An erased customer's addresses are kept under their hashes (privacy.go): removing an
// address's suppression removes those too.

// suppressionRow is an address's current suppression row.
type suppressionRow struct {
	s          rules.Suppress
	customerID string
	found      bool
}

// manualChange is one write of an address's suppression by hand and its history entry.
type manualChange struct {
	org               int64
	email, customerID string
	display           string // the spelling of a new row; an existing row keeps its own
	actor, note       string
	now               int64
}

// queueWrite queues moving the address's organization-wide suppression from cur to next
// (next.Reason "" deletes the row) and its history entry, as the SQLite store's
// writeSuppression; action overrides the derived one when not "". It returns the row the
// address has after it.
func queueWrite(b *pgx.Batch, c manualChange, cur suppressionRow, next rules.Suppress, action string) suppressionRow {
	cust := cmp.Or(c.customerID, cur.customerID)
	after := suppressionRow{s: next, customerID: cust, found: true}
	switch {
	case next.Reason == "":
		action = cmp.Or(action, mailtrail.ActionLifted)
		next, after = cur.s, suppressionRow{}
		b.Queue(`DELETE FROM suppressions WHERE org_id = $1 AND email = $2`, c.org, c.email)
	case cur.found:
		action = cmp.Or(action, mailtrail.ActionReplaced)
		b.Queue(`UPDATE suppressions SET reason = $1, source = $2, event_id = $3, detail = $4, occurred_at = $5, customer_id = $6,
			note = $7, created_at = $8 WHERE org_id = $9 AND email = $10`,
			next.Reason, next.Source, next.EventID, next.Detail, next.At, cust, c.note, c.now, c.org, c.email)
	default:
		action = cmp.Or(action, mailtrail.ActionAdded)
		b.Queue(`INSERT INTO suppressions (org_id, email, display_email, customer_id, reason, source, event_id, detail, note, occurred_at, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`, c.org, c.email, displayOf(c.email, c.display), cust, next.Reason, next.Source,
			next.EventID, next.Detail, c.note, next.At, c.now)
	}
	queueHistory(b, c, "", action, next, cust)
	return after
}

// queueHistory queues one history entry of an address (topic "" for its
// organization-wide suppression).
func queueHistory(b *pgx.Batch, c manualChange, topic, action string, s rules.Suppress, cust string) {
	b.Queue(`INSERT INTO suppression_history (org_id, email, topic, action, reason, source, event_id, detail, customer_id, actor, note, at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`, c.org, c.email, topic, action, s.Reason, s.Source, s.EventID, s.Detail,
		cust, c.actor, c.note, c.now)
}

// sendBatch sends b in tx and reads every result.
func sendBatch(ctx context.Context, tx pgx.Tx, b *pgx.Batch, what string) error {
	if b.Len() == 0 {
		return nil
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("postgres: %s: %w", what, err)
	}
	return nil
}

// loadSuppressionRows reads the organization-wide suppression rows of emails, in tx.
func loadSuppressionRows(ctx context.Context, tx pgx.Tx, org int64, emails []string) (map[string]suppressionRow, error) {
	out := map[string]suppressionRow{}
	rows, err := tx.Query(ctx, `SELECT s.email, s.reason, s.source, s.event_id, s.detail, s.occurred_at, s.customer_id
		FROM unnest($2::text[]) AS k(email) JOIN suppressions s ON s.org_id = $1 AND s.email = k.email`, org, distinct(emails))
	if err != nil {
		return nil, fmt.Errorf("postgres: suppressions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var e string
		r := suppressionRow{found: true}
		if err := rows.Scan(&e, &r.s.Reason, &r.s.Source, &r.s.EventID, &r.s.Detail, &r.s.At, &r.customerID); err != nil {
			return nil, fmt.Errorf("postgres: suppressions: %w", err)
		}
		out[e] = r
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: suppressions: %w", err)
	}
	return out, nil
}

// AddSuppressions suppresses addresses of an organization in one transaction, as source
// (api, manual or csv_import) on behalf of actor. An address suppressed already keeps its
// suppression unless the new reason ranks higher (rules.Replaces: a manual entry replaces
// a soft-bounce one); adding the same list twice changes nothing. Inputs must be valid
// (the caller checks addresses and reasons); their addresses are normalized in place.
// ENOTFOUND for an unknown organization.
func (db *DB) AddSuppressions(ctx context.Context, orgID string, in []mailtrail.SuppressionInput, source, actor string) (mailtrail.AddResult, error) {
	var res mailtrail.AddResult
	org, err := db.orgInternal(ctx, db.pool, orgID)
	if err != nil {
		return res, err
	}
	now := db.now().UnixMilli()
	n := len(in)
	emails, reasons, custs, notes, displays := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	for i, s := range in {
		if s.Reason == "" {
			in[i].Reason = mailtrail.ReasonManual
		}
		in[i].Email = mailtrail.NormalizeEmail(s.Email)
		emails[i], reasons[i], custs[i], notes[i], displays[i] = in[i].Email, in[i].Reason, s.CustomerID, s.Note, displayOf(in[i].Email, s.Email)
	}
	err = db.writeTx(ctx, func(tx pgx.Tx) error {
		// New addresses, the common case, in two statements; the rest decided in order.
		rows, err := tx.Query(ctx, `INSERT INTO suppressions (org_id, email, reason, customer_id, note, display_email, source, occurred_at, created_at)
			SELECT $1, e, r, c, n, d, $7, $8, $8 FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) WITH ORDINALITY AS v(e, r, c, n, d, i)
			ORDER BY i ON CONFLICT (org_id, email) DO NOTHING RETURNING email`, org, emails, reasons, custs, notes, displays, source, now)
		added, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return fmt.Errorf("postgres: add suppressions: %w", err)
		}
		isNew := make(map[string]bool, len(added))
		for _, e := range added {
			isNew[e] = true
		}
		if len(added) > 0 {
			if _, err := tx.Exec(ctx, `INSERT INTO suppression_history (org_id, email, action, reason, source, customer_id, actor, note, at)
				SELECT s.org_id, s.email, $3, s.reason, s.source, s.customer_id, $4, s.note, $5
				FROM unnest($2::text[]) AS k(email) JOIN suppressions s ON s.org_id = $1 AND s.email = k.email`,
				org, added, mailtrail.ActionAdded, actor, now); err != nil {
				return fmt.Errorf("postgres: suppression history: %w", err)
			}
		}
		var existing []string
		for _, s := range in {
			if !isNew[s.Email] {
				existing = append(existing, s.Email)
			}
		}
		cur, err := loadSuppressionRows(ctx, tx, org, existing)
		if err != nil {
			return err
		}
		b := &pgx.Batch{}
		for _, s := range in {
			if isNew[s.Email] {
				res.Added++
				// A repeat later in the input counts as existing, against the row just added.
				delete(isNew, s.Email)
				cur[s.Email] = suppressionRow{s: rules.Suppress{Reason: s.Reason, Source: source, At: now}, customerID: s.CustomerID, found: true}
				continue
			}
			res.Existing++
			next := rules.Suppress{Reason: s.Reason, Source: source, At: now}
			if c := cur[s.Email]; rules.Replaces(c.s, next) {
				cur[s.Email] = queueWrite(b, manualChange{org: org, email: s.Email, customerID: s.CustomerID, actor: actor, note: s.Note, now: now}, c, next, "")
			}
		}
		return sendBatch(ctx, tx, b, "add suppressions")
	})
	if err != nil {
		return mailtrail.AddResult{}, err
	}
	return res, nil
}

// RemoveSuppression removes an address's suppression, whatever its reason, recording who
// removed it and why; it also ends the address's soft-bounce run, so the next soft bounce
// starts a new one. It returns the removed suppression; ENOTFOUND when the address is not
// suppressed or the organization is unknown.
func (db *DB) RemoveSuppression(ctx context.Context, orgID, email, actor, why string) (*mailtrail.Suppression, error) {
	org, err := db.orgInternal(ctx, db.pool, orgID)
	if err != nil {
		return nil, err
	}
	// An erased customer's address is suppressed under its hash (privacy.go): removed too.
	hashes := storekit.ErasedHashes(email)
	email = mailtrail.NormalizeEmail(email)
	now := db.now().UnixMilli()
	var removed *mailtrail.Suppression
	err = db.writeTx(ctx, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		st, _ := json.Marshal(rules.SoftBounceState{ResetAt: now})
		for _, key := range append([]string{email}, hashes...) {
			var cur suppressionRow
			var created int64
			var note string // the answer shows the suppression as it was
			err := tx.QueryRow(ctx, `SELECT reason, source, event_id, detail, occurred_at, customer_id, created_at, note FROM suppressions
				WHERE org_id = $1 AND email = $2`, org, key).Scan(&cur.s.Reason, &cur.s.Source, &cur.s.EventID, &cur.s.Detail, &cur.s.At, &cur.customerID,
				&created, &note)
			if errors.Is(err, pgx.ErrNoRows) {
				continue
			}
			if err != nil {
				return fmt.Errorf("postgres: suppression: %w", err)
			}
			cur.found = true
			queueWrite(b, manualChange{org: org, email: key, actor: actor, note: why, now: now}, cur, rules.Suppress{}, mailtrail.ActionRemoved)
			b.Queue(`UPDATE soft_bounces SET state = $1 WHERE org_id = $2 AND email = $3`, string(st), org, key)
			if removed == nil {
				removed = &mailtrail.Suppression{OrgID: orgID, Email: key, CustomerID: cur.customerID, Reason: cur.s.Reason, Source: cur.s.Source,
					EventID: cur.s.EventID, Detail: cur.s.Detail, Note: note, SuppressedAt: fromMS(cur.s.At), CreatedAt: fromMS(created)}
				storekit.MarkErased(removed) // removed by its sha256: key
			}
		}
		if removed == nil {
			return mailtrail.Errorf(mailtrail.ENOTFOUND, "%s is not suppressed", email)
		}
		return sendBatch(ctx, tx, b, "remove suppression")
	})
	if err != nil {
		return nil, err
	}
	return removed, nil
}

// RemoveTopicSuppression removes an address's suppression for one topic, recording who
// removed it and why. It returns the removed suppression; ENOTFOUND when the address is
// not suppressed for that topic or the organization is unknown.
func (db *DB) RemoveTopicSuppression(ctx context.Context, orgID, email, topic, actor, why string) (*mailtrail.Suppression, error) {
	org, err := db.orgInternal(ctx, db.pool, orgID)
	if err != nil {
		return nil, err
	}
	email = mailtrail.NormalizeEmail(email)
	now := db.now().UnixMilli()
	var removed *mailtrail.Suppression
	err = db.writeTx(ctx, func(tx pgx.Tx) error {
		var cur suppressionRow
		var created int64
		var display string
		err := tx.QueryRow(ctx, `DELETE FROM topic_suppressions WHERE org_id = $1 AND email = $2 AND topic = $3
			RETURNING reason, source, event_id, detail, occurred_at, customer_id, created_at, coalesce(nullif(display_email, ''), email)`, org, email, topic).
			Scan(&cur.s.Reason, &cur.s.Source, &cur.s.EventID, &cur.s.Detail, &cur.s.At, &cur.customerID, &created, &display)
		if errors.Is(err, pgx.ErrNoRows) {
			return mailtrail.Errorf(mailtrail.ENOTFOUND, "%s is not suppressed for topic %q", email, topic)
		}
		if err != nil {
			return fmt.Errorf("postgres: remove topic suppression: %w", err)
		}
		b := &pgx.Batch{}
		queueHistory(b, manualChange{org: org, email: email, actor: actor, note: why, now: now}, topic, mailtrail.ActionRemoved, cur.s, cur.customerID)
		if err := sendBatch(ctx, tx, b, "suppression history"); err != nil {
			return err
		}
		removed = &mailtrail.Suppression{OrgID: orgID, Email: display, CustomerID: cur.customerID, Reason: cur.s.Reason, Source: cur.s.Source,
			EventID: cur.s.EventID, Detail: cur.s.Detail, SuppressedAt: fromMS(cur.s.At), CreatedAt: fromMS(created), Topic: topic}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return removed, nil
}

// Resubscribe records that addresses joined topics again (reported by a vendor, on behalf
// of actor) and lifts each one's suppression for that topic when its unsubscribe is not
// later (history action lifted, note "resubscribed"). The latest resubscribe of each
// address and topic is kept, so an older unsubscribe that arrives afterwards does not
// suppress again. Organization-wide suppressions are never touched. It returns how many
// suppressions were lifted; repeating a call changes nothing. ENOTFOUND for an unknown
// organization.
func (db *DB) Resubscribe(ctx context.Context, orgID string, rs []mailtrail.Resubscribe, actor string) (int, error) {
	org, err := db.orgInternal(ctx, db.pool, orgID)
	if err != nil {
		return 0, err
	}
	now := db.now().UnixMilli()
	type key struct{ email, topic string }
	latest := map[key]int64{}
	var order []key // of rs, the entries that count
	var ats []int64
	for _, r := range rs {
		k := key{mailtrail.NormalizeEmail(r.Email), r.Topic}
		if k.email == "" || k.topic == "" {
			continue
		}
		at := r.At.UnixMilli()
		if v, ok := latest[k]; !ok || at > v {
			latest[k] = at
		}
		order, ats = append(order, k), append(ats, at)
	}
	if len(order) == 0 {
		return 0, nil
	}
	var emails, topics []string
	var latestAt []int64
	for k, at := range latest {
		emails, topics, latestAt = append(emails, k.email), append(topics, k.topic), append(latestAt, at)
	}
	lifted := 0
	err = db.writeTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO topic_resubscribes (org_id, email, topic, at)
			SELECT $1, e, t, a FROM unnest($2::text[], $3::text[], $4::bigint[]) AS v(e, t, a) ORDER BY e, t
			ON CONFLICT (org_id, email, topic) DO UPDATE SET at = greatest(topic_resubscribes.at, EXCLUDED.at)`, org, emails, topics, latestAt); err != nil {
			return fmt.Errorf("postgres: topic resubscribes: %w", err)
		}
		rows, err := tx.Query(ctx, `SELECT s.email, s.topic, s.reason, s.source, s.event_id, s.detail, s.occurred_at, s.customer_id
			FROM unnest($2::text[], $3::text[]) AS k(email, topic) JOIN topic_suppressions s ON s.org_id = $1 AND s.email = k.email AND s.topic = k.topic`,
			org, emails, topics)
		if err != nil {
			return fmt.Errorf("postgres: topic suppressions: %w", err)
		}
		cur := map[key]suppressionRow{}
		for rows.Next() {
			var k key
			r := suppressionRow{found: true}
			if err := rows.Scan(&k.email, &k.topic, &r.s.Reason, &r.s.Source, &r.s.EventID, &r.s.Detail, &r.s.At, &r.customerID); err != nil {
				rows.Close()
				return fmt.Errorf("postgres: topic suppressions: %w", err)
			}
			cur[k] = r
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("postgres: topic suppressions: %w", err)
		}
		b := &pgx.Batch{}
		for i, k := range order {
			c := cur[k]
			if !c.found || c.s.At > ats[i] {
				continue
			}
			b.Queue(`DELETE FROM topic_suppressions WHERE org_id = $1 AND email = $2 AND topic = $3`, org, k.email, k.topic)
			queueHistory(b, manualChange{org: org, email: k.email, actor: actor, note: "resubscribed", now: now}, k.topic, mailtrail.ActionLifted, c.s, c.customerID)
			delete(cur, k)
			lifted++
		}
		return sendBatch(ctx, tx, b, "lift topic suppressions")
	})
	if err != nil {
		return 0, err
	}
	return lifted, nil
}
