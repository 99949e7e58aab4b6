package postgres_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/ingest"
	"github.com/mailtrail/mailtrail/internal/store/postgres"
)

// With writers at once (partitions), a transaction can commit an event id below one
// another committed first. The stream's end stays below the id a transaction still
// inserting holds, so a reader of the stream (SSE, subscriptions, an API node's feed,
// the segment index's tail) never passes an event that commits later; once it commits,
// the end moves past both, and the reader gets it.
func TestStreamEndWaitsForInsertsInFlight(t *testing.T) {
	ctx := context.Background()
	db := openIn(t, newSchema(t))
	o, _, err := db.CreateOrg(ctx, "acme", "UTC")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	write := func(cust string) {
		t.Helper()
		e := &mailtrail.Event{OrgID: o.ID, CampaignID: "c", CustomerID: cust, CustomerEmail: cust + "@example.com", Type: mailtrail.EventSent,
			OccurredAt: at, ReceivedAt: at, Source: mailtrail.SourceAPI}
		ingest.Normalize(e, at)
		if _, err := db.Write(ctx, []*mailtrail.Event{e}); err != nil {
			t.Fatal(err)
		}
	}
	write("u1")
	first, err := db.StreamEnd(ctx)
	if err != nil || first == 0 {
		t.Fatalf("StreamEnd = %d, %v", first, err)
	}
	slow, end, err := postgres.InsertInFlight(ctx, db, "in-flight")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { end(false) }) // before the schema is dropped, which waits for it
	write("u2")                      // commits an id above the one in flight
	se, err := db.StreamEnd(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if se >= slow || se < first {
		t.Fatalf("with id %d in flight: StreamEnd = %d, want in [%d, %d)", slow, se, first, slow)
	}
	evs, upTo, err := db.EventsAfter(ctx, o.ID, 0, mailtrail.StreamFilter{}, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || upTo >= slow {
		t.Fatalf("EventsAfter with id %d in flight: %d events up to %d, want only u1's", slow, len(evs), upTo)
	}
	if err := end(true); err != nil {
		t.Fatal(err)
	}
	se, err = db.StreamEnd(ctx)
	if err != nil || se <= slow {
		t.Fatalf("after the commit: StreamEnd = %d, %v, want past %d", se, err, slow)
	}
	evs, _, err = db.EventsAfter(ctx, o.ID, upTo, mailtrail.StreamFilter{}, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 || evs[0].Seq != slow {
		t.Fatalf("after the commit, from %d: %d events (first %+v), want the one that was in flight, then u2's", upTo, len(evs), evs)
	}

	// The feed of every organization reads the same order, in pages.
	feed, last, err := db.Feed(ctx, 0, se, 2)
	if err != nil || len(feed) != 2 || feed[0].CustomerID != "u1" || feed[1].ID != "in-flight" || feed[1].OrgID != o.ID {
		t.Fatalf("Feed page 1: %+v up to %d, %v", feed, last, err)
	}
	page1 := last
	feed, last, err = db.Feed(ctx, last, se, 2)
	if err != nil || len(feed) != 1 || feed[0].CustomerID != "u2" || last != se {
		t.Fatalf("Feed page 2: %+v up to %d, %v; want u2's, up to %d", feed, last, err, se)
	}
	// FeedOrgs pages alike, naming the organizations only.
	orgs, last, err := db.FeedOrgs(ctx, 0, se, 2)
	if err != nil || !reflect.DeepEqual(orgs, []string{o.ID}) || last != page1 {
		t.Fatalf("FeedOrgs page 1: %v up to %d, %v; want [%s] up to %d", orgs, last, err, o.ID, page1)
	}
	if orgs, last, err = db.FeedOrgs(ctx, last, se, 2); err != nil || !reflect.DeepEqual(orgs, []string{o.ID}) || last != se {
		t.Fatalf("FeedOrgs page 2: %v up to %d, %v; want [%s] up to %d", orgs, last, err, o.ID, se)
	}
	if orgs, last, err = db.FeedOrgs(ctx, se, se, 2); err != nil || len(orgs) != 0 || last != se {
		t.Fatalf("FeedOrgs past the end: %v up to %d, %v", orgs, last, err)
	}

	// A stream's position records the last event id its transactions inserted.
	e := &mailtrail.Event{OrgID: o.ID, CampaignID: "c", CustomerID: "u3", CustomerEmail: "u3@example.com", Type: mailtrail.EventSent,
		OccurredAt: at, ReceivedAt: at, Source: mailtrail.SourceAPI}
	ingest.Normalize(e, at)
	if _, err := db.WriteAt(ctx, "s", 0, 1, []*mailtrail.Event{e}); err != nil {
		t.Fatal(err)
	}
	se, _ = db.StreamEnd(ctx)
	if got, err := db.AppliedEvent(ctx, []string{"s", "other"}); err != nil || got != se || got <= slow {
		t.Fatalf("AppliedEvent = %d, %v; want the stream's end %d", got, err, se)
	}

	// An erasure moves the store's generation.
	g0, err := db.Generation(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.EraseCustomer(ctx, o.ID, "u2"); err != nil {
		t.Fatal(err)
	}
	if g1, err := db.Generation(ctx); err != nil || g1 == g0 {
		t.Fatalf("generation %d after an erasure, %d before (%v)", g1, g0, err)
	}
}

// A mark holds the low 32 bits of its value; the value is the largest at or below the
// sequence's top with those bits.
func TestMarkedBelow(t *testing.T) {
	oid := func(v int64) int64 { return int64(uint32(int32((v & (1<<32 - 1)) - 1<<31))) } // the int4 key as pg_locks shows it
	for _, c := range []struct{ top, v int64 }{
		{10, 10}, {10, 3}, {10, 0}, {1 << 32, 1<<32 - 5}, {1<<32 + 7, 1<<32 - 2}, {1<<40 + 3, 1<<40 + 3}, {1<<40 + 3, 1<<40 - 9}, {5<<32 + 1, 4<<32 + 2},
	} {
		if got := postgres.MarkedBelow(c.top, oid(c.v)); got != c.v {
			t.Errorf("top %d, value %d: markedBelow = %d", c.top, c.v, got)
		}
	}
}

// A listener on one connection hears of every projection write committed on another.
func TestListenHearsWrites(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	schema := newSchema(t)
	db, other := openIn(t, schema), openIn(t, schema)
	o, _, err := db.CreateOrg(ctx, "acme", "UTC")
	if err != nil {
		t.Fatal(err)
	}
	heard := make(chan struct{}, 16)
	listening := make(chan error, 1)
	go func() { listening <- other.Listen(ctx, func() { heard <- struct{}{} }) }()
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	// Each write moves the position (the later ones are duplicates: nothing inserted,
	// heard all the same). The listener may not listen yet at the first writes: three
	// must be heard within 30.
	heardN := 0
	for pos := uint64(0); heardN < 3; pos++ {
		if pos == 30 {
			t.Fatalf("%d of 30 writes heard", heardN)
		}
		e := &mailtrail.Event{OrgID: o.ID, CampaignID: "c", CustomerID: "u", CustomerEmail: "u@example.com", Type: mailtrail.EventSent,
			OccurredAt: at, ReceivedAt: at, Source: mailtrail.SourceAPI, DedupeKey: "k"}
		ingest.Normalize(e, at)
		if _, err := db.WriteAt(ctx, "s", pos, pos+1, []*mailtrail.Event{e}); err != nil {
			t.Fatal(err)
		}
		select {
		case <-heard:
			heardN++
		case err := <-listening:
			t.Fatalf("Listen returned: %v", err)
		case <-time.After(time.Second):
		}
	}
	cancel()
	if err := <-listening; err != nil {
		t.Fatalf("Listen at its context's end: %v", err)
	}
}
