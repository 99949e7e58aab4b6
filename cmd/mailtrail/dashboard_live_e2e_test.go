package main

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
)

// The live page's stream carries an event committed after it connected.
func TestDashboardLiveStream(t *testing.T) {
	h := newHarness(t)
	_, key := h.org("acme")
	b := h.browser()
	b.signIn(key)
	resp, page := b.get("/dashboard/live")
	if resp.StatusCode != 200 || !strings.Contains(page, `src="/dashboard/assets/live.js"`) || strings.Contains(page, "<script>") {
		t.Fatalf("live page: %d", resp.StatusCode)
	}
	if !strings.Contains(page, `<option value="deferred">`) { // every event type is a filter
		t.Errorf("live page has no deferred filter")
	}
	if resp, js := b.get("/dashboard/assets/live.js"); resp.StatusCode != 200 || !strings.Contains(js, "EventSource") {
		t.Errorf("live.js: %d", resp.StatusCode)
	}
	// Without a session there is no stream.
	if resp, _ := h.browser().get("/dashboard/live/stream"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("stream without a session: %d", resp.StatusCode)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", h.srv.URL+"/dashboard/live/stream?type=sent", nil)
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("stream: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	lines := make(chan string, 100)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	waitFor := func(pred func(string) bool) string {
		t.Helper()
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatal("stream ended")
				}
				if pred(l) {
					return l
				}
			case <-ctx.Done():
				t.Fatal("stream: nothing within 30s")
			}
		}
	}
	waitFor(func(l string) bool { return strings.HasPrefix(l, "retry: ") }) // subscribed
	h.postEvents(key,
		map[string]any{"event_type": "delivered", "campaign_id": "live-camp", "customer_id": "c0", "customer_email": "c0@example.com"},
		map[string]any{"event_type": "sent", "campaign_id": "live-camp", "customer_id": "c1", "customer_email": "c1@example.com"})
	data := waitFor(func(l string) bool { return strings.HasPrefix(l, "data: ") })
	var ev mailtrail.Event
	if err := json.Unmarshal([]byte(strings.TrimPrefix(data, "data: ")), &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Type != mailtrail.EventSent || ev.CampaignID != "live-camp" || ev.CustomerID != "c1" {
		t.Errorf("streamed %+v", ev)
	}
}

// The report page follows its campaign's events: it carries report-live.js (a file, no
// inline script) and the session's stream filtered to the campaign, whose first event is
// that campaign's even when another campaign's came first.
func TestDashboardReportLiveStream(t *testing.T) {
	h := newHarness(t)
	_, key := h.org("acme")
	h.postEvents(key, map[string]any{"event_type": "sent", "campaign_id": "live-camp", "customer_id": "c0", "customer_email": "c0@example.com"})
	b := h.browser()
	b.signIn(key)
	resp, page := b.get("/dashboard/campaigns/live-camp")
	if resp.StatusCode != 200 {
		t.Fatalf("report page: %d", resp.StatusCode)
	}
	const stream = "/dashboard/live/stream?campaign_id=live-camp"
	for _, s := range []string{`<script src="/dashboard/assets/report-live.js" defer></script>`, `id="report-live" data-stream="` + stream + `" data-campaign="live-camp"`,
		`aria-live="polite" hidden>`, `id="kpis" data-live`, `id="timeline-body" data-live`, `id="links" data-live`, `id="who" data-live`, `id="opens-by" data-live`, `id="clicks-by" data-live`} {
		if !strings.Contains(page, s) {
			t.Errorf("report page lacks %s", s)
		}
	}
	if strings.Contains(page, "<script>") {
		t.Error("report page has an inline script")
	}
	if resp, js := b.get("/dashboard/assets/report-live.js"); resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Type"), "javascript") ||
		!strings.Contains(js, "EventSource") || !strings.Contains(js, "DOMParser") || strings.Contains(js, "eval(") {
		t.Errorf("report-live.js: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	// The live page does not load it.
	if _, live := b.get("/dashboard/live"); strings.Contains(live, "report-live.js") {
		t.Error("the live page loads report-live.js")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", h.srv.URL+stream, nil)
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("stream: %d", resp.StatusCode)
	}
	lines := make(chan string, 100)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	next := func(prefix string) string {
		t.Helper()
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatal("stream ended")
				}
				if strings.HasPrefix(l, prefix) {
					return strings.TrimPrefix(l, prefix)
				}
			case <-ctx.Done():
				t.Fatal("stream: nothing within 30s")
			}
		}
	}
	next("retry: ")
	h.postEvents(key, map[string]any{"event_type": "opened", "campaign_id": "other-camp", "customer_id": "c9"})
	h.postEvents(key, map[string]any{"event_type": "opened", "campaign_id": "live-camp", "customer_id": "c0"})
	var ev mailtrail.Event
	if err := json.Unmarshal([]byte(next("data: ")), &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Type != mailtrail.EventOpened || ev.CampaignID != "live-camp" {
		t.Errorf("the report's stream carried %+v", ev)
	}
}
