package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/attribute"
)

// The lookups of attribute.Attribute, which decides what an ESP's event belongs to. Each
// costs one statement per chunk of keys, except MessagesByRecipient (one per key).
//
// Every statement is prepared once per reader connection (rstmt), not at each call: a
// chunk's IN list or VALUES list is padded with NULLs (which match nothing) to one of a
// few lengths (lookupSize), so the lookups use at most a dozen statement texts each.

// lookupChunk bounds the parameters of one IN (…) list.
const lookupChunk = 400

// lookupSize returns how many keys a chunk of n (1 ≤ n ≤ max) is padded to: the next power
// of two, at most max.
func lookupSize(n, max int) int {
	size := 1
	for size < n {
		size *= 2
	}
	return min(size, max)
}

// lookupPad appends size-n NULL parameters to args (n keys, each of width parameters).
func lookupPad(args []any, n, size, width int) []any {
	for range (size - n) * width {
		args = append(args, nil)
	}
	return args
}

var _ attribute.Lookup = (*DB)(nil)

// MessagesByID implements attribute.Lookup: ids that are not public message ids (16
// base64url characters) are never looked for.
func (db *DB) MessagesByID(ctx context.Context, orgID string, ids []string) (map[string]attribute.Target, error) {
	org, err := db.orgInternal(ctx, orgID)
	if err != nil {
		return nil, err
	}
	var refs []any
	for _, id := range ids {
		if ref, ok := parseRef(id); ok {
			refs = append(refs, ref[:])
		}
	}
	out := map[string]attribute.Target{}
	err = db.lookupKeyed(ctx, refs, keyedSelect("m.ref")+`WHERE m.org_id = ? AND m.ref IN (%s)`, []any{org},
		func(k []byte) string { return refString(k) }, out)
	return out, err
}

// MessagesByESPID implements attribute.Lookup.
func (db *DB) MessagesByESPID(ctx context.Context, orgID string, ids []string) (map[string]attribute.Target, error) {
	org, err := db.orgInternal(ctx, orgID)
	if err != nil {
		return nil, err
	}
	keys := make([]any, len(ids))
	for i, id := range ids {
		keys[i] = id
	}
	out := map[string]attribute.Target{}
	err = db.lookupKeyed(ctx, keys, keyedSelect("m.esp_message_id")+`WHERE m.org_id = ? AND u.ext_id != ? AND m.esp_message_id IN (%s) ORDER BY m.id DESC`,
		[]any{org, attribute.UnknownCustomer}, func(k []byte) string { return string(k) }, out)
	return out, err
}

// MessagesByNames implements attribute.Lookup with one statement per chunk of pairs.
func (db *DB) MessagesByNames(ctx context.Context, orgID string, names []attribute.Names) (map[attribute.Names]attribute.Target, error) {
	org, err := db.orgInternal(ctx, orgID)
	if err != nil {
		return nil, err
	}
	out := map[attribute.Names]attribute.Target{}
	const q = `WITH k(campaign, customer) AS (VALUES %s)
		SELECT k.campaign, k.customer, m.ref, c.name, u.ext_id FROM k
		JOIN customers u ON u.org_id = ? AND u.ext_id = k.customer
		JOIN campaigns c ON c.org_id = ? AND c.name = k.campaign
		JOIN messages m ON m.id = (SELECT max(m2.id) FROM messages m2 WHERE m2.customer_id = u.id AND m2.campaign_id = c.id AND m2.org_id = ?)`
	for start := 0; start < len(names); start += lookupChunk / 2 {
		chunk := names[start:min(start+lookupChunk/2, len(names))]
		size := lookupSize(len(chunk), lookupChunk/2)
		args := make([]any, 0, 2*size+3)
		for _, n := range chunk {
			args = append(args, n.Campaign, n.Customer)
		}
		args = lookupPad(args, len(chunk), size, 2)
		args = append(args, org, org, org)
		values := strings.TrimSuffix(strings.Repeat("(?, ?), ", size), ", ")
		err := db.lookupRows(ctx, fmt.Sprintf(q, values), args, func(rows *sql.Rows) error {
			var n attribute.Names
			var t attribute.Target
			var ref []byte
			if err := rows.Scan(&n.Campaign, &n.Customer, &ref, &t.CampaignID, &t.CustomerID); err != nil {
				return err
			}
			t.MessageID = refString(ref)
			out[n] = t
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// MessagesByEmail implements attribute.Lookup: an address matches lower(customers.email)
// (customers_email_ci) in either of its emailForms.
func (db *DB) MessagesByEmail(ctx context.Context, orgID string, emails []string) (map[string]attribute.Target, error) {
	org, err := db.orgInternal(ctx, orgID)
	if err != nil {
		return nil, err
	}
	var queried []any
	seen := map[string]bool{}
	for _, e := range emails {
		for _, f := range emailForms(e) {
			if !seen[f] {
				seen[f] = true
				queried = append(queried, f)
			}
		}
	}
	// Most recent message per address form, by message id, then the best of the forms.
	type found struct {
		id int64
		t  attribute.Target
	}
	best := map[string]found{}
	const q = `SELECT lower(u.email), m.id, m.ref, c.name, u.ext_id FROM customers u
		JOIN messages m ON m.id = (SELECT max(m2.id) FROM messages m2 WHERE m2.customer_id = u.id AND m2.org_id = ?)
		JOIN campaigns c ON c.id = m.campaign_id
		WHERE u.org_id = ? AND u.ext_id != ? AND lower(u.email) IN (%s)`
	for start := 0; start < len(queried); start += lookupChunk {
		chunk := queried[start:min(start+lookupChunk, len(queried))]
		size := lookupSize(len(chunk), lookupChunk)
		args := lookupPad(append([]any{org, org, attribute.UnknownCustomer}, chunk...), len(chunk), size, 1)
		err := db.lookupRows(ctx, fmt.Sprintf(q, placeholders(size)), args, func(rows *sql.Rows) error {
			var (
				email string
				f     found
				ref   []byte
			)
			if err := rows.Scan(&email, &f.id, &ref, &f.t.CampaignID, &f.t.CustomerID); err != nil {
				return err
			}
			if b, ok := best[email]; !ok || f.id > b.id {
				f.t.MessageID = refString(ref)
				best[email] = f
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	out := map[string]attribute.Target{}
	for _, e := range emails {
		var pick found
		for _, f := range emailForms(e) {
			if b, ok := best[f]; ok && b.id > pick.id {
				pick = b
			}
		}
		if pick.id != 0 {
			out[e] = pick.t
		}
	}
	return out, nil
}

// MessagesByRecipient implements attribute.Lookup with one statement per recipient; a
// recipient whose MessageID is not a public message id is looked for by its ESPMessageID
// alone.
func (db *DB) MessagesByRecipient(ctx context.Context, orgID string, rs []attribute.Recipient) (map[attribute.Recipient]attribute.Target, error) {
	org, err := db.orgInternal(ctx, orgID)
	if err != nil {
		return nil, err
	}
	out := map[attribute.Recipient]attribute.Target{}
	asked := map[attribute.Recipient]*attribute.Target{} // by the address's key: one statement each
	for _, r := range rs {
		f := emailForms(r.Email)
		key := attribute.Recipient{MessageID: r.MessageID, ESPMessageID: r.ESPMessageID, Email: f[0]}
		if t, ok := asked[key]; ok {
			if t != nil {
				out[r] = *t
			}
			continue
		}
		asked[key] = nil
		var ref, esp any // nil matches nothing
		if b, ok := parseRef(r.MessageID); ok {
			ref = b[:]
		}
		if r.ESPMessageID != "" {
			esp = r.ESPMessageID
		}
		if f[0] == "" || (ref == nil && esp == nil) {
			continue
		}
		var t attribute.Target
		var mref []byte
		err := db.rrow(ctx, targetSelect+`WHERE m.org_id = ? AND (m.ref = ? OR m.esp_message_id = ?)
			AND lower(m.email) IN (?, ?) AND u.ext_id != ? ORDER BY m.id DESC LIMIT 1`,
			[]any{org, ref, esp, f[0], f[1], attribute.UnknownCustomer}, &mref, &t.CampaignID, &t.CustomerID)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("sqlite: attribute: %w", err)
		}
		t.MessageID = refString(mref)
		out[r], asked[key] = t, &t
	}
	return out, nil
}

// emailForms returns the forms of an address that lower(customers.email) is compared
// with: its key (mailtrail.NormalizeEmail) and its ASCII letters lower-cased, which
// differ only for a domain with non-ASCII capitals (SQLite's lower() folds ASCII alone).
func emailForms(email string) [2]string {
	email = strings.TrimSpace(email)
	return [2]string{mailtrail.NormalizeEmail(email), strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, email)}
}

// targetSelect selects a message's public id and its names.
const targetSelect = `SELECT m.ref, c.name, u.ext_id FROM messages m JOIN campaigns c ON c.id = m.campaign_id JOIN customers u ON u.id = m.customer_id `

// keyedSelect is targetSelect with the lookup key as the first column.
func keyedSelect(key string) string {
	return `SELECT ` + key + `, ` + strings.TrimPrefix(targetSelect, `SELECT `)
}

// lookupKeyed runs q (with one %s for the IN list) over keys in chunks, args first, and
// keeps the first row of each key under outKey(key) in out; rows come most relevant first.
func (db *DB) lookupKeyed(ctx context.Context, keys []any, q string, args []any, outKey func([]byte) string, out map[string]attribute.Target) error {
	for start := 0; start < len(keys); start += lookupChunk {
		chunk := keys[start:min(start+lookupChunk, len(keys))]
		size := lookupSize(len(chunk), lookupChunk)
		done := map[string]bool{}
		params := lookupPad(append(append(make([]any, 0, len(args)+size), args...), chunk...), len(chunk), size, 1)
		err := db.lookupRows(ctx, fmt.Sprintf(q, placeholders(size)), params, func(rows *sql.Rows) error {
			var key, ref []byte
			var t attribute.Target
			if err := rows.Scan(&key, &ref, &t.CampaignID, &t.CustomerID); err != nil {
				return err
			}
			if k := outKey(key); !done[k] {
				done[k] = true
				t.MessageID = refString(ref)
				out[k] = t
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// lookupRows runs one query on the readers, prepared once per connection, and calls row
// for each row.
func (db *DB) lookupRows(ctx context.Context, q string, args []any, row func(*sql.Rows) error) error {
	rows, err := db.rquery(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("sqlite: attribute: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := row(rows); err != nil {
			return fmt.Errorf("sqlite: attribute: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: attribute: %w", err)
	}
	return nil
}

// placeholders returns "?, ?, …" with n marks.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}
