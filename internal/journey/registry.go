package journey

import (
	"sync"
	"sync/atomic"

	"github.com/mailtrail/mailtrail"
)

// DefaultMaxPerOrg is the number of waits one organization may have in progress when
// Options.MaxPerOrg is not set.
const DefaultMaxPerOrg = 1000

// ErrTooMany refuses a wait past an organization's limit (answered 503 with Retry-After).
var ErrTooMany = mailtrail.Errorf(mailtrail.EUNAVAILABLE, "too many waits in progress for this organization; retry later")

// ErrClosed refuses a wait once the registry is closed (the service is stopping).
var ErrClosed = mailtrail.Errorf(mailtrail.EUNAVAILABLE, "the service is stopping; retry")

// Options configure a Registry. Zero values take the defaults noted.
type Options struct {
	MaxPerOrg int // waits in progress per organization; default DefaultMaxPerOrg
}

// Registry is the set of waits in progress, by organization and customer. Notify, fed
// with every committed batch, wakes the waits an event may answer; it never blocks.
type Registry struct {
	max  int
	n    atomic.Int64 // waits registered, read without the lock by Notify and Len
	done chan struct{}

	mu      sync.Mutex
	closed  bool
	waiters map[key]map[*Waiter]struct{}
	perOrg  map[string]int
}

type key struct{ org, customer string }

// Waiter is one registered wait.
type Waiter struct {
	k    key
	cond mailtrail.Condition
	wake chan struct{} // capacity 1: a wake-up is kept until read, and never blocks Notify
	done chan struct{}
}

// NewRegistry returns an empty registry.
func NewRegistry(opt Options) *Registry {
	if opt.MaxPerOrg <= 0 {
		opt.MaxPerOrg = DefaultMaxPerOrg
	}
	return &Registry{max: opt.MaxPerOrg, done: make(chan struct{}),
		waiters: map[key]map[*Waiter]struct{}{}, perOrg: map[string]int{}}
}

// Register adds a wait for condition c of organization org. It returns ErrTooMany past
// the organization's limit and ErrClosed after Close. The caller must Remove the waiter.
func (r *Registry) Register(org string, c mailtrail.Condition) (*Waiter, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, ErrClosed
	}
	if r.perOrg[org] >= r.max {
		return nil, ErrTooMany
	}
	w := &Waiter{k: key{org, c.CustomerID}, cond: c, wake: make(chan struct{}, 1), done: r.done}
	set := r.waiters[w.k]
	if set == nil {
		set = map[*Waiter]struct{}{}
		r.waiters[w.k] = set
	}
	set[w] = struct{}{}
	r.perOrg[org]++
	r.n.Add(1)
	return w, nil
}

// Remove takes a waiter out of the registry; removing it twice is harmless.
func (r *Registry) Remove(w *Waiter) {
	r.mu.Lock()
	defer r.mu.Unlock()
	set := r.waiters[w.k]
	if _, ok := set[w]; !ok {
		return
	}
	delete(set, w)
	if len(set) == 0 {
		delete(r.waiters, w.k)
	}
	if r.perOrg[w.k.org]--; r.perOrg[w.k.org] == 0 {
		delete(r.perOrg, w.k.org)
	}
	r.n.Add(-1)
}

// Notify wakes every wait that an event of evs may answer (see Wakes). It is called on
// the committer's goroutine with each committed batch: it takes one short lock, does a
// map lookup per event and never blocks; with no wait registered it returns at once.
func (r *Registry) Notify(evs []*mailtrail.Event) {
	if r.n.Load() == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, ev := range evs {
		for w := range r.waiters[key{ev.OrgID, ev.CustomerID}] {
			if Wakes(&w.cond, ev) {
				select {
				case w.wake <- struct{}{}:
				default: // already woken
				}
			}
		}
	}
}

// Len returns the number of waits registered.
func (r *Registry) Len() int { return int(r.n.Load()) }

// Close refuses new waits and closes every waiter's Done channel, so waits in progress
// end (the service is stopping). Closing twice is harmless.
func (r *Registry) Close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.closed {
		r.closed = true
		close(r.done)
	}
}

// Woken receives when a committed event may have answered the wait: ask the store again.
func (w *Waiter) Woken() <-chan struct{} { return w.wake }

// Done is closed when the registry closes.
func (w *Waiter) Done() <-chan struct{} { return w.done }
