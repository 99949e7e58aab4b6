package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/attribute"
)

// The lookups of attribute.Attribute, which decides what an ESP's event belongs to, with
// the SQLite store's answers (internal/store/sqlite, attribute.go). Each is one statement
// whatever the number of keys: the keys are joined as a set (unnest) on the index.

var _ attribute.Lookup = (*DB)(nil)

// targetJoin joins a message m to its campaign c and customer u.
const targetJoin = ` JOIN campaigns c ON c.id = m.campaign_id JOIN customers u ON u.id = m.customer_id `

// MessagesByID implements attribute.Lookup: ids that are not public message ids (16
// base64url characters) are never looked for. ENOTFOUND for an unknown organization.
func (db *DB) MessagesByID(ctx context.Context, orgID string, ids []string) (map[string]attribute.Target, error) {
	org, err := db.orgInternal(ctx, db.pool, orgID)
	if err != nil {
		return nil, err
	}
	var refs [][]byte
	for _, id := range ids {
		if ref, ok := parseRef(id); ok {
			refs = append(refs, ref[:])
		}
	}
	out := map[string]attribute.Target{}
	if len(refs) == 0 {
		return out, nil
	}
	rows, err := db.pool.Query(ctx, `SELECT m.ref, c.name, u.ext_id FROM unnest($2::bytea[]) AS k(ref)
		JOIN messages m ON m.ref = k.ref AND m.org_id = $1`+targetJoin, org, refs)
	err = eachTarget(rows, err, func(key []byte, t attribute.Target) {
		t.MessageID = refString(key)
		out[t.MessageID] = t
	})
	return out, err
}

// MessagesByESPID implements attribute.Lookup: the most recent message of each ESP id
// (the highest row id), never the placeholder customer's. ENOTFOUND for an unknown
// organization.
func (db *DB) MessagesByESPID(ctx context.Context, orgID string, ids []string) (map[string]attribute.Target, error) {
	org, err := db.orgInternal(ctx, db.pool, orgID)
	if err != nil {
		return nil, err
	}
	out := map[string]attribute.Target{}
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := db.pool.Query(ctx, `SELECT DISTINCT ON (k.esp) k.esp, m.ref, c.name, u.ext_id FROM unnest($2::text[]) AS k(esp)
		JOIN messages m ON m.org_id = $1 AND m.esp_message_id = k.esp`+targetJoin+`WHERE u.ext_id <> $3
		ORDER BY k.esp, m.id DESC`, org, distinct(ids), attribute.UnknownCustomer)
	err = eachKeyed(rows, err, func(key string, t attribute.Target) { out[key] = t })
	return out, err
}

// MessagesByNames implements attribute.Lookup: the most recent message of each campaign
// to each customer. ENOTFOUND for an unknown organization.
func (db *DB) MessagesByNames(ctx context.Context, orgID string, names []attribute.Names) (map[attribute.Names]attribute.Target, error) {
	org, err := db.orgInternal(ctx, db.pool, orgID)
	if err != nil {
		return nil, err
	}
	out := map[attribute.Names]attribute.Target{}
	if len(names) == 0 {
		return out, nil
	}
	camps, custs := make([]string, len(names)), make([]string, len(names))
	for i, n := range names {
		camps[i], custs[i] = n.Campaign, n.Customer
	}
	rows, err := db.pool.Query(ctx, `SELECT DISTINCT ON (k.campaign, k.customer) k.campaign, k.customer, m.ref, c.name, u.ext_id
		FROM unnest($2::text[], $3::text[]) AS k(campaign, customer)
		JOIN customers u ON u.org_id = $1 AND u.ext_id = k.customer
		JOIN campaigns c ON c.org_id = $1 AND c.name = k.campaign
		JOIN messages m ON m.customer_id = u.id AND m.campaign_id = c.id AND m.org_id = $1
		ORDER BY k.campaign, k.customer, m.id DESC`, org, camps, custs)
	if err != nil {
		return nil, fmt.Errorf("postgres: attribute: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var n attribute.Names
		var t attribute.Target
		var ref []byte
		if err := rows.Scan(&n.Campaign, &n.Customer, &ref, &t.CampaignID, &t.CustomerID); err != nil {
			return nil, fmt.Errorf("postgres: attribute: %w", err)
		}
		t.MessageID = refString(ref)
		out[n] = t
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: attribute: %w", err)
	}
	return out, nil
}

// MessagesByEmail implements attribute.Lookup: an address matches a customer's email with
// ASCII letters folded (customers_email_ci) in either of its emailForms; the most recent
// message of such a customer, never the placeholder's. ENOTFOUND for an unknown
// organization.
func (db *DB) MessagesByEmail(ctx context.Context, orgID string, emails []string) (map[string]attribute.Target, error) {
	org, err := db.orgInternal(ctx, db.pool, orgID)
	if err != nil {
		return nil, err
	}
	out := map[string]attribute.Target{}
	var forms []string
	for _, e := range emails {
		f := emailForms(e)
		forms = append(forms, f[0], f[1])
	}
	if len(forms) == 0 {
		return out, nil
	}
	type found struct {
		id int64
		t  attribute.Target
	}
	best := map[string]found{} // by address form
	rows, err := db.pool.Query(ctx, `SELECT DISTINCT ON (k.f) k.f, m.id, m.ref, c.name, u.ext_id FROM unnest($2::text[]) AS k(f)
		JOIN customers u ON u.org_id = $1 AND lower(u.email COLLATE "C") = k.f AND u.ext_id <> $3
		JOIN messages m ON m.customer_id = u.id AND m.org_id = $1
		JOIN campaigns c ON c.id = m.campaign_id
		ORDER BY k.f, m.id DESC`, org, distinct(forms), attribute.UnknownCustomer)
	if err != nil {
		return nil, fmt.Errorf("postgres: attribute: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var form string
		var f found
		var ref []byte
		if err := rows.Scan(&form, &f.id, &ref, &f.t.CampaignID, &f.t.CustomerID); err != nil {
			return nil, fmt.Errorf("postgres: attribute: %w", err)
		}
		f.t.MessageID = refString(ref)
		best[form] = f
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: attribute: %w", err)
	}
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

// MessagesByRecipient implements attribute.Lookup in one statement (a LATERAL lookup per
// distinct recipient): the most recent message that the recipient's MessageID or
// ESPMessageID names and that was sent to its address in any case, never the
// placeholder's. A MessageID that is not a public message id matches nothing, so the
// recipient is looked for by its ESPMessageID alone. ENOTFOUND for an unknown
// organization.
func (db *DB) MessagesByRecipient(ctx context.Context, orgID string, rs []attribute.Recipient) (map[attribute.Recipient]attribute.Target, error) {
	org, err := db.orgInternal(ctx, db.pool, orgID)
	if err != nil {
		return nil, err
	}
	out := map[attribute.Recipient]attribute.Target{}
	// Recipients with the same ids and address key are asked once, with the first one's
	// forms, as the SQLite store asks.
	keyOf := make([]attribute.Recipient, len(rs))
	index := map[attribute.Recipient]int32{}
	var refs [][]byte
	var esps []*string
	var f0s, f1s []string
	for i, r := range rs {
		f := emailForms(r.Email)
		keyOf[i] = attribute.Recipient{MessageID: r.MessageID, ESPMessageID: r.ESPMessageID, Email: f[0]}
		if _, ok := index[keyOf[i]]; ok {
			continue
		}
		var ref []byte // nil: NULL, which matches nothing
		if b, ok := parseRef(r.MessageID); ok {
			ref = b[:]
		}
		var esp *string
		if r.ESPMessageID != "" {
			esp = &r.ESPMessageID
		}
		if f[0] == "" || (ref == nil && esp == nil) {
			index[keyOf[i]] = -1
			continue
		}
		index[keyOf[i]] = int32(len(refs))
		refs, esps, f0s, f1s = append(refs, ref), append(esps, esp), append(f0s, f[0]), append(f1s, f[1])
	}
	if len(refs) == 0 {
		return out, nil
	}
	ord := make([]int32, len(refs))
	for i := range ord {
		ord[i] = int32(i)
	}
	rows, err := db.pool.Query(ctx, `SELECT k.i, t.ref, t.name, t.ext_id
		FROM unnest($2::integer[], $3::bytea[], $4::text[], $5::text[], $6::text[]) AS k(i, ref, esp, f0, f1)
		CROSS JOIN LATERAL (SELECT m.ref, c.name, u.ext_id FROM messages m`+targetJoin+`
			WHERE m.org_id = $1 AND (m.ref = k.ref OR m.esp_message_id = k.esp) AND lower(m.email COLLATE "C") IN (k.f0, k.f1) AND u.ext_id <> $7
			ORDER BY m.id DESC LIMIT 1) AS t`, org, ord, refs, esps, f0s, f1s, attribute.UnknownCustomer)
	if err != nil {
		return nil, fmt.Errorf("postgres: attribute: %w", err)
	}
	defer rows.Close()
	found := make([]*attribute.Target, len(refs))
	for rows.Next() {
		var i int32
		var ref []byte
		var t attribute.Target
		if err := rows.Scan(&i, &ref, &t.CampaignID, &t.CustomerID); err != nil {
			return nil, fmt.Errorf("postgres: attribute: %w", err)
		}
		t.MessageID = refString(ref)
		found[i] = &t
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: attribute: %w", err)
	}
	for i, r := range rs {
		if j := index[keyOf[i]]; j >= 0 && found[j] != nil {
			out[r] = *found[j]
		}
	}
	return out, nil
}

// emailForms returns the forms of an address that a stored email with its ASCII letters
// folded is compared with: its key (mailtrail.NormalizeEmail) and its ASCII letters
// lower-cased, which differ only for a domain with non-ASCII capitals; as the SQLite
// store's.
func emailForms(email string) [2]string {
	email = strings.TrimSpace(email)
	return [2]string{mailtrail.NormalizeEmail(email), asciiLower(email)}
}

// eachTarget reads (key bytes, campaign, customer) rows.
func eachTarget(rows pgx.Rows, err error, f func(key []byte, t attribute.Target)) error {
	if err != nil {
		return fmt.Errorf("postgres: attribute: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var key []byte
		var t attribute.Target
		if err := rows.Scan(&key, &t.CampaignID, &t.CustomerID); err != nil {
			return fmt.Errorf("postgres: attribute: %w", err)
		}
		f(key, t)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("postgres: attribute: %w", err)
	}
	return nil
}

// eachKeyed reads (key, ref, campaign, customer) rows.
func eachKeyed(rows pgx.Rows, err error, f func(key string, t attribute.Target)) error {
	if err != nil {
		return fmt.Errorf("postgres: attribute: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var key string
		var ref []byte
		var t attribute.Target
		if err := rows.Scan(&key, &ref, &t.CampaignID, &t.CustomerID); err != nil {
			return fmt.Errorf("postgres: attribute: %w", err)
		}
		t.MessageID = refString(ref)
		f(key, t)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("postgres: attribute: %w", err)
	}
	return nil
}
