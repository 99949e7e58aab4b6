package connection

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/mailtrail/mailtrail"
)

// The record is bounded: past maxHealthTracked connections, the one seen least recently
// is forgotten.
func TestWebhookHealthBounded(t *testing.T) {
	t0 := time.Unix(1700000000, 0)
	h := NewHealth(t0)
	for i := range maxHealthTracked {
		h.Record(fmt.Sprintf("conn_%d", i), t0.Add(time.Duration(i)*time.Second), Request{Accepted: 1})
	}
	h.Record("conn_0", t0.Add(time.Hour), Request{Accepted: 1}) // seen again: now the newest
	h.Record("conn_new", t0.Add(2*time.Hour), Request{Accepted: 1})
	if n := h.Tracked(); n != maxHealthTracked {
		t.Errorf("%d tracked, want %d", n, maxHealthTracked)
	}
	for id, want := range map[string]int64{"conn_0": 2, "conn_1": 0, "conn_2": 1, "conn_new": 1} {
		if got := h.Get(id).Counts.AcceptedRequests; got != want {
			t.Errorf("%s: %d accepted requests, want %d", id, got, want)
		}
	}
}

// A message is our own text, cut short; errors that are not domain errors say nothing
// more than "internal error".
func TestWebhookHealthMessage(t *testing.T) {
	h := NewHealth(time.Unix(0, 0))
	h.Record("c", time.Unix(1, 0), Request{Refused: mailtrail.HealthInternal, Err: fmt.Errorf("sqlite: secret detail 10.1.2.3")})
	h.Record("c", time.Unix(2, 0), Request{Refused: mailtrail.HealthInvalid, Err: mailtrail.Errorf(mailtrail.EINVALID, "%s", strings.Repeat("é", 300))})
	got := h.Get("c")
	if m := got.RecentErrors[1].Message; m != "internal error" || got.RecentErrors[1].Kind != mailtrail.HealthInternal {
		t.Errorf("internal: %+v", got.RecentErrors[1])
	}
	if m := got.RecentErrors[0].Message; len(m) > maxHealthMessage+len("…") || !strings.HasSuffix(m, "…") || !utf8.ValidString(m) {
		t.Errorf("long message not cut: %d bytes", len(m))
	}
}
