// Package ingest is the one path every event takes: normalize → dedupe key → Sink. The
// Pipeline group-commits: submissions queue while the previous commit runs, the committer
// takes all of them as the next batch, hands it to the Sink (one transaction) and only then
// releases every waiting submitter. A 2xx to a client therefore means durable.
//
// Back-pressure: the queue holds at most Options.MaxQueue events. A submitter waits for
// room up to Options.MaxWait, then gets an EUNAVAILABLE error (the HTTP layer answers 503
// so the sender retries); the queue never grows without bound. Once queued, a submitter
// waits for its commit at most Options.CommitWait: so every answer comes within MaxWait +
// CommitWait. A submission whose wait ends (CommitWait, or its context is done) before
// the committer took it is withdrawn and never written; one already taken may still be
// committed after its submitter got EUNAVAILABLE (a retry is deduplicated).
package ingest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/mailtrail/mailtrail"
)

// Sink persists a batch of events and the state derived from them atomically and durably.
// Write returns what the commit changed: Duplicate tells, for each event of the batch in
// order, whether it was a duplicate of an event already stored (then nothing of it was
// stored again); Events are the others, in order; Relabels the stored clicks whose label
// the batch changed. A Write error means nothing of the batch is durable.
type Sink interface {
	Write(ctx context.Context, batch []*mailtrail.Event) (ChangeSet, error)
}

// Observer receives the pipeline's measurements. Any method may be called concurrently.
type Observer interface {
	Committed(events, duplicates int, took time.Duration)
	Failed(events int, err error)
	Rejected(events int)
}

// Options configure a Pipeline. Zero values take the defaults.
type Options struct {
	MaxBatch int           // events per transaction (soft: one submission is never split); default 5000
	MaxQueue int           // events waiting at most; default 50000
	MaxWait  time.Duration // how long a submitter waits for room in the queue; default 2s
	// CommitWait is how long a queued submitter waits for its commit; default 5s. Past it
	// the submitter gets ErrUnavailable, and its events are withdrawn unless their batch
	// is already being written.
	CommitWait time.Duration
	Observer   Observer
	Now        func() time.Time
	// Enrich, when set, is called on every event before Normalize, on the submitter's
	// goroutine (so it runs in parallel, outside the committer): classification, client,
	// device and geography of opens and clicks. It must not fail or block.
	Enrich func(*mailtrail.Event)
}

// Result tells a submitter what became of its events.
type Result struct {
	Accepted   int // newly stored
	Duplicates int // already stored before
	// Position is the event log's position of the batch holding the events when the Sink
	// is a log (0 otherwise): a read that waits for the projection to reach it sees them.
	Position uint64
}

type submission struct {
	ctx      context.Context // the submitter's: done before the committer takes it → not written
	deadline time.Time       // when the submitter stops waiting (admission + CommitWait)
	events   []*mailtrail.Event
	done     chan struct{}
	res      Result
	err      error
}

// Pipeline is the group-committing front of a Sink and the one publisher of what is
// committed (see Subscribe). Create it with New, start Run in a goroutine, stop it with
// Close.
type Pipeline struct {
	sink Sink
	opt  Options

	// subs' commit-order lock is held by the committer from a batch's Write to the end of
	// its change-set's delivery, and by Publish around its commit and delivery:
	// change-sets reach subscribers one at a time, in commit order.
	subs Subscribers

	mu      sync.Mutex
	queue   []*submission
	pending int           // events in queue
	room    chan struct{} // closed when room frees, then replaced
	work    chan struct{} // signalled (buffered 1) when the queue becomes non-empty
	closed  bool
	stopped chan struct{}
	// took is a moving average of how long a batch takes to commit: a submission whose
	// submitter would give up before a commit that long ends is not taken (it would be
	// stored and still answered 503: under overload the committer would spend its time on
	// answers nobody gets).
	took time.Duration
}

// New returns a Pipeline writing to sink.
func New(sink Sink, opt Options) *Pipeline {
	if opt.MaxBatch <= 0 {
		opt.MaxBatch = 5000
	}
	if opt.MaxQueue <= 0 {
		opt.MaxQueue = 50000
	}
	if opt.MaxWait <= 0 {
		opt.MaxWait = 2 * time.Second
	}
	if opt.CommitWait <= 0 {
		opt.CommitWait = 5 * time.Second
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Pipeline{sink: sink, opt: opt, room: make(chan struct{}), work: make(chan struct{}, 1), stopped: make(chan struct{})}
}

// ErrUnavailable is returned when events cannot be made durable now: the queue stayed full
// for MaxWait, the pipeline is shutting down, or the sink failed.
var ErrUnavailable = mailtrail.Errorf(mailtrail.EUNAVAILABLE, "events could not be stored durably now; retry later")

// QueueDepth returns the number of events waiting to be committed.
func (p *Pipeline) QueueDepth() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pending
}

// Submit normalizes events, queues them and waits until the transaction holding them is
// committed. It returns ErrUnavailable when they could not be made durable; then the caller
// must not acknowledge them. It returns within MaxWait (room in the queue) + CommitWait
// (the commit). When ctx is done or CommitWait passes before the committer took the
// events, they are withdrawn and never written; after, they may still be committed (a
// retry is deduplicated).
func (p *Pipeline) Submit(ctx context.Context, events []*mailtrail.Event) (Result, error) {
	if len(events) == 0 {
		return Result{}, nil
	}
	now := p.opt.Now()
	for _, ev := range events {
		if p.opt.Enrich != nil {
			p.opt.Enrich(ev)
		}
		Normalize(ev, now)
	}
	s := &submission{ctx: ctx, events: events, done: make(chan struct{})}
	var deadline <-chan time.Time // MaxWait's, from the first time the queue is full
	p.mu.Lock()
	for {
		if p.closed {
			p.mu.Unlock()
			return Result{}, ErrUnavailable
		}
		// A submission larger than the whole queue is admitted alone into an empty queue.
		if p.pending+len(events) <= p.opt.MaxQueue || p.pending == 0 {
			break
		}
		room := p.room
		p.mu.Unlock()
		if deadline == nil {
			t := time.NewTimer(p.opt.MaxWait)
			defer t.Stop()
			deadline = t.C
		}
		select {
		case <-room:
		case <-deadline:
			if p.opt.Observer != nil {
				p.opt.Observer.Rejected(len(events))
			}
			return Result{}, ErrUnavailable
		case <-ctx.Done():
			return Result{}, ErrUnavailable
		}
		p.mu.Lock()
	}
	s.deadline = p.opt.Now().Add(p.opt.CommitWait)
	p.queue = append(p.queue, s)
	p.pending += len(events)
	p.mu.Unlock()
	select {
	case p.work <- struct{}{}:
	default:
	}
	// The committer always finishes a submission it took, even while closing; a caller
	// that stops waiting before that withdraws its events.
	wait := time.NewTimer(p.opt.CommitWait)
	defer wait.Stop()
	select {
	case <-s.done:
		return s.res, s.err
	case <-ctx.Done():
	case <-wait.C:
	}
	if p.withdraw(s) && p.opt.Observer != nil {
		p.opt.Observer.Rejected(len(events))
	}
	return Result{}, ErrUnavailable
}

// withdraw removes s from the queue if the committer has not taken it yet, and reports
// whether it did (then nothing of s is ever written).
func (p *Pipeline) withdraw(s *submission) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, q := range p.queue {
		if q == s {
			p.queue = append(p.queue[:i], p.queue[i+1:]...)
			p.pending -= len(s.events)
			close(p.room)
			p.room = make(chan struct{})
			return true
		}
	}
	return false
}

// Run commits batches until Close is called and the queue is drained. It returns when the
// last queued submission is answered.
func (p *Pipeline) Run(ctx context.Context) {
	defer close(p.stopped)
	for {
		batch := p.take()
		if batch == nil {
			p.mu.Lock()
			closed := p.closed && len(p.queue) == 0
			p.mu.Unlock()
			if closed {
				return
			}
			<-p.work
			continue
		}
		p.commit(context.WithoutCancel(ctx), batch)
	}
}

// take removes the next batch from the queue: whole submissions up to MaxBatch events.
func (p *Pipeline) take() []*submission {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.queue) == 0 {
		return nil
	}
	// Submissions whose submitter has given up, or would before a commit of the usual
	// length ends, are dropped, not written: their answer is a 503.
	live := p.queue[:0]
	now := p.opt.Now()
	for _, s := range p.queue {
		// (When the usual commit nears CommitWait itself, every submission is taken, so that
		// commits go on and the estimate follows the store when it recovers.)
		late := p.took < p.opt.CommitWait*3/4 && s.deadline.Sub(now) < p.took
		if s.ctx.Err() != nil || late {
			p.pending -= len(s.events)
			s.err = ErrUnavailable
			close(s.done)
			if p.opt.Observer != nil {
				p.opt.Observer.Rejected(len(s.events))
			}
			continue
		}
		live = append(live, s)
	}
	clear(p.queue[len(live):])
	p.queue = live
	n, i := 0, 0
	for i < len(p.queue) && (i == 0 || n+len(p.queue[i].events) <= p.opt.MaxBatch) {
		n += len(p.queue[i].events)
		i++
	}
	batch := append([]*submission(nil), p.queue[:i]...)
	p.queue = append(p.queue[:0], p.queue[i:]...)
	p.pending -= n
	close(p.room)
	p.room = make(chan struct{})
	if len(batch) == 0 {
		return nil
	}
	return batch
}

func (p *Pipeline) commit(ctx context.Context, batch []*submission) {
	var evs []*mailtrail.Event
	for _, s := range batch {
		evs = append(evs, s.events...)
	}
	p.subs.Hold()
	defer p.subs.Release()
	start := time.Now()
	cs, err := p.sink.Write(ctx, evs)
	took := time.Since(start)
	p.mu.Lock()
	p.took = (3*p.took + min(took, p.opt.CommitWait)) / 4 // one stall does not set it alone
	p.mu.Unlock()
	if err == nil && (len(cs.Duplicate) != len(evs) || len(cs.Events) != len(evs)-countTrue(cs.Duplicate)) {
		err = errors.New("ingest: sink returned wrong number of outcomes")
	}
	if err != nil {
		if p.opt.Observer != nil {
			p.opt.Observer.Failed(len(evs), err)
		}
		for _, s := range batch {
			s.err = ErrUnavailable
			close(s.done)
		}
		return
	}
	i, dups := 0, 0
	for _, s := range batch {
		s.res.Position = cs.Position
		for range s.events {
			if cs.Duplicate[i] {
				s.res.Duplicates++
				dups++
			} else {
				s.res.Accepted++
			}
			i++
		}
	}
	if p.opt.Observer != nil {
		p.opt.Observer.Committed(len(evs), dups, took)
	}
	for _, s := range batch {
		close(s.done)
	}
	p.subs.Deliver(cs) // without Duplicate: the submitters' business, answered above
}

// Closing reports whether Close has been called.
func (p *Pipeline) Closing() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}

// Close stops accepting submissions and waits until every queued one is committed or ctx
// ends. Submissions arriving after Close get ErrUnavailable.
func (p *Pipeline) Close(ctx context.Context) error {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	select {
	case p.work <- struct{}{}:
	default:
	}
	select {
	case <-p.stopped:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Normalize fills what the pipeline owns: the event id, received_at, times in UTC at
// millisecond precision, and the binary dedupe key (see DedupeKey).
func Normalize(ev *mailtrail.Event, now time.Time) {
	if ev.ID == "" {
		ev.ID = NewEventID(now)
	}
	if ev.ReceivedAt.IsZero() {
		ev.ReceivedAt = now.UTC().Truncate(time.Millisecond)
	}
	if ev.OccurredAt.IsZero() {
		ev.OccurredAt = ev.ReceivedAt
	}
	ev.OccurredAt = ev.OccurredAt.UTC().Truncate(time.Millisecond)
	if ev.Classification == "" && (ev.Type == mailtrail.EventOpened || ev.Type == mailtrail.EventClicked) {
		ev.Classification = mailtrail.Human
	}
}

// NewEventID returns a 22-character URL-safe id: 6 bytes of milliseconds then 10 random
// bytes, so ids sort roughly by time and cannot be guessed.
func NewEventID(now time.Time) string {
	var rest [10]byte
	_, _ = rand.Read(rest[:])
	return EventID(uint64(now.UnixMilli()), rest)
}

// EventID returns the id of NewEventID's format made of ms (6 bytes of milliseconds) and
// rest: for an id derived from an event's key instead of drawn.
func EventID(ms uint64, rest [10]byte) string {
	var b [16]byte
	b[0], b[1], b[2], b[3], b[4], b[5] = byte(ms>>40), byte(ms>>32), byte(ms>>24), byte(ms>>16), byte(ms>>8), byte(ms)
	copy(b[6:], rest[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// IdempotencyPrefix starts the DedupeKey of an API event posted with the client's
// idempotency key ("api:" + key). Such a key alone identifies the event within its
// organization, whatever the type, time or content a retry carries (see IdempotencyKey).
const IdempotencyPrefix = "api:"

// IdempotencyKey returns the 16-byte digest of an event's client idempotency key, under
// which the store keeps it unique per organization for at least IdempotencyHorizon, or nil
// when the event has no such key.
func IdempotencyKey(ev *mailtrail.Event) []byte {
	var k [16]byte
	if !IdempotencyKeyInto(ev, &k) {
		return nil
	}
	return k[:]
}

// IdempotencyKeyInto writes IdempotencyKey(ev) into dst and reports whether ev has one,
// without allocating (the log's sink computes it for every API event on its one
// committing goroutine).
func IdempotencyKeyInto(ev *mailtrail.Event, dst *[16]byte) bool {
	k, ok := strings.CutPrefix(ev.DedupeKey, IdempotencyPrefix)
	if !ok {
		return false
	}
	const prefix = "mailtrail idempotency key\x00"
	var buf [256]byte // keys are at most mailtrail.MaxIDBytes; a longer one goes to the heap
	sum := sha256.Sum256(append(append(buf[:0], prefix...), k...))
	copy(dst[:], sum[:16])
	return true
}

// IdempotencyHorizon is how long, at least, an idempotency key recognises a retry: the
// dedupe horizon of webhooks (docs/privacy.md: ESPs retry for at most three days).
const IdempotencyHorizon = 7 * 24 * time.Hour

// OncePrefix marks a DedupeKey that identifies an event regardless of its time.
const OncePrefix = "once:"

// DedupeKey returns the 16-byte key under which an event is unique, or nil when every
// arrival of it is a new event (pixel hits, clicks). The first 8 bytes are occurred_at
// (big-endian milliseconds) so the unique index grows at its end instead of being
// rewritten all over (see the storage measurements); the last 8 are a hash of the
// organization, type and the event's key. A retry carries the same occurred_at and key.
// Keys starting with OncePrefix identify an event whatever its time (a message is
// unsubscribed once); their time part is 0.
func DedupeKey(ev *mailtrail.Event) []byte {
	var k [16]byte
	if !DedupeKeyInto(ev, &k) {
		return nil
	}
	return k[:]
}

// DedupeKeyInto writes DedupeKey(ev) into dst and reports whether ev has one, without
// allocating.
func DedupeKeyInto(ev *mailtrail.Event, dst *[16]byte) bool {
	if ev.DedupeKey == "" {
		return false
	}
	*dst = [16]byte{}
	if !strings.HasPrefix(ev.DedupeKey, OncePrefix) {
		binary.BigEndian.PutUint64(dst[:8], uint64(ev.OccurredAt.UnixMilli()))
	}
	var buf [512]byte // organization and key; longer ones go to the heap
	b := append(buf[:0], ev.OrgID...)
	b = append(b, 0, byte(ev.Type), 0)
	b = append(b, ev.DedupeKey...)
	sum := sha256.Sum256(b)
	copy(dst[8:], sum[:8])
	return true
}
