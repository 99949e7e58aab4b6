package httpd

import (
	"net/http"
	"testing"
)

// With every slot of a connection taken, its next webhook gets 503 with Retry-After and
// nothing is stored; another connection is not affected; a freed slot serves again.
func TestWebhookConcurrencyBound(t *testing.T) {
	h := newHookServer(t)
	h.s.hooks.slots = newHookSlots(1)
	a, b := h.genericConn(), h.genericConn()
	release, ok := h.s.hooks.slots.acquire(a.ID) // a request of a in progress
	if !ok {
		t.Fatal("first slot refused")
	}
	body := genericEvents(1, h.clock())
	rec := h.hook("generic", a.ID, genericKey, body)
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("a's second request: %d %v", rec.Code, rec.Header())
	}
	if got := h.connection(a.ID).WebhookHealth.Counts; got.AcceptedEvents != 0 || got.Unavailable != 1 {
		t.Fatalf("a's health after the refusal: %+v", got)
	}
	if rec := h.hook("generic", b.ID, genericKey, genericEvents(1, h.clock())); rec.Code != http.StatusOK {
		t.Fatalf("b while a is busy: %d %s", rec.Code, rec.Body)
	}
	release()
	if rec := h.hook("generic", a.ID, genericKey, body); rec.Code != http.StatusOK {
		t.Fatalf("a after the slot is freed: %d %s", rec.Code, rec.Body)
	}
	if len(h.s.hooks.slots.busy) != 0 {
		t.Fatalf("slots left taken: %v", h.s.hooks.slots.busy)
	}
	if newHookSlots(0) != nil {
		t.Fatal("0 must mean no bound")
	}
}
