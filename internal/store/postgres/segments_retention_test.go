package postgres_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/ingest"
	"github.com/mailtrail/mailtrail/internal/segment"
	"github.com/mailtrail/mailtrail/internal/store/postgres"
)

// An API node's segment index follows PostgreSQL (Follow, as serve --cluster does) while
// the workers' retention deletes raw events there, with backdated and future-dated events
// among the traffic: at the end it answers every rule as an index built afresh from
// PostgreSQL does, and holds no day before its first kept one. (The recount of the kept
// events is the segment package's TestRetentionForgetsAsABuildDoes, on SQLite.)
func TestSegmentIndexForgetsWithRetention(t *testing.T) {
	ctx := context.Background()
	day := 24 * time.Hour
	clock := time.Date(2026, 9, 1, 12, 0, 0, 0, time.UTC)
	tick := func() time.Time { return clock }
	db, err := postgres.Open(ctx, dsn(t), postgres.Options{Schema: newSchema(t), MaxConns: 4, Now: tick})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	o, _, err := db.CreateOrg(ctx, "acme", "UTC")
	if err != nil {
		t.Fatal(err)
	}
	set, err := db.OrgSettings(ctx, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	set.RetentionDays = 30
	if err := db.UpdateOrgSettings(ctx, o.ID, *set); err != nil {
		t.Fatal(err)
	}
	var msgs []*mailtrail.Message
	for i := range 120 {
		msgs = append(msgs, &mailtrail.Message{ID: fmt.Sprintf("msg%013d", i), CampaignID: []string{"spring", "summer"}[i%2],
			CustomerID: fmt.Sprintf("c%d", i/2), CustomerEmail: fmt.Sprintf("c%d@example.com", i/2), TrackOpens: true, TrackClicks: true})
	}
	if err := db.CreateMessages(ctx, o.ID, msgs); err != nil {
		t.Fatal(err)
	}
	newIndex := func() *segment.Index {
		x := segment.New(db, nil)
		x.SetClock(tick)
		if err := x.Build(ctx, 97); err != nil {
			t.Fatal(err)
		}
		return x
	}
	live := newIndex()
	types := []mailtrail.EventType{mailtrail.EventDelivered, mailtrail.EventOpened, mailtrail.EventOpened, mailtrail.EventClicked}
	r := rand.New(rand.NewPCG(3, 30))
	deleted := 0
	for d := 0; d <= 90; d += 3 {
		clock = time.Date(2026, 9, 1, 12, 0, 0, 0, time.UTC).Add(time.Duration(d) * day)
		var evs []*mailtrail.Event
		for range 80 {
			e := &mailtrail.Event{OrgID: o.ID, MessageID: msgs[r.IntN(len(msgs))].ID, Type: types[r.IntN(len(types))],
				Source: mailtrail.SourceTracking, ReceivedAt: clock.Add(-time.Duration(r.Int64N(int64(20 * time.Hour))))}
			switch k := r.IntN(20); {
			case k < 4:
				e.OccurredAt = e.ReceivedAt.Add(-time.Duration(r.Int64N(int64(100 * day))))
			case k == 4:
				e.OccurredAt = e.ReceivedAt.Add(time.Duration(1+r.IntN(3)) * day)
			default:
				e.OccurredAt = e.ReceivedAt.Add(-time.Duration(r.Int64N(int64(2 * time.Hour))))
			}
			if e.Type == mailtrail.EventClicked {
				e.Metadata.LinkURL = fmt.Sprintf("https://shop.example/%d", r.IntN(3))
			}
			if e.Type == mailtrail.EventDelivered {
				e.Source, e.DedupeKey = mailtrail.SourceWebhook, fmt.Sprintf("d%d-%d", d, r.Int64())
			}
			ingest.Normalize(e, clock)
			evs = append(evs, e)
		}
		if _, err := db.Write(ctx, evs); err != nil {
			t.Fatal(err)
		}
		last, err := db.LastEventID(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := live.Follow(ctx, []string{o.ID}, last); err != nil {
			t.Fatal(err)
		}
		n, err := db.DeleteExpiredEvents(ctx, clock, 50)
		if err != nil {
			t.Fatal(err)
		}
		deleted += n
	}
	if deleted < 500 {
		t.Fatalf("retention deleted %d events", deleted)
	}
	if err := live.RefreshHorizons(ctx); err != nil {
		t.Fatal(err)
	}
	fresh := newIndex()
	nonEmpty := 0
	for _, rule := range []string{
		`{"has_done":{"event":"opened","within":{"value":1,"unit":"YEAR"}}}`,
		`{"has_done":{"event":"opened","within":{"value":27,"unit":"DAY"}}}`,
		`{"has_not_done":{"event":"clicked"}}`,
		`{"has_done":{"event":"clicked","link_url":"https://shop.example/1","human_only":true}}`,
		`{"has_done":{"event":"opened","at_least":3,"campaign_id":"summer"}}`,
		`{"not":{"has_done":{"event":"delivered","within":{"value":10,"unit":"DAY"}}}}`,
	} {
		rl, err := segment.Parse([]byte(rule))
		if err != nil {
			t.Fatal(err)
		}
		var answers [2][]string
		for i, x := range []*segment.Index{live, fresh} {
			res, err := x.Evaluate(o.ID, rl, clock, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := res.Page("", 0, func(id string) error { answers[i] = append(answers[i], id); return nil }); err != nil {
				t.Fatal(err)
			}
			slices.Sort(answers[i])
		}
		if !slices.Equal(answers[0], answers[1]) {
			t.Fatalf("%s: the index that followed PostgreSQL %v, one built afresh %v", rule, answers[0], answers[1])
		}
		if len(answers[0]) > 0 {
			nonEmpty++
		}
	}
	if nonEmpty < 4 {
		t.Fatalf("only %d rules select anyone", nonEmpty)
	}
	org, _ := live.Org(o.ID)
	if days := org.Stats().Days; days == 0 || days > 30 {
		t.Fatalf("the index holds %d days under 30 days of retention", days)
	}
}
