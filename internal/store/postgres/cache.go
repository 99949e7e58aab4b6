package postgres

import (
	"strings"
	"sync"
	"time"
)

// The tracking endpoints' lookups, cached: a click's target (a message's links and their
// URLs never change once it is instrumented) and the organization of a tracking host
// (for hostTTL: settings another node changes apply within it).

const (
	// maxClickTargets bounds the cached click targets; past it the cache starts over.
	maxClickTargets = 1 << 16
	// maxHosts bounds the cached tracking hosts (any Host header a client sends is
	// looked up once); past it the cache starts over.
	maxHosts = 4096
	// hostTTL is how long a tracking host's organization is kept.
	hostTTL = 5 * time.Second
)

type clickKey struct {
	id  string
	idx int
}

type clickTarget struct{ org, url string }

type hostEntry struct {
	org string
	at  time.Time
}

// lookupCache holds them; its zero value is empty and ready.
type lookupCache struct {
	mu     sync.Mutex
	clicks map[clickKey]clickTarget
	hosts  map[string]hostEntry
}

func (c *lookupCache) click(id string, idx int) (clickTarget, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.clicks[clickKey{id, idx}]
	return t, ok
}

func (c *lookupCache) keepClick(id string, idx int, t clickTarget) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.clicks == nil || len(c.clicks) >= maxClickTargets {
		c.clicks = map[clickKey]clickTarget{}
	}
	c.clicks[clickKey{id, idx}] = t
}

func (c *lookupCache) host(host string, now time.Time) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.hosts[strings.ToLower(host)]
	if !ok || now.Sub(e.at) >= hostTTL || now.Before(e.at) {
		return "", false
	}
	return e.org, true
}

func (c *lookupCache) keepHost(host, org string, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.hosts == nil || len(c.hosts) >= maxHosts {
		c.hosts = map[string]hostEntry{}
	}
	c.hosts[strings.ToLower(host)] = hostEntry{org: org, at: now}
}

// forgetHosts empties the tracking hosts (this store changed an organization's).
func (c *lookupCache) forgetHosts() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.hosts = nil
}
