package connection

import (
	"fmt"
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
// memory, per process since start: a restart clears it, and each instance of a scaled-out
// deployment has its own. Only requests that resolved to a real connection are recorded,
// never an id merely named by a path, so its size follows the real connections; it is
// bounded by maxHealthTracked all the same. Safe for concurrent use.
type Health struct {
	since time.Time

	mu    sync.Mutex
	conns map[string]*healthState
}

// healthState is one connection's record.
type healthState struct {
	seen   time.Time // last request recorded, for eviction
	counts mailtrail.HealthCounts
	last   [len(healthKinds)]time.Time // by index in healthKinds; zero: never
	ring   []mailtrail.ConnectionError // grows to recentErrors, then overwritten at next
	next   int
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
	c := &st.counts
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
		st.add(mailtrail.ConnectionError{At: at, Kind: kind, Message: msg})
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
		st.add(mailtrail.ConnectionError{At: at, Kind: mailtrail.HealthUnattributed, Message: msg})
	}
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
