package sqlite

import (
	"fmt"
	"strings"

	"github.com/mailtrail/mailtrail"
)

// prefetchChunk bounds the parameters of one IN (…) list.
const prefetchChunk = 400

// prefetch fills the attributor's memo for a whole batch with one query per kind of key
// and chunk, in the order resolve consults them: our message ids, then the ESP message
// ids of events not resolved by those, then the addresses of events resolved by neither.
// resolve then finds every answer in the memo; without prefetch a batch of N events costs
// up to 3N queries. A key prefetched but not found is memoized as no match.
func (a *attributor) prefetch(evs []*mailtrail.Event) error {
	resolved := func(key string) bool { at, ok := a.memo[key]; return ok && at != nil }
	var refs []any
	seen := map[string]bool{}
	for _, ev := range evs {
		if ev.MessageID == "" || seen[ev.MessageID] {
			continue
		}
		seen[ev.MessageID] = true
		if ref, ok := parseRef(ev.MessageID); ok {
			refs = append(refs, ref[:])
			a.memo["m\x00"+ev.MessageID] = nil
		}
	}
	if err := a.batchQuery(refs, attrKeyedSelect("m.ref")+`WHERE m.org_id = ? AND m.ref IN (%s)`, []any{a.org},
		func(k []byte) string { return "m\x00" + refString(k) }); err != nil {
		return err
	}
	var esp []any
	for _, ev := range evs {
		if ev.MessageID != "" && resolved("m\x00"+ev.MessageID) {
			continue
		}
		id := strings.TrimSpace(ev.ESPMessageID)
		if id == "" {
			continue
		}
		ids := []string{id}
		if alt := ev.ESPMessageIDAlt; alt != "" {
			ids = append(ids, alt)
		}
		for _, id := range ids {
			if !seen["e"+id] {
				seen["e"+id] = true
				esp = append(esp, id)
				a.memo["e\x00"+id] = nil
			}
		}
	}
	if err := a.batchQuery(esp, attrKeyedSelect("m.esp_message_id")+`WHERE m.org_id = ? AND u.ext_id != ? AND m.esp_message_id IN (%s) ORDER BY m.id DESC`,
		[]any{a.org, UnknownCustomer}, func(k []byte) string { return "e\x00" + string(k) }); err != nil {
		return err
	}
	var emails []any
	forms := map[string][]string{} // address as given → the forms queried
	for _, ev := range evs {
		e := strings.TrimSpace(ev.CustomerEmail)
		if e == "" || seen["a"+e] || (ev.MessageID != "" && resolved("m\x00"+ev.MessageID)) || a.espResolved(ev) {
			continue
		}
		seen["a"+e] = true
		f := emailForms(e)
		forms[e] = f[:]
		for _, f := range forms[e] {
			if !seen["q"+f] {
				seen["q"+f] = true
				emails = append(emails, f)
			}
		}
	}
	if len(emails) == 0 {
		return nil
	}
	// Most recent message per address form, by message id, then the best of the forms.
	best := map[string]struct {
		id int64
		at *attribution
	}{}
	q := `SELECT lower(u.email), m.id, m.ref, c.name, u.ext_id FROM customers u
		JOIN messages m ON m.id = (SELECT max(m2.id) FROM messages m2 WHERE m2.customer_id = u.id AND m2.org_id = ?)
		JOIN campaigns c ON c.id = m.campaign_id
		WHERE u.org_id = ? AND u.ext_id != ? AND lower(u.email) IN (%s)`
	for start := 0; start < len(emails); start += prefetchChunk {
		chunk := emails[start:min(start+prefetchChunk, len(emails))]
		rows, err := a.db.r.QueryContext(a.ctx, fmt.Sprintf(q, placeholders(len(chunk))), append([]any{a.org, a.org, UnknownCustomer}, chunk...)...)
		if err != nil {
			return fmt.Errorf("sqlite: attribute: %w", err)
		}
		for rows.Next() {
			var (
				email string
				id    int64
				ref   []byte
				at    attribution
			)
			if err := rows.Scan(&email, &id, &ref, &at.campaign, &at.customer); err != nil {
				rows.Close()
				return fmt.Errorf("sqlite: attribute: %w", err)
			}
			if b, ok := best[email]; !ok || id > b.id {
				at.ref = refString(ref)
				best[email] = struct {
					id int64
					at *attribution
				}{id, &at}
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("sqlite: attribute: %w", err)
		}
	}
	for e, fs := range forms {
		var pick *attribution
		var top int64
		for _, f := range fs {
			if b, ok := best[f]; ok && b.id > top {
				pick, top = b.at, b.id
			}
		}
		a.memo["a\x00"+e] = pick
	}
	return nil
}

// espResolved reports whether the memo already resolves ev by its ESP message id.
func (a *attributor) espResolved(ev *mailtrail.Event) bool {
	id := strings.TrimSpace(ev.ESPMessageID)
	if id == "" {
		return false
	}
	if at := a.memo["e\x00"+id]; at != nil {
		return true
	}
	if alt := ev.ESPMessageIDAlt; alt != "" {
		return a.memo["e\x00"+alt] != nil
	}
	return false
}

// attrKeyedSelect is attrSelect with the lookup key as the first column.
func attrKeyedSelect(key string) string {
	return `SELECT ` + key + `, m.ref, c.name, u.ext_id FROM messages m JOIN campaigns c ON c.id = m.campaign_id JOIN customers u ON u.id = m.customer_id `
}

// batchQuery runs q (with one %s for the IN list) over keys in chunks, args first, and
// memoizes the first row of each key under memoKey(key); rows come most relevant first.
func (a *attributor) batchQuery(keys []any, q string, args []any, memoKey func([]byte) string) error {
	for start := 0; start < len(keys); start += prefetchChunk {
		chunk := keys[start:min(start+prefetchChunk, len(keys))]
		rows, err := a.db.r.QueryContext(a.ctx, fmt.Sprintf(q, placeholders(len(chunk))), append(append([]any{}, args...), chunk...)...)
		if err != nil {
			return fmt.Errorf("sqlite: attribute: %w", err)
		}
		done := map[string]bool{}
		for rows.Next() {
			var key, ref []byte
			at := &attribution{}
			if err := rows.Scan(&key, &ref, &at.campaign, &at.customer); err != nil {
				rows.Close()
				return fmt.Errorf("sqlite: attribute: %w", err)
			}
			k := memoKey(key)
			if done[k] {
				continue
			}
			done[k] = true
			at.ref = refString(ref)
			a.memo[k] = at
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("sqlite: attribute: %w", err)
		}
	}
	return nil
}

// placeholders returns "?, ?, …" with n marks.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}
