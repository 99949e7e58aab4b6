package dashboard

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
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

// ThrottleStore counts refused sign-ins where every process serving the dashboard counts
// them (an API node of the cluster mode: PostgreSQL), so that a client cannot multiply its
// tries by the number of nodes. A key is a keyed digest of a client's address range, never
// the address.
type ThrottleStore interface {
	// SignInFailed counts one refused sign-in under key at now; a count whose window
	// (window long, from its first failure) ended before now starts over at 1.
	SignInFailed(ctx context.Context, key []byte, now time.Time, window time.Duration) error
	// SignInFailures returns the refused sign-ins counted under key and when their window
	// started; 0 when there are none.
	SignInFailures(ctx context.Context, key []byte) (int, time.Time, error)
}

// limiter is the sign-in throttle: in memory (throttle) or in a ThrottleStore
// (sharedThrottle).
type limiter interface {
	// wait tells how long ip must wait before it may try again; 0: it may try now.
	wait(ctx context.Context, ip string) (time.Duration, error)
	// fail counts a wrong key from ip.
	fail(ctx context.Context, ip string) error
}

// waitLeft is how long a client with n failures in the window started at start waits at now.
func waitLeft(n int, start, now time.Time) time.Duration {
	left := start.Add(signInWindow).Sub(now)
	if left <= 0 || n < signInFailures {
		return 0
	}
	return left
}

// sharedThrottle keeps the counts in a ThrottleStore, under HMAC-SHA256(key, range).
type sharedThrottle struct {
	store ThrottleStore
	key   []byte
	now   func() time.Time
}

func (t *sharedThrottle) digest(ip string) []byte {
	m := hmac.New(sha256.New, t.key)
	m.Write([]byte(throttleKey(ip).String()))
	return m.Sum(nil)
}

func (t *sharedThrottle) wait(ctx context.Context, ip string) (time.Duration, error) {
	n, start, err := t.store.SignInFailures(ctx, t.digest(ip))
	if err != nil {
		return 0, err
	}
	return waitLeft(n, start, t.now()), nil
}

func (t *sharedThrottle) fail(ctx context.Context, ip string) error {
	return t.store.SignInFailed(ctx, t.digest(ip), t.now(), signInWindow)
}

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

func (t *throttle) wait(_ context.Context, ip string) (time.Duration, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	a, ok := t.m[throttleKey(ip)]
	if !ok {
		return 0, nil
	}
	return waitLeft(a.n, a.start, t.now()), nil
}

// fail counts a wrong key from ip. When the table is full, expired entries are swept;
// if it is still full (a flood from many addresses), it starts over rather than grow.
func (t *throttle) fail(_ context.Context, ip string) error {
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
	return nil
}
