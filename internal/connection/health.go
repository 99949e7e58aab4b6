package connection

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/mailtrail/mailtrail"
)

// healthKinds are the kinds in the order of healthState.last.
var healthKinds = [...]string{mailtrail.HealthSignature, mailtrail.HealthInvalid, mailtrail.HealthTooLarge, mailtrail.HealthUnavailable, mailtrail.HealthUnattributed, mailtrail.HealthInternal}

const (
	// recentErrors is the length of a connection's ring of errors.
	recentErrors = 20
	// maxHealthTracked bounds the connections whose health is kept; past it, the one
	// that received a webhook least recently is forgotten.
	maxHealthTracked = 10000
	// maxHealthMessage bounds the length of a recorded message, in bytes.
	maxHealthMessage = 200
)

// Health records, per connection, what became of its webhook requests. It lives in
// memory, per process since start: a restart clears it. Only requests that resolved to
// a real connection are recorded, never an id merely named by a path, so its size
// follows the real connections; it is bounded by maxHealthTracked all the same. With a
// HealthStore (Options.HealthStore: the API nodes of the cluster mode), what it records
// is also kept as deltas that ShareHealth adds to the store, where every node reads the
// sum. Safe for concurrent use.
type Health struct {
	since time.Time

	mu      sync.Mutex
	conns   map[string]*healthState
	pending map[string]*HealthDelta // recorded since the last drain; nil: not shared
}

// healthState is one connection's record.
type healthState struct {
	seen   time.Time // last request recorded, for eviction
	counts mailtrail.HealthCounts
	last   [len(healthKinds)]time.Time // by index in healthKinds; zero: never
	ring   []mailtrail.ConnectionError // grows to recentErrors, then overwritten at next
	next   int
}

// HealthStore keeps the connections' webhook health where every process that receives
// webhooks adds to it and reads it (the cluster's PostgreSQL).
type HealthStore interface {
	// AddHealth adds what processes recorded: each delta's counts to its connection's,
	// the later of each kind's last error time, its errors to the connection's recent
	// ones (the store keeps the newest recentErrors); the record's Since is its first
	// delta's First.
	AddHealth(ctx context.Context, deltas []HealthDelta) error
	// ConnectionHealth returns the record of connection connID; false when nothing was
	// ever added for it.
	ConnectionHealth(ctx context.Context, connID string) (mailtrail.ConnectionHealth, bool, error)
}

// HealthDelta is what one process recorded of a connection's webhooks since it last gave
// its deltas to the store.
type HealthDelta struct {
	ConnID      string
	First       time.Time // the first of these requests
	Counts      mailtrail.HealthCounts
	LastErrorAt map[string]time.Time
	Errors      []mailtrail.ConnectionError // oldest first, the newest recentErrors
}

// NewHealth returns an empty record whose counts start at since.
func NewHealth(since time.Time) *Health {
	return &Health{since: since, conns: map[string]*healthState{}}
}

// Request is what became of one webhook request, as the record keeps it.
type Request struct {
	// Refused is the kind of error the sender was answered (mailtrail.HealthSignature,
	// HealthInvalid, HealthTooLarge, HealthUnavailable or HealthInternal), with Err, the
	// error itself; "" for a request acknowledged.
	Refused string
	Err     error
	// Replay: acknowledged without storing, a replay of a request already accepted.
	Replay bool
	// Accepted, Duplicates and Unattributed are the events of a request acknowledged.
	Accepted, Duplicates, Unattributed int
}

// Record adds one webhook request of connection connID, answered at at.
func (h *Health) Record(connID string, at time.Time, r Request) {
	kind, msg := r.Refused, ""
	switch kind {
	case "":
	case mailtrail.HealthSignature, mailtrail.HealthInvalid, mailtrail.HealthTooLarge, mailtrail.HealthUnavailable, mailtrail.HealthInternal:
		msg = healthMessage(r.Err)
	default:
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	st := h.state(connID)
	st.seen = at
	record(&st.counts, st.add, kind, msg, at, r)
	if h.pending != nil {
		d := h.pending[connID]
		if d == nil {
			d = &HealthDelta{ConnID: connID, First: at, LastErrorAt: map[string]time.Time{}}
			h.pending[connID] = d
		}
		if at.Before(d.First) {
			d.First = at
		}
		record(&d.Counts, d.add, kind, msg, at, r)
	}
}

// record counts one request (kind, msg: Record's) in c, and gives add the error it
// records, if any.
func record(c *mailtrail.HealthCounts, add func(mailtrail.ConnectionError), kind, msg string, at time.Time, r Request) {
	switch kind {
	case mailtrail.HealthSignature:
		c.SignatureFailures++
	case mailtrail.HealthInvalid:
		c.InvalidPayloads++
	case mailtrail.HealthTooLarge:
		c.TooLarge++
	case mailtrail.HealthUnavailable:
		c.Unavailable++
	case mailtrail.HealthInternal:
		c.InternalErrors++
	}
	if kind != "" {
		add(mailtrail.ConnectionError{At: at, Kind: kind, Message: msg})
		return
	}
	if r.Replay {
		c.ReplayedRequests++
		return
	}
	c.AcceptedRequests++
	c.AcceptedEvents += int64(r.Accepted)
	c.DuplicateEvents += int64(r.Duplicates)
	c.UnattributedEvents += int64(r.Unattributed)
	if n := r.Unattributed; n > 0 {
		msg := fmt.Sprintf("%d events could not be matched to a sent message", n)
		if n == 1 {
			msg = "1 event could not be matched to a sent message"
		}
		add(mailtrail.ConnectionError{At: at, Kind: mailtrail.HealthUnattributed, Message: msg})
	}
}

// add appends e to the delta's errors (the newest recentErrors are kept) and notes its
// time as the last of its kind.
func (d *HealthDelta) add(e mailtrail.ConnectionError) {
	if e.At.After(d.LastErrorAt[e.Kind]) {
		d.LastErrorAt[e.Kind] = e.At
	}
	d.Errors = append(d.Errors, e)
	if len(d.Errors) > recentErrors {
		d.Errors = slices.Delete(d.Errors, 0, len(d.Errors)-recentErrors)
	}
}

// share makes the record keep deltas for a store (drain).
func (h *Health) share() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.pending == nil {
		h.pending = map[string]*HealthDelta{}
	}
}

// drain returns the deltas recorded since the last drain and starts new ones.
func (h *Health) drain() []HealthDelta {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]HealthDelta, 0, len(h.pending))
	for _, d := range h.pending {
		out = append(out, *d)
	}
	if len(out) > 0 {
		h.pending = map[string]*HealthDelta{}
	}
	return out
}

// restore gives back deltas the store did not take: they are added to the ones recorded
// since, for the next drain.
func (h *Health) restore(deltas []HealthDelta) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, old := range deltas {
		d := h.pending[old.ConnID]
		if d == nil {
			c := old
			h.pending[old.ConnID] = &c
			continue
		}
		if old.First.Before(d.First) {
			d.First = old.First
		}
		addCounts(&d.Counts, old.Counts)
		for k, at := range old.LastErrorAt {
			if at.After(d.LastErrorAt[k]) {
				d.LastErrorAt[k] = at
			}
		}
		d.Errors = append(slices.Clone(old.Errors), d.Errors...)
		if len(d.Errors) > recentErrors {
			d.Errors = slices.Delete(d.Errors, 0, len(d.Errors)-recentErrors)
		}
	}
}

// addCounts adds b to a.
func addCounts(a *mailtrail.HealthCounts, b mailtrail.HealthCounts) {
	a.AcceptedRequests += b.AcceptedRequests
	a.AcceptedEvents += b.AcceptedEvents
	a.DuplicateEvents += b.DuplicateEvents
	a.UnattributedEvents += b.UnattributedEvents
	a.ReplayedRequests += b.ReplayedRequests
	a.SignatureFailures += b.SignatureFailures
	a.InvalidPayloads += b.InvalidPayloads
	a.TooLarge += b.TooLarge
	a.Unavailable += b.Unavailable
	a.InternalErrors += b.InternalErrors
}

// state returns connID's record, creating it; when the map is full, the record seen
// least recently goes first. h.mu is held.
func (h *Health) state(connID string) *healthState {
	if st, ok := h.conns[connID]; ok {
		return st
	}
	if len(h.conns) >= maxHealthTracked {
		var oldest string
		var at time.Time
		for id, st := range h.conns {
			if oldest == "" || st.seen.Before(at) {
				oldest, at = id, st.seen
			}
		}
		delete(h.conns, oldest)
	}
	st := &healthState{}
	h.conns[connID] = st
	return st
}

// add puts e in the ring, over the oldest entry once it is full, and notes its time as
// the last of its kind.
func (st *healthState) add(e mailtrail.ConnectionError) {
	for i, k := range healthKinds {
		if k == e.Kind {
			st.last[i] = e.At
		}
	}
	if len(st.ring) < recentErrors {
		st.ring = append(st.ring, e)
		return
	}
	st.ring[st.next] = e
	st.next = (st.next + 1) % recentErrors
}

// Get returns a copy of what the record holds of connection connID since it started (see
// mailtrail.ConnectionHealth); an unseen connection has zero counts and no errors.
func (h *Health) Get(connID string) mailtrail.ConnectionHealth {
	out := mailtrail.ConnectionHealth{Since: h.since, LastErrorAt: map[string]time.Time{}, RecentErrors: []mailtrail.ConnectionError{}}
	h.mu.Lock()
	defer h.mu.Unlock()
	st, ok := h.conns[connID]
	if !ok {
		return out
	}
	out.Counts = st.counts
	for i, k := range healthKinds {
		if !st.last[i].IsZero() {
			out.LastErrorAt[k] = st.last[i]
		}
	}
	// Newest first: the entry before next, backwards around the ring.
	n := len(st.ring)
	out.RecentErrors = make([]mailtrail.ConnectionError, 0, n)
	for i := 1; i <= n; i++ {
		out.RecentErrors = append(out.RecentErrors, st.ring[((st.next-i)%n+n)%n])
	}
	return out
}

// Tracked returns the number of connections recorded.
func (h *Health) Tracked() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.conns)
}

// healthMessage is the text recorded for err: the message of a domain error (our own
// words; "internal error" for any other), cut to maxHealthMessage bytes.
func healthMessage(err error) string {
	msg := mailtrail.ErrorMessage(err)
	if len(msg) <= maxHealthMessage {
		return msg
	}
	cut := maxHealthMessage
	for cut > 0 && !utf8.RuneStart(msg[cut]) {
		cut--
	}
	return msg[:cut] + "…"
}
