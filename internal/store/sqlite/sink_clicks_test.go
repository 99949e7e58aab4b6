package sqlite

import (
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
)

// A message's human click that retention deleted still counts when, months later, new
// clicks of the same message are relabelled: the rules cannot see it, so they must not
// take it away.
func TestClickRulesKeepAFirstHumanClickDeletedByRetention(t *testing.T) {
	db := openPrivacyDB(t)
	org := pOrg(t, db, "acme")
	if err := db.CreateMessages(pctx, org, []*mailtrail.Message{{ID: pRef(1), CampaignID: "c", CustomerID: "u1",
		CustomerEmail: "u1@example.com", TrackOpens: true, TrackClicks: true}}); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	click := func(at time.Time, link string) *mailtrail.Event {
		e := &mailtrail.Event{OrgID: org, MessageID: pRef(1), Type: mailtrail.EventClicked, OccurredAt: at, Source: mailtrail.SourceTracking}
		e.Metadata.LinkURL = link
		return e
	}
	pWrite(t, db, &mailtrail.Event{OrgID: org, MessageID: pRef(1), Type: mailtrail.EventDelivered, OccurredAt: t0, Source: mailtrail.SourceWebhook, DedupeKey: "d"},
		click(t0.Add(2*time.Hour), "https://x.example/a"))
	humanUniques := func() int64 {
		var c mailtrail.Counts
		bs, err := db.CampaignBuckets(pctx, org, "c")
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range bs {
			c.Add(b.Counts)
		}
		return c.HumanClicksUnique
	}
	if n := humanUniques(); n != 1 {
		t.Fatalf("human click uniques %d, want 1", n)
	}
	st, err := db.OrgSettings(pctx, org)
	if err != nil {
		t.Fatal(err)
	}
	st.RetentionDays = 7
	if err := db.UpdateOrgSettings(pctx, org, *st); err != nil {
		t.Fatal(err)
	}
	if n, err := db.DeleteExpiredEvents(pctx, time.Now().Add(30*24*time.Hour), 100); err != nil || n != 2 {
		t.Fatalf("retention deleted %d events (%v), want 2", n, err)
	}
	// A scanner's burst on three links: bots, and the person's earlier click still counts.
	later := t0.Add(90 * 24 * time.Hour)
	pWrite(t, db, click(later, "https://x.example/a"), click(later.Add(time.Second), "https://x.example/b"), click(later.Add(2*time.Second), "https://x.example/c"))
	page, err := db.ListEvents(pctx, org, mailtrail.EventFilter{CampaignID: "c"})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range page.Events {
		if e.Classification != mailtrail.Bot {
			t.Errorf("burst click %s: %s %v", e.Metadata.LinkURL, e.Classification, e.Reasons)
		}
	}
	if n := humanUniques(); n != 1 {
		t.Fatalf("human click uniques %d after retention and a burst, want 1", n)
	}
}
