package sqlite

// Privacy: erasing a customer's personal data, and the retention of raw events. Neither
// touches an aggregate (campaign_stats, link_stats, link_clicks, campaign_dims,
// customers.last_*): figures stay exactly what they were when the raw events they were
// counted from are scrubbed or gone. See docs/privacy.md.

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/attribute"
	"github.com/mailtrail/mailtrail/internal/rules"
	"github.com/mailtrail/mailtrail/internal/storekit"
)

// ErasedCustomerPrefix starts the id an erased customer gets in place of the CRM's.
const ErasedCustomerPrefix = storekit.ErasedCustomerPrefix

// customerEventsQuery reads every event of a customer from the customer index plus the
// un-indexed tail past the indexer's watermark (as ListEvents does): both are index
// searches, never a scan of events. Arguments: customer, organization, customer.
const customerEventsQuery = `SELECT ev.id, ev.email, coalesce(ev.meta, '') FROM customer_events ce JOIN events ev ON ev.id = ce.event_id
	WHERE ce.customer_id = ?
	UNION ALL SELECT ev.id, ev.email, coalesce(ev.meta, '') FROM events ev WHERE ev.org_id = ? AND ev.customer_id = ?
		AND ev.id > (SELECT last_id FROM indexer_state WHERE name = 'customer_events')`

// EraseCustomer erases the personal data of an organization's customer in one
// transaction, keeping every aggregate as it is:
//   - raw events: the address is emptied and the metadata keys of storekit.ErasedMetaKeys are
//     removed; the address is cut out of the bounce reason text;
//   - messages and the customer: the address is emptied; the customer's id becomes
//     "erased:" and 16 random hex characters, so the CRM's id no longer finds anything;
//   - suppressions, their history and soft-bounce runs of every address the customer had
//     (customer, messages, events) are kept under mailtrail.EmailHash of the address, so
//     the address stays suppressed without being stored.
//
// The result names the customer's old and new ids (for the change-set the caller
// publishes). ENOTFOUND for a customer the organization does not have (an erased one
// included).
func (db *DB) EraseCustomer(ctx context.Context, orgID, customerID string) (*mailtrail.EraseResult, error) {
	return db.EraseCustomerAs(ctx, orgID, customerID, storekit.NewErasedID())
}

// EraseCustomerAs is EraseCustomer with the erased customer's new id given: the cluster
// mode erases a customer in its PostgreSQL projection too, under the same id.
func (db *DB) EraseCustomerAs(ctx context.Context, orgID, customerID, newID string) (*mailtrail.EraseResult, error) {
	org, err := db.orgInternal(ctx, orgID)
	if err != nil {
		return nil, err
	}
	if customerID == attribute.UnknownCustomer {
		return nil, mailtrail.Errorf(mailtrail.EINVALID, "%s is the placeholder of unattributed webhook events, not a customer", attribute.UnknownCustomer)
	}

	tx, done, err := db.writeTx(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	var cust int64
	var email string
	err = tx.scan(`SELECT id, email FROM customers WHERE org_id = ? AND ext_id = ?`, []any{org, customerID}, &cust, &email)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, mailtrail.Errorf(mailtrail.ENOTFOUND, "customer %q not found", customerID)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: erase customer: %w", err)
	}
	addrs := []string{email}
	res := &mailtrail.EraseResult{}

	// Messages (messages_customer index).
	rows, err := tx.query(`SELECT DISTINCT email FROM messages WHERE customer_id = ?`, cust)
	if err != nil {
		return nil, fmt.Errorf("sqlite: erase customer: %w", err)
	}
	for rows.Next() {
		var e string
		if err := rows.Scan(&e); err != nil {
			rows.Close()
			return nil, fmt.Errorf("sqlite: erase customer: %w", err)
		}
		addrs = append(addrs, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: erase customer: %w", err)
	}
	r, err := tx.exec(`UPDATE messages SET email = '' WHERE customer_id = ?`, cust)
	if err != nil {
		return nil, fmt.Errorf("sqlite: erase messages: %w", err)
	}
	n, _ := r.RowsAffected()
	res.Messages = int(n)

	// Events: read them all first, then rewrite them one by one.
	type rawEvent struct {
		id          int64
		email, meta string
	}
	var evs []rawEvent
	rows, err = tx.query(customerEventsQuery, cust, org, cust)
	if err != nil {
		return nil, fmt.Errorf("sqlite: erase events: %w", err)
	}
	for rows.Next() {
		var e rawEvent
		if err := rows.Scan(&e.id, &e.email, &e.meta); err != nil {
			rows.Close()
			return nil, fmt.Errorf("sqlite: erase events: %w", err)
		}
		evs = append(evs, e)
		addrs = append(addrs, e.email)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: erase events: %w", err)
	}
	norm, scrub := storekit.ErasedAddresses(addrs)
	for _, e := range evs {
		meta, err := storekit.ScrubMeta(e.meta, scrub)
		if err != nil {
			return nil, fmt.Errorf("sqlite: erase event %d: %w", e.id, err)
		}
		if _, err := tx.exec(`UPDATE events SET email = '', meta = ? WHERE id = ?`, meta, e.id); err != nil {
			return nil, fmt.Errorf("sqlite: erase events: %w", err)
		}
	}
	res.Events = len(evs)

	if _, err := tx.exec(`UPDATE customers SET email = '', ext_id = ? WHERE id = ?`, newID, cust); err != nil {
		return nil, fmt.Errorf("sqlite: erase customer: %w", err)
	}
	if err := bumpGeneration(tx); err != nil {
		return nil, err
	}
	custID := func(c string) string {
		if c == customerID {
			return newID
		}
		return c
	}
	for _, a := range norm {
		moved, err := hashSuppression(tx, org, a, custID, scrub)
		if err != nil {
			return nil, err
		}
		if moved {
			res.Suppressions++
		}
	}
	if err := tx.commit(); err != nil {
		return nil, err
	}
	db.boundWAL(ctx)
	// The writer's cache holds messages and customers with their addresses and the old
	// id: drop them, they are read again from the erased rows.
	db.cache.messages = map[[12]byte]*msgEntry{}
	db.cache.customers = map[string]*custEntry{}
	res.Customer = mailtrail.ErasedCustomer{OrgID: orgID, OldID: customerID, NewID: newID}
	return res, nil
}

// hashSuppression moves an address's suppression, its history and its soft-bounce run
// to the address's hash, cutting the address out of their texts and renaming the erased
// customer. When the hash holds a suppression already (another customer with the address
// was erased before), the one that ranks higher (rules.Replaces) is kept. It reports
// whether the address had a suppression.
func hashSuppression(tx *txc, org int64, addr string, custID func(string) string, scrub func(string) string) (bool, error) {
	h := mailtrail.EmailHash(addr)
	cur, err := loadSuppression(tx, org, addr)
	if err != nil {
		return false, err
	}
	if cur.found {
		prev, err := loadSuppression(tx, org, h)
		if err != nil {
			return false, err
		}
		if prev.found && !rules.Replaces(prev.s, cur.s) {
			_, err = tx.exec(`DELETE FROM suppressions WHERE org_id = ? AND email = ?`, org, addr)
		} else {
			var note string
			if err := tx.scan(`SELECT note FROM suppressions WHERE org_id = ? AND email = ?`, []any{org, addr}, &note); err != nil {
				return false, fmt.Errorf("sqlite: erase suppression: %w", err)
			}
			if prev.found {
				if _, err := tx.exec(`DELETE FROM suppressions WHERE org_id = ? AND email = ?`, org, h); err != nil {
					return false, fmt.Errorf("sqlite: erase suppression: %w", err)
				}
			}
			_, err = tx.exec(`UPDATE suppressions SET email = ?, display_email = '', customer_id = ?, detail = ?, note = ? WHERE org_id = ? AND email = ?`,
				h, custID(cur.customerID), scrub(cur.s.Detail), scrub(note), org, addr)
		}
		if err != nil {
			return false, fmt.Errorf("sqlite: erase suppression: %w", err)
		}
	}

	if err := hashTopicSuppressions(tx, org, addr, h, custID, scrub); err != nil {
		return false, err
	}

	type histRow struct {
		id                     int64
		customer, detail, note string
	}
	var hist []histRow
	rows, err := tx.query(`SELECT id, customer_id, detail, note FROM suppression_history WHERE org_id = ? AND email = ?`, org, addr)
	if err != nil {
		return false, fmt.Errorf("sqlite: erase suppression history: %w", err)
	}
	for rows.Next() {
		var r histRow
		if err := rows.Scan(&r.id, &r.customer, &r.detail, &r.note); err != nil {
			rows.Close()
			return false, fmt.Errorf("sqlite: erase suppression history: %w", err)
		}
		hist = append(hist, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return false, fmt.Errorf("sqlite: erase suppression history: %w", err)
	}
	for _, r := range hist {
		if _, err := tx.exec(`UPDATE suppression_history SET email = ?, customer_id = ?, detail = ?, note = ? WHERE id = ?`,
			h, custID(r.customer), scrub(r.detail), scrub(r.note), r.id); err != nil {
			return false, fmt.Errorf("sqlite: erase suppression history: %w", err)
		}
	}

	var state string
	err = tx.scan(`SELECT state FROM soft_bounces WHERE org_id = ? AND email = ?`, []any{org, addr}, &state)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return false, fmt.Errorf("sqlite: erase soft bounces: %w", err)
	default:
		if _, err := tx.exec(`INSERT INTO soft_bounces (org_id, email, state) VALUES (?, ?, ?)
			ON CONFLICT (org_id, email) DO UPDATE SET state = excluded.state`, org, h, state); err != nil {
			return false, fmt.Errorf("sqlite: erase soft bounces: %w", err)
		}
		if _, err := tx.exec(`DELETE FROM soft_bounces WHERE org_id = ? AND email = ?`, org, addr); err != nil {
			return false, fmt.Errorf("sqlite: erase soft bounces: %w", err)
		}
	}
	return cur.found, nil
}

// suppressionKey is the stored key of a suppression as scanned: its address normalized
// (the scan shows the spelling first seen) or its hash.
func suppressionKey(s *mailtrail.Suppression) string {
	return cmp.Or(mailtrail.NormalizeEmail(s.Email), s.EmailHash)
}

// hasErasedAddresses reports whether an organization keeps any suppression under an
// address's hash: one probe of the primary key's range of hashes.
func (db *DB) hasErasedAddresses(ctx context.Context, org int64) (bool, error) {
	var one int
	err := db.rrow(ctx, `SELECT 1 FROM suppressions WHERE org_id = ? AND email >= 'sha256:' AND email < 'sha256;' LIMIT 1`, []any{org}, &one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("sqlite: erased suppressions: %w", err)
	}
	return true, nil
}

// checkErased adds to found the suppressions of the addresses of raw (as given) whose key
// found lacks and that are kept under their hash (erasedHashes), by key. Organizations
// that never erased a suppressed address pay one primary-key probe, and only when an
// address was not found.
func (db *DB) checkErased(ctx context.Context, org int64, orgID string, raw []string, found map[string]mailtrail.Suppression) error {
	if len(found) == len(raw) {
		return nil
	}
	if ok, err := db.hasErasedAddresses(ctx, org); err != nil || !ok {
		return err
	}
	look := storekit.NewErasedLookup(raw, found)
	if len(look.Hashes) == 0 {
		return nil
	}
	list, _ := json.Marshal(look.Hashes)
	rows, err := db.rquery(ctx, `SELECT `+suppressionColsS+`
		FROM json_each(?) AS j CROSS JOIN suppressions AS s WHERE s.org_id = ? AND s.email = j.value`, string(list), org)
	if err != nil {
		return fmt.Errorf("sqlite: check erased suppressions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		s, err := scanSuppression(rows, orgID)
		if err != nil {
			return fmt.Errorf("sqlite: check erased suppressions: %w", err)
		}
		look.Add(found, s.EmailHash, s)
	}
	return rows.Err()
}

// suppressionColsS are suppressionCols of the table aliased s.
const suppressionColsS = `coalesce(nullif(s.display_email, ''), s.email), s.customer_id, s.reason, s.source, s.event_id, s.detail, s.note, s.occurred_at, s.created_at, ''`

// erasedSuppression returns the suppression of an address (as given) kept under its hash,
// or nil.
func (db *DB) erasedSuppression(ctx context.Context, org int64, orgID, email string) (*mailtrail.Suppression, error) {
	found := map[string]mailtrail.Suppression{}
	if err := db.checkErased(ctx, org, orgID, []string{email}, found); err != nil {
		return nil, err
	}
	if s, ok := found[mailtrail.NormalizeEmail(email)]; ok {
		return &s, nil
	}
	return nil, nil
}

// removeErased removes the suppression kept under an address's hash (c.email) and ends
// that hash's soft-bounce run, as RemoveSuppression does for an address; nil when there
// is none.
func removeErased(tx *txc, c change) (*mailtrail.Suppression, error) {
	cur, err := loadSuppression(tx, c.org, c.email)
	if err != nil || !cur.found {
		return nil, err
	}
	if err := writeSuppression(tx, c, cur, rules.Suppress{}, mailtrail.ActionRemoved); err != nil {
		return nil, err
	}
	st, _ := json.Marshal(rules.SoftBounceState{ResetAt: c.now})
	if _, err := tx.exec(`UPDATE soft_bounces SET state = ? WHERE org_id = ? AND email = ?`, string(st), c.org, c.email); err != nil {
		return nil, fmt.Errorf("sqlite: soft bounces: %w", err)
	}
	return &mailtrail.Suppression{EmailHash: c.email, CustomerID: cur.customerID, Reason: cur.s.Reason, Source: cur.s.Source,
		EventID: cur.s.EventID, Detail: cur.s.Detail, SuppressedAt: fromMS(cur.s.At)}, nil
}

// DefaultRetentionChunk is how many events one retention transaction deletes at most.
const DefaultRetentionChunk = 5000

// DeleteExpiredEvents deletes, for every organization with a retention (retention_days
// > 0), its raw events received more than that many days before now, with their
// customer-index entries. It walks each organization's events oldest first on the
// (org_id, id) index, chunk events (default DefaultRetentionChunk) per transaction,
// releasing the writer between chunks so ingest goes on, and stops at the first event
// not past the cutoff (ids grow with arrival). Aggregates are kept. It returns how many
// events it deleted, also when it stops on an error or when ctx ends.
func (db *DB) DeleteExpiredEvents(ctx context.Context, now time.Time, chunk int) (int, error) {
	if chunk <= 0 {
		chunk = DefaultRetentionChunk
	}
	type orgRetention struct{ id, days int64 }
	var orgs []orgRetention
	rows, err := db.rquery(ctx, `SELECT id, retention_days FROM orgs WHERE retention_days > 0 ORDER BY id`)
	if err != nil {
		return 0, fmt.Errorf("sqlite: retention: %w", err)
	}
	for rows.Next() {
		var o orgRetention
		if err := rows.Scan(&o.id, &o.days); err != nil {
			rows.Close()
			return 0, fmt.Errorf("sqlite: retention: %w", err)
		}
		orgs = append(orgs, o)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("sqlite: retention: %w", err)
	}
	total := 0
	for _, o := range orgs {
		cutoff := now.Add(-time.Duration(o.days) * 24 * time.Hour).UnixMilli()
		var after int64
		for {
			if err := ctx.Err(); err != nil {
				return total, err
			}
			n, last, more, err := db.deleteExpiredChunk(ctx, o.id, cutoff, after, chunk)
			total += n
			if err != nil {
				return total, err
			}
			if !more {
				break
			}
			after = last
		}
	}
	return total, nil
}

// deleteExpiredChunk deletes, in one transaction, the organization's events after id
// `after` that were received before cutoff, at most chunk of them, stopping at the first
// that was not. It returns how many it deleted, the last id deleted, and whether there
// may be more.
func (db *DB) deleteExpiredChunk(ctx context.Context, org, cutoff, after int64, chunk int) (int, int64, bool, error) {
	tx, done, err := db.writeTx(ctx)
	if err != nil {
		return 0, after, false, err
	}
	defer done()
	rows, err := tx.query(`SELECT id, customer_id, occurred_at, received_at FROM events WHERE org_id = ? AND id > ? ORDER BY id LIMIT ?`, org, after, chunk)
	if err != nil {
		return 0, after, false, fmt.Errorf("sqlite: retention: %w", err)
	}
	var keys [][3]int64 // customer_events keys: customer, occurred_at, event
	reached := false
	for rows.Next() {
		var id, cust, occ, recv int64
		if err := rows.Scan(&id, &cust, &occ, &recv); err != nil {
			rows.Close()
			return 0, after, false, fmt.Errorf("sqlite: retention: %w", err)
		}
		if recv >= cutoff {
			reached = true
			break
		}
		keys = append(keys, [3]int64{cust, occ, id})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, after, false, fmt.Errorf("sqlite: retention: %w", err)
	}
	if len(keys) == 0 {
		return 0, after, false, nil
	}
	last := keys[len(keys)-1][2]
	res, err := tx.exec(`DELETE FROM events WHERE org_id = ? AND id > ? AND id <= ?`, org, after, last)
	if err != nil {
		return 0, after, false, fmt.Errorf("sqlite: retention: %w", err)
	}
	list, _ := json.Marshal(keys)
	if _, err := tx.exec(`DELETE FROM customer_events WHERE (customer_id, occurred_at, event_id) IN
		(SELECT value ->> 0, value ->> 1, value ->> 2 FROM json_each(?))`, string(list)); err != nil {
		return 0, after, false, fmt.Errorf("sqlite: retention: %w", err)
	}
	// The segment index forgets by itself what retention deletes (segment.Horizon), so a
	// delete leaves its snapshot valid, unless it removed the store's last event: the next
	// event would then take an id at or below one a snapshot may name as its position.
	var later bool
	if err := tx.scan(`SELECT EXISTS (SELECT 1 FROM events WHERE id > ?)`, []any{last}, &later); err != nil {
		return 0, after, false, fmt.Errorf("sqlite: retention: %w", err)
	}
	if !later {
		if err := bumpGeneration(tx); err != nil {
			return 0, after, false, err
		}
	}
	if err := tx.commit(); err != nil {
		return 0, after, false, err
	}
	db.boundWAL(ctx)
	n, _ := res.RowsAffected()
	return int(n), last, !reached && len(keys) == chunk, nil
}
