package eventlog

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/ingest"
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
}

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
	keys map[string]pendingKey // dedupe and idempotency keys appended, not yet applied
	fifo []keyAt               // the same, in append order

	last atomic.Uint64 // the last message this Sink appended to

	// The filter of the keys the store may hold (KeepFilter), guarded by mu: nil until
	// built. It holds every key the store held when its build began and every key
	// appended since (including the index's keys when it began).
	filter   *keyFilter
	building *keyFilter    // a build in progress: appended keys enter it too
	full     chan struct{} // filter has reached its capacity: build a larger one
}

type pendingKey struct {
	id  string // the event holding the key
	seq uint64 // the message it is in
}

type keyAt struct {
	key string
	seq uint64
}

// NewSink returns a Sink appending to l.
func NewSink(l *Log, opt SinkOptions) *Sink {
	if opt.Applied == nil {
		opt.Applied = func() uint64 { return 0 }
	}
	return &Sink{log: l, opt: opt, keys: map[string]pendingKey{}, full: make(chan struct{}, 1)}
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
	p := s.log.Projection()
	for from := applied + 1; from <= head; {
		recs, err := p.Read(ctx, from, 64)
		if err != nil {
			return fmt.Errorf("eventlog: resume: %w", err)
		}
		if len(recs) == 0 {
			break
		}
		s.mu.Lock()
		for _, r := range recs {
			for _, ev := range r.Events {
				idem, ded := eventKeys(ev)
				for _, k := range []string{idem, ded} {
					if _, ok := s.keys[k]; k != "" && !ok { // the first event holding a key is the one stored
						s.keys[k] = pendingKey{id: ev.ID, seq: r.Pos}
						s.fifo = append(s.fifo, keyAt{key: k, seq: r.Pos})
						s.filterAdd(k)
					}
				}
			}
		}
		s.mu.Unlock()
		from = recs[len(recs)-1].Pos + 1
	}
	raise(&s.last, head)
	return nil
}

// Last returns the position (message sequence) of the last batch this Sink appended: a
// read that must see every write acknowledged so far waits for the projection to reach
// it.
func (s *Sink) Last() uint64 { return s.last.Load() }

// Pending returns how many keys the dedupe index holds (appended, not yet applied).
func (s *Sink) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.keys)
}

// eventKeys returns the keys an event is unique under, in the order the store checks
// them: its idempotency key in its organization, then its dedupe key.
func eventKeys(ev *mailtrail.Event) (idem, dedupe string) {
	if ik := ingest.IdempotencyKey(ev); ik != nil {
		idem = "i" + ev.OrgID + "\x00" + string(ik)
	}
	if dk := ingest.DedupeKey(ev); dk != nil {
		dedupe = "d" + string(dk)
	}
	return idem, dedupe
}

// Write appends the batch's new events to the log and returns its change-set: Duplicate
// for each event, Events the others, Position the message holding the last of them (the
// last append's when every event was a duplicate). A duplicate takes the id of the event
// it repeats. An error means the batch is not acknowledged: nothing of it is in the
// log, or (a batch larger than a message) its first parts are, found as duplicates by a
// retry.
func (s *Sink) Write(ctx context.Context, batch []*mailtrail.Event) (ingest.ChangeSet, error) {
	s.prune(s.opt.Applied())
	dup := make([]bool, len(batch))
	ids := make([]string, len(batch))
	idem := make([]string, len(batch))
	ded := make([]string, len(batch))
	var ask []int // events with a key the index does not hold: the store may
	filtered := 0 // events the filter answered: the store holds none of their keys
	s.mu.Lock()
	for i, ev := range batch {
		idem[i], ded[i] = eventKeys(ev)
		if idem[i] == "" && ded[i] == "" {
			continue
		}
		// The index first, then the store: a key the index no longer holds was
		// applied, so the store has it by then.
		if k, ok := s.keys[idem[i]]; ok && idem[i] != "" {
			ids[i] = k.id
		} else if k, ok := s.keys[ded[i]]; ok && ded[i] != "" {
			ids[i] = k.id
		} else if s.excluded(idem[i], ded[i]) {
			filtered++
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
	first := map[string]string{}
	var keep []*mailtrail.Event
	for i, ev := range batch {
		if ids[i] == "" {
			if idem[i] != "" {
				ids[i] = first[idem[i]]
			}
			if ids[i] == "" && ded[i] != "" {
				ids[i] = first[ded[i]]
			}
		}
		if ids[i] != "" {
			dup[i] = true
			ev.ID = ids[i]
			continue
		}
		for _, k := range []string{idem[i], ded[i]} {
			if k != "" {
				first[k] = ev.ID
			}
		}
		keep = append(keep, ev)
	}
	cs := ingest.ChangeSet{Duplicate: dup, Events: keep, Position: s.last.Load()}
	if len(keep) == 0 {
		return cs, nil
	}
	seq, err := s.append(ctx, keep)
	if err != nil {
		return ingest.ChangeSet{}, err
	}
	cs.Position = max(seq, cs.Position)
	return cs, nil
}

// append appends events as one append, or, when they do not fit in one message, in
// halves one after the other (in order); it returns the last message's sequence. Each
// part appended enters the dedupe index and Last at once: when a later part fails, the
// caller answers 503 and the retry finds the parts already in the log as duplicates where
// their events carry a key (events without one — pixel hits — are then counted twice, as
// a retried hit is without the log).
func (s *Sink) append(ctx context.Context, events []*mailtrail.Event) (uint64, error) {
	rc, err := s.log.Append(ctx, 0, "", events)
	if errors.Is(err, ErrTooLarge) && len(events) > 1 {
		h := len(events) / 2
		if _, err := s.append(ctx, events[:h]); err != nil {
			return 0, err
		}
		return s.append(ctx, events[h:])
	}
	if err != nil {
		return 0, err
	}
	s.appended(events, rc.Pos.Seq)
	return rc.Pos.Seq, nil
}

// appended records that events (each the first holder of its keys) are in the log in
// message seq.
func (s *Sink) appended(events []*mailtrail.Event, seq uint64) {
	s.mu.Lock()
	for _, ev := range events {
		idem, ded := eventKeys(ev)
		for _, k := range []string{idem, ded} {
			if k != "" {
				s.keys[k] = pendingKey{id: ev.ID, seq: seq}
				s.fifo = append(s.fifo, keyAt{key: k, seq: seq})
				s.filterAdd(k)
			}
		}
	}
	s.mu.Unlock()
	raise(&s.last, seq)
}

// prune forgets the keys of messages up to applied: the projection store holds them.
func (s *Sink) prune(applied uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for n < len(s.fifo) && s.fifo[n].seq <= applied {
		k := s.fifo[n]
		if p, ok := s.keys[k.key]; ok && p.seq == k.seq {
			delete(s.keys, k.key)
		}
		n++
	}
	if n > 0 {
		s.fifo = append(s.fifo[:0], s.fifo[n:]...)
	}
}
