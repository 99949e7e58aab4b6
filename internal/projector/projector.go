// Package projector derives the store's state from the event log, exactly once: it reads
// the log in order from the position the store holds, writes several records per
// transaction together with the position of the last one (Store.WriteAt), and publishes
// each committed change-set to its subscribers.
//
// Exactly once rests on the store, not on the projector: the position commits with the
// plan, so after a crash the store holds a record's events and derived state and its
// position, or neither; a write at a position the store already holds writes nothing
// (ingest.ErrApplied). The projector therefore may read a record any number of times
// (a restart, a retry after a store error, an answer lost after a commit, two projectors
// on one store) and the store applies it once. Events without a dedupe key (pixel opens,
// clicks) count at every arrival in the store, so this is what keeps a replay from
// counting them twice.
package projector

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/ingest"
)

// Record is one entry of the log: its position (strictly increasing along the log, from
// 1; not necessarily contiguous) and the batch of events appended under it, normalized
// (ingest.Normalize) before the append, so a record reads the same at every replay.
type Record struct {
	Pos    uint64
	Events []*mailtrail.Event
}

// Log is the ordered, durable log the projector reads.
type Log interface {
	// Read returns up to max records whose positions are from or greater, in order; none
	// when the log holds nothing there yet. Every call returns events of its own (the
	// store fills and changes the events it writes).
	Read(ctx context.Context, from uint64, max int) ([]Record, error)
}

// Waiter is a Log that can tell when it grows. When the log is one, the projector waits
// with it instead of polling.
type Waiter interface {
	// Wait returns nil once the log may hold a record past after (it may return early),
	// or ctx's error when ctx ends first.
	Wait(ctx context.Context, after uint64) error
}

// HeadReader is a Log that knows its last position. When the log is one, Lag counts the
// records appended but not applied; otherwise only those the projector has read.
type HeadReader interface {
	// Head returns the position of the last record appended, 0 when the log is empty.
	Head(ctx context.Context) (uint64, error)
}

// Store is the projection store: it writes a batch and the log position it reaches in one
// transaction (see the package comment).
type Store interface {
	// WriteAt writes batch as ingest.Sink's Write does and moves stream's position from
	// after to pos in the same transaction: batch is the log's records after position
	// after, up to and including pos. When the stored position is not after it writes
	// nothing and returns ingest.ErrApplied (stored ≥ pos) or ingest.ErrPositionMoved.
	// Any other error means nothing was written.
	WriteAt(ctx context.Context, stream string, after, pos uint64, batch []*mailtrail.Event) (ingest.ChangeSet, error)
	// Position returns the position of the last record of stream written with WriteAt, 0
	// when none was.
	Position(ctx context.Context, stream string) (uint64, error)
}

// Options configure a Projector. Zero values take the defaults.
type Options struct {
	// Stream names the log in the store (its position's key); default "events".
	Stream string
	// ReadMax is how many records one Read asks for; default 64. While the log holds more
	// and a transaction has room for more events (MaxEvents), the projector reads again
	// before it writes.
	ReadMax int
	// MaxEvents is how many events one transaction holds at most (soft: a record is never
	// split, and a transaction holds at least one); default 50,000. A projector that is
	// behind merges as many records as fit into one transaction: the store's random-order
	// indexes (customers, idempotency keys) then dirty each page once for many events
	// instead of once per few (bench/backlog at 1.5 M events stored: 6,600 events/s in
	// transactions of 5,000, 12,600 in transactions of 50,000). One that keeps up writes
	// what has arrived, a few events per transaction.
	MaxEvents int
	// PollMin and PollMax bound the pause between reads of a log that is not a Waiter
	// and has nothing new: it doubles from PollMin to PollMax while the log stays idle;
	// defaults 1 ms and 100 ms.
	PollMin, PollMax time.Duration
	// RetryMin and RetryMax bound the pause before reading again after an error of the
	// log or the store: it doubles from RetryMin to RetryMax while errors last; defaults
	// 10 ms and 5 s.
	RetryMin, RetryMax time.Duration
	// OnError, when set, is called with every error the projector retries after (a
	// metric, a log line). It must not block.
	OnError func(error)
}

// Projector applies a log to a store. Create it with New, add subscribers, then call Run.
type Projector struct {
	log   Log
	store Store
	opt   Options

	pos  atomic.Uint64 // the last record applied (or found applied)
	head atomic.Uint64 // the last position known in the log

	// subs' commit-order lock is held from a write to the end of its change-set's
	// delivery, and by Publish: change-sets reach subscribers one at a time, in commit
	// order.
	subs ingest.Subscribers

	mu    sync.Mutex
	moved chan struct{} // closed when pos grows, then replaced
}

// New returns a Projector of log into store.
func New(log Log, store Store, opt Options) *Projector {
	if opt.Stream == "" {
		opt.Stream = "events"
	}
	if opt.ReadMax <= 0 {
		opt.ReadMax = 64
	}
	if opt.MaxEvents <= 0 {
		opt.MaxEvents = 50_000
	}
	if opt.PollMin <= 0 {
		opt.PollMin = time.Millisecond
	}
	if opt.PollMax < opt.PollMin {
		opt.PollMax = max(100*time.Millisecond, opt.PollMin)
	}
	if opt.RetryMin <= 0 {
		opt.RetryMin = 10 * time.Millisecond
	}
	if opt.RetryMax < opt.RetryMin {
		opt.RetryMax = max(5*time.Second, opt.RetryMin)
	}
	return &Projector{log: log, store: store, opt: opt, moved: make(chan struct{})}
}

// setPos records that the store holds the log up to pos, and wakes WaitFor.
func (p *Projector) setPos(pos uint64) {
	p.pos.Store(pos)
	p.mu.Lock()
	close(p.moved)
	p.moved = make(chan struct{})
	p.mu.Unlock()
}

// WaitFor waits until the store holds the log up to pos (Position ≥ pos), and returns
// ctx's error when ctx ends first. A read that must see a write made at position pos
// waits with it.
func (p *Projector) WaitFor(ctx context.Context, pos uint64) error {
	for {
		p.mu.Lock()
		moved := p.moved
		p.mu.Unlock()
		if p.pos.Load() >= pos {
			return nil
		}
		select {
		case <-moved:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Publish runs commit, a change made durable in the store outside the log (an erasure),
// and delivers the change-set it returns to the subscribers as Run does its writes': no
// write of the projector runs meanwhile, so subscribers see change-sets in commit
// order. It returns commit's error, and then delivers nothing.
func (p *Projector) Publish(commit func() (ingest.ChangeSet, error)) error {
	return p.subs.Publish(commit)
}

// Subscribe adds f to the subscribers of what the projector commits. After each commit
// that changed something (ingest.ChangeSet.Empty), every subscriber is called once with
// its change-set (Duplicate nil), in the order they subscribed, on Run's goroutine;
// change-sets come one at a time, in log order. f must not block for long and must not
// change the change-set's slices. Subscribe before Run.
func (p *Projector) Subscribe(name string, f func(ingest.ChangeSet)) { p.subs.Subscribe(name, f) }

// Subscribers returns the names of the subscribers in the order they are called.
func (p *Projector) Subscribers() []string { return p.subs.Names() }

// Position returns the position of the last record the store holds as far as the
// projector knows: 0 before Run read the store's.
func (p *Projector) Position() uint64 { return p.pos.Load() }

// Head returns the last position the projector knows in the log: the log's Head when it
// is a HeadReader (asked after every Read), else the last record read.
func (p *Projector) Head() uint64 { return max(p.head.Load(), p.pos.Load()) }

// Lag returns how many positions of the log are past the last one applied (Head −
// Position): 0 when the projector has caught up.
func (p *Projector) Lag() uint64 { return p.Head() - p.Position() }

// Run applies the log from the position after the store's until ctx ends, then returns
// nil. It returns an error only when the log breaks its contract (records out of order);
// errors of the log or the store are retried after a pause (Options.RetryMin…RetryMax),
// reading the same records again: a record is never skipped, and never applied twice.
func (p *Projector) Run(ctx context.Context) error {
	retry := p.opt.RetryMin
	fail := func(err error) {
		if p.opt.OnError != nil {
			p.opt.OnError(err)
		}
		sleep(ctx, retry)
		retry = min(2*retry, p.opt.RetryMax)
	}
	p.readHead(ctx)
	for ctx.Err() == nil {
		pos, err := p.store.Position(ctx, p.opt.Stream)
		if err != nil {
			if ctx.Err() == nil {
				fail(fmt.Errorf("projector: position: %w", err))
			}
			continue
		}
		p.setPos(pos)
		break
	}
	poll := p.opt.PollMin
	// pending holds records read but not yet applied, in log order, and pendingEvents their
	// events. After an error it is dropped and read again: the store may have changed the
	// events of a write it rolled back. more says the log may hold records past pending.
	var pending []Record
	pendingEvents, more := 0, false
	for ctx.Err() == nil {
		pos := p.pos.Load()
		if len(pending) == 0 || (more && pendingEvents < p.opt.MaxEvents) {
			// Read ahead while the log holds more and the transaction has room: when the
			// projector is behind, one transaction applies up to MaxEvents events of many
			// records (a group commit of the pipeline may hold a few events only).
			from := pos
			if len(pending) > 0 {
				from = pending[len(pending)-1].Pos
			}
			recs, err := p.log.Read(ctx, from+1, p.opt.ReadMax)
			switch {
			case err != nil && len(pending) > 0:
				// Apply what was read first; the next read meets the error again.
				more = false
			case err != nil:
				if ctx.Err() == nil {
					fail(fmt.Errorf("projector: read the log after %d: %w", pos, err))
				}
				continue
			default:
				more = len(recs) >= p.opt.ReadMax
				if recs, err = after(recs, from); err != nil {
					return err
				}
				for _, r := range recs {
					pendingEvents += len(r.Events)
				}
				pending = append(pending, recs...)
				p.readHead(ctx)
				if len(pending) == 0 {
					if w, ok := p.log.(Waiter); ok {
						if err := w.Wait(ctx, pos); err != nil && ctx.Err() == nil {
							fail(fmt.Errorf("projector: wait for the log: %w", err))
						}
						continue
					}
					sleep(ctx, poll)
					poll = min(2*poll, p.opt.PollMax)
					continue
				}
				poll = p.opt.PollMin
				p.seen(pending[len(pending)-1].Pos)
				if more && pendingEvents < p.opt.MaxEvents {
					continue
				}
			}
		}
		n, events := take(pending, p.opt.MaxEvents)
		last := pending[n-1].Pos
		p.subs.Hold()
		cs, err := p.store.WriteAt(ctx, p.opt.Stream, pos, last, events)
		if err != nil {
			p.subs.Release()
		}
		switch {
		case errors.Is(err, ingest.ErrApplied), errors.Is(err, ingest.ErrPositionMoved):
			// The store moved past pos without this projector (an earlier write whose
			// answer was lost, another projector): go on after what it holds.
			pending, pendingEvents, more = nil, 0, false
			stored, err := p.store.Position(ctx, p.opt.Stream)
			if err != nil {
				if ctx.Err() == nil {
					fail(fmt.Errorf("projector: position: %w", err))
				}
				continue
			}
			p.setPos(stored)
			continue
		case err != nil:
			pending, pendingEvents, more = nil, 0, false
			if ctx.Err() == nil {
				fail(fmt.Errorf("projector: write records %d…%d: %w", pos+1, last, err))
			}
			continue
		}
		retry = p.opt.RetryMin
		pending, pendingEvents = pending[n:], pendingEvents-len(events)
		// What is left of pending is topped up from the log before its write.
		more = more || len(pending) > 0
		cs.Position = last
		p.subs.Deliver(cs)
		p.setPos(last) // after the subscribers: who waits for it finds them current too
		p.subs.Release()
	}
	return nil
}

// after returns the records past pos (a log may answer from an earlier position than asked),
// and an error when they are not in strictly increasing order.
func after(recs []Record, pos uint64) ([]Record, error) {
	i := 0
	for i < len(recs) && recs[i].Pos <= pos {
		i++
	}
	recs = recs[i:]
	for j := 1; j < len(recs); j++ {
		if recs[j].Pos <= recs[j-1].Pos {
			return nil, fmt.Errorf("projector: the log returned position %d after %d", recs[j].Pos, recs[j-1].Pos)
		}
	}
	return recs, nil
}

// take returns how many of the records one transaction holds (at least one, then as long
// as the events stay within maxEvents) and their events in order.
func take(recs []Record, maxEvents int) (int, []*mailtrail.Event) {
	n, count := 0, 0
	for n < len(recs) && (n == 0 || count+len(recs[n].Events) <= maxEvents) {
		count += len(recs[n].Events)
		n++
	}
	events := make([]*mailtrail.Event, 0, count)
	for _, r := range recs[:n] {
		events = append(events, r.Events...)
	}
	return n, events
}

// seen records that the log holds position pos.
func (p *Projector) seen(pos uint64) {
	for {
		h := p.head.Load()
		if pos <= h || p.head.CompareAndSwap(h, pos) {
			return
		}
	}
}

// readHead asks the log for its head when it can tell it; an error leaves Head as it was.
func (p *Projector) readHead(ctx context.Context) {
	if h, ok := p.log.(HeadReader); ok {
		if pos, err := h.Head(ctx); err == nil {
			p.seen(pos)
		}
	}
}

// sleep pauses for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
