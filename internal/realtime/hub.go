// Package realtime tells the readers of an organization's event stream that new events
// were committed. It carries no events: a woken reader reads them from the store past its
// own position, so it gets exactly the stored form (the same JSON as the events API), a
// slow reader is never dropped nor made to buffer, and nothing is lost or repeated
// between a replay and the live tail.
package realtime

import "sync"

// Hub wakes the subscribers of an organization. The zero value is not usable: call New.
type Hub struct {
	mu     sync.Mutex
	subs   map[string]map[*Sub]struct{}
	n      int
	closed bool
}

// Sub is one subscription to an organization's commits.
type Sub struct {
	// C receives a value (buffered 1, so wakes coalesce) after a commit of events of the
	// organization. It is never closed.
	C    chan struct{}
	done chan struct{}
	hub  *Hub
	org  string
	once sync.Once
}

// Done is closed when the hub closes (the server is shutting down) or the Sub is cancelled.
func (s *Sub) Done() <-chan struct{} { return s.done }

// Cancel ends the subscription. It is safe to call more than once.
func (s *Sub) Cancel() {
	s.once.Do(func() {
		h := s.hub
		h.mu.Lock()
		if m := h.subs[s.org]; m != nil {
			if _, ok := m[s]; ok {
				delete(m, s)
				h.n--
				if len(m) == 0 {
					delete(h.subs, s.org)
				}
			}
		}
		h.mu.Unlock()
		close(s.done)
	})
}

// New returns an empty hub.
func New() *Hub { return &Hub{subs: map[string]map[*Sub]struct{}{}} }

// Subscribe returns a subscription to the organization's commits. After Close it returns
// a subscription whose Done is already closed.
func (h *Hub) Subscribe(org string) *Sub {
	s := &Sub{C: make(chan struct{}, 1), done: make(chan struct{}), hub: h, org: org}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		s.once.Do(func() { close(s.done) })
		return s
	}
	m := h.subs[org]
	if m == nil {
		m = map[*Sub]struct{}{}
		h.subs[org] = m
	}
	m[s] = struct{}{}
	h.n++
	return s
}

// Notify wakes every subscriber of each organization named. It never blocks.
func (h *Hub) Notify(orgs ...string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, org := range orgs {
		for s := range h.subs[org] {
			select {
			case s.C <- struct{}{}:
			default: // already woken; it reads everything past its position anyway
			}
		}
	}
}

// Len returns the number of live subscriptions.
func (h *Hub) Len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.n
}

// Close ends every subscription (their Done channels close) and refuses new ones.
func (h *Hub) Close() {
	h.mu.Lock()
	var all []*Sub
	for _, m := range h.subs {
		for s := range m {
			all = append(all, s)
		}
	}
	h.closed = true
	h.mu.Unlock()
	for _, s := range all {
		s.Cancel()
	}
}
