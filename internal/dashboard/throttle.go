package dashboard

import (
	"net/netip"
	"sync"
	"time"
)

// Sign-in throttling: API keys and the admin token are long random secrets, so guessing is
// hopeless; the limit keeps a script from trying anyway (and from filling the logs). A
// client address (IPv6 by its /64) gets signInFailures wrong keys per signInWindow, then
// 429 until the window ends. Right keys are not counted and do not reset the count.
const (
	signInFailures = 10
	signInWindow   = 15 * time.Minute
	maxThrottled   = 10000 // addresses remembered; see throttle.fail
)

type attempts struct {
	n     int
	start time.Time
}

type throttle struct {
	mu  sync.Mutex
	m   map[netip.Prefix]*attempts
	now func() time.Time
}

func newThrottle(now func() time.Time) *throttle {
	return &throttle{m: map[netip.Prefix]*attempts{}, now: now}
}

// throttleKey is the address's /32 or /64; "" (unknown address) is one shared key.
func throttleKey(ip string) netip.Prefix {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return netip.Prefix{}
	}
	a = a.Unmap()
	bits := 32
	if a.Is6() {
		bits = 64
	}
	p, _ := a.Prefix(bits)
	return p
}

// wait tells how long ip must wait before it may try again; 0: it may try now.
func (t *throttle) wait(ip string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	a, ok := t.m[throttleKey(ip)]
	if !ok {
		return 0
	}
	left := a.start.Add(signInWindow).Sub(t.now())
	if left <= 0 || a.n < signInFailures {
		return 0
	}
	return left
}

// fail counts a wrong key from ip. When the table is full, expired entries are swept;
// if it is still full (a flood from many addresses), it starts over rather than grow.
func (t *throttle) fail(ip string) {
	k := throttleKey(ip)
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	a, ok := t.m[k]
	if ok && now.Sub(a.start) >= signInWindow {
		ok = false
	}
	if !ok {
		if len(t.m) >= maxThrottled {
			for key, v := range t.m {
				if now.Sub(v.start) >= signInWindow {
					delete(t.m, key)
				}
			}
			if len(t.m) >= maxThrottled {
				clear(t.m)
			}
		}
		a = &attempts{start: now}
		t.m[k] = a
	}
	a.n++
}
