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
