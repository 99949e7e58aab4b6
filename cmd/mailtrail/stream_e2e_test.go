package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
)

// sseEvent is one event read from GET /api/v1/stream.
type sseEvent struct {
	id int64
	ev mailtrail.Event
}

// sseClient reads an event stream in the background.
type sseClient struct {
	t      *testing.T
	events chan sseEvent
	cancel context.CancelFunc
	done   chan struct{}
}

// openStream connects to the stream with the query (and Last-Event-ID when lastID is not
// empty) and returns once the server has subscribed (it sent its retry: field).
func (h *harness) openStream(key, query, lastID string) *sseClient {
	h.t.Helper()
	return openSSE(h.t, h.srv.URL, h.client.Transport, key, query, lastID)
}

// openSSE is openStream against the server at base, with transport (nil: the default).
func openSSE(t *testing.T, base string, transport http.RoundTripper, key, query, lastID string) *sseClient {

	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/api/v1/stream"+query, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	// The harness client's transport (with MAILTRAIL_TEST_EVENT_LOG=1 a stream then starts
	// after every write acknowledged so far, as its tests expect), without its timeout.
	resp, err := (&http.Client{Transport: transport}).Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		cancel()
		t.Fatalf("stream: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	c := &sseClient{t: t, events: make(chan sseEvent, 10000), cancel: cancel, done: make(chan struct{})}
	ready := make(chan struct{})
	go func() {
		defer close(c.done)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
		var id int64
		var data string
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "retry: "):
				close(ready)
			case strings.HasPrefix(line, "id: "):
				id, _ = strconv.ParseInt(line[4:], 10, 64)
			case strings.HasPrefix(line, "data: "):
				data = line[6:]
			case line == "" && data != "":
				var ev mailtrail.Event
				if err := json.Unmarshal([]byte(data), &ev); err != nil {
					panic(fmt.Sprintf("stream data %q: %v", data, err))
				}
				c.events <- sseEvent{id: id, ev: ev}
				data = ""
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatal("stream: no retry field within 10s")
	}
	t.Cleanup(c.close)
	return c
}

func (c *sseClient) close() {
	c.cancel()
	<-c.done
}

// next returns the next n events, failing the test when they do not come within 20s.
func (c *sseClient) next(n int) []sseEvent {
	c.t.Helper()
	out := make([]sseEvent, 0, n)
	deadline := time.After(20 * time.Second)
	for len(out) < n {
		select {
		case e := <-c.events:
			out = append(out, e)
		case <-deadline:
			c.t.Fatalf("stream: got %d of %d events", len(out), n)
		}
	}
	return out
}

// sentEvents returns n "sent" events of the campaign to customers prefix0…prefixN-1.
func sentEvents(campaign, prefix string, from, n int) []map[string]any {
	evs := make([]map[string]any, n)
	for i := range evs {
		evs[i] = map[string]any{"event_type": "sent", "campaign_id": campaign, "customer_id": fmt.Sprintf("%s%d", prefix, from+i)}
	}
	return evs
}

func TestStreamLiveResumeAndIsolation(t *testing.T) {
	h := newHarness(t)
	orgA, keyA := h.org("A")
	_, keyB := h.org("B")
	seen := map[string]bool{}
	streamed := map[string]mailtrail.Event{}
	var lastID int64
	check := func(got []sseEvent, prefix string, from int) {
		t.Helper()
		for i, e := range got {
			if e.ev.OrgID != orgA {
				t.Fatalf("event of organization %q on A's stream", e.ev.OrgID)
			}
			if want := fmt.Sprintf("%s%d", prefix, from+i); e.ev.CustomerID != want {
				t.Fatalf("event %d: customer %q, want %q", i, e.ev.CustomerID, want)
			}
			if seen[e.ev.ID] {
				t.Fatalf("event %s delivered twice", e.ev.ID)
			}
			if e.id <= lastID {
				t.Fatalf("ids not increasing: %d after %d", e.id, lastID)
			}
			seen[e.ev.ID], lastID = true, e.id
			streamed[e.ev.ID] = e.ev
		}
	}

	live := h.openStream(keyA, "", "")
	h.postEvents(keyB, sentEvents("c1", "b", 0, 3)...)
	h.postEvents(keyA, sentEvents("c1", "a", 0, 5)...)
	check(live.next(5), "a", 0)
	live.close()

	// Disconnected: more than a replay page happens, in several commits.
	h.postEvents(keyA, sentEvents("c1", "a", 5, 1100)...)
	h.postEvents(keyB, sentEvents("c1", "b", 3, 3)...)
	h.postEvents(keyA, sentEvents("c1", "a", 1105, 7)...)
	resumed := h.openStream(keyA, "", strconv.FormatInt(lastID, 10))
	check(resumed.next(1107), "a", 5)
	h.postEvents(keyA, sentEvents("c1", "a", 1112, 2)...)
	check(resumed.next(2), "a", 1112)
	// Nothing more than that: the next event on the stream is the next one posted.
	h.postEvents(keyA, sentEvents("c1", "marker", 0, 1)...)
	if e := resumed.next(1)[0]; e.ev.CustomerID != "marker0" {
		t.Fatalf("after the resumed events came %q, want marker0", e.ev.CustomerID)
	}

	// The events API lists the same events as the stream, field for field.
	for _, ev := range h.events(keyA, "limit=3") {
		if !reflect.DeepEqual(streamed[ev.ID], ev) {
			t.Fatalf("listed event %+v, streamed %+v", ev, streamed[ev.ID])
		}
	}
}

func TestStreamFilters(t *testing.T) {
	h := newHarness(t)
	_, key := h.org("A")
	at := time.Now().UTC().Add(-time.Hour)
	var evs []map[string]any
	for i := range 12 {
		typ := []string{"sent", "opened", "clicked"}[i%3]
		camp := []string{"c1", "c2"}[i%2]
		evs = append(evs, map[string]any{"event_type": typ, "campaign_id": camp, "customer_id": fmt.Sprintf("u%d", i),
			"occurred_at": at.Add(time.Duration(i) * time.Minute).Format(time.RFC3339Nano)})
	}
	h.postEvents(key, evs...)
	// From the beginning (last_event_id=0), only opens and clicks of c2.
	s := h.openStream(key, "?last_event_id=0&type=opened&type=clicked&campaign_id=c2", "")
	got := s.next(4)
	want := []string{"u1", "u5", "u7", "u11"} // i odd (c2) and i%3 != 0
	for i, e := range got {
		if e.ev.CustomerID != want[i] || e.ev.CampaignID != "c2" || e.ev.Type == mailtrail.EventSent {
			t.Fatalf("event %d = %s %s %s, want %s", i, e.ev.CustomerID, e.ev.CampaignID, e.ev.Type, want[i])
		}
	}
	// Live events that do not match are skipped; one that matches comes next.
	h.postEvents(key, map[string]any{"event_type": "opened", "campaign_id": "c1", "customer_id": "x"},
		map[string]any{"event_type": "sent", "campaign_id": "c2", "customer_id": "y"},
		map[string]any{"event_type": "clicked", "campaign_id": "c2", "customer_id": "z"})
	if e := s.next(1)[0]; e.ev.CustomerID != "z" {
		t.Fatalf("live filtered event = %s, want z", e.ev.CustomerID)
	}

	for _, tc := range []struct{ query, lastID string }{
		{"?type=nope", ""}, {"", "abc"}, {"?last_event_id=-1", ""},
	} {
		req, _ := http.NewRequest("GET", h.srv.URL+"/api/v1/stream"+tc.query, nil)
		req.Header.Set("Authorization", "Bearer "+key)
		if tc.lastID != "" {
			req.Header.Set("Last-Event-ID", tc.lastID)
		}
		resp, err := h.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		code := errorCode(t, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 400 || code != mailtrail.EINVALID {
			t.Errorf("%q %q: %d %s, want 400 invalid", tc.query, tc.lastID, resp.StatusCode, code)
		}
	}
	if r := h.do("GET", "/api/v1/stream", "", nil, nil); r.StatusCode != 401 {
		t.Errorf("without a key: %d, want 401", r.StatusCode)
	}
}

// recent=N begins with the last N events that pass the filters (oldest of them first),
// then the live ones; another organization's events never count; a resumption ignores it.
func TestStreamRecent(t *testing.T) {
	h := newHarness(t)
	_, key := h.org("A")
	_, keyB := h.org("B")
	at := time.Now().UTC().Add(-time.Hour)
	var evs []map[string]any
	for i := range 30 {
		evs = append(evs, map[string]any{"event_type": []string{"sent", "opened", "clicked"}[i%3], "campaign_id": "c1",
			"customer_id": fmt.Sprintf("u%d", i), "occurred_at": at.Add(time.Duration(i) * time.Minute).Format(time.RFC3339Nano)})
	}
	h.postEvents(key, evs[:15]...)
	h.postEvents(keyB, sentEvents("c1", "b", 0, 20)...) // between A's commits
	h.postEvents(key, evs[15:]...)
	ids := func(got []sseEvent) []string {
		var out []string
		for _, e := range got {
			out = append(out, e.ev.CustomerID)
		}
		return out
	}
	s := h.openStream(key, "?recent=4", "")
	if got, want := ids(s.next(4)), []string{"u26", "u27", "u28", "u29"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("recent=4: %v, want %v", got, want)
	}
	h.postEvents(key, map[string]any{"event_type": "sent", "campaign_id": "c1", "customer_id": "live"})
	got := s.next(1)
	if got[0].ev.CustomerID != "live" {
		t.Fatalf("after the recent ones came %q, want live", got[0].ev.CustomerID)
	}
	// With filters: the last 3 opens; more than there are: all of them.
	if got, want := ids(h.openStream(key, "?recent=3&type=opened", "").next(3)), []string{"u22", "u25", "u28"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("recent=3 opens: %v, want %v", got, want)
	}
	all := h.openStream(key, "?recent=1000&type=clicked", "")
	if got := ids(all.next(10)); got[0] != "u2" || got[9] != "u29" {
		t.Fatalf("recent=1000 clicks: %v", got)
	}
	// A resumption carries on after its id, whatever recent says.
	resumed := h.openStream(key, "?recent=50", strconv.FormatInt(got[0].id, 10))
	h.postEvents(key, map[string]any{"event_type": "sent", "campaign_id": "c1", "customer_id": "after"})
	if got := ids(resumed.next(1)); got[0] != "after" {
		t.Fatalf("resumed with recent: %v, want after", got)
	}
	for _, q := range []string{"?recent=-1", "?recent=1001", "?recent=x"} {
		req, _ := http.NewRequest("GET", h.srv.URL+"/api/v1/stream"+q, nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := h.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("%s: %d", q, resp.StatusCode)
		}
	}
}

// A Last-Event-ID past the store's last event (a client of another server, or of this one
// before a restore) is answered 400 with a clear error, never a stream that stays silent
// even when events are committed.
func TestStreamLastEventIDBeyondEnd(t *testing.T) {
	h := newHarness(t)
	_, key := h.org("A")
	h.postEvents(key, sentEvents("c1", "a", 0, 3)...)
	live := h.openStream(key, "", "")
	h.postEvents(key, sentEvents("c1", "a", 3, 1)...)
	last := live.next(1)[0].id
	live.close()

	for _, lastID := range []string{strconv.FormatInt(last+1, 10), "999999999"} {
		req, _ := http.NewRequest("GET", h.srv.URL+"/api/v1/stream", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Last-Event-ID", lastID)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		resp, err := (&http.Client{Transport: h.client.Transport}).Do(req.WithContext(ctx))
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		var body struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		cancel()
		if resp.StatusCode != http.StatusBadRequest || body.Error.Code != "invalid" || !strings.Contains(body.Error.Message, "Last-Event-ID") {
			t.Fatalf("Last-Event-ID %s: %d %+v", lastID, resp.StatusCode, body)
		}
	}
	// The last id itself resumes: nothing to replay, then the live events.
	resumed := h.openStream(key, "", strconv.FormatInt(last, 10))
	h.postEvents(key, sentEvents("c1", "b", 0, 1)...)
	if e := resumed.next(1)[0]; e.ev.CustomerID != "b0" {
		t.Fatalf("resumed at the end: got %q, want b0", e.ev.CustomerID)
	}
}
