package main

import (
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
)

// An event dated more than 5 minutes before its message's send (a vendor's documentation
// sample of 2024 on a 2026 campaign) is stored and counted, flagged before_send, and kept
// out of the timeline's range: the hourly and daily series start at the campaign's first
// send, and its figures are in before_send. Figures still add up.
func TestEventBeforeSend(t *testing.T) {
	h := newHarness(t)
	_, key := h.org("acme")
	sent := time.Now().UTC().Add(-2 * time.Hour).Truncate(time.Hour)
	at := func(d time.Duration) string { return sent.Add(d).Format(time.RFC3339) }
	sample := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC).Format(time.RFC3339)
	h.postEvents(key,
		map[string]any{"event_type": "sent", "campaign_id": "spring", "customer_id": "u1", "occurred_at": at(0)},
		map[string]any{"event_type": "sent", "campaign_id": "spring", "customer_id": "u2", "occurred_at": at(0)},
		map[string]any{"event_type": "delivered", "campaign_id": "spring", "customer_id": "u1", "occurred_at": at(-4 * time.Minute)},
		map[string]any{"event_type": "opened", "campaign_id": "spring", "customer_id": "u1", "occurred_at": at(30 * time.Minute)},
		map[string]any{"event_type": "opened", "campaign_id": "spring", "customer_id": "u2", "occurred_at": sample},
	)
	flags := map[string]bool{}
	for _, e := range h.events(key, "campaign_id=spring") {
		flags[e.CustomerID+" "+e.Type.String()] = e.BeforeSend
	}
	want := map[string]bool{"u1 sent": false, "u2 sent": false, "u1 delivered": false, "u1 opened": false, "u2 opened": true}
	for k, v := range want {
		if flags[k] != v {
			t.Errorf("%s: before_send %v, want %v", k, flags[k], v)
		}
	}
	rep := h.report(key, "spring")
	if rep.Counts.Sent != 2 || rep.Counts.OpensUnique != 2 || rep.Counts.OpensTotal != 2 {
		t.Fatalf("counts %+v: the flagged open must still count", rep.Counts)
	}
	if rep.BeforeSend == nil {
		t.Fatalf("no before_send in the report: hourly starts at %v", rep.Hourly[0].Start)
	}
	for name, tl := range map[string][]mailtrail.TimelineBucket{"hourly": rep.Hourly, "daily": rep.Daily} {
		if len(tl) == 0 || tl[0].Start.Year() != sent.Year() || tl[0].Start.Before(sent.Add(-24*time.Hour)) {
			t.Fatalf("%s timeline starts at %v, before the campaign's send %v", name, tl, sent)
		}
		var opens int64
		for _, b := range tl {
			opens += b.OpensTotal
		}
		if opens+rep.BeforeSend.OpensTotal != rep.Counts.OpensTotal {
			t.Fatalf("%s: %d charted opens + %d before send != %d", name, opens, rep.BeforeSend.OpensTotal, rep.Counts.OpensTotal)
		}
	}
	if rep.BeforeSend.OpensUnique != 1 || rep.BeforeSend.Sent != 0 || !rep.BeforeSend.Start.Equal(time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)) {
		t.Fatalf("before_send %+v, want the 2024 open", rep.BeforeSend)
	}
	// The dashboard's chart follows the timeline (no 2024 on its axis) and says what it
	// leaves out.
	b := h.browser()
	b.signIn(key)
	_, page := b.get("/dashboard/campaigns/spring")
	i := strings.Index(page, `id="before-send"`)
	if i < 0 || !strings.Contains(page[i:], "from 2024-03-01") {
		t.Fatal("dashboard report: no before-send note")
	}
	if rest := page[:i] + page[i+strings.Index(page[i:], "</p>"):]; strings.Contains(rest, "2024") || strings.Contains(rest, "Mar 2024") {
		t.Fatal("dashboard report: the chart still reaches back to 2024")
	}
}
