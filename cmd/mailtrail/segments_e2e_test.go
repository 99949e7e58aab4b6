package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
)

// buildSegmentIndex builds the segment index in the background as serve does (until the
// test ends) and waits until it answers.
func (h *harness) buildSegmentIndex() {
	h.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	h.t.Cleanup(cancel)
	go runSegmentIndex(ctx, h.app.segments, h.app.log)
	for deadline := time.Now().Add(20 * time.Second); !h.app.segments.Ready(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			h.t.Fatal("the segment index was never ready")
		}
	}
}

func segEvent(typ, camp, cust string, ago time.Duration, meta map[string]any) map[string]any {
	e := map[string]any{"event_type": typ, "campaign_id": camp, "customer_id": cust, "customer_email": cust + "@example.com",
		"occurred_at": time.Now().Add(-ago).UTC().Format(time.RFC3339Nano)}
	if meta != nil {
		e["metadata"] = meta
	}
	return e
}

type segAnswer struct {
	Count       int      `json:"count"`
	CustomerIDs []string `json:"customer_ids"`
	NextCursor  string   `json:"next_cursor"`
	CustomerID  string   `json:"customer_id"`
	Match       *bool    `json:"match"`
	Error       *mailtrail.Error
}

func (h *harness) segment(key, query string, body string, contentType, accept string) (*http.Response, []byte) {
	h.t.Helper()
	req, _ := http.NewRequest("POST", h.srv.URL+"/api/v1/segments/evaluate"+query, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", contentType)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := h.client.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func (h *harness) segJSON(key, query, body string) segAnswer {
	h.t.Helper()
	resp, b := h.segment(key, query, body, "application/json", "")
	var out segAnswer
	if err := json.Unmarshal(b, &out); err != nil || resp.StatusCode != 200 {
		h.t.Fatalf("segment %s %s: %d %s", query, body, resp.StatusCode, b)
	}
	return out
}

func TestSegmentsEndToEnd(t *testing.T) {
	h := newHarness(t)
	_, key := h.org("acme")
	_, otherKey := h.org("other")
	day := 24 * time.Hour
	h.postEvents(key,
		segEvent("sent", "spring", "a", 10*day, nil), segEvent("opened", "spring", "a", 5*day, nil),
		segEvent("sent", "spring", "b", 10*day, nil),
		segEvent("sent", "winter", "c", 40*day, nil), segEvent("opened", "winter", "c", 35*day, nil),
		segEvent("clicked", "winter", "c", 35*day, map[string]any{"link_url": "https://shop.example.com/a"}))
	h.postEvents(otherKey, segEvent("sent", "spring", "a", day, nil), segEvent("opened", "spring", "z", day, nil))

	opened30 := `{"has_done":{"event":"opened","within":{"value":30,"unit":"DAY"}}}`
	// Until the index is built: 503, warming up.
	if resp, b := h.segment(key, "?ids=none", opened30, "application/json", ""); resp.StatusCode != 503 || !strings.Contains(string(b), "warming up") {
		t.Fatalf("before the build: %d %s", resp.StatusCode, b)
	}
	h.buildSegmentIndex()

	if got := h.segJSON(key, "?ids=none", opened30); got.Count != 1 || got.CustomerIDs != nil {
		t.Fatalf("count: %+v", got)
	}
	notOpened := `{"has_not_done":{"event":"opened","within":{"value":30,"unit":"DAY"}}}`
	if got := h.segJSON(key, "", notOpened); got.Count != 2 || !slices.Equal(got.CustomerIDs, []string{"b", "c"}) {
		t.Fatalf("has_not_done over the organization's universe: %+v", got)
	}
	// Candidates: JSON body, then an NDJSON stream; an unknown id has done nothing.
	withCands := `{"rule":` + notOpened + `,"candidates":["a","b","zz"]}`
	if got := h.segJSON(key, "", withCands); !slices.Equal(got.CustomerIDs, []string{"b", "zz"}) {
		t.Fatalf("candidates: %+v", got)
	}
	resp, b := h.segment(key, "", notOpened+"\n\"a\"\n{\"customer_id\":\"b\"}\n\"zz\"\n", "application/x-ndjson", "application/x-ndjson")
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-ndjson" ||
		!slices.Equal(lines, []string{`{"customer_id":"b"}`, `{"customer_id":"zz"}`, `{"count":2}`}) {
		t.Fatalf("NDJSON: %d %q", resp.StatusCode, lines)
	}
	// Pages.
	page1 := h.segJSON(key, "?limit=1", notOpened)
	page2 := h.segJSON(key, "?limit=1&cursor="+page1.NextCursor, notOpened)
	if !slices.Equal(page1.CustomerIDs, []string{"b"}) || !slices.Equal(page2.CustomerIDs, []string{"c"}) || page2.NextCursor != "" {
		t.Fatalf("pages: %+v %+v", page1, page2)
	}
	// One customer.
	clickedA := `{"and":[{"has_done":{"event":"clicked","link_url":"https://shop.example.com/a","human_only":true}},{"not":{"has_done":{"event":"opened","campaign_id":"spring"}}}]}`
	if got := h.segJSON(key, "?customer_id=c", clickedA); got.Match == nil || !*got.Match || got.CustomerID != "c" {
		t.Fatalf("single customer: %+v", got)
	}
	if got := h.segJSON(key, "?customer_id=a", clickedA); got.Match == nil || *got.Match {
		t.Fatalf("single customer: %+v", got)
	}
	// Bad rules: 400 with the pointer of the failing node.
	for body, ptr := range map[string]string{
		`{"and":[{"has_done":{"event":"opened"}},{"not":{"has_done":{"event":"opened","within":{"value":3,"unit":"FORTNIGHT"}}}}]}`: "/and/1/not/has_done/within/unit",
		`{"rule":{"or":[{"has_done":{"event":"sent","human_only":true}}]}}`:                                                         "/rule/or/0/has_done/human_only",
	} {
		resp, b := h.segment(key, "", body, "application/json", "")
		var e struct{ Error mailtrail.Error }
		json.Unmarshal(b, &e)
		if resp.StatusCode != 400 || len(e.Error.Details) != 1 || e.Error.Details[0].Field != ptr || !strings.HasPrefix(e.Error.Message, ptr) {
			t.Fatalf("%s: %d %s", body, resp.StatusCode, b)
		}
	}
	// Live: an event committed now is in the answers within moments (the pipeline answers
	// the request, then hands the batch to the index).
	h.postEvents(key, segEvent("opened", "spring", "b", time.Minute, nil))
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		got := h.segJSON(key, "", opened30)
		if slices.Equal(got.CustomerIDs, []string{"a", "b"}) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after a live event: %+v", got)
		}
	}
	// Tenants: the other organization sees its own customers only (z opened without a
	// send: it is known all the same).
	if got := h.segJSON(otherKey, "", `{"or":[{"has_done":{"event":"opened"}},{"has_done":{"event":"sent"}}]}`); !slices.Equal(got.CustomerIDs, []string{"a", "z"}) {
		t.Fatalf("other organization: %+v", got)
	}
	// An erased customer is no longer named by the CRM's id.
	if r := h.do("DELETE", "/api/v1/customers/a", key, nil, nil); r.StatusCode != 200 {
		t.Fatalf("erase: %d", r.StatusCode)
	}
	got := h.segJSON(key, "", opened30)
	if len(got.CustomerIDs) != 2 || !strings.HasPrefix(got.CustomerIDs[0], "erased:") || got.CustomerIDs[1] != "b" {
		t.Fatalf("after erasing a: %+v", got)
	}
	if got := h.segJSON(key, "?customer_id=a", opened30); *got.Match {
		t.Fatalf("the erased id still matches: %+v", got)
	}
	// A streamed answer of the whole universe ends with the count.
	resp, b = h.segment(key, "", `{"has_done":{"event":"sent"}}`, "application/json", "application/x-ndjson")
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	var n int
	for sc.Scan() {
		n++
	}
	if resp.StatusCode != 200 || n != 4 || !strings.HasSuffix(string(b), "{\"count\":3}\n") {
		t.Fatalf("stream: %d %s", resp.StatusCode, b)
	}
}

// The default universe is every customer the service knows (any counted event), not only
// those with a sent event: a CRM that records only the ESP's deliveries gets the same
// answers as one that records sends, and a count agrees with the one-customer answer.
func TestSegmentsUniverseWithoutSends(t *testing.T) {
	h := newHarness(t)
	_, key := h.org("acme")
	day := 24 * time.Hour
	h.postEvents(key,
		segEvent("delivered", "spring", "d", 3*day, nil), segEvent("opened", "spring", "d", 2*day, nil),
		segEvent("delivered", "spring", "e", 3*day, nil),
		segEvent("unsubscribed", "spring", "f", day, nil))
	h.buildSegmentIndex()
	opened := `{"has_done":{"event":"opened","within":{"value":30,"unit":"DAY"}}}`
	if got := h.segJSON(key, "", opened); got.Count != 1 || !slices.Equal(got.CustomerIDs, []string{"d"}) {
		t.Fatalf("opened over a universe without sends: %+v", got)
	}
	if got := h.segJSON(key, "?customer_id=d", opened); got.Match == nil || !*got.Match {
		t.Fatalf("one customer: %+v", got)
	}
	notOpened := `{"has_not_done":{"event":"opened"}}`
	if got := h.segJSON(key, "", notOpened); !slices.Equal(got.CustomerIDs, []string{"e", "f"}) {
		t.Fatalf("has_not_done: %+v", got)
	}
}

// With a retention, segments see the days from the first kept day on (a full day inside
// the retention window): a change of retention through the API applies to the next
// answer; customers whose events are all older are no longer known; raising the
// retention does not bring back what was forgotten, not even an event backdated into it
// since (docs/segments.md, "Retention").
func TestSegmentsForgetPastRetention(t *testing.T) {
	h := newHarness(t)
	_, key := h.org("acme")
	day := 24 * time.Hour
	h.postEvents(key,
		segEvent("opened", "spring", "a", 2*day, nil),
		segEvent("opened", "spring", "b", 20*day, nil),
		segEvent("delivered", "spring", "c", 40*day, nil))
	h.buildSegmentIndex()
	opened := `{"has_done":{"event":"opened","within":{"value":90,"unit":"DAY"}}}`
	notOpened := `{"has_not_done":{"event":"opened"}}`
	answer := func(rule string, want ...string) {
		t.Helper()
		if got := h.segJSON(key, "", rule); !slices.Equal(got.CustomerIDs, want) {
			t.Fatalf("%s: %v, want %v", rule, got.CustomerIDs, want)
		}
	}
	settings := func(days int) {
		t.Helper()
		if r := h.do("PATCH", "/api/v1/settings", key, map[string]any{"retention_days": days}, nil); r.StatusCode != 200 {
			t.Fatalf("retention of %d days: %d", days, r.StatusCode)
		}
	}
	answer(opened, "a", "b")
	answer(notOpened, "c")

	settings(7)
	answer(opened, "a")
	answer(notOpened) // c's only event is past the window: c is no longer known
	if got := h.segJSON(key, "", `{"rule":`+notOpened+`,"candidates":["b","c"]}`); !slices.Equal(got.CustomerIDs, []string{"b", "c"}) {
		t.Fatalf("has_not_done over candidates: %v, want [b c]", got.CustomerIDs)
	}

	settings(30)
	h.postEvents(key, segEvent("opened", "spring", "d", 15*day, nil), segEvent("opened", "spring", "e", time.Hour, nil))
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if got := h.segJSON(key, "", opened); slices.Contains(got.CustomerIDs, "e") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the opening of e never showed up")
		}
	}
	answer(opened, "a", "e")
}
