package sqlite

import (
	"encoding/hex"
	"fmt"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/ingest"
)

// A batch reads the soft-bounce runs of all its addresses at once, per organization
// (loadSoftBounces): every address finds its own run, spelled with any bytes (non-ASCII,
// HTML characters, quotes), in its own organization only, in a batch that holds two
// organizations. Four soft bounces are stored first; the batch then brings the fifth
// (the default limit: suppressed), a delivery before the fifth (the run restarts: not
// suppressed), and the same address's first soft bounce in another organization (no run
// there: not suppressed).
func TestBatchReadsEveryAddressRun(t *testing.T) {
	db := openPrivacyDB(t)
	org, org2 := pOrg(t, db, "acme"), pOrg(t, db, "other")
	t0 := time.Date(2026, 11, 3, 8, 0, 0, 0, time.UTC)
	bounce := func(org, addr string, min int) *mailtrail.Event {
		return &mailtrail.Event{OrgID: org, CampaignID: "soft", CustomerID: "c-" + addr, CustomerEmail: addr, Type: mailtrail.EventBounced,
			Source: mailtrail.SourceAPI, OccurredAt: t0.Add(time.Duration(min) * time.Minute), Metadata: mailtrail.Metadata{BounceType: mailtrail.BounceSoft}}
	}
	suppressed := []string{"Zoë.Ünïcode@Example.com", `a&b<c>"q'@example.com`, "plain@example.com"}
	const restarted = "restarted@example.com"
	var first []*mailtrail.Event
	for _, a := range append(suppressed, restarted) {
		for m := 1; m <= 4; m++ {
			first = append(first, bounce(org, a, m))
		}
	}
	pWrite(t, db, first...)

	var second []*mailtrail.Event
	for _, a := range suppressed {
		second = append(second, bounce(org, a, 10))
	}
	delivered := bounce(org, restarted, 9)
	delivered.Type, delivered.Metadata = mailtrail.EventDelivered, mailtrail.Metadata{}
	second = append(second, bounce(org2, "plain@example.com", 10), delivered, bounce(org, restarted, 10))
	pWrite(t, db, second...)

	q := `SELECT email, reason FROM suppressions WHERE org_id = (SELECT id FROM orgs WHERE public_id = ?) ORDER BY email`
	want := ""
	for _, a := range []string{`a&b<c>"q'@example.com`, "plain@example.com", "Zoë.Ünïcode@Example.com"} {
		want += fmt.Sprintf("email=%s|reason=%s|\n", mailtrail.NormalizeEmail(a), mailtrail.ReasonSoftBounce)
	}
	if got := dump(t, db, q, org); got != want {
		t.Fatalf("suppressed in the first organization:\n%s\nwant\n%s", got, want)
	}
	if got := dump(t, db, q, org2); got != "" {
		t.Fatalf("suppressed in the second organization:\n%s\nwant none", got)
	}
	runs := `SELECT email, json_array_length(state, '$.b') AS bounces FROM soft_bounces WHERE org_id = (SELECT id FROM orgs WHERE public_id = ?) ORDER BY email`
	if got := dump(t, db, runs, org2); got != "email=plain@example.com|bounces=1|\n" {
		t.Fatalf("runs of the second organization:\n%s", got)
	}
}

// Idempotency keys are kept as they were when the key was looked up before the event was
// stored: one row per key, the id of the event that holds it, the arrival of the event
// that recorded it. A key repeated within a batch is that of its first event; a key
// recorded for an event that is a duplicate by its dedupe key (stored before the key
// table existed) names the event stored before, with the arrival of the retry.
func TestIdempotencyKeyRows(t *testing.T) {
	db := openPrivacyDB(t)
	org := pOrg(t, db, "acme")
	t0 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	a := keyed(org, "k1", mailtrail.EventSent, t0)
	b := keyed(org, "k1", mailtrail.EventDelivered, t0.Add(time.Second))
	c := keyed(org, "k2", mailtrail.EventSent, t0.Add(2*time.Second))
	for _, e := range []*mailtrail.Event{a, b, c} {
		ingest.Normalize(e, e.ReceivedAt)
	}
	cs, err := db.Write(pctx, []*mailtrail.Event{a, b, c})
	if err != nil {
		t.Fatal(err)
	}
	if cs.Duplicate[0] || !cs.Duplicate[1] || cs.Duplicate[2] || b.ID != a.ID {
		t.Fatalf("duplicates %v, second id %s: want only the second, with the first's id %s", cs.Duplicate, b.ID, a.ID)
	}

	d := keyed(org, "k3", mailtrail.EventSent, t0.Add(time.Minute))
	writeOne(t, db, d)
	tx, done, err := db.writeTx(pctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.exec(`DELETE FROM idempotency_keys WHERE event_uid = ?`, d.ID); err != nil {
		t.Fatal(err)
	}
	if err := tx.commit(); err != nil {
		t.Fatal(err)
	}
	done()
	e := keyed(org, "k3", mailtrail.EventSent, t0.Add(time.Minute)) // same time, type and key
	e.ReceivedAt = t0.Add(time.Hour)
	if !writeOne(t, db, e) || e.ID != d.ID {
		t.Fatalf("a retry of an event stored without its key row: id %s, want a duplicate of %s", e.ID, d.ID)
	}

	row := func(ev *mailtrail.Event, uid string, at time.Time) string {
		return fmt.Sprintf("k=%s|event_uid=%s|created_at=%d|\n", hex.EncodeToString(ingest.IdempotencyKey(ev)), uid, at.UnixMilli())
	}
	want := row(a, a.ID, a.ReceivedAt) + row(c, c.ID, c.ReceivedAt) + row(e, d.ID, e.ReceivedAt)
	if got := dump(t, db, `SELECT lower(hex(key)) AS k, event_uid, created_at FROM idempotency_keys ORDER BY created_at`); got != want {
		t.Fatalf("idempotency keys:\n%s\nwant\n%s", got, want)
	}
}
