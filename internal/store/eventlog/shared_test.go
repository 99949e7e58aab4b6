package eventlog_test

import (
	"context"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/ingest"
	"github.com/mailtrail/mailtrail/internal/projector"
	"github.com/mailtrail/mailtrail/internal/store/eventlog"
)

// Writers on one stream (the API nodes of the cluster mode), with nothing applied yet:
// a retry through one of a batch another acknowledged is answered as duplicates, with
// the ids the other answered, when its Sink is Shared, whichever writer acknowledged
// first; a Sink that is not Shared takes it for new (what Shared is for).
func TestSharedSinksAnswerEachOthersRetries(t *testing.T) {
	url, _ := external(t)
	ctx := context.Background()
	opts := externalOpts(t, url)
	open := func(shared bool) *eventlog.Sink {
		l, err := eventlog.Open(ctx, t.TempDir(), opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		s := eventlog.NewSink(l, eventlog.SinkOptions{Shared: shared})
		if err := s.Resume(ctx, 0); err != nil {
			t.Fatal(err)
		}
		return s
	}
	a, b, c := open(true), open(true), open(false)
	api := ingest.IdempotencyPrefix
	// batch is n sends with ids p0…, idempotency keys k0….
	batch := func(p, k string, n int) []*mailtrail.Event {
		var evs []*mailtrail.Event
		for i := range n {
			evs = append(evs, mk("org_1", p+string(rune('0'+i)), i, mailtrail.EventSent, 0, api+k+string(rune('0'+i))))
		}
		return evs
	}
	write := func(s *eventlog.Sink, evs []*mailtrail.Event) ingest.ChangeSet {
		t.Helper()
		cs, err := s.Write(ctx, evs)
		if err != nil {
			t.Fatal(err)
		}
		return cs
	}
	wantDup := func(what string, cs ingest.ChangeSet, evs []*mailtrail.Event, ids []string, dup bool) {
		t.Helper()
		for i, ev := range evs {
			if cs.Duplicate[i] != dup || (dup && ev.ID != ids[i]) {
				t.Fatalf("%s: event %d duplicate=%v with id %s, want duplicate=%v of %s", what, i, cs.Duplicate[i], ev.ID, dup, ids[i])
			}
		}
	}
	// ids returns the ids a write answered.
	ids := func(evs []*mailtrail.Event) []string {
		var out []string
		for _, ev := range evs {
			out = append(out, ev.ID)
		}
		return out
	}
	first := batch("x", "kx", 5)
	write(a, first)
	retry := batch("xr", "kx", 5) // the same keys, other ids
	wantDup("a retry through b of a's batch", write(b, retry), retry, ids(first), true)

	second := batch("y", "ky", 3)
	write(b, second)
	again := batch("yr", "ky", 3)
	wantDup("a retry through a of b's batch", write(a, again), again, ids(second), true)

	unshared := batch("xu", "kx", 5)
	wantDup("a retry through an unshared sink", write(c, unshared), unshared, nil, false)
}

// A Shared Sink with a filter of the store's keys (the API nodes): another writer's batch
// that the store applies after this Sink's filter was built, before this Sink read it,
// is still found when it is retried through this Sink. Its keys are in neither the
// filter's scan of the store nor (without skipMax) the index, which skipped the applied
// message; the filter would then answer the retry as new.
func TestSharedSinkFilterHoldsOtherWritersApplied(t *testing.T) {
	url, _ := external(t)
	ctx := context.Background()
	opts := externalOpts(t, url)
	db, org, _ := newStore(t)
	logs := make([]*eventlog.Log, 2)
	for i := range logs {
		l, err := eventlog.Open(ctx, t.TempDir(), opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		logs[i] = l
	}
	proj := projector.New(logs[0].Projection(), db, projector.Options{})
	open := func(l *eventlog.Log) *eventlog.Sink {
		s := eventlog.NewSink(l, eventlog.SinkOptions{Seen: db.Seen, Applied: proj.Position, Keys: db, Shared: true})
		if err := s.Resume(ctx, 0); err != nil {
			t.Fatal(err)
		}
		return s
	}
	a, b := open(logs[0]), open(logs[1])
	if err := b.BuildFilter(ctx); err != nil { // the store is empty
		t.Fatal(err)
	}
	api := ingest.IdempotencyPrefix
	first := []*mailtrail.Event{mk(org, "a1", 1, mailtrail.EventSent, 0, api+"k1"), mk(org, "a2", 2, mailtrail.EventSent, 0, "sent-2")}
	cs, err := a.Write(ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	// The store applies a's batch before b reads it.
	pctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- proj.Run(pctx) }()
	wctx, wcancel := context.WithTimeout(ctx, time.Minute)
	err = proj.WaitFor(wctx, cs.Position)
	wcancel()
	cancel()
	if rerr := <-done; rerr != nil {
		t.Fatalf("projector: %v", rerr)
	}
	if err != nil {
		t.Fatalf("the projection did not reach %d: %v", cs.Position, err)
	}
	retry := []*mailtrail.Event{mk(org, "r1", 1, mailtrail.EventSent, time.Hour, api+"k1"), mk(org, "r2", 2, mailtrail.EventSent, 0, "sent-2")}
	cs, err = b.Write(ctx, retry)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{first[0].ID, first[1].ID} {
		if !cs.Duplicate[i] || retry[i].ID != want {
			t.Fatalf("b's retry of a's applied event %s: duplicate=%v id %s, want a duplicate of %s", want, cs.Duplicate[i], retry[i].ID, want)
		}
	}
}

// Two copies of a keyed event appended by two Shared writers, neither having seen the
// other's (a writer killed mid-append, whose copy reached the stream after the retry
// through another was appended), are answered with one id: the one the projection keeps
// whichever copy it meets first. Here each writer has a log of its own, so neither can
// see the other's copy. The id is derived from the organization, the event's first key
// and the day of receipt: not from the event's own id, nor its content beyond its key.
// Events without a key keep their own ids, and so does an unshared Sink's.
func TestSharedSinksGiveCopiesOfAKeyedEventOneID(t *testing.T) {
	ctx := context.Background()
	sink := func(shared bool) *eventlog.Sink {
		s := eventlog.NewSink(open(t, t.TempDir(), eventlog.Options{}), eventlog.SinkOptions{Shared: shared})
		if err := s.Resume(ctx, 0); err != nil {
			t.Fatal(err)
		}
		return s
	}
	api := ingest.IdempotencyPrefix
	// copyOf is the same batch under other ids (a retry), received at received.
	copyOf := func(p string, received time.Time) []*mailtrail.Event {
		evs := []*mailtrail.Event{
			mk("org_1", p+"1", 0, mailtrail.EventSent, 0, "sent-0"),                // a vendor's dedupe key
			mk("org_1", p+"2", 1, mailtrail.EventDelivered, 0, api+"k1"),           // an idempotency key
			mk("org_1", p+"3", 2, mailtrail.EventOpened, time.Minute, ""),          // no key
			mk("org_2", p+"4", 1, mailtrail.EventDelivered, 0, api+"k1"),           // the same key, another organization
			mk("org_1", p+"5", 3, mailtrail.EventBounced, 2*time.Minute, api+"k5"), // another key
		}
		for _, ev := range evs {
			ev.ReceivedAt = received
		}
		return evs
	}
	write := func(s *eventlog.Sink, evs []*mailtrail.Event) []string {
		t.Helper()
		cs, err := s.Write(ctx, evs)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for i, ev := range evs {
			if cs.Duplicate[i] {
				t.Fatalf("event %d of a batch new to its writer answered as a duplicate", i)
			}
			ids = append(ids, ev.ID)
		}
		return ids
	}
	at := time.Date(2026, 12, 7, 10, 5, 0, 0, time.UTC)
	a := write(sink(true), copyOf("a", at))
	b := write(sink(true), copyOf("b", at.Add(13*time.Hour))) // the same day of receipt
	for i := range a {
		keyed := i != 2
		if same := a[i] == b[i]; same != keyed {
			t.Errorf("event %d: ids %s and %s of its two copies; want the same id: %v", i, a[i], b[i], keyed)
		}
		if keyed && len(a[i]) != 22 {
			t.Errorf("event %d: id %q, want 22 characters like every event id", i, a[i])
		}
	}
	if a[1] == a[3] || a[1] == a[4] || a[0] == a[1] {
		t.Errorf("different keys or organizations share an id: %v", a)
	}
	// A key used again on another day (past the dedupe horizon it is a new event) gets
	// another id, never one stored before.
	if c := write(sink(true), copyOf("c", at.Add(8*24*time.Hour))); c[1] == a[1] || c[0] == a[0] {
		t.Errorf("copies received 8 days apart share ids: %v and %v", a, c)
	}
	// An unshared Sink (one writer: serve) keeps the ids it is given.
	if u := write(sink(false), copyOf("u", at)); u[0] != "u1" || u[1] != "u2" {
		t.Errorf("an unshared Sink answered %v, want the events' own ids", u)
	}
}
