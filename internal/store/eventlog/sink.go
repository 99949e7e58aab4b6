package eventlog

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/ingest"
	"github.com/mailtrail/mailtrail/internal/storekit"
)

// SinkOptions configure a Sink.
type SinkOptions struct {
	// Seen tells, for each event, the id of the event the projection store holds that it
	// duplicates ("" when none) — sqlite.DB.Seen.
	Seen func(ctx context.Context, events []*mailtrail.Event) ([]string, error)
	// Applied returns the position the projection has applied (projector.Position): the
	// keys of what the Sink appended up to it are in the store, and the Sink forgets them.
	Applied func() uint64
	// Keys, when set, lets the Sink keep a filter of the keys the projection store holds
	// (KeepFilter), so that Seen is asked only about keys the store may hold: a new
	// event (the common case) is then answered without a lookup in the store.
	Keys KeyStore
	// OnLookup, when set, is told after each Write how many of its events were looked up
	// in the store (Seen) and how many the filter answered without it.
	OnLookup func(store, filter int)
	// OnFilterError, when set, is told why a build of the filter failed (KeepFilter
	// retries); Seen answers meanwhile.
	OnFilterError func(error)
	// Shared says other writers append to the stream too (the API nodes of the cluster
	// mode): before each Write the Sink reads what they appended since it last looked, up
	// to the stream's head, into its index, so that a retry of a batch another writer
	// acknowledged (which is in the stream by then) is answered as duplicates. And a new
	// event holding a key is appended under an id derived from its key (keyedID), so
	// that two copies appended by two writers answer with the same id.
	Shared bool
	// MaxPending bounds the dedupe index: while it holds that many keys (appended, not
	// applied: the projection store is far behind or failing), a batch with keys is
	// refused with EUNAVAILABLE (503, retry) until the projection catches up, so its
	// memory stays bounded (about 110 bytes per key, with the events' ids). 0: DefaultMaxPending.
	MaxPending int
}

// DefaultMaxPending is SinkOptions.MaxPending's default: 4 million keys, about 470 MB,
// a minute and more of the events API at full speed with the store stopped.
const DefaultMaxPending = 4 << 20

// errBehind answers a batch the dedupe index has no room for.
var errBehind = mailtrail.Errorf(mailtrail.EUNAVAILABLE, "the store is too far behind the event log to take more events now; retry later")

// KeyStore is what the Sink's filter is built from: the projection store's keys
// (sqlite.DB.CountStoredKeys, StoredKeys).
type KeyStore interface {
	// CountStoredKeys tells about how many keys StoredKeys would report.
	CountStoredKeys(ctx context.Context) (int, error)
	// StoredKeys calls fn with every idempotency key the store holds (with its
	// organization) and every event's dedupe key (org ""). A key committed during the
	// call may be reported or not.
	StoredKeys(ctx context.Context, fn func(org string, key []byte) error) error
}

// Sink is an ingest.Sink that makes a batch durable by appending it to the log: Write
// returns once the batch is on disk in the log, with its position, and the projection
// applies it after (projector). It answers which events are duplicates as the store's
// Write would, without waiting for the projection: from a dedupe index of the keys it
// appended that the projection has not applied yet, then from the projection store
// (Seen). Duplicates are not appended. The projection dedupes again when it applies a
// record, so figures never depend on this answer; the index only keeps the events API's
// accepted/duplicates counts exact.
//
// Write must not be called concurrently (the ingest pipeline's committer calls it one
// batch at a time): the index is checked and filled by one writer.
type Sink struct {
	log *Log
	opt SinkOptions

	mu   sync.Mutex
	keys keyTable  // dedupe and idempotency keys appended, not yet applied (their places in segs)
	segs []segment // the messages appended, not yet applied, in order
	base uint64    // the number of segs[0]
	orgs map[string]uint32

	last atomic.Uint64 // the last message this Sink appended to

	// tailed is the stream position up to which the index holds every writer's keys
	// (Shared): Resume's head, then catchUp's. Only Write and Resume use it.
	tailed uint64
	// tailMu orders catchUp against the start of a filter build (Shared): catchUp skips
	// the messages the store applied, but never past skipMax, the store's position when
	// the latest filter build began. Every message up to it is in the build's scan of the
	// store's keys; every message after it is read into the index, and so into the
	// filter. Without that, a message applied after the scan began and skipped by catchUp
	// would be in neither. skipMax is guarded by mu; MaxUint64 until a build begins.
	tailMu  sync.Mutex
	skipMax uint64
	// own holds the sequences of this Sink's messages past tailed, sorted (Shared):
	// catchUp does not read them back. Guarded by mu.
	own []uint64

	// flying holds the keys of appends whose Write failed (its context ended) while their
	// message was being published: they may yet be stored. A batch holding one of them
	// waits for that publish's end, then finds the key in the index (stored: a duplicate,
	// answered with the id the log holds) or not (it failed). Guarded by mu.
	flying map[key]chan struct{}
	// doubtful holds the event ids of appends that failed but may be stored all the same
	// (a publish that timed out can still reach the stream later, and so can one whose
	// Write gave up while it was in flight and that then failed): a retry of their events
	// takes the same ids, so that whichever copy the log holds first, the projection
	// stores the id the client was answered. Entries expire after doubtfulTTL. Guarded
	// by mu.
	doubtful map[key]doubt
	swept    time.Time

	// The filter of the keys the store may hold (KeepFilter), guarded by mu: nil until
	// built. It holds every key the store held when its build began and every key
	// appended since (including the index's keys when it began).
	filter   *keyFilter
	building *keyFilter    // a build in progress: appended keys enter it too
	full     chan struct{} // filter has reached its capacity: build a larger one
	hashBuf  []uint64      // the keys' hashes of one filter call, reused; guarded by mu
	heldBuf  []bool        // what the filter answered for them
}

// NewSink returns a Sink appending to l.
func NewSink(l *Log, opt SinkOptions) *Sink {
	if opt.Applied == nil {
		opt.Applied = func() uint64 { return 0 }
	}
	if opt.MaxPending <= 0 {
		opt.MaxPending = DefaultMaxPending
	}
	return &Sink{log: l, opt: opt, orgs: map[string]uint32{}, full: make(chan struct{}, 1), flying: map[key]chan struct{}{}, doubtful: map[key]doubt{},
		skipMax: math.MaxUint64}
}

var _ ingest.Sink = (*Sink)(nil)

// Resume prepares the Sink of a log that already holds messages, before its first Write:
// applied is the position the projection store holds. Last starts at the log's last
// message (a read that must see every write acknowledged so far waits for those of an
// earlier process too), and the index learns the keys of the messages past applied, which
// the store does not hold yet (a retry of their events is a duplicate, answered with the
// id the projection will store).
func (s *Sink) Resume(ctx context.Context, applied uint64) error {
	head := s.log.lastSeq.Load()
	// The head is the stream's, but reads may be served by a replica that has not caught
	// up yet (a server that just rejoined the cluster): the index must hold every message
	// up to the head, or a retry of their events would be taken as new. Wait for the
	// replica.
	if err := s.indexTail(ctx, applied+1, head, nil, resumeWait, "resume", func(from uint64) error {
		return fmt.Errorf("eventlog: resume: the stream's messages %d…%d cannot be read after %s (a replica behind?)", from, head, resumeWait)
	}); err != nil {
		return err
	}
	raise(&s.last, head)
	s.tailed = head
	return nil
}

// ownCatchUp is how many of its own messages a Shared Sink lets pile up in own before a
// Write without keys catches up all the same (to bound own).
const ownCatchUp = 4096

// needCatchUp tells whether a Shared Sink reads the other writers' appends before
// writing batch: when an event of it holds a key (only keyed events are looked up in the
// index), or when own has grown to ownCatchUp. A batch without keys (pixel hits, clicks)
// needs nothing of the others: skipping saves a request for the stream's head per Write,
// and the messages applied before the next keyed Write are never read (catchUp starts
// past what the store applied).
func (s *Sink) needCatchUp(batch []*mailtrail.Event) bool {
	for _, ev := range batch {
		if ev.DedupeKey != "" {
			return true
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.own) >= ownCatchUp
}

// catchUp reads, with Shared, what the stream holds past what the index has read (and
// past what the store applied) up to the stream's head into the index: every batch any
// writer acknowledged before this Write began is then known to it.
func (s *Sink) catchUp(ctx context.Context) error {
	s.tailMu.Lock()
	defer s.tailMu.Unlock()
	head, err := s.log.StreamHead(ctx)
	if err != nil {
		return fmt.Errorf("eventlog: the other writers' appends: %w", err)
	}
	// A replica behind the head answers reads (see Resume): wait for it a little, then
	// answer 503.
	s.mu.Lock()
	own := slices.Clone(s.own)
	skip := min(s.opt.Applied(), s.skipMax)
	s.mu.Unlock()
	if err := s.indexTail(ctx, max(s.tailed, skip)+1, head, own, catchUpWait, "the other writers' appends", func(from uint64) error {
		return mailtrail.Errorf(mailtrail.EUNAVAILABLE, "the event log's messages %d…%d cannot be read yet; retry shortly", from, head)
	}); err != nil {
		return err
	}
	s.mu.Lock()
	i, _ := slices.BinarySearch(s.own, head+1)
	s.own = slices.Delete(s.own, 0, i)
	s.mu.Unlock()
	s.tailed = max(s.tailed, head)
	return nil
}

// indexTail reads the stream's messages from from up to head into the index (a key the
// index holds keeps its event), but for those of own (sorted sequences: this Sink's,
// indexed when appended). A replica may not serve the last messages yet: it is waited
// for up to wait, then stuck's error is returned; what names the reads in errors.
func (s *Sink) indexTail(ctx context.Context, from, head uint64, own []uint64, wait time.Duration, what string, stuck func(from uint64) error) error {
	p := s.log.Projection()
	deadline := time.Now().Add(wait)
	for from <= head {
		for len(own) > 0 && own[0] < from {
			own = own[1:]
		}
		if len(own) > 0 && own[0] == from {
			from++
			continue
		}
		n := min(64, head-from+1)
		if len(own) > 0 {
			n = min(n, own[0]-from)
		}
		recs, err := p.Read(ctx, from, int(n))
		if err != nil {
			return fmt.Errorf("eventlog: %s: %w", what, err)
		}
		if len(recs) == 0 {
			if time.Now().After(deadline) {
				return stuck(from)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(10 * time.Millisecond):
			}
			continue
		}
		s.mu.Lock()
		for _, r := range recs {
			keys := make([][2]key, len(r.Events))
			for i, ev := range r.Events {
				keys[i][0], keys[i][1] = s.eventKeys(ev)
			}
			s.index(r.Events, keys, r.Pos, true)
		}
		s.mu.Unlock()
		from = recs[len(recs)-1].Pos + 1
	}
	return nil
}

// addOwn records, with Shared, that message seq is this Sink's. Called with mu held.
func (s *Sink) addOwn(seq uint64) {
	if !s.opt.Shared {
		return
	}
	if i, found := slices.BinarySearch(s.own, seq); !found {
		s.own = slices.Insert(s.own, i, seq)
	}
}

// catchUpWait bounds how long catchUp waits for a replica to serve the messages up to the
// stream's head.
var catchUpWait = 2 * time.Second

// Last returns the position (message sequence) of the last batch this Sink appended: a
// read that must see every write acknowledged so far waits for the projection to reach
// it.
func (s *Sink) Last() uint64 { return s.last.Load() }

// Pending returns how many keys the dedupe index holds (appended, not yet applied).
func (s *Sink) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.keys.n
}

// Write appends the batch's new events to the log and returns its change-set: Duplicate
// for each event, Events the others, Position the message holding the last of them (the
// last append's when every event was a duplicate). A duplicate takes the id of the event
// it repeats. An error means the batch is not acknowledged: nothing of it is in the
// log, or (a batch larger than a message) its first parts are, found as duplicates by a
// retry.
func (s *Sink) Write(ctx context.Context, batch []*mailtrail.Event) (ingest.ChangeSet, error) {
	if err := s.waitFlying(ctx, batch); err != nil {
		return ingest.ChangeSet{}, err
	}
	if s.opt.Shared && s.needCatchUp(batch) {
		if err := s.catchUp(ctx); err != nil {
			return ingest.ChangeSet{}, err
		}
	}
	s.prune(s.opt.Applied())
	dup := make([]bool, len(batch))
	ids := make([]string, len(batch))
	keys := make([][2]key, len(batch)) // each event's idempotency and dedupe keys
	var ask []int                      // events with a key the index does not hold: the store may
	filtered := 0                      // events the filter answered: the store holds none of their keys
	excluded := make([]bool, len(batch))
	s.mu.Lock()
	full := s.keys.n >= s.opt.MaxPending
	keyed := 0 // keys of the batch
	for i, ev := range batch {
		idem, ded := s.eventKeys(ev)
		keys[i] = [2]key{idem, ded}
		keyed += int(min(idem.kind, 1) + min(ded.kind, 1))
	}
	s.excluded(keys, excluded)
	for i := range batch {
		idem, ded := keys[i][0], keys[i][1]
		if idem.kind == 0 && ded.kind == 0 {
			continue
		}
		if full {
			s.mu.Unlock()
			return ingest.ChangeSet{}, errBehind
		}
		// The filter first: it holds every key of the index as well as the store's, so
		// keys it has never seen (nearly every new event's) need neither. Then the
		// index, then the store: a key the index no longer holds was applied, so the
		// store has it by then.
		if excluded[i] {
			filtered++
		} else if id, ok := s.lookup(idem); ok {
			ids[i] = id
		} else if id, ok := s.lookup(ded); ok {
			ids[i] = id
		} else {
			ask = append(ask, i)
		}
	}
	s.mu.Unlock()
	if s.opt.OnLookup != nil {
		s.opt.OnLookup(len(ask), filtered)
	}
	if len(ask) > 0 && s.opt.Seen != nil {
		evs := make([]*mailtrail.Event, len(ask))
		for j, i := range ask {
			evs[j] = batch[i]
		}
		seen, err := s.opt.Seen(ctx, evs)
		if err != nil {
			return ingest.ChangeSet{}, fmt.Errorf("eventlog: dedupe lookup: %w", err)
		}
		for j, i := range ask {
			ids[i] = seen[j]
		}
	}
	// Within the batch, the first event holding a key is the one stored.
	first := make(map[key]string, keyed) // sized once: a batch of thousands of keys grew it by doublings
	var keep []*mailtrail.Event
	var keepKeys [][2]key
	for i, ev := range batch {
		if ids[i] == "" {
			for _, k := range keys[i] {
				if k.kind != 0 && ids[i] == "" {
					ids[i] = first[k]
				}
			}
		}
		if ids[i] != "" {
			dup[i] = true
			ev.ID = ids[i]
			continue
		}
		if s.opt.Shared {
			if id := keyedID(ev, keys[i]); id != "" {
				ev.ID = id
			}
		}
		for _, k := range keys[i] {
			if k.kind != 0 {
				first[k] = ev.ID
			}
		}
		keep = append(keep, ev)
		keepKeys = append(keepKeys, keys[i])
	}
	cs := ingest.ChangeSet{Duplicate: dup, Events: keep, Position: s.last.Load()}
	if len(keep) == 0 {
		return cs, nil
	}
	seq, err := s.append(ctx, keep, keepKeys)
	if err != nil {
		return ingest.ChangeSet{}, err
	}
	cs.Position = max(seq, cs.Position)
	return cs, nil
}

// append appends events (each holding keys[i]) as one append, or, when they do not fit
// in one message, in halves one after the other (in order); it returns the last
// message's sequence. Each part appended enters the dedupe index and Last at once: when a
// later part fails, the caller answers 503 and the retry finds the parts already in the
// log as duplicates where their events carry a key (events without one — pixel hits —
// are then counted twice, as a retried hit is without the log).
//
// A log of several partitions takes each event in its message's partition
// (storekit.Partition), the partitions' appends at once; the sequence returned is the
// last of them all.
func (s *Sink) append(ctx context.Context, events []*mailtrail.Event, keys [][2]key) (uint64, error) {
	s.mu.Lock()
	if len(s.doubtful) > 0 {
		for i, ev := range events {
			for _, k := range keys[i] {
				if d, ok := s.doubtful[k]; ok && k.kind != 0 {
					ev.ID = d.id
					break
				}
			}
		}
	}
	s.mu.Unlock()
	seq, err := s.appendParts(ctx, events, keys)
	var inflight *InFlightError
	if err != nil && !errors.As(err, &inflight) {
		s.doubt(events, keys) // a failed publish may reach the stream all the same
	}
	return seq, err
}

// doubt records the ids of events an append failed to store, which may be stored all
// the same (doubtful), and forgets those that expired.
func (s *Sink) doubt(events []*mailtrail.Event, keys [][2]key) {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if now.Sub(s.swept) > time.Minute {
		for k, d := range s.doubtful {
			if now.Sub(d.at) > doubtfulTTL {
				delete(s.doubtful, k)
			}
		}
		s.swept = now
	}
	for i, ev := range events {
		for _, k := range keys[i] {
			if k.kind != 0 && len(s.doubtful) < s.opt.MaxPending {
				s.doubtful[k] = doubt{id: ev.ID, at: now}
			}
		}
	}
}

// doubt is a doubtful event id and when its append failed.
type doubt struct {
	id string
	at time.Time
}

// resumeWait bounds how long Resume waits for a replica behind the stream's head.
var resumeWait = time.Minute

// doubtfulTTL is how long a failed append's ids are kept for its retries: past the
// stream's duplicate window, a late copy of the message would be stored anyway.
const doubtfulTTL = 10 * time.Minute

// appendParts is append without the doubtful ids.
func (s *Sink) appendParts(ctx context.Context, events []*mailtrail.Event, keys [][2]key) (uint64, error) {
	n := s.log.Partitions()
	if n <= 1 {
		return s.appendTo(ctx, 0, events, keys)
	}
	evs, ks := make([][]*mailtrail.Event, n), make([][][2]key, n)
	for i, ev := range events {
		p := storekit.Partition(ev, n)
		evs[p], ks[p] = append(evs[p], ev), append(ks[p], keys[i])
	}
	var wg sync.WaitGroup
	seqs, errs := make([]uint64, n), make([]error, n)
	for p := range evs {
		if len(evs[p]) == 0 {
			continue
		}
		wg.Add(1)
		go func(p int) {
			defer wg.Done()
			seqs[p], errs[p] = s.appendTo(ctx, p, evs[p], ks[p])
		}(p)
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return 0, err
	}
	return slices.Max(seqs), nil
}

// appendTo is append in one partition.
func (s *Sink) appendTo(ctx context.Context, partition int, events []*mailtrail.Event, keys [][2]key) (uint64, error) {
	rc, err := s.log.Append(ctx, partition, "", events)
	if errors.Is(err, ErrTooLarge) && len(events) > 1 {
		h := len(events) / 2
		if _, err := s.appendTo(ctx, partition, events[:h], keys[:h]); err != nil {
			return 0, err
		}
		return s.appendTo(ctx, partition, events[h:], keys[h:])
	}
	var inflight *InFlightError
	if errors.As(err, &inflight) {
		s.follow(inflight, events, keys)
	}
	if err != nil {
		return 0, err
	}
	s.mu.Lock()
	s.index(events, keys, rc.Pos.Seq, false)
	s.addOwn(rc.Pos.Seq)
	if len(s.doubtful) > 0 {
		for _, ks := range keys {
			for _, k := range ks {
				delete(s.doubtful, k)
			}
		}
	}
	s.mu.Unlock()
	raise(&s.last, rc.Pos.Seq)
	return rc.Pos.Seq, nil
}

// follow keeps the keys of an append still being published when its Write gave up in
// flying until the publish ends, and indexes them if it stored them.
func (s *Sink) follow(inflight *InFlightError, events []*mailtrail.Event, keys [][2]key) {
	done := make(chan struct{})
	s.mu.Lock()
	for _, ks := range keys {
		for _, k := range ks {
			if k.kind != 0 {
				s.flying[k] = done
			}
		}
	}
	s.mu.Unlock()
	go func() {
		rc, err := inflight.Wait(context.Background())
		if err != nil {
			s.doubt(events, keys)
		}
		s.mu.Lock()
		if err == nil {
			s.index(events, keys, rc.Pos.Seq, true)
			s.addOwn(rc.Pos.Seq)
		}
		for _, ks := range keys {
			for _, k := range ks {
				if s.flying[k] == done {
					delete(s.flying, k)
				}
			}
		}
		s.mu.Unlock()
		if err == nil {
			raise(&s.last, rc.Pos.Seq)
		}
		close(done)
	}()
}

// waitFlying waits until no event of batch holds a key of an append still being
// published (flying), or returns ctx's error.
func (s *Sink) waitFlying(ctx context.Context, batch []*mailtrail.Event) error {
	for {
		var wait chan struct{}
		s.mu.Lock()
		if len(s.flying) > 0 {
			for _, ev := range batch {
				idem, ded := s.eventKeys(ev)
				for _, k := range [2]key{idem, ded} {
					if ch, ok := s.flying[k]; ok && k.kind != 0 && wait == nil {
						wait = ch
					}
				}
			}
		}
		s.mu.Unlock()
		if wait == nil {
			return nil
		}
		select {
		case <-wait:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
