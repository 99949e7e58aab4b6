package httpd

import (
	"fmt"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/mailtrail/mailtrail"
)

// The health types live in the root package (the dashboard shows them too); these names
// keep the handlers' code short.
type (
	HealthCounts     = mailtrail.HealthCounts
	ConnectionError  = mailtrail.ConnectionError
	ConnectionHealth = mailtrail.ConnectionHealth
)

const (
	HealthSignature    = mailtrail.HealthSignature
	HealthInvalid      = mailtrail.HealthInvalid
	HealthTooLarge     = mailtrail.HealthTooLarge
	HealthUnavailable  = mailtrail.HealthUnavailable
	HealthUnattributed = mailtrail.HealthUnattributed
	HealthInternal     = mailtrail.HealthInternal
)

// healthKinds are the kinds in the order of healthState.last.
var healthKinds = [...]string{HealthSignature, HealthInvalid, HealthTooLarge, HealthUnavailable, HealthUnattributed, HealthInternal}

const (
	// recentErrors is the length of a connection's ring of errors.
	recentErrors = 20
	// maxHealthTracked bounds the connections whose health is kept; past it, the one
	// that received a webhook least recently is forgotten.
	maxHealthTracked = 10000
	// maxHealthMessage bounds the length of a recorded message, in bytes.
	maxHealthMessage = 200
)

// webhookHealth records, per connection, what became of its webhook requests. It lives
// in memory, per process since start: a restart clears it, and each instance of a
// scaled-out deployment has its own. Only requests that resolved to a real connection are
// recorded, never an id merely named by a path, so its size follows the real connections;
// it is bounded by maxHealthTracked all the same. Safe for concurrent use.
type webhookHealth struct {
	since time.Time

	mu    sync.Mutex
	conns map[string]*healthState
}

// healthState is one connection's record.
type healthState struct {
	seen   time.Time // last request recorded, for eviction
	counts HealthCounts
	last   [len(healthKinds)]time.Time // by index in healthKinds; zero: never
	ring   []ConnectionError           // grows to recentErrors, then overwritten at next
	next   int
}

func newWebhookHealth(since time.Time) *webhookHealth {
	return &webhookHealth{since: since, conns: map[string]*healthState{}}
}

// record adds one webhook request of connection connID, answered at at with outcome.
// err is the error the sender was answered (nil when accepted); res what was stored.
func (h *webhookHealth) record(connID string, at time.Time, outcome string, err error, res webhookResponse) {
	var kind, msg string
	switch outcome {
	case outcomeUnauthorized:
		kind = HealthSignature
	case outcomeInvalid:
		kind = HealthInvalid
	case outcomeTooLarge:
		kind = HealthTooLarge
	case outcomeUnavailable:
		kind = HealthUnavailable
	case outcomeError:
		kind = HealthInternal
	case outcomeAccepted, outcomeReplay:
	default:
		return
	}
	if kind != "" {
		msg = healthMessage(err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	st := h.state(connID)
	st.seen = at
	c := &st.counts
	switch kind {
	case HealthSignature:
		c.SignatureFailures++
	case HealthInvalid:
		c.InvalidPayloads++
	case HealthTooLarge:
		c.TooLarge++
	case HealthUnavailable:
		c.Unavailable++
	case HealthInternal:
		c.InternalErrors++
	}
	if kind != "" {
		st.add(ConnectionError{At: at, Kind: kind, Message: msg})
		return
	}
	if outcome == outcomeReplay {
		c.ReplayedRequests++
		return
	}
	c.AcceptedRequests++
	c.AcceptedEvents += int64(res.Accepted)
	c.DuplicateEvents += int64(res.Duplicates)
	c.UnattributedEvents += int64(res.Unattributed)
	if n := res.Unattributed; n > 0 {
		msg := fmt.Sprintf("%d events could not be matched to a sent message", n)
		if n == 1 {
			msg = "1 event could not be matched to a sent message"
		}
		st.add(ConnectionError{At: at, Kind: HealthUnattributed, Message: msg})
	}
}

// state returns connID's record, creating it; when the map is full, the record seen
// least recently goes first. h.mu is held.
func (h *webhookHealth) state(connID string) *healthState {
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
func (st *healthState) add(e ConnectionError) {
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

// get returns a copy of connID's health; an unseen connection has zero counts and no
// errors.
func (h *webhookHealth) get(connID string) ConnectionHealth {
	out := ConnectionHealth{Since: h.since, LastErrorAt: map[string]time.Time{}, RecentErrors: []ConnectionError{}}
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
	out.RecentErrors = make([]ConnectionError, 0, n)
	for i := 1; i <= n; i++ {
		out.RecentErrors = append(out.RecentErrors, st.ring[((st.next-i)%n+n)%n])
	}
	return out
}

// tracked returns the number of connections recorded.
func (h *webhookHealth) tracked() int {
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

// WebhookHealth returns a copy of what this process saw of connection connID's webhooks
// since it started (see ConnectionHealth). An unknown id gets zero counts and no errors;
// it never fails.
func (s *Server) WebhookHealth(connID string) ConnectionHealth {
	return s.hooks.health.get(connID)
}
