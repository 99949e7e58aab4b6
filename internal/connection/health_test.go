package connection

import (
	"errors"
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

// A shared record keeps what it records as deltas until drained; deltas given back
// (the store refused them) add to what is recorded since: nothing counted is lost, the
// earliest first time and the latest error times win, the newest errors are kept.
func TestHealthDeltasDrainAndRestore(t *testing.T) {
	h := NewHealth(time.Unix(0, 0))
	if d := h.drain(); len(d) != 0 {
		t.Fatalf("an unshared record keeps deltas: %+v", d)
	}
	h.share()
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	h.Record("c1", t0, Request{Accepted: 2})
	h.Record("c1", t0.Add(time.Second), Request{Refused: mailtrail.HealthSignature, Err: errors.New("no")})
	first := h.drain()
	if len(first) != 1 || first[0].Counts.AcceptedEvents != 2 || first[0].Counts.SignatureFailures != 1 || len(first[0].Errors) != 1 {
		t.Fatalf("first drain: %+v", first)
	}
	if again := h.drain(); len(again) != 0 {
		t.Fatalf("a second drain: %+v", again)
	}
	for i := range recentErrors {
		h.Record("c1", t0.Add(-time.Minute+time.Duration(i)*time.Millisecond), Request{Refused: mailtrail.HealthInvalid, Err: errors.New("bad")})
	}
	h.restore(first) // the store refused the first drain
	d := h.drain()
	if len(d) != 1 {
		t.Fatalf("after restore: %+v", d)
	}
	got := d[0]
	if got.Counts.AcceptedEvents != 2 || got.Counts.SignatureFailures != 1 || got.Counts.InvalidPayloads != recentErrors {
		t.Errorf("counts %+v", got.Counts)
	}
	if !got.First.Equal(t0.Add(-time.Minute)) || !got.LastErrorAt[mailtrail.HealthSignature].Equal(t0.Add(time.Second)) {
		t.Errorf("first %v, last errors %v", got.First, got.LastErrorAt)
	}
	if len(got.Errors) != recentErrors || got.Errors[0].Kind != mailtrail.HealthInvalid {
		t.Errorf("%d errors, the oldest kept %+v: want the %d newest (the refused delta's error is older)", len(got.Errors), got.Errors[0], recentErrors)
	}
	// The process's own record counted everything once.
	if c := h.Get("c1").Counts; c.AcceptedEvents != 2 || c.InvalidPayloads != recentErrors {
		t.Errorf("the process's record: %+v", c)
	}
}
