package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/ingest"
)

var seenT0 = time.Date(2026, 11, 5, 10, 0, 0, 0, time.UTC)

// newSeenEvent is an API event of customer cust in campaign "seen" (the message is the
// campaign's synthetic one), received an hour after it occurred, with dedupe key key.
func newSeenEvent(org, cust string, typ mailtrail.EventType, at time.Duration, key string, norm Normalizer) *mailtrail.Event {
	e := &mailtrail.Event{OrgID: org, CampaignID: "seen", CustomerID: cust, CustomerEmail: cust + "@example.com", Type: typ,
		OccurredAt: seenT0.Add(at), ReceivedAt: seenT0.Add(at + time.Hour), Source: mailtrail.SourceAPI, DedupeKey: key}
	if typ == mailtrail.EventOpened {
		e.Source = mailtrail.SourceTracking
	}
	norm(e, e.ReceivedAt)
	return e
}

func newSeenOrg(t testing.TB, db Privacy, name string) string {
	t.Helper()
	o, _, err := db.CreateOrg(context.Background(), name, "UTC")
	if err != nil {
		t.Fatal(err)
	}
	return o.ID
}

// Seen answers, for each event, the id of the stored event Write would take it for a
// duplicate of: the same dedupe key (type, time and key, or a "once:" key at any time),
// or the same idempotency key in the organization whatever the content; "" for a new
// event, for an event without a key (each arrival is new) and for an organization the
// store does not know. Writing each probe with Write gives the same answers.
func testSeen(t *testing.T, db Privacy, norm Normalizer) {
	ctx := context.Background()
	seenEvent := func(org, cust string, typ mailtrail.EventType, at time.Duration, key string) *mailtrail.Event {
		return newSeenEvent(org, cust, typ, at, key, norm)
	}
	orgA, orgB := newSeenOrg(t, db, "acme"), newSeenOrg(t, db, "other")

	sent := seenEvent(orgA, "u1", mailtrail.EventSent, 0, "sent-u1")
	api := seenEvent(orgA, "u2", mailtrail.EventSent, 0, ingest.IdempotencyPrefix+"k1")
	open := seenEvent(orgA, "u1", mailtrail.EventOpened, time.Minute, "")
	unsub := seenEvent(orgA, "u3", mailtrail.EventUnsubscribed, 0, ingest.OncePrefix+"unsub-u3")
	cs, err := db.Write(ctx, []*mailtrail.Event{sent, api, open, unsub})
	if err != nil {
		t.Fatal(err)
	}
	if len(cs.Events) != 4 {
		t.Fatalf("stored %d of 4 events", len(cs.Events))
	}

	probes := []struct {
		what string
		ev   *mailtrail.Event
		want string
	}{
		{"retry of a keyed event", seenEvent(orgA, "u1", mailtrail.EventSent, 0, "sent-u1"), sent.ID},
		{"same dedupe key at another time", seenEvent(orgA, "u1", mailtrail.EventSent, time.Hour, "sent-u1"), ""},
		{"same dedupe key, another type", seenEvent(orgA, "u1", mailtrail.EventDelivered, 0, "sent-u1"), ""},
		{"same idempotency key, other content", seenEvent(orgA, "u2", mailtrail.EventDelivered, 48*time.Hour, ingest.IdempotencyPrefix+"k1"), api.ID},
		{"new idempotency key", seenEvent(orgA, "u2", mailtrail.EventSent, 0, ingest.IdempotencyPrefix+"k2"), ""},
		{"once key at another time", seenEvent(orgA, "u3", mailtrail.EventUnsubscribed, 5*time.Hour, ingest.OncePrefix+"unsub-u3"), unsub.ID},
		{"keyless event like a stored one", seenEvent(orgA, "u1", mailtrail.EventOpened, time.Minute, ""), ""},
		{"idempotency key of another organization", seenEvent(orgB, "u2", mailtrail.EventDelivered, 0, ingest.IdempotencyPrefix+"k1"), ""},
		{"dedupe key of another organization", seenEvent(orgB, "u1", mailtrail.EventSent, 0, "sent-u1"), ""},
	}
	unknown := []*mailtrail.Event{
		seenEvent("no-such-org", "u2", mailtrail.EventSent, 0, ingest.IdempotencyPrefix+"k1"),
		seenEvent("no-such-org", "u1", mailtrail.EventSent, 0, "sent-u1"),
		seenEvent("no-such-org", "u1", mailtrail.EventOpened, time.Minute, ""),
	}
	evs := make([]*mailtrail.Event, 0, len(probes)+len(unknown))
	ids := make([]string, 0, cap(evs))
	for _, p := range probes {
		evs = append(evs, p.ev)
		ids = append(ids, p.ev.ID)
	}
	evs = append(evs, unknown...)
	got, err := db.Seen(ctx, evs)
	if err != nil {
		t.Fatalf("Seen: %v", err)
	}
	if len(got) != len(evs) {
		t.Fatalf("Seen answered %d ids for %d events", len(got), len(evs))
	}
	for i, p := range probes {
		if got[i] != p.want {
			t.Errorf("%s: Seen = %q, want %q", p.what, got[i], p.want)
		}
	}
	for i := range unknown {
		if g := got[len(probes)+i]; g != "" {
			t.Errorf("unknown organization, event %d: Seen = %q, want \"\"", i, g)
		}
	}
	for i, p := range probes {
		if p.ev.ID != ids[i] {
			t.Errorf("%s: Seen changed the event's id to %q", p.what, p.ev.ID)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	// The oracle: Write, one probe at a time, answers the same.
	for i, p := range probes {
		cs, err := db.Write(ctx, []*mailtrail.Event{p.ev})
		if err != nil {
			t.Fatalf("%s: Write: %v", p.what, err)
		}
		if cs.Duplicate[0] != (got[i] != "") || (cs.Duplicate[0] && p.ev.ID != got[i]) {
			t.Errorf("%s: Write answers duplicate=%v id %s, Seen answered %q", p.what, cs.Duplicate[0], p.ev.ID, got[i])
		}
	}

	// Once the idempotency key is pruned (past its horizon), a retry with other content is
	// new, and one with the same type, time and key is still found by its dedupe key.
	if n, err := db.PruneIdempotencyKeys(ctx, seenT0.Add(time.Hour+time.Millisecond), 100); err != nil || n == 0 {
		t.Fatalf("PruneIdempotencyKeys: %d, %v", n, err)
	}
	late := seenEvent(orgA, "u2", mailtrail.EventDelivered, 72*time.Hour, ingest.IdempotencyPrefix+"k1")
	same := seenEvent(orgA, "u2", mailtrail.EventSent, 0, ingest.IdempotencyPrefix+"k1")
	got, err = db.Seen(ctx, []*mailtrail.Event{late, same})
	if err != nil {
		t.Fatal(err)
	}
	if got[0] != "" || got[1] != api.ID {
		t.Fatalf("after the prune: Seen = %q, want [\"\" %s]", got, api.ID)
	}
	// Write answers the same; and the retry found by its dedupe key keeps the idempotency
	// key again, so the retry with other content is now a duplicate too, for both.
	for _, e := range []*mailtrail.Event{same, late} {
		seen, err := db.Seen(ctx, []*mailtrail.Event{e})
		if err != nil {
			t.Fatal(err)
		}
		if seen[0] != api.ID {
			t.Fatalf("Seen = %q, want %s", seen[0], api.ID)
		}
		cs, err := db.Write(ctx, []*mailtrail.Event{e})
		if err != nil {
			t.Fatal(err)
		}
		if !cs.Duplicate[0] || e.ID != api.ID {
			t.Fatalf("Write answers duplicate=%v id %s, Seen answered %q", cs.Duplicate[0], e.ID, seen[0])
		}
	}
}

// StoredKeys checks StoredKeys and CountStoredKeys on s, a new empty store: every
// idempotency key is reported with its organization's public id and every event's dedupe
// key ("once:" keys, old events included) with "", each once; the count is the same;
// events without a key (opens) have none; a callback's error ends the scan with it. A
// store's own test runs it with a small chunk too, to cross its pages.
func StoredKeys(t *testing.T, s Privacy, norm Normalizer) {
	t.Helper()
	ctx := context.Background()
	a, b := newSeenOrg(t, s, "a"), newSeenOrg(t, s, "b")
	ev := func(org, cust string, typ mailtrail.EventType, at time.Duration, key string) *mailtrail.Event {
		return newSeenEvent(org, cust, typ, at, key, norm)
	}
	var evs []*mailtrail.Event
	want := map[string]bool{}
	for i := range 10 {
		org := a
		if i%2 == 1 {
			org = b
		}
		c := fmt.Sprintf("c%d", i)
		old := ev(org, c, mailtrail.EventSent, -time.Duration(i+1)*24*time.Hour, fmt.Sprintf("old-%d", i))
		recent := ev(org, c, mailtrail.EventDelivered, time.Duration(i)*time.Minute, fmt.Sprintf("new-%d", i))
		api := ev(org, c, mailtrail.EventBounced, time.Duration(i)*time.Minute, fmt.Sprintf("%sk%d", ingest.IdempotencyPrefix, i))
		once := ev(org, c, mailtrail.EventUnsubscribed, time.Minute, fmt.Sprintf("%su%d", ingest.OncePrefix, i))
		open := ev(org, c, mailtrail.EventOpened, time.Minute, "")
		evs = append(evs, old, recent, api, once, open)
		for _, e := range []*mailtrail.Event{old, once, recent, api} {
			want["d"+string(ingest.DedupeKey(e))] = true
		}
		want["i"+org+"/"+string(ingest.IdempotencyKey(api))] = true
	}
	if _, err := s.Write(ctx, evs); err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	err := s.StoredKeys(ctx, func(org string, key []byte) error {
		k := "d" + string(key)
		if org != "" {
			k = "i" + org + "/" + string(key)
		}
		if got[k] {
			t.Errorf("key %x of %q reported twice", key, org)
		}
		got[k] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Errorf("StoredKeys reported %d keys, want %d", len(got), len(want))
	}
	for k := range want {
		if !got[k] {
			t.Errorf("StoredKeys did not report %x", k)
		}
	}
	if n, err := s.CountStoredKeys(ctx); err != nil || n != len(want) {
		t.Errorf("CountStoredKeys = %d, %v; want %d", n, err, len(want))
	}
	stop := errors.New("stop")
	if err := s.StoredKeys(ctx, func(string, []byte) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("StoredKeys returned %v after its callback failed, want that error", err)
	}
}
