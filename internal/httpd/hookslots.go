package httpd

import "sync"

// hookSlots bounds the webhook requests of one connection in progress at once
// (Options.WebhookConcurrency): past it, the sender gets 503 with Retry-After and retries,
// so one connection's burst cannot take the whole ingest queue from the others. Memory
// holds only connections with requests in progress.
type hookSlots struct {
	limit int
	mu    sync.Mutex
	busy  map[string]int
}

func newHookSlots(limit int) *hookSlots {
	if limit <= 0 {
		return nil
	}
	return &hookSlots{limit: limit, busy: map[string]int{}}
}

// acquire takes a slot of connID; ok is false when all are taken. A nil hookSlots has no
// limit.
func (h *hookSlots) acquire(connID string) (release func(), ok bool) {
	if h == nil {
		return func() {}, true
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.busy[connID] >= h.limit {
		return nil, false
	}
	h.busy[connID]++
	return func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		if h.busy[connID]--; h.busy[connID] <= 0 {
			delete(h.busy, connID)
		}
	}, true
}
