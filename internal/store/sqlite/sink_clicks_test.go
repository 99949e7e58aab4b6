package sqlite

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/rules"
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

// The store relabels only the clicks near what a batch changed; whatever the batches and
// their order, every stored label must equal the click rules applied to the message's
// whole set of clicks.
func TestStoredClickLabelsEqualTheRulesOverAllClicks(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for round := 0; round < 4; round++ {
		db := openPrivacyDB(t)
		org := pOrg(t, db, "acme")
		const msgs = 6
		var ms []*mailtrail.Message
		for i := 0; i < msgs; i++ {
			ms = append(ms, &mailtrail.Message{ID: pRef(i), CampaignID: "c", CustomerID: fmt.Sprintf("u%d", i), TrackOpens: true, TrackClicks: true})
		}
		if err := db.CreateMessages(pctx, org, ms); err != nil {
			t.Fatal(err)
		}
		t0 := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
		var evs []*mailtrail.Event
		for i := 0; i < 300; i++ {
			msg := r.IntN(msgs)
			e := &mailtrail.Event{OrgID: org, MessageID: pRef(msg), Source: mailtrail.SourceTracking, DedupeKey: fmt.Sprintf("k%d", i)}
			switch p := r.IntN(20); {
			case p == 0:
				e.Type, e.Source = mailtrail.EventDelivered, mailtrail.SourceWebhook
				e.OccurredAt = t0.Add(time.Duration(r.IntN(600)) * time.Second)
			case p == 1:
				e.Type, e.Source = mailtrail.EventSent, mailtrail.SourceAPI
				e.OccurredAt = t0.Add(time.Duration(r.IntN(600)) * time.Second)
			default:
				e.Type = mailtrail.EventClicked
				// Clustered in time so that bursts, honeypot windows and delivery
				// windows overlap; sometimes the honeypot, sometimes a scanner's agent.
				e.OccurredAt = t0.Add(time.Duration(r.IntN(900)) * time.Second).Add(time.Duration(r.IntN(1000)) * time.Millisecond)
				if r.IntN(15) == 0 {
					hp := mailtrail.HoneypotLink
					e.Metadata.LinkIndex = &hp
				} else {
					e.Metadata.LinkURL = fmt.Sprintf("https://x.example/%d", r.IntN(4))
				}
				if r.IntN(12) == 0 {
					e.Classification, e.Reasons = mailtrail.Bot, []string{"scanner_ua:test"}
				}
			}
			evs = append(evs, e)
		}
		r.Shuffle(len(evs), func(i, j int) { evs[i], evs[j] = evs[j], evs[i] })
		for len(evs) > 0 {
			n := min(len(evs), 1+r.IntN(40))
			pWrite(t, db, evs[:n]...)
			evs = evs[n:]
		}
		page, err := db.ListEvents(pctx, org, mailtrail.EventFilter{CampaignID: "c", Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		byMsg := map[string][]mailtrail.Event{}
		dAt, sAt := map[string]int64{}, map[string]int64{}
		for _, e := range page.Events {
			ms := e.OccurredAt.UnixMilli()
			switch e.Type {
			case mailtrail.EventClicked:
				byMsg[e.MessageID] = append(byMsg[e.MessageID], e)
			case mailtrail.EventDelivered:
				if dAt[e.MessageID] == 0 || ms < dAt[e.MessageID] {
					dAt[e.MessageID] = ms
				}
			case mailtrail.EventSent:
				if sAt[e.MessageID] == 0 || ms < sAt[e.MessageID] {
					sAt[e.MessageID] = ms
				}
			}
		}
		bots := 0
		for msg, clicks := range byMsg {
			in := make([]rules.Click, len(clicks))
			for i, c := range clicks {
				link := c.Metadata.LinkURL
				if link == "" {
					link = fmt.Sprintf("#%d", *c.Metadata.LinkIndex)
				}
				in[i] = rules.Click{At: c.OccurredAt.UnixMilli(), Link: link, Honeypot: c.Metadata.LinkURL == "",
					RequestBot: slices.Contains(c.Reasons, "scanner_ua:test")}
			}
			want := rules.ClassifyClicks(dAt[msg], sAt[msg], in)
			for i, c := range clicks {
				if want[i].Bot {
					bots++
				}
				if got := c.Classification == mailtrail.Bot; got != want[i].Bot {
					t.Fatalf("round %d: click of %s at %v on %s: stored %s %v, the rules over all clicks say bot=%v %v",
						round, msg, c.OccurredAt, in[i].Link, c.Classification, c.Reasons, want[i].Bot, want[i].Reasons)
				}
			}
		}
		if bots == 0 {
			t.Fatal("no click was a bot: the history does not exercise the rules")
		}
	}
}
