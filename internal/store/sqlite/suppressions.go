package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/derive"
	"github.com/mailtrail/mailtrail/internal/rules"
	"github.com/mailtrail/mailtrail/internal/segment"
	"github.com/mailtrail/mailtrail/internal/storekit"
)

// ActorEvent is the actor of the history entries that events cause.
const ActorEvent = "event"

// suppressionRow is an address's current suppression row.
type suppressionRow struct {
	s          rules.Suppress
	customerID string
	found      bool
}

func loadSuppression(tx *txc, org int64, email string) (suppressionRow, error) {
	var r suppressionRow
	err := tx.scan(`SELECT reason, source, event_id, detail, occurred_at, customer_id FROM suppressions WHERE org_id = ? AND email = ?`,
		[]any{org, email}, &r.s.Reason, &r.s.Source, &r.s.EventID, &r.s.Detail, &r.s.At, &r.customerID)
	if errors.Is(err, sql.ErrNoRows) {
		return suppressionRow{}, nil
	}
	if err != nil {
		return r, fmt.Errorf("sqlite: suppression: %w", err)
	}
	r.found = true
	return r, nil
}

// change is one write of an address's suppression and the history entry that records it.
type change struct {
	org               int64
	email, customerID string
	display           string // the spelling of a new row ("" = email); an existing row keeps its own
	actor, note       string
	now               int64 // created_at of a new row and time of the history entry
}

// writeSuppression moves the address from cur to next (next.Reason "" deletes the row)
// and appends the history entry. action overrides the derived action when not "".
func writeSuppression(tx *txc, c change, cur suppressionRow, next rules.Suppress, action string) error {
	cust := c.customerID
	if cust == "" {
		cust = cur.customerID
	}
	var err error
	switch {
	case next.Reason == "":
		if action == "" {
			action = mailtrail.ActionLifted
		}
		next = cur.s
		_, err = tx.exec(`DELETE FROM suppressions WHERE org_id = ? AND email = ?`, c.org, c.email)
	case cur.found:
		if action == "" {
			action = mailtrail.ActionReplaced
		}
		_, err = tx.exec(`UPDATE suppressions SET reason = ?, source = ?, event_id = ?, detail = ?, occurred_at = ?, customer_id = ?,
			note = ?, created_at = ? WHERE org_id = ? AND email = ?`,
			next.Reason, next.Source, next.EventID, next.Detail, next.At, cust, c.note, c.now, c.org, c.email)
	default:
		if action == "" {
			action = mailtrail.ActionAdded
		}
		_, err = tx.exec(`INSERT INTO suppressions (org_id, email, display_email, customer_id, reason, source, event_id, detail, note, occurred_at, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, c.org, c.email, displayOf(c.email, c.display), cust, next.Reason, next.Source, next.EventID, next.Detail, c.note, next.At, c.now)
	}
	if err != nil {
		return fmt.Errorf("sqlite: write suppression: %w", err)
	}
	return addHistory(tx, c, action, next, cust)
}

// displayOf returns the display_email to store for key when spelled as spelling: "" when
// the spelling adds nothing to the key or is not the key's.
func displayOf(key, spelling string) string {
	spelling = strings.TrimSpace(spelling)
	if spelling == key || mailtrail.NormalizeEmail(spelling) != key {
		return ""
	}
	return spelling
}

func addHistory(tx *txc, c change, action string, s rules.Suppress, cust string) error {
	_, err := tx.exec(`INSERT INTO suppression_history (org_id, email, action, reason, source, event_id, detail, customer_id, actor, note, at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, c.org, c.email, action, s.Reason, s.Source, s.EventID, s.Detail, cust, c.actor, c.note, c.now)
	if err != nil {
		return fmt.Errorf("sqlite: suppression history: %w", err)
	}
	return nil
}

// applySuppressions writes a plan's suppression changes, in the order they happened, with
// their history entries, and the addresses' new soft-bounce runs.
func (w *batchWriter) applySuppressions(plan *derive.Plan) error {
	for _, s := range plan.Suppressions {
		c := change{org: s.Org, email: s.Email, display: s.Display, customerID: s.CustomerID, actor: ActorEvent, now: s.At}
		cur := suppressionRow{s: s.Cur.S, customerID: s.Cur.CustomerID, found: s.Cur.Found}
		var err error
		if s.Topic != "" {
			err = writeTopicSuppression(w.tx, c, s.Topic, cur, s.Next, s.Action)
		} else {
			err = writeSuppression(w.tx, c, cur, s.Next, "")
		}
		if err != nil {
			return err
		}
	}
	for a, state := range plan.SoftBounces {
		if _, err := w.tx.exec(`INSERT INTO soft_bounces (org_id, email, state) VALUES (?, ?, ?)
			ON CONFLICT (org_id, email) DO UPDATE SET state = excluded.state`, a.Org, a.Email, state); err != nil {
			return fmt.Errorf("sqlite: soft bounces: %w", err)
		}
	}
	return nil
}

// AddSuppressions suppresses addresses of an organization in one transaction, as source
// (api, manual or csv_import) on behalf of actor. An address suppressed already keeps its
// suppression unless the new reason ranks higher (rules.Rank: a manual entry replaces a
// soft-bounce one); adding the same list twice changes nothing. Inputs must be valid
// (the caller checks addresses and reasons); their addresses are normalized in place.
// ENOTFOUND for an unknown organization.
func (db *DB) AddSuppressions(ctx context.Context, orgID string, in []mailtrail.SuppressionInput, source, actor string) (mailtrail.AddResult, error) {
	var res mailtrail.AddResult
	org, err := db.orgInternal(ctx, orgID)
	if err != nil {
		return res, err
	}
	now := db.now().UnixMilli()
	tx, done, err := db.writeTx(ctx)
	if err != nil {
		return res, err
	}
	defer done()
	// New addresses, the common case, in two statements per batch; the rest one by one.
	rows := make([][5]string, len(in))
	for i, s := range in {
		if s.Reason == "" {
			in[i].Reason = mailtrail.ReasonManual
		}
		in[i].Email = mailtrail.NormalizeEmail(s.Email)
		rows[i] = [5]string{in[i].Email, in[i].Reason, s.CustomerID, s.Note, displayOf(in[i].Email, s.Email)}
	}
	list, _ := json.Marshal(rows)
	qr, err := tx.query(`INSERT INTO suppressions (org_id, email, reason, customer_id, note, display_email, source, occurred_at, created_at)
		SELECT ?, value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, ?, ?, ? FROM json_each(?) WHERE true
		ON CONFLICT (org_id, email) DO NOTHING RETURNING email`, org, source, now, now, string(list))
	if err != nil {
		return res, fmt.Errorf("sqlite: add suppressions: %w", err)
	}
	added := map[string]bool{}
	for qr.Next() {
		var e string
		if err := qr.Scan(&e); err != nil {
			qr.Close()
			return res, fmt.Errorf("sqlite: add suppressions: %w", err)
		}
		added[e] = true
	}
	qr.Close()
	if err := qr.Err(); err != nil {
		return res, fmt.Errorf("sqlite: add suppressions: %w", err)
	}
	if len(added) > 0 {
		emails := make([]string, 0, len(added))
		for e := range added {
			emails = append(emails, e)
		}
		el, _ := json.Marshal(emails)
		if _, err := tx.exec(`INSERT INTO suppression_history (org_id, email, action, reason, source, customer_id, actor, note, at)
			SELECT org_id, email, ?, reason, source, customer_id, ?, note, ? FROM suppressions
			WHERE org_id = ? AND email IN (SELECT value FROM json_each(?))`, mailtrail.ActionAdded, actor, now, org, string(el)); err != nil {
			return res, fmt.Errorf("sqlite: suppression history: %w", err)
		}
	}
	for _, s := range in {
		if added[s.Email] {
			res.Added++
			delete(added, s.Email) // a repeat later in the batch counts as existing
			continue
		}
		res.Existing++
		cur, err := loadSuppression(tx, org, s.Email)
		if err != nil {
			return res, err
		}
		next := rules.Suppress{Reason: s.Reason, Source: source, At: now}
		if rules.Replaces(cur.s, next) {
			c := change{org: org, email: s.Email, customerID: s.CustomerID, actor: actor, note: s.Note, now: now}
			if err := writeSuppression(tx, c, cur, next, ""); err != nil {
				return res, err
			}
		}
	}
	return res, tx.commit()
}

// RemoveSuppression removes an address's suppression, whatever its reason, recording who
// removed it and why; it also ends the address's soft-bounce run, so the next soft bounce
// starts a new one. It returns the removed suppression; ENOTFOUND when the address is not
// suppressed.
func (db *DB) RemoveSuppression(ctx context.Context, orgID, email, actor, why string) (*mailtrail.Suppression, error) {
	org, err := db.orgInternal(ctx, orgID)
	if err != nil {
		return nil, err
	}
	hashes := storekit.ErasedHashes(email)
	email = mailtrail.NormalizeEmail(email)
	now := db.now().UnixMilli()
	tx, done, err := db.writeTx(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	cur, err := loadSuppression(tx, org, email)
	if err != nil {
		return nil, err
	}
	// An erased customer's address is suppressed under its hash (privacy.go): removed too.
	var erased *mailtrail.Suppression
	for _, h := range hashes {
		e, err := removeErased(tx, change{org: org, email: h, actor: actor, note: why, now: now})
		if err != nil {
			return nil, err
		}
		erased = cmp.Or(erased, e)
	}
	if !cur.found && erased != nil {
		if err := tx.commit(); err != nil {
			return nil, err
		}
		erased.OrgID = orgID
		return erased, nil
	}
	if !cur.found {
		return nil, mailtrail.Errorf(mailtrail.ENOTFOUND, "%s is not suppressed", email)
	}
	var created int64
	var note string // the answer shows the suppression as it was
	if err := tx.scan(`SELECT created_at, note FROM suppressions WHERE org_id = ? AND email = ?`, []any{org, email}, &created, &note); err != nil {
		return nil, fmt.Errorf("sqlite: suppression: %w", err)
	}
	if err := writeSuppression(tx, change{org: org, email: email, actor: actor, note: why, now: now}, cur, rules.Suppress{}, mailtrail.ActionRemoved); err != nil {
		return nil, err
	}
	st, _ := json.Marshal(rules.SoftBounceState{ResetAt: now})
	if _, err := tx.exec(`UPDATE soft_bounces SET state = ? WHERE org_id = ? AND email = ?`, string(st), org, email); err != nil {
		return nil, fmt.Errorf("sqlite: soft bounces: %w", err)
	}
	if err := tx.commit(); err != nil {
		return nil, err
	}
	removed := &mailtrail.Suppression{OrgID: orgID, Email: email, CustomerID: cur.customerID, Reason: cur.s.Reason, Source: cur.s.Source,
		EventID: cur.s.EventID, Detail: cur.s.Detail, Note: note, SuppressedAt: fromMS(cur.s.At), CreatedAt: fromMS(created)}
	storekit.MarkErased(removed) // removed by its sha256: key
	return removed, nil
}

// OrgSettings returns an organization's settings; ENOTFOUND for an unknown organization.
func (db *DB) OrgSettings(ctx context.Context, orgID string) (*mailtrail.OrgSettings, error) {
	org, err := db.orgInternal(ctx, orgID)
	if err != nil {
		return nil, err
	}
	var s mailtrail.OrgSettings
	if err := db.rrow(ctx, `SELECT soft_bounce_limit, keep_full_ip, retention_days, tracking_url, brand_logo_url, brand_color FROM orgs WHERE id = ?`, []any{org},
		&s.SoftBounceLimit, &s.KeepFullIP, &s.RetentionDays, &s.TrackingURL, &s.BrandLogoURL, &s.BrandColor); err != nil {
		return nil, fmt.Errorf("sqlite: org settings: %w", err)
	}
	return &s, nil
}

// UpdateOrgSettings stores an organization's settings (validated by the caller). A new
// soft-bounce limit applies to each address at its next soft bounce or reset event.
func (db *DB) UpdateOrgSettings(ctx context.Context, orgID string, s mailtrail.OrgSettings) error {
	org, err := db.orgInternal(ctx, orgID)
	if err != nil {
		return err
	}
	host, err := storekit.TrackingHost(s.TrackingURL)
	if err != nil {
		return err
	}
	db.wmu.Lock()
	defer db.wmu.Unlock()
	// The writer alone changes orgs: the retention read here is the one replaced.
	var oldDays int
	floor := segment.NoFloor
	if err := db.wc.QueryRowContext(ctx, `SELECT retention_days, segment_floor FROM orgs WHERE id = ?`, org).Scan(&oldDays, &floor); err != nil {
		return fmt.Errorf("sqlite: org settings: %w", err)
	}
	floor = segment.RaisedFloor(floor, oldDays, s.RetentionDays, db.now())
	_, err = db.wc.ExecContext(ctx, `UPDATE orgs SET soft_bounce_limit = ?, keep_full_ip = ?, retention_days = ?, tracking_url = ?,
		tracking_host = ?, brand_logo_url = ?, brand_color = ?, segment_floor = ? WHERE id = ?`, s.SoftBounceLimit, s.KeepFullIP, s.RetentionDays, s.TrackingURL, host,
		s.BrandLogoURL, s.BrandColor, floor, org)
	err = db.autocommit(err)
	if isUniqueViolation(err) {
		return mailtrail.Errorf(mailtrail.ECONFLICT, "another organization uses the tracking host %s", host)
	}
	if err != nil {
		return fmt.Errorf("sqlite: org settings: %w", err)
	}
	db.cache.orgSettings = map[int64]derive.Org{}
	db.trackingHosts.Clear()
	return nil
}

// TrackingHostOrg returns the public id of the organization whose tracking domain is host
// (as in a request's Host, any case, with a port when not the default); "" when none is.
// Answers are cached until the next change of settings.
func (db *DB) TrackingHostOrg(ctx context.Context, host string) (string, error) {
	host = strings.ToLower(host)
	if v, ok := db.trackingHosts.Load(host); ok {
		return v.(string), nil
	}
	var id string
	err := db.rrow(ctx, `SELECT public_id FROM orgs WHERE tracking_host = ?`, []any{host}, &id)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("sqlite: tracking host: %w", err)
	}
	if n := db.trackingHostsN.Add(1); n > 10000 { // bounded: hosts are whatever clients send
		db.trackingHosts.Clear()
		db.trackingHostsN.Store(0)
	}
	db.trackingHosts.Store(host, id)
	return id, nil
}

// APIKeyID returns the public id of an active API key secret, for audit entries;
// EUNAUTHORIZED for an unknown or revoked key.
func (db *DB) APIKeyID(ctx context.Context, secret string) (string, error) {
	var id string
	err := db.rrow(ctx, `SELECT public_id FROM api_keys WHERE hash = ? AND revoked_at IS NULL`, []any{hashKey(secret)}, &id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", mailtrail.Errorf(mailtrail.EUNAUTHORIZED, "invalid or revoked API key")
	}
	if err != nil {
		return "", fmt.Errorf("sqlite: api key: %w", err)
	}
	return id, nil
}
