package ingest_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/ingest"
	"github.com/mailtrail/mailtrail/internal/store/sqlite"
)

// gatedSink is the real SQLite store behind a gate the test opens, so batches form in a
// known way; it can also be told to fail.
type gatedSink struct {
	db     *sqlite.DB
	gate   chan struct{}
	writes atomic.Int32
	sizes  []int
	mu     sync.Mutex
	fail   atomic.Bool
}

func (g *gatedSink) Write(ctx context.Context, batch []*mailtrail.Event) (ingest.ChangeSet, error) {
	g.writes.Add(1)
	<-g.gate
	g.mu.Lock()
	g.sizes = append(g.sizes, len(batch))
	g.mu.Unlock()
	if g.fail.Load() {
		return ingest.ChangeSet{}, errors.New("disk on fire")
	}
	return g.db.Write(ctx, batch)
}

func setup(t *testing.T, opt ingest.Options) (*ingest.Pipeline, *gatedSink, string) {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "m.db"), sqlite.Options{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	org, _, err := db.CreateOrg(context.Background(), "acme", "UTC")
	if err != nil {
		t.Fatal(err)
	}
	g := &gatedSink{db: db, gate: make(chan struct{})}
	p := ingest.New(g, opt)
	done := make(chan struct{})
	go func() { p.Run(context.Background()); close(done) }()
	t.Cleanup(func() {
		select {
		case <-g.gate:
		default:
			close(g.gate)
		}
		p.Close(context.Background())
		<-done
		db.Close()
	})
	return p, g, org.ID
}

func events(org string, n, from int) []*mailtrail.Event {
	evs := make([]*mailtrail.Event, n)
	for i := range evs {
		evs[i] = &mailtrail.Event{OrgID: org, CampaignID: "c", CustomerID: fmt.Sprintf("u%d", from+i), Type: mailtrail.EventSent,
			Source: mailtrail.SourceAPI, OccurredAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), DedupeKey: fmt.Sprintf("k%d", from+i)}
	}
	return evs
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for i := 0; i < 2000; i++ {
		if cond() {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("condition never held")
}

// TestGroupCommit: while one commit runs, every submission that arrives joins the next
// batch, and each submitter is answered only after its batch is committed.
func TestGroupCommit(t *testing.T) {
	p, g, org := setup(t, ingest.Options{MaxBatch: 5000})
	var wg sync.WaitGroup
	results := make([]ingest.Result, 50)
	errs := make([]error, 50)
	submit := func(i int) {
		defer wg.Done()
		results[i], errs[i] = p.Submit(context.Background(), events(org, 10, i*10))
	}
	wg.Add(1)
	go submit(0)
	waitFor(t, func() bool { return g.writes.Load() == 1 }) // the first batch is in the sink
	for i := 1; i < 50; i++ {
		wg.Add(1)
		go submit(i)
	}
	waitFor(t, func() bool { return p.QueueDepth() == 490 })
	close(g.gate)
	wg.Wait()
	for i := range results {
		if errs[i] != nil || results[i].Accepted != 10 {
			t.Fatalf("submission %d: %+v %v", i, results[i], errs[i])
		}
	}
	if fmt.Sprint(g.sizes) != "[10 490]" {
		t.Fatalf("batches %v, want [10 490]", g.sizes)
	}
	// A retry of the same events is acknowledged as duplicates.
	res, err := p.Submit(context.Background(), events(org, 10, 0))
	if err != nil || res.Duplicates != 10 || res.Accepted != 0 {
		t.Fatalf("retry: %+v %v", res, err)
	}
}

// TestBackPressure: with the store stuck and the queue full, a submitter waits at most
// MaxWait and gets EUNAVAILABLE; nothing queued is lost.
func TestBackPressure(t *testing.T) {
	p, g, org := setup(t, ingest.Options{MaxBatch: 100, MaxQueue: 100, MaxWait: 50 * time.Millisecond})
	first := make(chan error, 2)
	go func() { _, err := p.Submit(context.Background(), events(org, 100, 0)); first <- err }()
	waitFor(t, func() bool { return g.writes.Load() == 1 })
	go func() { _, err := p.Submit(context.Background(), events(org, 100, 100)); first <- err }()
	waitFor(t, func() bool { return p.QueueDepth() == 100 })
	_, err := p.Submit(context.Background(), events(org, 1, 200))
	if mailtrail.ErrorCode(err) != mailtrail.EUNAVAILABLE {
		t.Fatalf("full queue: %v, want unavailable", err)
	}
	close(g.gate)
	for i := 0; i < 2; i++ {
		if err := <-first; err != nil {
			t.Fatalf("queued submission failed: %v", err)
		}
	}
}

// TestDrainOnClose: Close waits until everything queued is committed; later submissions
// are refused.
func TestDrainOnClose(t *testing.T) {
	p, g, org := setup(t, ingest.Options{MaxBatch: 10})
	errs := make(chan error, 5)
	for i := 0; i < 5; i++ {
		go func(i int) { _, err := p.Submit(context.Background(), events(org, 10, i*10)); errs <- err }(i)
	}
	waitFor(t, func() bool { return g.writes.Load() == 1 && p.QueueDepth() == 40 })
	closed := make(chan error)
	go func() { closed <- p.Close(context.Background()) }()
	waitFor(t, p.Closing)
	if _, err := p.Submit(context.Background(), events(org, 1, 999)); mailtrail.ErrorCode(err) != mailtrail.EUNAVAILABLE {
		t.Fatalf("submission after Close: %v", err)
	}
	close(g.gate)
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		if err := <-errs; err != nil {
			t.Fatalf("queued submission lost on close: %v", err)
		}
	}
	if fmt.Sprint(g.sizes) != "[10 10 10 10 10]" {
		t.Fatalf("batches %v", g.sizes)
	}
}

// TestSinkFailure: when the commit fails, every submitter of the batch gets EUNAVAILABLE.
func TestSinkFailure(t *testing.T) {
	p, g, org := setup(t, ingest.Options{})
	g.fail.Store(true)
	close(g.gate)
	if _, err := p.Submit(context.Background(), events(org, 3, 0)); mailtrail.ErrorCode(err) != mailtrail.EUNAVAILABLE {
		t.Fatalf("failed commit answered %v", err)
	}
	g.fail.Store(false)
	if res, err := p.Submit(context.Background(), events(org, 3, 0)); err != nil || res.Accepted != 3 {
		t.Fatalf("after recovery: %+v %v", res, err)
	}
}

func TestDedupeKeyLayout(t *testing.T) {
	at := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	a := &mailtrail.Event{OrgID: "o1", Type: mailtrail.EventDelivered, OccurredAt: at, DedupeKey: "sendgrid:x"}
	b := *a
	b.OrgID = "o2"
	ka, kb := ingest.DedupeKey(a), ingest.DedupeKey(&b)
	if len(ka) != 16 || string(ka[:8]) != string(kb[:8]) || string(ka) == string(kb) {
		t.Fatalf("keys %x %x: want the same time prefix and different organizations", ka, kb)
	}
	a.DedupeKey = ""
	if ingest.DedupeKey(a) != nil {
		t.Fatal("an event without key must have no dedupe key")
	}
}

// TestCommitWaitBoundsTheAnswer: with the store stuck (a real SQLite sink behind a gate),
// a queued submitter is answered EUNAVAILABLE once CommitWait passes and its events,
// withdrawn before the committer took them, are never written; so are those of a submitter
// whose context ends (its client went away). The submitter whose batch was already being
// written is answered EUNAVAILABLE too, and its events are stored: a retry finds them.
func TestCommitWaitBoundsTheAnswer(t *testing.T) {
	p, g, org := setup(t, ingest.Options{CommitWait: 100 * time.Millisecond})
	first := make(chan error, 1)
	go func() { _, err := p.Submit(context.Background(), events(org, 10, 0)); first <- err }()
	waitFor(t, func() bool { return g.writes.Load() == 1 }) // taken, stuck in the sink

	if _, err := p.Submit(context.Background(), events(org, 10, 10)); mailtrail.ErrorCode(err) != mailtrail.EUNAVAILABLE {
		t.Fatalf("queued past CommitWait: %v, want unavailable", err)
	}
	if d := p.QueueDepth(); d != 0 {
		t.Fatalf("queue depth %d after the submitter gave up, want 0 (withdrawn)", d)
	}
	ctx, cancel := context.WithCancel(context.Background())
	gone := make(chan error, 1)
	go func() { _, err := p.Submit(ctx, events(org, 10, 20)); gone <- err }()
	waitFor(t, func() bool { return p.QueueDepth() == 10 })
	cancel()
	if err := <-gone; mailtrail.ErrorCode(err) != mailtrail.EUNAVAILABLE {
		t.Fatalf("cancelled submission: %v, want unavailable", err)
	}
	if err := <-first; mailtrail.ErrorCode(err) != mailtrail.EUNAVAILABLE {
		t.Fatalf("submission stuck in the sink past CommitWait: %v, want unavailable", err)
	}
	close(g.gate)
	res, err := p.Submit(context.Background(), events(org, 30, 0))
	if err != nil {
		t.Fatal(err)
	}
	if res.Duplicates != 10 || res.Accepted != 20 {
		t.Fatalf("retry of all 30: %+v; want the 10 taken ones stored and the 20 withdrawn ones not", res)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if fmt.Sprint(g.sizes) != "[10 30]" {
		t.Fatalf("batches written %v, want [10 30]", g.sizes)
	}
}

// stepSink is the real SQLite sink that writes one batch per token sent on step.
type stepSink struct {
	db     *sqlite.DB
	step   chan struct{}
	writes atomic.Int32
}

func (s *stepSink) Write(ctx context.Context, b []*mailtrail.Event) (ingest.ChangeSet, error) {
	s.writes.Add(1)
	<-s.step
	return s.db.Write(ctx, b)
}

// TestLateSubmissionNotTaken: a queued submission whose submitter would give up before a
// commit of the usual length ends is not taken: it is answered EUNAVAILABLE and never
// written (under overload the committer spends no time on answers nobody gets).
func TestLateSubmissionNotTaken(t *testing.T) {
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "m.db"), sqlite.Options{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	o, _, err := db.CreateOrg(context.Background(), "acme", "UTC")
	if err != nil {
		t.Fatal(err)
	}
	org := o.ID
	var mu sync.Mutex
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	sink := &stepSink{db: db, step: make(chan struct{})}
	p := ingest.New(sink, ingest.Options{CommitWait: time.Hour, Now: clock})
	done := make(chan struct{})
	go func() { p.Run(context.Background()); close(done) }()
	defer func() { p.Close(context.Background()); <-done }()
	submit := func(evs []*mailtrail.Event) chan error {
		ch := make(chan error, 1)
		go func() { _, err := p.Submit(context.Background(), evs); ch <- err }()
		return ch
	}

	a := submit(events(org, 10, 0))
	sink.step <- struct{}{} // a commit of some length: the estimate is now above zero
	if err := <-a; err != nil {
		t.Fatal(err)
	}
	c := submit(events(org, 10, 10))
	waitFor(t, func() bool { return sink.writes.Load() == 2 }) // c is in the sink
	b := submit(events(org, 10, 20))
	waitFor(t, func() bool { return p.QueueDepth() == 10 })
	mu.Lock()
	now = now.Add(time.Hour - time.Nanosecond) // b's submitter has 1 ns left
	mu.Unlock()
	sink.step <- struct{}{}
	if err := <-c; err != nil {
		t.Fatal(err)
	}
	if err := <-b; mailtrail.ErrorCode(err) != mailtrail.EUNAVAILABLE {
		t.Fatalf("late submission: %v, want unavailable", err)
	}
	go func() { sink.step <- struct{}{} }()
	res, err := p.Submit(context.Background(), events(org, 10, 20))
	if err != nil || res.Accepted != 10 {
		t.Fatalf("retry of the late submission: %+v %v; want all 10 new (it was never written)", res, err)
	}
}
