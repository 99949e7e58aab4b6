package main

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
)

// The demo fills a dashboard: campaigns with opens and clicks of every kind, bounces,
// complaints and suppressions, a connection whose webhooks keep arriving, and a trickle of
// live events; a second run reuses the organization and adds nothing twice.
func TestDemo(t *testing.T) {
	h := newHarness(t)
	h.buildSegmentIndex() // as serve does
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var out bytes.Buffer
	if err := runDemo(ctx, h.app, &out); err != nil {
		t.Fatal(err)
	}
	m := demoKeyLine.FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no key in the demo's output:\n%s", out.String())
	}
	key := m[1]
	page := h.campaigns(key, "")
	if page.Total < 3 {
		t.Fatalf("%d campaigns", page.Total)
	}
	rep := h.report(key, "autumn-sale")
	c := rep.Counts
	if c.Sent != 3000 || c.Delivered == 0 || c.HumanOpensUnique == 0 || c.OpensUnique <= c.HumanOpensUnique ||
		c.HumanClicksUnique == 0 || c.ClicksUnique <= c.HumanClicksUnique || c.Bounced == 0 {
		t.Errorf("autumn-sale counts: %+v", c)
	}
	// Like a real campaign: some people open it many times and click again, and a few
	// unsubscribe days after they first opened it.
	for rule, what := range map[string]string{
		`{"has_done":{"event":"opened","campaign_id":"autumn-sale","human_only":true,"at_least":4}}`:  "people opening four times or more",
		`{"has_done":{"event":"clicked","campaign_id":"autumn-sale","human_only":true,"at_least":2}}`: "people clicking twice or more",
	} {
		if got := h.segJSON(key, "?ids=none", rule); got.Count < 20 {
			t.Errorf("%d %s", got.Count, what)
		}
	}
	unsubs := h.events(key, "campaign_id=autumn-sale&type=unsubscribed&limit=100")
	var daysLater int
	for _, u := range unsubs {
		for _, e := range h.events(key, "campaign_id=autumn-sale&type=opened&customer_id="+u.CustomerID+"&limit=100") {
			if u.OccurredAt.Sub(e.OccurredAt) >= 24*time.Hour {
				daysLater++
				break
			}
		}
	}
	if len(unsubs) < 3 || daysLater < len(unsubs)/2 {
		t.Errorf("%d unsubscribes, %d of them a day or more after an open", len(unsubs), daysLater)
	}
	if evs := h.events(key, "campaign_id=autumn-sale&type=deferred&limit=5"); len(evs) == 0 {
		t.Errorf("no deferred events in the demo")
	}
	var sups mailtrail.SuppressionPage
	if r := h.do("GET", "/api/v1/suppressions?limit=10", key, nil, &sups); r.StatusCode != 200 || len(sups.Suppressions) == 0 {
		t.Errorf("suppressions: %d, %d", r.StatusCode, len(sups.Suppressions))
	}
	// The connection receives webhooks, and the trickle's opens and clicks keep coming
	// (the live-demo campaign appears with them).
	deadline := time.Now().Add(30 * time.Second)
	for {
		var list struct{ Connections []mailtrail.Connection }
		h.do("GET", "/api/v1/connections", key, nil, &list)
		var live mailtrail.Report
		h.do("GET", "/api/v1/campaigns/live-demo/report", key, nil, &live)
		if len(list.Connections) == 1 && list.Connections[0].LastWebhookAt != nil && live.Counts.OpensTotal+live.Counts.ClicksTotal >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no webhook or live events within 30 s: %+v, live-demo %+v", list.Connections, live.Counts)
		}
		time.Sleep(200 * time.Millisecond)
	}
	stop()

	// Run again: the same organization, a new key, no second history.
	out.Reset()
	ctx2, stop2 := context.WithCancel(context.Background())
	defer stop2()
	if err := runDemo(ctx2, h.app, &out); err != nil {
		t.Fatal(err)
	}
	key2 := demoKeyLine.FindStringSubmatch(out.String())[1]
	if key2 == key {
		t.Error("the second run printed the same key")
	}
	if again := h.report(key2, "autumn-sale").Counts.Sent; again != 3000 {
		t.Errorf("autumn-sale sent %d after a second run", again)
	}
	var list struct{ Connections []mailtrail.Connection }
	if h.do("GET", "/api/v1/connections", key2, nil, &list); len(list.Connections) != 1 {
		t.Errorf("%d connections after a second run", len(list.Connections))
	}
}
