package postgres_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/ingest"
	"github.com/mailtrail/mailtrail/internal/store/storetest"
)

// TestSuppressionsFromTwoNodes: two stores on one schema, as two API nodes, change the
// same addresses' suppressions at the same time, one by events (Write), the other by hand
// (add, remove, resubscribe). Every call succeeds, and each address's current
// suppression, organization-wide and for its topic, is what its history ends with.
func TestSuppressionsFromTwoNodes(t *testing.T) {
	ctx := context.Background()
	schema := newSchema(t)
	events, manual := openIn(t, schema), openIn(t, schema)
	o, _, err := events.CreateOrg(ctx, "acme", "UTC")
	if err != nil {
		t.Fatal(err)
	}
	const n = 12
	storetest.Seed(t, events, o.ID, n)
	base := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	email := func(i int) string { return fmt.Sprintf("u%d@example.com", i) }
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	wg.Add(2)
	go func() {
		defer wg.Done()
		r := rand.New(rand.NewPCG(1, 2))
		for round := range 25 {
			var batch []*mailtrail.Event
			for j := range 6 {
				e := &mailtrail.Event{OrgID: o.ID, MessageID: fmt.Sprintf("msg%013d", r.IntN(n)), OccurredAt: base.Add(time.Duration(r.IntN(600)) * time.Minute),
					Source: mailtrail.SourceWebhook, DedupeKey: fmt.Sprintf("e%d-%d", round, j)}
				switch r.IntN(5) {
				case 0:
					e.Type, e.Metadata.BounceType = mailtrail.EventBounced, mailtrail.BounceHard
				case 1:
					e.Type, e.Metadata.BounceType = mailtrail.EventBounced, mailtrail.BounceSoft
				case 2:
					e.Type = mailtrail.EventComplained
				case 3:
					e.Type, e.Metadata.Topic = mailtrail.EventUnsubscribed, "news"
				default:
					e.Type = mailtrail.EventDelivered
				}
				ingest.Normalize(e, base.Add(1000*time.Hour))
				batch = append(batch, e)
			}
			if _, err := events.Write(ctx, batch); err != nil {
				errs <- fmt.Errorf("write: %w", err)
				return
			}
		}
	}()
	go func() {
		defer wg.Done()
		r := rand.New(rand.NewPCG(3, 4))
		for range 25 {
			in := []mailtrail.SuppressionInput{{Email: email(r.IntN(n))}, {Email: email(r.IntN(n)), Reason: mailtrail.ReasonListImport}}
			if _, err := manual.AddSuppressions(ctx, o.ID, in, mailtrail.SuppressSourceAPI, "tester"); err != nil {
				errs <- fmt.Errorf("add: %w", err)
				return
			}
			if _, err := manual.RemoveSuppression(ctx, o.ID, email(r.IntN(n)), "tester", ""); err != nil && mailtrail.ErrorCode(err) != mailtrail.ENOTFOUND {
				errs <- fmt.Errorf("remove: %w", err)
				return
			}
			rs := []mailtrail.Resubscribe{{Email: email(r.IntN(n)), Topic: "news", At: base.Add(time.Duration(r.IntN(600)) * time.Minute)}}
			if _, err := manual.Resubscribe(ctx, o.ID, rs, "vendor"); err != nil {
				errs <- fmt.Errorf("resubscribe: %w", err)
				return
			}
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	changes := 0
	for i := range n {
		hist, cur, err := manual.SuppressionHistory(ctx, o.ID, email(i))
		if err != nil {
			t.Fatal(err)
		}
		changes += len(hist)
		last := map[string]mailtrail.SuppressionChange{} // by topic
		for _, h := range hist {
			last[h.Topic] = h
		}
		lifted := func(h mailtrail.SuppressionChange) bool {
			return h.Action == mailtrail.ActionRemoved || h.Action == mailtrail.ActionLifted
		}
		h, ok := last[""]
		if want := ok && !lifted(h); want != (cur != nil) || (cur != nil && cur.Reason != h.Reason) {
			t.Errorf("%s: suppressed %+v, history ends with %+v", email(i), cur, h)
		}
		topics, err := manual.CheckTopicSuppressions(ctx, o.ID, []string{email(i)}, []string{"news"})
		if err != nil {
			t.Fatal(err)
		}
		h, ok = last["news"]
		if want := ok && !lifted(h); want != (len(topics[email(i)]) == 1) {
			t.Errorf("%s: topic suppressions %+v, history ends with %+v", email(i), topics, h)
		}
	}
	if changes < 2*n {
		t.Fatalf("%d changes in the histories: the test proves little", changes)
	}
}

// AdoptOrg brings an organization of another store in with its own id, creation time and
// settings (which the projection's rules read), updates it when adopted again, and
// refuses a tracking host another organization has.
func TestAdoptOrg(t *testing.T) {
	ctx := context.Background()
	db := openIn(t, newSchema(t))
	created := time.UnixMilli(1_700_000_000_123).UTC()
	o := mailtrail.Organization{ID: "org_adopted1", Name: "Acme", Timezone: "Europe/Paris", CreatedAt: created}
	s := mailtrail.OrgSettings{SoftBounceLimit: 3, KeepFullIP: true, RetentionDays: 30, TrackingURL: "https://t.acme.example"}
	if err := db.AdoptOrg(ctx, o, s); err != nil {
		t.Fatal(err)
	}
	got, err := db.Org(ctx, o.ID)
	if err != nil || got.Name != "Acme" || got.Timezone != "Europe/Paris" || !got.CreatedAt.Equal(created) {
		t.Fatalf("adopted org: %+v, %v", got, err)
	}
	if gs, err := db.OrgSettings(ctx, o.ID); err != nil || *gs != s {
		t.Fatalf("adopted settings: %+v, %v; want %+v", gs, err, s)
	}
	if host, err := db.TrackingHostOrg(ctx, "t.acme.example"); err != nil || host != o.ID {
		t.Fatalf("tracking host of the adopted org: %q, %v", host, err)
	}
	o.Name, s.SoftBounceLimit = "Acme Inc", 7
	if err := db.AdoptOrg(ctx, o, s); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.Org(ctx, o.ID); got.Name != "Acme Inc" {
		t.Fatalf("adopted again: name %q", got.Name)
	}
	if gs, _ := db.OrgSettings(ctx, o.ID); gs.SoftBounceLimit != 7 {
		t.Fatalf("adopted again: soft bounce limit %d", gs.SoftBounceLimit)
	}
	other := mailtrail.Organization{ID: "org_adopted2", Name: "Other", Timezone: "UTC", CreatedAt: created}
	if err := db.AdoptOrg(ctx, other, mailtrail.OrgSettings{SoftBounceLimit: 5, TrackingURL: "https://T.acme.example"}); mailtrail.ErrorCode(err) != mailtrail.ECONFLICT {
		t.Fatalf("a second org on the tracking host: %v, want ECONFLICT", err)
	}
	if err := db.AdoptOrg(ctx, mailtrail.Organization{Name: "no id"}, s); mailtrail.ErrorCode(err) != mailtrail.EINVALID {
		t.Fatalf("an org without an id: %v", err)
	}
}
