package ingest_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/ingest"
)

// recorder is a subscriber that keeps what it is given, under its name.
type recorder struct {
	mu   sync.Mutex
	seen []string // name: the ids of a change-set's events
	sets []ingest.ChangeSet
}

func (r *recorder) subscribe(p *ingest.Pipeline, name string) {
	p.Subscribe(name, func(cs ingest.ChangeSet) {
		r.mu.Lock()
		defer r.mu.Unlock()
		var ids []string
		for _, ev := range cs.Events {
			ids = append(ids, ev.CustomerID)
		}
		r.seen = append(r.seen, fmt.Sprintf("%s: %v", name, ids))
		if name == "first" {
			r.sets = append(r.sets, cs)
		}
	})
}

func (r *recorder) get() ([]string, []ingest.ChangeSet) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.seen), slices.Clone(r.sets)
}

// Subscribers see each commit once, in commit order, each change-set given to every
// subscriber in the order they subscribed: exactly the events newly stored (no duplicate,
// nothing of a withdrawn or failed batch), and no per-event duplicate flags.
func TestSubscribersSeeEachCommitOnce(t *testing.T) {
	p, g, org := setup(t, ingest.Options{MaxBatch: 5000})
	var r recorder
	r.subscribe(p, "first")
	r.subscribe(p, "second")
	done := make(chan ingest.Result, 4)
	submit := func(evs []*mailtrail.Event) {
		go func() {
			res, err := p.Submit(context.Background(), evs)
			if err != nil {
				t.Error(err)
			}
			done <- res
		}()
	}
	submit(events(org, 2, 0)) // u0 u1: the first batch
	waitFor(t, func() bool { return g.writes.Load() == 1 })
	// While it is written, three submissions queue, in this order: the second batch.
	submit(events(org, 1, 2)) // u2
	waitFor(t, func() bool { return p.QueueDepth() == 1 })
	submit(events(org, 2, 0)) // u0 u1 again: duplicates
	waitFor(t, func() bool { return p.QueueDepth() == 3 })
	submit(events(org, 2, 3)) // u3 u4
	waitFor(t, func() bool { return p.QueueDepth() == 5 })
	close(g.gate)
	var accepted, dups int
	for range 4 {
		res := <-done
		accepted, dups = accepted+res.Accepted, dups+res.Duplicates
	}
	if accepted != 5 || dups != 2 {
		t.Fatalf("accepted %d, duplicates %d; want 5 and 2", accepted, dups)
	}
	// A batch of duplicates only changes nothing: it is not published.
	if res, err := p.Submit(context.Background(), events(org, 1, 2)); err != nil || res.Duplicates != 1 {
		t.Fatalf("retry: %+v %v", res, err)
	}
	// A failed batch is not published.
	g.fail.Store(true)
	if _, err := p.Submit(context.Background(), events(org, 1, 9)); err == nil {
		t.Fatal("a failed commit was acknowledged")
	}
	// (The committer delivered the first batches before it took the failed one.)
	seen, sets := r.get()
	want := []string{"first: [u0 u1]", "second: [u0 u1]", "first: [u2 u3 u4]", "second: [u2 u3 u4]"}
	if !slices.Equal(seen, want) {
		t.Fatalf("subscribers saw\n%q\nwant\n%q", seen, want)
	}
	for _, cs := range sets {
		if cs.Duplicate != nil || len(cs.Relabels) != 0 || len(cs.Erased) != 0 {
			t.Fatalf("change-set %+v", cs)
		}
	}
	if got := p.Subscribers(); !slices.Equal(got, []string{"first", "second"}) {
		t.Fatalf("Subscribers() = %q", got)
	}
}

// A click relabelled by a later batch (a burst of clicks on the message's links) reaches
// the subscribers with the batch that relabelled it.
func TestSubscribersSeeRelabels(t *testing.T) {
	p, g, org := setup(t, ingest.Options{})
	close(g.gate)
	var r recorder
	r.subscribe(p, "first")
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	click := func(at time.Time, link string) *mailtrail.Event {
		e := &mailtrail.Event{OrgID: org, CampaignID: "c", CustomerID: "u1", Type: mailtrail.EventClicked,
			Source: mailtrail.SourceTracking, OccurredAt: at}
		e.Metadata.LinkURL = link
		return e
	}
	for _, batch := range [][]*mailtrail.Event{
		{click(at, "https://x.example/a")},
		{click(at.Add(time.Second), "https://x.example/b"), click(at.Add(2*time.Second), "https://x.example/c")},
	} {
		if res, err := p.Submit(context.Background(), batch); err != nil || res.Accepted != len(batch) {
			t.Fatalf("submit: %+v %v", res, err)
		}
	}
	// Subscribers are called after the submitters are answered.
	waitFor(t, func() bool { _, sets := r.get(); return len(sets) == 2 })
	_, sets := r.get()
	if len(sets) != 2 || len(sets[0].Relabels) != 0 || len(sets[1].Events) != 2 {
		t.Fatalf("change-sets %+v", sets)
	}
	want := mailtrail.ClickRelabel{OrgID: org, CampaignID: "c", CustomerID: "u1", LinkURL: "https://x.example/a", At: at.UnixMilli()}
	if !slices.Contains(sets[1].Relabels, want) {
		t.Fatalf("relabels %+v, want among them %+v", sets[1].Relabels, want)
	}
}

// Publish delivers a change made outside the batches (an erasure) to the subscribers, in
// commit order with the batches: a batch taken while it commits is written after it. A
// commit that fails publishes nothing.
func TestPublish(t *testing.T) {
	var clock atomic.Int32 // calls of Now: Submit makes two, the committer's take one
	p, g, org := setup(t, ingest.Options{Now: func() time.Time { clock.Add(1); return time.Now() }})
	close(g.gate)
	var r recorder
	r.subscribe(p, "first")
	erased := mailtrail.ErasedCustomer{OrgID: org, OldID: "u1", NewID: "erased:1"}
	answered := make(chan error, 1)
	err := p.Publish(func() (ingest.ChangeSet, error) {
		writes, calls := g.writes.Load(), clock.Load()
		go func() { _, err := p.Submit(context.Background(), events(org, 1, 7)); answered <- err }()
		waitFor(t, func() bool { return clock.Load() >= calls+3 && p.QueueDepth() == 0 }) // taken by the committer
		if g.writes.Load() != writes {
			t.Error("a batch was written while Publish's commit ran")
		}
		return ingest.ChangeSet{Erased: []mailtrail.ErasedCustomer{erased}, Duplicate: []bool{false}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := <-answered; err != nil {
		t.Fatal(err)
	}
	boom := errors.New("no such customer")
	if err := p.Publish(func() (ingest.ChangeSet, error) {
		return ingest.ChangeSet{Erased: []mailtrail.ErasedCustomer{erased}}, boom
	}); !errors.Is(err, boom) {
		t.Fatalf("Publish = %v", err)
	}
	seen, sets := r.get()
	if !slices.Equal(seen, []string{"first: []", "first: [u7]"}) || !slices.Equal(sets[0].Erased, []mailtrail.ErasedCustomer{erased}) || sets[0].Duplicate != nil {
		t.Fatalf("subscribers saw %q %+v", seen, sets)
	}
}
