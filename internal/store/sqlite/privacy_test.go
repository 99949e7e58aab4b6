package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/ingest"
)

var pctx = context.Background()

func openPrivacyDB(t *testing.T) *DB {
	t.Helper()
	db, err := Open(pctx, filepath.Join(t.TempDir(), "mailtrail.db"), Options{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func pOrg(t *testing.T, db *DB, name string) string {
	t.Helper()
	o, _, err := db.CreateOrg(pctx, name, "Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	return o.ID
}

// pRef is a message id (16 base64url characters).
func pRef(i int) string { return fmt.Sprintf("prv%013d", i) }

func pWrite(t *testing.T, db *DB, evs ...*mailtrail.Event) {
	t.Helper()
	now := time.Now()
	for _, e := range evs {
		ingest.Normalize(e, now)
	}
	if _, err := db.Write(pctx, evs); err != nil {
		t.Fatal(err)
	}
}

// dump returns every row of a query as text, for before/after comparisons.
func dump(t *testing.T, db *DB, q string, args ...any) string {
	t.Helper()
	rows, err := db.r.QueryContext(pctx, q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var b strings.Builder
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for i, v := range vals {
			if bs, ok := v.([]byte); ok {
				v = string(bs)
			}
			fmt.Fprintf(&b, "%s=%v|", cols[i], v)
		}
		b.WriteByte('\n')
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// aggregates is everything erase and retention must leave as it is: the report readers'
// answers and the raw aggregate tables.
func aggregates(t *testing.T, db *DB, org string, campaigns ...string) string {
	t.Helper()
	var b strings.Builder
	for _, c := range campaigns {
		buckets, err := db.CampaignBuckets(pctx, org, c)
		if err != nil {
			t.Fatal(err)
		}
		links, err := db.CampaignLinks(pctx, org, c, 100)
		if err != nil {
			t.Fatal(err)
		}
		j, _ := json.Marshal([]any{buckets, links})
		b.Write(j)
	}
	for _, q := range []string{
		`SELECT * FROM campaign_stats ORDER BY campaign_id, bucket`,
		`SELECT * FROM link_stats ORDER BY campaign_id, url_id`,
		`SELECT * FROM link_clicks ORDER BY campaign_id, url_id, message_id`,
		`SELECT * FROM campaign_dims ORDER BY campaign_id, kind, dim, value`,
		`SELECT id, last_sent, last_open, last_click FROM customers ORDER BY id`,
		`SELECT id, f_sent, f_delivered, f_open, f_hopen, f_click, f_hclick, f_bounce, f_hard, f_complaint, f_unsub FROM messages ORDER BY id`,
	} {
		b.WriteString(dump(t, db, q))
	}
	return b.String()
}

// personalRows returns the organization's rows, in every table that holds personal data,
// that mention pattern.
func personalRows(t *testing.T, db *DB, org string, pattern *regexp.Regexp) []string {
	t.Helper()
	var internal int64
	if err := db.r.QueryRowContext(pctx, `SELECT id FROM orgs WHERE public_id = ?`, org).Scan(&internal); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, table := range []string{"events", "messages", "customers", "suppressions", "suppression_history", "soft_bounces"} {
		for _, line := range strings.Split(dump(t, db, `SELECT * FROM `+table+` WHERE org_id = ?`, internal), "\n") {
			if pattern.MatchString(line) {
				out = append(out, table+": "+line)
			}
		}
	}
	return out
}

const (
	alicePrimary = "Alice@Example.COM"
	aliceWork    = "alice.work@example.org"
)

// seedErase makes two campaigns: alice (two addresses), bob and carol, with opens and
// clicks carrying personal metadata, a hard bounce, an unsubscribe, soft bounces and a
// manual suppression. Part of the events is in the customer index, part in its tail.
func seedErase(t *testing.T, db *DB, org string) {
	t.Helper()
	msgs := []*mailtrail.Message{
		{ID: pRef(1), CampaignID: "spring", CustomerID: "alice", CustomerEmail: alicePrimary, TrackOpens: true, TrackClicks: true,
			Links: []string{"https://shop.example/a", "https://shop.example/b"}},
		{ID: pRef(2), CampaignID: "spring", CustomerID: "bob", CustomerEmail: "bob@example.com", TrackOpens: true, TrackClicks: true,
			Links: []string{"https://shop.example/a", "https://shop.example/b"}},
		{ID: pRef(3), CampaignID: "spring", CustomerID: "carol", CustomerEmail: "carol@example.com", TrackOpens: true, TrackClicks: true,
			Links: []string{"https://shop.example/a"}},
		{ID: pRef(4), CampaignID: "summer", CustomerID: "alice", CustomerEmail: aliceWork, TrackOpens: true, TrackClicks: true,
			Links: []string{"https://shop.example/s"}},
	}
	if err := db.CreateMessages(pctx, org, msgs); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AddSuppressions(pctx, org, []mailtrail.SuppressionInput{
		{Email: alicePrimary, CustomerID: "alice", Note: "asked by phone, " + alicePrimary},
	}, mailtrail.SuppressSourceAPI, "key:test"); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	// Alice's messages are 1 and 4; bob's and carol's metadata is of the same kind.
	personal := func(m int) mailtrail.Metadata {
		if m != 1 && m != 4 {
			return mailtrail.Metadata{IP: fmt.Sprintf("198.51.100.%d", m), UserAgent: "Mozilla/5.0 OtherAgent", City: "Nantes", Country: "FR",
				Client: "Thunderbird", Device: "desktop", Extra: map[string]any{"other_note": "x"}, Raw: json.RawMessage(`{"to":"someone@example.com"}`)}
		}
		return mailtrail.Metadata{IP: fmt.Sprintf("203.0.113.%d", m), UserAgent: "Mozilla/5.0 TestAgent/" + fmt.Sprint(m),
			City: "Lyon", Country: "FR", Client: "Thunderbird", Device: "desktop", Extra: map[string]any{"crm_note": "vip"},
			Raw: json.RawMessage(`{"to":"` + alicePrimary + `"}`)}
	}
	var batch1, batch2 []*mailtrail.Event
	for m := 1; m <= 4; m++ {
		batch1 = append(batch1,
			&mailtrail.Event{MessageID: pRef(m), Type: mailtrail.EventSent, OccurredAt: t0, Source: mailtrail.SourceAPI, DedupeKey: fmt.Sprint("sent", m)},
			&mailtrail.Event{MessageID: pRef(m), Type: mailtrail.EventDelivered, OccurredAt: t0.Add(time.Minute), Source: mailtrail.SourceWebhook,
				DedupeKey: fmt.Sprint("dlv", m), ESPMessageID: fmt.Sprintf("esp-%d", m), Metadata: mailtrail.Metadata{Vendor: "sendgrid", VendorEventID: fmt.Sprint("v", m)}})
	}
	for m := 1; m <= 3; m++ {
		md := personal(m)
		batch1 = append(batch1, &mailtrail.Event{MessageID: pRef(m), Type: mailtrail.EventOpened, OccurredAt: t0.Add(20 * time.Minute),
			Source: mailtrail.SourceTracking, Metadata: md})
		md.LinkURL, md.LinkIndex = "https://shop.example/a", new(int)
		batch1 = append(batch1, &mailtrail.Event{MessageID: pRef(m), Type: mailtrail.EventClicked, OccurredAt: t0.Add(25 * time.Minute),
			Source: mailtrail.SourceTracking, Metadata: md})
	}
	pWrite(t, db, batch1...)
	if _, err := db.IndexCustomerEvents(pctx); err != nil {
		t.Fatal(err)
	}
	// The tail, past the indexer's watermark.
	md := personal(4)
	md.LinkURL = "https://shop.example/s"
	batch2 = append(batch2,
		&mailtrail.Event{MessageID: pRef(4), Type: mailtrail.EventClicked, OccurredAt: t0.Add(2 * time.Hour), Source: mailtrail.SourceTracking, Metadata: md},
		&mailtrail.Event{MessageID: pRef(4), Type: mailtrail.EventBounced, OccurredAt: t0.Add(3 * time.Hour), Source: mailtrail.SourceWebhook, DedupeKey: "soft4",
			Metadata: mailtrail.Metadata{BounceType: mailtrail.BounceSoft, SMTPCode: "452", Reason: "452 4.2.2 mailbox full"}},
		&mailtrail.Event{MessageID: pRef(4), Type: mailtrail.EventBounced, OccurredAt: t0.Add(4 * time.Hour), Source: mailtrail.SourceWebhook, DedupeKey: "hard4", ESPMessageID: "esp-4",
			Metadata: mailtrail.Metadata{BounceType: mailtrail.BounceHard, SMTPCode: "550", Reason: "550 5.1.1 <ALICE.WORK@example.org>: user unknown", Vendor: "sendgrid", VendorEventID: "vb4"}},
		&mailtrail.Event{MessageID: pRef(1), Type: mailtrail.EventUnsubscribed, OccurredAt: t0.Add(5 * time.Hour), Source: mailtrail.SourceTracking, DedupeKey: "unsub1"},
		&mailtrail.Event{MessageID: pRef(2), Type: mailtrail.EventBounced, OccurredAt: t0.Add(3 * time.Hour), Source: mailtrail.SourceWebhook, DedupeKey: "soft2",
			Metadata: mailtrail.Metadata{BounceType: mailtrail.BounceSoft, SMTPCode: "452", Reason: "452 mailbox of bob@example.com full"}},
	)
	pWrite(t, db, batch2...)
}

var aliceRE = regexp.MustCompile(`(?i)alice|203\.0\.113|TestAgent|crm_note`)

func TestEraseCustomer(t *testing.T) {
	db := openPrivacyDB(t)
	org := pOrg(t, db, "acme")
	other := pOrg(t, db, "other")
	seedErase(t, db, org)
	// The other organization suppresses the same address on its own.
	if _, err := db.AddSuppressions(pctx, other, []mailtrail.SuppressionInput{{Email: alicePrimary}}, mailtrail.SuppressSourceAPI, "key:o"); err != nil {
		t.Fatal(err)
	}
	if got := personalRows(t, db, org, aliceRE); len(got) < 10 {
		t.Fatalf("the seed holds too little of alice to test her erasure: %q", got)
	}
	aggBefore := aggregates(t, db, org, "spring", "summer")
	othersQ := `SELECT e.* FROM events e JOIN customers u ON u.id = e.customer_id WHERE u.ext_id IN ('bob', 'carol') ORDER BY e.id`
	othersBefore := dump(t, db, othersQ)
	allBefore := dump(t, db, `SELECT * FROM events ORDER BY id`)
	otherOrgBefore := dump(t, db, `SELECT s.* FROM suppressions s JOIN orgs o ON o.id = s.org_id WHERE o.public_id = ?`, other)

	// Another organization cannot erase, or even find, acme's customer.
	if _, err := db.EraseCustomer(pctx, other, "alice"); mailtrail.ErrorCode(err) != mailtrail.ENOTFOUND {
		t.Fatalf("erase from another organization: %v, want not_found", err)
	}
	if got := dump(t, db, `SELECT * FROM events ORDER BY id`); got != allBefore {
		t.Fatal("an erase refused for another organization changed events")
	}
	if _, err := db.EraseCustomer(pctx, org, "nobody"); mailtrail.ErrorCode(err) != mailtrail.ENOTFOUND {
		t.Fatalf("unknown customer: %v, want not_found", err)
	}

	res, err := db.EraseCustomer(pctx, org, "alice")
	if err != nil {
		t.Fatal(err)
	}
	// alice: 2 messages × (sent, delivered), 1 open + 1 click on message 1, then a click,
	// two bounces on message 4 and an unsubscribe on message 1.
	// The result names the customer's old and new ids (what an erasure publishes); the
	// new one is the id the customer's row carries now.
	erased := res.Customer
	if erased.OrgID != org || erased.OldID != "alice" || !strings.HasPrefix(erased.NewID, ErasedCustomerPrefix) {
		t.Fatalf("erased customer %+v", erased)
	}
	if n := dump(t, db, `SELECT count(*) AS n FROM customers WHERE ext_id = ?`, erased.NewID); n != "n=1|\n" {
		t.Fatalf("customers with the new id %s: %q", erased.NewID, n)
	}
	res.Customer = mailtrail.ErasedCustomer{}
	if want := (mailtrail.EraseResult{Events: 10, Messages: 2, Suppressions: 2}); *res != want {
		t.Fatalf("erase result %+v, want %+v", *res, want)
	}

	if got := aggregates(t, db, org, "spring", "summer"); got != aggBefore {
		t.Fatalf("aggregates changed by the erase:\nbefore %s\nafter  %s", aggBefore, got)
	}
	if got := dump(t, db, othersQ); got != othersBefore {
		t.Fatalf("other customers' events changed:\nbefore %s\nafter  %s", othersBefore, got)
	}
	if got := dump(t, db, `SELECT s.* FROM suppressions s JOIN orgs o ON o.id = s.org_id WHERE o.public_id = ?`, other); got != otherOrgBefore {
		t.Fatalf("the other organization's suppressions changed:\nbefore %s\nafter  %s", otherOrgBefore, got)
	}
	if got := personalRows(t, db, org, aliceRE); len(got) > 0 {
		t.Fatalf("personal data left after the erase:\n%s", strings.Join(got, "\n"))
	}
	// What describes the email, not the person, is kept.
	meta := dump(t, db, `SELECT e.meta FROM events e JOIN messages m ON m.id = e.message_id WHERE m.ref = ? AND e.type IN (3, 4) ORDER BY e.id`, mustRef(t, pRef(1)))
	for _, want := range []string{`"country":"FR"`, `"city":"Lyon"`, `"client":"Thunderbird"`, `"device":"desktop"`, `"link_url":"https://shop.example/a"`, `"link_index":0`} {
		if !strings.Contains(meta, want) {
			t.Errorf("erased events lost %s: %s", want, meta)
		}
	}
	bounce := dump(t, db, `SELECT e.esp_message_id, e.meta FROM events e WHERE e.type = 5 AND e.meta LIKE '%"550"%'`)
	for _, want := range []string{"esp-4", `"bounce_type":"hard"`, `"smtp_code":"550"`, `"vendor":"sendgrid"`, `"vendor_event_id":"vb4"`, `550 5.1.1 \u003c[erased]\u003e: user unknown`} {
		if !strings.Contains(bounce, want) {
			t.Errorf("erased bounce lost %s: %s", want, bounce)
		}
	}
	// The CRM's id finds nothing any more.
	page, err := db.ListEvents(pctx, org, mailtrail.EventFilter{CustomerID: "alice"})
	if err != nil || len(page.Events) != 0 {
		t.Fatalf("events of the erased id: %v %v", page, err)
	}
	var newID string
	if err := db.r.QueryRowContext(pctx, `SELECT u.ext_id FROM customers u JOIN messages m ON m.customer_id = u.id WHERE m.ref = ?`, mustRef(t, pRef(1))).Scan(&newID); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^erased:[0-9a-f]{16}$`).MatchString(newID) {
		t.Fatalf("erased customer id %q", newID)
	}
	if page, err := db.ListEvents(pctx, org, mailtrail.EventFilter{CustomerID: newID}); err != nil || len(page.Events) != 10 {
		t.Fatalf("events of the erased customer under the new id: %d %v", len(page.Events), err)
	}
	// Idempotent: the id is gone.
	if _, err := db.EraseCustomer(pctx, org, "alice"); mailtrail.ErrorCode(err) != mailtrail.ENOTFOUND {
		t.Fatalf("second erase: %v, want not_found", err)
	}

	// Both addresses stay suppressed, in any case (one address whatever its case); not others.
	checks := []string{"Alice@example.com", "  Alice@EXAMPLE.com ", "alice.work@EXAMPLE.ORG", "bob@example.com", "alice@example.com"}
	found, err := db.CheckSuppressions(pctx, org, checks)
	if err != nil {
		t.Fatal(err)
	}
	if s, ok := found["alice@example.com"]; !ok || s.Reason != mailtrail.ReasonUnsubscribed || s.EmailHash != mailtrail.EmailHash(alicePrimary) {
		t.Errorf("primary address after erase: %+v %v", s, ok)
	}
	if s, ok := found["alice.work@example.org"]; !ok || s.Reason != mailtrail.ReasonHardBounce {
		t.Errorf("work address after erase: %+v %v", s, ok)
	}
	if _, ok := found["bob@example.com"]; ok || len(found) != 2 {
		t.Errorf("check found %v: bob is not suppressed", found)
	}
	for _, e := range []string{"Alice@EXAMPLE.com", "alice.work@example.org"} {
		if s, err := db.Suppressed(pctx, org, e); err != nil || s == nil {
			t.Errorf("single check of %s after erase: %v %v", e, s, err)
		}
	}
	if s, _ := db.Suppressed(pctx, other, "Alice@example.com"); s == nil || s.Email != alicePrimary {
		t.Errorf("the other organization's own suppression of the address: %+v", s)
	}
	// The listing shows hashes, never the address.
	list, err := db.Suppressions(pctx, org, mailtrail.SuppressionFilter{})
	if err != nil {
		t.Fatal(err)
	}
	hashes := map[string]bool{}
	for _, s := range list.Suppressions {
		if s.Email != "" || !mailtrail.IsEmailHash(s.EmailHash) {
			t.Errorf("listed suppression %+v: want an empty email and a hash", s)
		}
		if s.CustomerID == "alice" {
			t.Errorf("listed suppression keeps the CRM's id: %+v", s)
		}
		hashes[s.EmailHash] = true
	}
	if !hashes[mailtrail.EmailHash(alicePrimary)] || !hashes[mailtrail.EmailHash(aliceWork)] || len(list.Suppressions) != 2 {
		t.Errorf("listing: %+v", list.Suppressions)
	}
	// Paging walks hashed rows too.
	p1, err := db.Suppressions(pctx, org, mailtrail.SuppressionFilter{Limit: 1})
	if err != nil || len(p1.Suppressions) != 1 || p1.NextCursor == "" {
		t.Fatalf("page 1: %+v %v", p1, err)
	}
	p2, err := db.Suppressions(pctx, org, mailtrail.SuppressionFilter{Limit: 1, Cursor: p1.NextCursor})
	if err != nil || len(p2.Suppressions) != 1 || p2.Suppressions[0].EmailHash == p1.Suppressions[0].EmailHash {
		t.Fatalf("page 2: %+v %v", p2, err)
	}
	// The history is found by the address, kept under its hash.
	hist, cur, err := db.SuppressionHistory(pctx, org, "Alice@example.com")
	if err != nil || cur == nil || len(hist) < 2 {
		t.Fatalf("history after erase: %+v %+v %v", hist, cur, err)
	}
	// The soft-bounce run moved to the hash as well.
	if got := dump(t, db, `SELECT email FROM soft_bounces WHERE email LIKE 'sha256:%'`); !strings.Contains(got, mailtrail.EmailHash(aliceWork)) {
		t.Errorf("soft-bounce run of the work address: %q", got)
	}

	// The writer's cache forgot the address: a later event of alice's message, naming no
	// address, stores none.
	pWrite(t, db, &mailtrail.Event{MessageID: pRef(1), Type: mailtrail.EventOpened, OccurredAt: time.Date(2026, 3, 3, 9, 0, 0, 0, time.UTC), Source: mailtrail.SourceTracking})
	if got := personalRows(t, db, org, aliceRE); len(got) > 0 {
		t.Fatalf("an event after the erase brought the address back:\n%s", strings.Join(got, "\n"))
	}

	// Removing the address removes its hashed suppression.
	removed, err := db.RemoveSuppression(pctx, org, "Alice@example.com", "key:test", "re-subscribed")
	if err != nil || removed.EmailHash != mailtrail.EmailHash(alicePrimary) {
		t.Fatalf("remove after erase: %+v %v", removed, err)
	}
	if s, _ := db.Suppressed(pctx, org, "Alice@example.com"); s != nil {
		t.Errorf("still suppressed after removal: %+v", s)
	}
	if _, err := db.RemoveSuppression(pctx, org, "Alice@example.com", "key:test", "again"); mailtrail.ErrorCode(err) != mailtrail.ENOTFOUND {
		t.Errorf("second removal: %v", err)
	}
}

func mustRef(t *testing.T, s string) []byte {
	t.Helper()
	r, ok := parseRef(s)
	if !ok {
		t.Fatalf("bad ref %q", s)
	}
	return r[:]
}

// TestEraseSharedAddress: two customers with one address, erased one after the other,
// leave one hashed suppression, the one that ranks higher.
func TestEraseSharedAddress(t *testing.T) {
	db := openPrivacyDB(t)
	org := pOrg(t, db, "acme")
	const addr = "home@example.com"
	if err := db.CreateMessages(pctx, org, []*mailtrail.Message{
		{ID: pRef(1), CampaignID: "c", CustomerID: "p1", CustomerEmail: addr},
		{ID: pRef(2), CampaignID: "c", CustomerID: "p2", CustomerEmail: addr},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AddSuppressions(pctx, org, []mailtrail.SuppressionInput{{Email: addr}}, mailtrail.SuppressSourceAPI, "key:t"); err != nil {
		t.Fatal(err)
	}
	if res, err := db.EraseCustomer(pctx, org, "p1"); err != nil || res.Suppressions != 1 {
		t.Fatalf("erase p1: %+v %v", res, err)
	}
	// After the first erase a complaint suppresses the address again, in clear.
	pWrite(t, db, &mailtrail.Event{MessageID: pRef(2), Type: mailtrail.EventComplained, Source: mailtrail.SourceWebhook, DedupeKey: "c2",
		CustomerEmail: addr, OccurredAt: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)})
	if res, err := db.EraseCustomer(pctx, org, "p2"); err != nil || res.Suppressions != 1 {
		t.Fatalf("erase p2: %+v %v", res, err)
	}
	list, err := db.Suppressions(pctx, org, mailtrail.SuppressionFilter{})
	if err != nil || len(list.Suppressions) != 1 || list.Suppressions[0].Reason != mailtrail.ReasonComplaint {
		t.Fatalf("one hashed suppression, the complaint: %+v %v", list, err)
	}
	if got := personalRows(t, db, org, regexp.MustCompile(`home@`)); len(got) > 0 {
		t.Fatalf("address left: %q", got)
	}
	// A listed hash can be removed by itself.
	h := list.Suppressions[0].EmailHash
	if removed, err := db.RemoveSuppression(pctx, org, h, "key:t", "asked"); err != nil || removed.EmailHash != h || removed.Email != "" {
		t.Fatalf("remove by hash: %+v %v", removed, err)
	}
	if s, err := db.Suppressed(pctx, org, addr); err != nil || s != nil {
		t.Fatalf("suppressed after removal by hash: %+v %v", s, err)
	}
}

// TestEraseQueryPlans: erasing and retention read events only through indexes, and the
// hashed-suppression probe is a primary-key range search.
func TestEraseQueryPlans(t *testing.T) {
	db := openPrivacyDB(t)
	pOrg(t, db, "acme")
	for _, c := range []struct {
		q    string
		args []any
	}{
		{customerEventsQuery, []any{1, 1, 1}},
		{`SELECT id, customer_id, occurred_at, received_at FROM events WHERE org_id = ? AND id > ? ORDER BY id LIMIT ?`, []any{1, 0, 10}},
		{`DELETE FROM events WHERE org_id = ? AND id > ? AND id <= ?`, []any{1, 0, 10}},
		{`DELETE FROM customer_events WHERE (customer_id, occurred_at, event_id) IN
		(SELECT value ->> 0, value ->> 1, value ->> 2 FROM json_each(?))`, []any{"[[1,2,3]]"}},
		{`SELECT 1 FROM suppressions WHERE org_id = ? AND email >= 'sha256:' AND email < 'sha256;' LIMIT 1`, []any{1}},
	} {
		plan := dump(t, db, "EXPLAIN QUERY PLAN "+c.q, c.args...)
		for _, line := range strings.Split(plan, "\n") {
			if m := regexp.MustCompile(`detail=SCAN (\w+)`).FindStringSubmatch(line); m != nil && m[1] != "json_each" {
				t.Errorf("%s\nscans a table: %s", c.q, plan)
			}
		}
		// The events of the customer not yet indexed: only those past the watermark.
		if c.q == customerEventsQuery && !strings.Contains(plan, "SEARCH ev USING INDEX events_org (org_id=? AND id>?)") {
			t.Errorf("the customer's tail is not a range past the watermark: %s", plan)
		}
		if c.q[0] == 'S' && strings.Contains(c.q, "suppressions") && !strings.Contains(plan, "PRIMARY KEY") {
			t.Errorf("the hash probe does not use the primary key: %s", plan)
		}
	}
}

func TestRetention(t *testing.T) {
	db := openPrivacyDB(t)
	org := pOrg(t, db, "short")
	keep := pOrg(t, db, "forever")
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	refs := map[string][]string{}
	for base, o := range []string{org, keep} {
		var msgs []*mailtrail.Message
		for i := 0; i < 5; i++ {
			id := pRef(100*base + i)
			refs[o] = append(refs[o], id)
			msgs = append(msgs, &mailtrail.Message{ID: id, CampaignID: "c", CustomerID: fmt.Sprint("u", i),
				CustomerEmail: fmt.Sprintf("u%d@example.com", i), TrackOpens: true, TrackClicks: true, Links: []string{"https://x.example/"}})
		}
		if err := db.CreateMessages(pctx, o, msgs); err != nil {
			t.Fatal(err)
		}
	}
	settings := mailtrail.OrgSettings{SoftBounceLimit: 5, RetentionDays: 10}
	if err := db.UpdateOrgSettings(pctx, org, settings); err != nil {
		t.Fatal(err)
	}
	// Per organization, in arrival order: 23 events received 30 to 12 days ago, one
	// received 2 days ago, then one received 20 days ago (a late arrival: kept, behind it).
	write := func(o string, received time.Time, i int) {
		rs := refs[o]
		typ := []mailtrail.EventType{mailtrail.EventSent, mailtrail.EventOpened, mailtrail.EventClicked, mailtrail.EventDelivered}[i%4]
		e := &mailtrail.Event{MessageID: rs[i%len(rs)], Type: typ, OccurredAt: received.Add(-time.Minute), ReceivedAt: received,
			Source: mailtrail.SourceTracking, Metadata: mailtrail.Metadata{IP: "198.51.100.1"}}
		if typ == mailtrail.EventClicked {
			e.Metadata.LinkURL = "https://x.example/"
		}
		if typ == mailtrail.EventSent || typ == mailtrail.EventDelivered {
			e.DedupeKey = fmt.Sprint("k", i)
			e.Source = mailtrail.SourceWebhook
		}
		pWrite(t, db, e)
	}
	for _, o := range []string{org, keep} {
		for i := 0; i < 23; i++ {
			write(o, now.Add(-30*24*time.Hour+time.Duration(i)*18*time.Hour/2), i)
			if i == 10 {
				if _, err := db.IndexCustomerEvents(pctx); err != nil {
					t.Fatal(err)
				}
			}
		}
		write(o, now.Add(-2*24*time.Hour), 23)
		write(o, now.Add(-20*24*time.Hour), 24)
	}
	if _, err := db.IndexCustomerEvents(pctx); err != nil {
		t.Fatal(err)
	}
	countQ := `SELECT count(*) FROM events e JOIN orgs o ON o.id = e.org_id WHERE o.public_id = ?`
	var indexed int
	if err := db.r.QueryRowContext(pctx, `SELECT count(*) FROM customer_events`).Scan(&indexed); err != nil || indexed != 50 {
		t.Fatalf("customer index before retention: %d %v", indexed, err)
	}
	aggBefore := aggregates(t, db, org, "c") + aggregates(t, db, keep, "c")
	keepBefore := dump(t, db, `SELECT e.* FROM events e JOIN orgs o ON o.id = e.org_id WHERE o.public_id = ? ORDER BY e.id`, keep)
	survivorsQ := `SELECT e.* FROM events e JOIN orgs o ON o.id = e.org_id WHERE o.public_id = ? AND e.received_at >= ? ORDER BY e.id`
	survivors := dump(t, db, survivorsQ, org, now.Add(-10*24*time.Hour).UnixMilli())

	db.wmu.Lock()
	commits := db.commits
	db.wmu.Unlock()
	n, err := db.DeleteExpiredEvents(pctx, now, 7)
	if err != nil {
		t.Fatal(err)
	}
	if n != 23 {
		t.Fatalf("deleted %d events, want the 23 received before the cutoff ahead of the first kept one", n)
	}
	db.wmu.Lock()
	chunks := db.commits - commits
	db.wmu.Unlock()
	if chunks != 4 {
		t.Errorf("23 events in chunks of 7 took %d transactions, want 4", chunks)
	}
	var left int
	if err := db.r.QueryRowContext(pctx, countQ, org).Scan(&left); err != nil || left != 2 {
		t.Fatalf("events left: %d %v", left, err)
	}
	var late int
	if err := db.r.QueryRowContext(pctx, countQ+` AND e.received_at < ?`, org, now.Add(-10*24*time.Hour).UnixMilli()).Scan(&late); err != nil || late != 1 {
		t.Fatalf("the late arrival behind a kept event: %d %v", late, err)
	}
	if got := dump(t, db, survivorsQ, org, now.Add(-10*24*time.Hour).UnixMilli()); got != survivors {
		t.Fatalf("events newer than the cutoff changed:\nbefore %s\nafter  %s", survivors, got)
	}
	if got := dump(t, db, `SELECT e.* FROM events e JOIN orgs o ON o.id = e.org_id WHERE o.public_id = ? ORDER BY e.id`, keep); got != keepBefore {
		t.Fatal("the organization without retention lost events")
	}
	if got := aggregates(t, db, org, "c") + aggregates(t, db, keep, "c"); got != aggBefore {
		t.Fatalf("aggregates changed by retention:\nbefore %s\nafter  %s", aggBefore, got)
	}
	var orphans, idx int
	if err := db.r.QueryRowContext(pctx, `SELECT count(*) FROM customer_events WHERE event_id NOT IN (SELECT id FROM events)`).Scan(&orphans); err != nil || orphans != 0 {
		t.Fatalf("customer index entries of deleted events: %d %v", orphans, err)
	}
	if err := db.r.QueryRowContext(pctx, `SELECT count(*) FROM customer_events`).Scan(&idx); err != nil || idx != 27 {
		t.Fatalf("customer index after retention: %d entries, want 27 %v", idx, err)
	}
	// Customer timelines read the rest.
	page, err := db.ListEvents(pctx, org, mailtrail.EventFilter{CustomerID: "u3"})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range page.Events {
		if e.ReceivedAt.Before(now.Add(-10*24*time.Hour)) && e.ReceivedAt != now.Add(-20*24*time.Hour) {
			t.Errorf("expired event listed: %+v", e)
		}
	}
	// Nothing more to do until time passes.
	if n, err := db.DeleteExpiredEvents(pctx, now, 7); err != nil || n != 0 {
		t.Fatalf("second run: %d %v", n, err)
	}
	// Later, the rest expires.
	if n, err := db.DeleteExpiredEvents(pctx, now.Add(9*24*time.Hour), 0); err != nil || n != 2 {
		t.Fatalf("run 9 days later: %d %v", n, err)
	}
	if got := aggregates(t, db, org, "c") + aggregates(t, db, keep, "c"); got != aggBefore {
		t.Fatal("aggregates changed once every raw event is gone")
	}
}
