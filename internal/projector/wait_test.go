package projector_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/ingest"
	"github.com/mailtrail/mailtrail/internal/projector"
)

// openHit is a pixel open of message msg (storetest.Seed's ids) without a dedupe key:
// every arrival is stored, so a record holding one always publishes a change-set.
func openHit(org string, msg int, id string) *mailtrail.Event {
	at := time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC)
	e := &mailtrail.Event{ID: id, OrgID: org, MessageID: fmt.Sprintf("msg%013d", msg), Type: mailtrail.EventOpened,
		OccurredAt: at, Source: mailtrail.SourceTracking}
	ingest.Normalize(e, at.Add(time.Hour))
	return e
}

// published collects a projector's change-sets.
type published struct {
	mu  sync.Mutex
	css []ingest.ChangeSet
}

func (p *published) add(cs ingest.ChangeSet) {
	p.mu.Lock()
	p.css = append(p.css, cs)
	p.mu.Unlock()
}

func (p *published) all() []ingest.ChangeSet {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]ingest.ChangeSet(nil), p.css...)
}

// running starts p.Run and returns a function that stops it and checks it returned nil.
func running(t *testing.T, p *projector.Projector) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// WaitFor returns nil once the store holds the log up to the position asked (a position
// in a gap of the log included), with the subscribers already called for it, and the
// context's error when it ends first.
func TestWaitFor(t *testing.T) {
	ctx := context.Background()
	path, org := newStore(t, msgs)
	batches := mixed(12)(org)
	batches = append(batches, []*mailtrail.Event{openHit(org, 1, "last-1")})
	log := newLog(batches)
	head, _ := log.Head(ctx)
	db := openStore(t, path)
	defer db.Close()
	p := projector.New(log, db, projector.Options{MaxEvents: 7})
	var pub published
	// The subscriber holds the change-set of the head until the test releases it.
	entered, release := make(chan struct{}), make(chan struct{})
	var hold sync.Once
	p.Subscribe("test", func(cs ingest.ChangeSet) {
		pub.add(cs)
		if cs.Position == head {
			hold.Do(func() {
				close(entered)
				<-release
			})
		}
	})

	// Nothing applied yet: position 0 is held, position 1 is not.
	if err := p.WaitFor(ctx, 0); err != nil {
		t.Fatalf("WaitFor(0) before Run: %v", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := p.WaitFor(cancelled, 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("WaitFor(1) with a cancelled context before Run: %v, want context.Canceled", err)
	}

	// A waiter started before Run wakes when the projector reaches its position.
	waited := make(chan error, 1)
	go func() { waited <- p.WaitFor(ctx, head) }()
	stop := running(t, p)
	unhold := sync.OnceFunc(func() { close(release) })
	t.Cleanup(unhold) // runs before stop: a failure must not leave Run held
	<-entered
	// While a subscriber handles the head's change-set, the store holds the head but
	// WaitFor must not return: who waits finds the subscribers current too.
	select {
	case err := <-waited:
		t.Fatalf("WaitFor(%d) returned (%v) while a subscriber handled the change-set of %d", head, err, head)
	case <-time.After(100 * time.Millisecond): // only to give a broken WaitFor the chance to show
	}
	unhold()
	if err := <-waited; err != nil {
		t.Fatalf("WaitFor(%d): %v", head, err)
	}
	if got := p.Position(); got < head {
		t.Fatalf("WaitFor(%d) returned at position %d", head, got)
	}
	if stored, err := db.Position(ctx, "events"); err != nil || stored != head {
		t.Fatalf("WaitFor(%d) returned with the store at %d (%v)", head, stored, err)
	}
	// The subscribers were called before WaitFor returned: the last record's change-set
	// (it holds a pixel open, never a duplicate) is already delivered.
	css := pub.all()
	if len(css) == 0 || css[len(css)-1].Position != head {
		t.Fatalf("WaitFor(%d) returned before the subscribers had the change-set of %d: %d delivered", head, head, len(css))
	}

	// A position in a gap of the log (memLog's positions go 1, 3, 5, …): reached by the
	// next record, after it.
	gap := head + 1
	waited = make(chan error, 1)
	go func() { waited <- p.WaitFor(ctx, gap) }()
	next := log.Append([]*mailtrail.Event{openHit(org, 2, "gap-1")})
	if next <= gap {
		t.Fatalf("memLog appended at %d, not after the gap %d", next, gap)
	}
	if err := <-waited; err != nil {
		t.Fatalf("WaitFor(%d): %v", gap, err)
	}
	if got := p.Position(); got != next {
		t.Fatalf("WaitFor(%d) returned at position %d, want %d (the record after the gap)", gap, got, next)
	}

	// A position the log never reaches: the waiter returns its context's error, while Run
	// goes on.
	wctx, wcancel := context.WithCancel(ctx)
	waited = make(chan error, 1)
	go func() { waited <- p.WaitFor(wctx, next+1000) }()
	wcancel()
	if err := <-waited; !errors.Is(err, context.Canceled) {
		t.Fatalf("WaitFor past the log with its context cancelled: %v, want context.Canceled", err)
	}
	stop()
	if got := p.Position(); got != next {
		t.Fatalf("position %d after Run stopped, want %d", got, next)
	}
}

// Every change-set Run publishes carries the position of the last record its
// transaction applied: positions grow from one change-set to the next, and each
// change-set's events come from the records after the previous one's position up to its
// own. With one record per transaction, a change-set's position is its record's.
func TestChangeSetsCarryTheirPosition(t *testing.T) {
	for _, maxEvents := range []int{1, 25} {
		t.Run(fmt.Sprintf("max%d", maxEvents), func(t *testing.T) {
			ctx := context.Background()
			path, org := newStore(t, msgs)
			batches := mixed(40)(org)
			batches = append(batches, []*mailtrail.Event{openHit(org, 3, "last-1")})
			log := newLog(batches)
			head, _ := log.Head(ctx)
			recOf := map[string]uint64{} // event id → its record's position
			recs, _ := log.Read(ctx, 1, len(batches))
			isPos := map[uint64]bool{}
			for _, r := range recs {
				isPos[r.Pos] = true
				for _, e := range r.Events {
					recOf[e.ID] = r.Pos
				}
			}
			db := openStore(t, path)
			defer db.Close()
			got := runToEnd(t, log, db, head, projector.Options{MaxEvents: maxEvents})
			if len(got) < 2 {
				t.Fatalf("%d change-sets for %d records", len(got), len(recs))
			}
			var prev uint64
			events := 0
			for i, cs := range got {
				if cs.Position <= prev || !isPos[cs.Position] {
					t.Fatalf("change-set %d at position %d, after %d: not a later record's position", i, cs.Position, prev)
				}
				for _, e := range cs.Events {
					at, ok := recOf[e.ID]
					if !ok {
						t.Fatalf("change-set %d holds event %s of no record", i, e.ID)
					}
					if at <= prev || at > cs.Position {
						t.Fatalf("change-set %d at position %d holds event %s of record %d (previous change-set at %d)", i, cs.Position, e.ID, at, prev)
					}
					if maxEvents == 1 && at != cs.Position {
						t.Fatalf("one record per transaction: change-set at %d holds event %s of record %d", cs.Position, e.ID, at)
					}
				}
				events += len(cs.Events)
				prev = cs.Position
			}
			if prev != head {
				t.Fatalf("last change-set at %d, want the last record's position %d", prev, head)
			}
			if events == 0 {
				t.Fatal("no event published")
			}
		})
	}
}

// Publish delivers the change-set its commit returns, to the same subscribers as Run's,
// and never while a write of Run is being applied or delivered: a Publish called while a
// subscriber handles Run's change-set commits after it, and its change-set comes between
// that one and the next. A commit's error is returned and nothing is delivered.
func TestPublishSerializedWithRun(t *testing.T) {
	ctx := context.Background()
	path, org := newStore(t, msgs)
	log := newLog([][]*mailtrail.Event{{openHit(org, 1, "first")}})
	first, _ := log.Head(ctx)
	db := openStore(t, path)
	defer db.Close()
	p := projector.New(log, db, projector.Options{})

	entered, release := make(chan struct{}), make(chan struct{})
	var pub published
	var once sync.Once
	p.Subscribe("test", func(cs ingest.ChangeSet) {
		pub.add(cs)
		if len(cs.Erased) == 0 { // Run's first change-set: hold it
			once.Do(func() {
				close(entered)
				<-release
			})
		}
	})

	// Before Run: Publish delivers at once; a failed commit delivers nothing.
	erased := func(id string) ingest.ChangeSet {
		return ingest.ChangeSet{Erased: []mailtrail.ErasedCustomer{{OrgID: org, OldID: id, NewID: "erased-" + id}}}
	}
	if err := p.Publish(func() (ingest.ChangeSet, error) { return erased("u0"), nil }); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	errCommit := errors.New("test: commit failed")
	calls := 0
	if err := p.Publish(func() (ingest.ChangeSet, error) { calls++; return erased("u9"), errCommit }); !errors.Is(err, errCommit) || calls != 1 {
		t.Fatalf("Publish of a failing commit: %v after %d calls, want its error after 1", err, calls)
	}
	if got := pub.all(); len(got) != 1 || !reflect.DeepEqual(got[0], erased("u0")) {
		t.Fatalf("delivered %+v, want only the first Publish's change-set", got)
	}

	// Run's change-set is held by the subscriber: a Publish now waits for it.
	running(t, p)
	unhold := sync.OnceFunc(func() { close(release) })
	t.Cleanup(unhold) // runs before running's stop: a failure must not leave Run held
	<-entered
	committed := make(chan uint64, 1)
	pubDone := make(chan error, 1)
	go func() {
		pubDone <- p.Publish(func() (ingest.ChangeSet, error) {
			committed <- p.Position()
			return erased("u1"), nil
		})
	}()
	select {
	case pos := <-committed:
		t.Fatalf("Publish committed (at position %d) while a subscriber handled Run's change-set", pos)
	case <-time.After(100 * time.Millisecond): // only to give a broken Publish the chance to show
	}
	unhold()
	if err := <-pubDone; err != nil {
		t.Fatalf("Publish: %v", err)
	}
	if pos := <-committed; pos != first {
		t.Fatalf("Publish committed at position %d, want %d (after Run's write)", pos, first)
	}
	next := log.Append([]*mailtrail.Event{openHit(org, 2, "next")})
	if err := p.WaitFor(ctx, next); err != nil {
		t.Fatal(err)
	}
	got := pub.all()
	if len(got) != 4 {
		t.Fatalf("%d change-sets delivered, want 4", len(got))
	}
	if got[1].Position != first || len(got[1].Events) != 1 || got[1].Events[0].ID != "first" {
		t.Fatalf("second delivery %+v, want Run's change-set of %d", got[1], first)
	}
	if !reflect.DeepEqual(got[2], erased("u1")) {
		t.Fatalf("third delivery %+v, want the Publish's", got[2])
	}
	if got[3].Position != next || len(got[3].Events) != 1 || got[3].Events[0].ID != "next" {
		t.Fatalf("fourth delivery %+v, want Run's change-set of %d", got[3], next)
	}
}
