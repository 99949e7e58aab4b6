package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/journey"
)

// didAnswer is the body of GET /api/v1/customers/{customer}/did (and of a 200 of /wait).
type didAnswer struct {
	mailtrail.Did
	Error *mailtrail.Error `json:"error"`
}

// did asks GET /api/v1/customers/{cust}/did?query and returns the status and the answer.
func (h *harness) did(key, cust, query string) (int, didAnswer) {
	h.t.Helper()
	var out didAnswer
	r := h.do("GET", "/api/v1/customers/"+url.PathEscape(cust)+"/did?"+query, key, nil, &out)
	return r.StatusCode, out
}

// hit GETs a tracking URL with a user agent (a person's mail client, or a bot's).
func (h *harness) hit(u, ua string) {
	h.t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	req.Header.Set("User-Agent", ua)
	resp, err := h.client.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	resp.Body.Close()
}

const botUA = "Go-http-client/1.1"

func TestJourneyDid(t *testing.T) {
	h := newHarness(t)
	_, key := h.org("acme")
	_, otherKey := h.org("other")
	spring := h.instrument(key, "spring", "cust-1")
	summer := h.instrument(key, "summer", "cust-1")
	h.instrument(otherKey, "spring", "cust-1")
	sentAt := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	h.postEvents(key, map[string]any{"event_type": "sent", "message_id": spring.MessageID, "occurred_at": sentAt.Format(time.RFC3339)},
		map[string]any{"event_type": "sent", "message_id": summer.MessageID, "occurred_at": sentAt.Format(time.RFC3339)})

	// Before anything happened, and for customers nobody knows: 200, did false.
	for _, c := range []struct{ key, cust, q string }{
		{key, "cust-1", "event=opened"},
		{key, "nobody", "event=opened"},
		{otherKey, "cust-1", "event=sent"},
	} {
		if st, d := h.did(c.key, c.cust, c.q); st != 200 || d.Did.Did || d.Count != 0 || d.CustomerID != c.cust {
			t.Fatalf("%s %s: %d %+v", c.cust, c.q, st, d)
		}
	}
	// A bot's open, indexed; then a person's open and click, left in the indexer's tail.
	h.hit(spring.Tracking.OpenURL, botUA)
	if _, err := h.app.db.IndexCustomerEvents(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.hit(spring.Tracking.OpenURL, desktopUA)
	h.hit(spring.Tracking.ClickURLs[0], desktopUA)

	q := func(kv ...string) string {
		v := url.Values{}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v.Encode()
	}
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	cases := []struct {
		name  string
		query string
		count int64
		class mailtrail.Classification // of the first matching event
	}{
		{"sent", q("event", "sent"), 2, ""},
		{"sent of spring", q("event", "sent", "campaign_id", "spring"), 1, ""},
		{"opened", q("event", "opened"), 2, mailtrail.Bot},
		{"opened by a person", q("event", "opened", "human_only", "true"), 1, mailtrail.Human},
		{"opened, message", q("event", "opened", "message_id", spring.MessageID), 2, mailtrail.Bot},
		{"opened, other message", q("event", "opened", "message_id", summer.MessageID), 0, ""},
		{"opened, other campaign", q("event", "opened", "campaign_id", "summer"), 0, ""},
		{"opened since the future", q("event", "opened", "since", future), 0, ""},
		{"opened since the send", q("event", "opened", "since", sentAt.Format(time.RFC3339)), 2, mailtrail.Bot},
		{"clicked link", q("event", "clicked", "link", spring.Links[0], "human_only", "1"), 1, mailtrail.Human},
		{"clicked other link", q("event", "clicked", "link", spring.Links[1]), 0, ""},
		{"delivered", q("event", "delivered"), 0, ""},
		{"unsubscribed", q("event", "unsubscribed", "campaign_id", "spring"), 0, ""},
	}
	for _, c := range cases {
		st, d := h.did(key, "cust-1", c.query)
		if st != 200 || d.Count != c.count || d.Did.Did != (c.count > 0) {
			t.Errorf("%s: %d %+v, want count %d", c.name, st, d.Did, c.count)
			continue
		}
		if c.count > 0 && (d.Event == nil || d.Event.Classification != c.class || d.Event.ID != d.FirstEventID || d.FirstAt == nil || d.LastAt == nil) {
			t.Errorf("%s: first event %+v, want class %q", c.name, d.Event, c.class)
		}
	}
	// The other organization's cust-1 sees none of acme's events, even by message id.
	if st, d := h.did(otherKey, "cust-1", q("event", "opened", "message_id", spring.MessageID)); st != 200 || d.Did.Did {
		t.Errorf("other org: %d %+v", st, d)
	}
	for _, bad := range []string{"", "event=read", q("event", "opened", "campaign_id", "a", "message_id", "b"),
		q("event", "opened", "since", "yesterday"), q("event", "opened", "human_only", "maybe"), q("event", "opened", "link", "https://x")} {
		if st, d := h.did(key, "cust-1", bad); st != 400 || d.Error == nil || d.Error.Code != mailtrail.EINVALID {
			t.Errorf("%q: %d %+v", bad, st, d.Error)
		}
	}
	if st, _ := h.did("", "cust-1", "event=opened"); st != 401 {
		t.Errorf("no key: %d", st)
	}
}

// waitResult is the outcome of one GET …/wait.
type waitResult struct {
	status int
	body   didAnswer
	err    error
}

// startWait sends GET /api/v1/customers/{cust}/wait?query on its own goroutine; cancel
// ctx to go away.
func (h *harness) startWait(ctx context.Context, base, key, cust, query string) <-chan waitResult {
	return startWaitAt(ctx, base, key, cust, query)
}

// startWaitAt is startWait against the server at base.
func startWaitAt(ctx context.Context, base, key, cust, query string) <-chan waitResult {
	out := make(chan waitResult, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, "GET", base+"/api/v1/customers/"+url.PathEscape(cust)+"/wait?"+query, nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
		if err != nil {
			out <- waitResult{err: err}
			return
		}
		defer resp.Body.Close()
		res := waitResult{status: resp.StatusCode}
		if resp.StatusCode != http.StatusNoContent {
			res.err = json.NewDecoder(resp.Body).Decode(&res.body)
		} else if b, _ := io.ReadAll(resp.Body); len(b) != 0 {
			res.err = fmt.Errorf("204 with a body: %q", b)
		}
		out <- res
	}()
	return out
}

// waiters waits until n waits are registered (the gauge), failing after 5 s.
func (h *harness) waiters(n int) {
	h.t.Helper()
	for end := time.Now().Add(5 * time.Second); h.app.journeys.Len() != n; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(end) {
			h.t.Fatalf("waiters: %d, want %d", h.app.journeys.Len(), n)
		}
	}
}

// metric returns the line of /metrics that starts with name (with its labels).
func (h *harness) metric(name string) string {
	h.t.Helper()
	r := h.do("GET", "/metrics", "", nil, nil)
	b, _ := io.ReadAll(r.Body)
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, name+" ") {
			return l
		}
	}
	return ""
}

func pending(t *testing.T, ch <-chan waitResult, what string) {
	t.Helper()
	time.Sleep(150 * time.Millisecond) // a wrong wake-up would answer well within this
	select {
	case r := <-ch:
		t.Fatalf("%s answered the wait: %d %+v %v", what, r.status, r.body, r.err)
	default:
	}
}

func TestJourneyWait(t *testing.T) {
	h := newHarness(t)
	_, key := h.org("acme")
	spring := h.instrument(key, "spring", "cust-1")
	summer := h.instrument(key, "summer", "cust-1")
	someoneElse := h.instrument(key, "spring", "cust-2")
	ctx := context.Background()

	// Already done: the send is answered at once.
	h.postEvents(key, map[string]any{"event_type": "sent", "message_id": spring.MessageID, "occurred_at": time.Now().UTC().Format(time.RFC3339)})
	if r := <-h.startWait(ctx, h.srv.URL, key, "cust-1", "event=sent&timeout=20s"); r.err != nil || r.status != 200 || !r.body.Did.Did || r.body.Event.Type != mailtrail.EventSent {
		t.Fatalf("already done: %+v", r)
	}

	// Waiting for a person's open of spring: other campaigns, other customers and machine
	// opens do not answer it; the person's open, committed while it waits, does.
	ch := h.startWait(ctx, h.srv.URL, key, "cust-1", "event=opened&campaign_id=spring&human_only=true&timeout=20s")
	h.waiters(1)
	h.hit(summer.Tracking.OpenURL, desktopUA)
	pending(t, ch, "an open of another campaign")
	h.hit(someoneElse.Tracking.OpenURL, desktopUA)
	pending(t, ch, "another customer's open")
	h.hit(spring.Tracking.OpenURL, botUA)
	pending(t, ch, "a machine open")
	h.hit(spring.Tracking.ClickURLs[0], botUA)
	pending(t, ch, "a click")
	h.hit(spring.Tracking.OpenURL, desktopUA)
	r := <-ch
	if r.err != nil || r.status != 200 || !r.body.Did.Did || r.body.Count != 1 || r.body.Event == nil ||
		r.body.Event.Type != mailtrail.EventOpened || r.body.Event.CampaignID != "spring" || !r.body.Event.IsHuman() {
		t.Fatalf("woken wait: %+v", r)
	}
	h.waiters(0)

	// Nothing happens: 204 at the timeout.
	if r := <-h.startWait(ctx, h.srv.URL, key, "cust-1", "event=clicked&human_only=true&timeout=300ms"); r.err != nil || r.status != 204 {
		t.Fatalf("timeout: %+v", r)
	}
	// since: the open of spring is before it, so the wait times out too.
	since := url.QueryEscape(time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
	if r := <-h.startWait(ctx, h.srv.URL, key, "cust-1", "event=opened&timeout=1&since="+since); r.err != nil || r.status != 204 {
		t.Fatalf("since in the future: %+v", r)
	}

	// A client that goes away frees its wait.
	cctx, cancel := context.WithCancel(ctx)
	ch = h.startWait(cctx, h.srv.URL, key, "cust-1", "event=complained&timeout=30s")
	h.waiters(1)
	if g := h.metric("mailtrail_journey_waiters"); g != "mailtrail_journey_waiters 1" {
		t.Errorf("gauge while waiting: %q", g)
	}
	cancel()
	if r := <-ch; r.err == nil {
		t.Fatalf("cancelled wait answered: %+v", r)
	}
	h.waiters(0)
	if g := h.metric("mailtrail_journey_waiters"); g != "mailtrail_journey_waiters 0" {
		t.Errorf("gauge after the client left: %q", g)
	}
	for outcome, n := range map[string]int{"immediate": 1, "event": 1, "timeout": 2, "cancelled": 1} {
		if got, want := h.metric(`mailtrail_journey_waits_total{outcome="`+outcome+`"}`), fmt.Sprintf(`mailtrail_journey_waits_total{outcome="%s"} %d`, outcome, n); got != want {
			t.Errorf("metric %q, want %q", got, want)
		}
	}

	for _, bad := range []string{"event=opened&timeout=0", "event=opened&timeout=61s", "event=opened&timeout=soon", "event=open"} {
		if r := <-h.startWait(ctx, h.srv.URL, key, "cust-1", bad); r.status != 400 || r.body.Error == nil || r.body.Error.Code != mailtrail.EINVALID {
			t.Errorf("%q: %+v", bad, r)
		}
	}
}

// TestJourneyWaitLimits: a wait longer than the server's read and write timeouts is
// answered; past the organization's limit and at shutdown the answer is 503.
func TestJourneyWaitLimits(t *testing.T) {
	h := newHarness(t)
	orgID, key := h.org("acme")
	ctx := context.Background()

	// The production server has a 30 s read and a 60 s write timeout; here both are 200 ms.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	short := &http.Server{Handler: h.app.server, ReadTimeout: 200 * time.Millisecond, WriteTimeout: 200 * time.Millisecond}
	go short.Serve(ln)
	defer short.Close()
	if r := <-h.startWait(ctx, "http://"+ln.Addr().String(), key, "cust-1", "event=opened&timeout=700ms"); r.err != nil || r.status != 204 {
		t.Fatalf("wait past the server's timeouts: %+v", r)
	}
	m := h.instrument(key, "spring", "cust-1")
	ch := h.startWait(ctx, "http://"+ln.Addr().String(), key, "cust-1", "event=opened&timeout=5s")
	h.waiters(1)
	time.Sleep(400 * time.Millisecond)
	h.hit(m.Tracking.OpenURL, desktopUA)
	if r := <-ch; r.err != nil || r.status != 200 || !r.body.Did.Did {
		t.Fatalf("woken past the server's timeouts: %+v", r)
	}

	// The organization's limit: the registry is full of other waits.
	var held []*journey.Waiter
	for range journey.DefaultMaxPerOrg {
		w, err := h.app.journeys.Register(orgID, mailtrail.Condition{CustomerID: "x", Type: mailtrail.EventOpened})
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, w)
	}
	r := h.do("GET", "/api/v1/customers/cust-2/wait?event=opened&timeout=1s", key, nil, nil)
	if r.StatusCode != 503 || r.Header.Get("Retry-After") == "" || errorCode(t, r.Body) != mailtrail.EUNAVAILABLE {
		t.Fatalf("past the limit: %d", r.StatusCode)
	}
	// A condition already true is answered without a wait, limit or not.
	if r := h.do("GET", "/api/v1/customers/cust-1/wait?event=opened&timeout=1s", key, nil, nil); r.StatusCode != 200 {
		t.Fatalf("already done past the limit: %d", r.StatusCode)
	}
	for _, w := range held {
		h.app.journeys.Remove(w)
	}

	// Shutdown: the waits in progress answer 503 (retry), never 204 (a timeout).
	ch = h.startWait(ctx, h.srv.URL, key, "cust-1", "event=clicked&timeout=20s")
	h.waiters(1)
	h.app.journeys.Close()
	if r := <-ch; r.status != 503 || r.body.Error == nil || r.body.Error.Code != mailtrail.EUNAVAILABLE {
		t.Fatalf("at shutdown: %+v", r)
	}
	h.waiters(0)
}
