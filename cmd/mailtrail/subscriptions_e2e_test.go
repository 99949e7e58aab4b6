package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/webhooksig"
)

func allowPrivate(c *Config) { c.WebhooksAllowPrivate = true }

// runOutbound runs the harness's webhook dispatcher until the test (or subtest) ends.
func (h *harness) runOutbound() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { h.app.outbound.Run(ctx); close(done) }()
	h.t.Cleanup(func() { cancel(); <-done })
}

// receiver is a webhook receiver that verifies every delivery and records its events.
type receiver struct {
	t   *testing.T
	srv *httptest.Server

	mu       sync.Mutex
	secret   string
	subID    string
	requests int
	// answer decides the status of request n (1, 2, …); nil answers 200. It may block.
	answer  func(n int, r *http.Request) int
	got     map[string]int // event id → deliveries
	orgs    map[string]bool
	badSigs int
	maxLen  int
}

func newReceiver(t *testing.T, answer func(n int, r *http.Request) int) *receiver {
	rc := &receiver{t: t, answer: answer, got: map[string]int{}, orgs: map[string]bool{}}
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	rc.requests++
	n, answer, secret, subID := rc.requests, rc.answer, rc.secret, rc.subID
	rc.mu.Unlock()
	status := 200
	if answer != nil {
		status = answer(n, r)
	}
	ok := webhooksig.Verify([]byte(secret), r.Header.Get(webhooksig.Header), body, webhooksig.DefaultTolerance) == nil &&
		r.Header.Get("X-Mailtrail-Subscription") == subID && strings.HasPrefix(r.Header.Get("X-Mailtrail-Delivery"), "dlv_")
	var batch struct{ Events []mailtrail.Event }
	if err := json.Unmarshal(body, &batch); err != nil {
		ok = false
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if !ok {
		rc.badSigs++
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if status/100 == 2 {
		for _, ev := range batch.Events {
			rc.got[ev.ID]++
			rc.orgs[ev.OrgID] = true
		}
		rc.maxLen = max(rc.maxLen, len(batch.Events))
	}
	w.WriteHeader(status)
}

// waitFor waits until every id was received, failing after 60s.
func (rc *receiver) waitFor(ids []string) {
	rc.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		rc.mu.Lock()
		missing := 0
		for _, id := range ids {
			if rc.got[id] == 0 {
				missing++
			}
		}
		bad := rc.badSigs
		rc.mu.Unlock()
		if bad > 0 {
			rc.t.Fatalf("%d deliveries failed verification", bad)
		}
		if missing == 0 {
			return
		}
		if time.Now().After(deadline) {
			rc.t.Fatalf("%d of %d events never delivered", missing, len(ids))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type subscriptionAnswer struct {
	mailtrail.Subscription
	Secret string `json:"secret"`
}

// subscribe creates a subscription to rc and tells rc its secret and id.
func (h *harness) subscribe(key string, rc *receiver, req map[string]any) subscriptionAnswer {
	h.t.Helper()
	if req == nil {
		req = map[string]any{}
	}
	req["url"] = rc.srv.URL + "/hook?x=1"
	var sub subscriptionAnswer
	if r := h.do("POST", "/api/v1/subscriptions", key, req, &sub); r.StatusCode != 201 {
		h.t.Fatalf("create subscription: %d", r.StatusCode)
	}
	if !strings.HasPrefix(sub.Secret, "whsec_") || sub.ID == "" {
		h.t.Fatalf("subscription answer %+v", sub)
	}
	rc.mu.Lock()
	rc.secret, rc.subID = sub.Secret, sub.ID
	rc.mu.Unlock()
	return sub
}

// postSent posts n sent events and returns their ids.
func (h *harness) postSent(key, prefix string, n int) []string {
	h.t.Helper()
	var res struct {
		EventIDs []string `json:"event_ids"`
	}
	if r := h.do("POST", "/api/v1/events", key, map[string]any{"events": sentEvents("c1", prefix, 0, n)}, &res); r.StatusCode != 200 || len(res.EventIDs) != n {
		h.t.Fatalf("post events: %d, %d ids", r.StatusCode, len(res.EventIDs))
	}
	return res.EventIDs
}

func (h *harness) deliveries(key, subID string) []mailtrail.Delivery {
	h.t.Helper()
	var out struct{ Deliveries []mailtrail.Delivery }
	if r := h.do("GET", "/api/v1/subscriptions/"+subID+"/deliveries", key, nil, &out); r.StatusCode != 200 {
		h.t.Fatalf("deliveries: %d", r.StatusCode)
	}
	return out.Deliveries
}

func TestSubscriptionRetriesUntilDelivered(t *testing.T) {
	h := newHarness(t, allowPrivate)
	h.runOutbound()
	orgA, keyA := h.org("A")
	_, keyB := h.org("B")
	const failures = 3
	rc := newReceiver(t, func(n int, _ *http.Request) int {
		if n <= failures {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	sub := h.subscribe(keyA, rc, nil)
	ids := h.postSent(keyA, "a", 250)
	h.postSent(keyB, "b", 20)
	ids = append(ids, h.postSent(keyA, "late", 3)...)
	rc.waitFor(ids)

	rc.mu.Lock()
	if len(rc.orgs) != 1 || !rc.orgs[orgA] {
		t.Errorf("events of organizations %v delivered, want only %s", rc.orgs, orgA)
	}
	if rc.maxLen > 100 {
		t.Errorf("a batch held %d events, want at most 100", rc.maxLen)
	}
	rc.mu.Unlock()

	// The log (newest first) shows the failures with a doubling backoff, then successes.
	// The receiver has the last batch before the dispatcher records its answer: wait for
	// the record.
	log := h.deliveries(keyA, sub.ID)
	for end := time.Now().Add(10 * time.Second); (len(log) < failures+3 || !log[0].OK) && time.Now().Before(end); {
		time.Sleep(20 * time.Millisecond)
		log = h.deliveries(keyA, sub.ID)
	}
	if len(log) < failures+3 {
		t.Fatalf("delivery log has %d attempts, want at least %d", len(log), failures+3)
	}
	for i := range failures {
		d := log[len(log)-1-i]
		full := int64(1000) << i
		if d.OK || d.Status != 500 || d.RetryInMS < full/2 || d.RetryInMS > full || d.Events == 0 || d.Error == "" {
			t.Errorf("attempt %d = %+v, want a 500 retried in %d..%d ms", i+1, d, full/2, full)
		}
	}
	if d := log[0]; !d.OK || d.Status != 200 || d.RetryInMS != 0 {
		t.Errorf("last attempt = %+v, want a 200", d)
	}
	var got mailtrail.Subscription
	h.do("GET", "/api/v1/subscriptions/"+sub.ID, keyA, nil, &got)
	if got.ConsecutiveFailures != 0 || got.FailingSince != nil || got.LastDeliveredAt == nil || got.DisabledAt != nil {
		t.Errorf("subscription after recovery = %+v", got)
	}
}

func TestSubscriptionSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	onDir := func(c *Config) { c.DataDir = dir }
	release := make(chan struct{})
	defer close(release)
	inFlight := make(chan struct{}, 1)
	rc := newReceiver(t, func(n int, r *http.Request) int {
		if n == 2 { // the second delivery hangs until the service stops
			inFlight <- struct{}{}
			select {
			case <-r.Context().Done():
			case <-release:
			}
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	var key string
	var ids []string
	t.Run("before", func(t *testing.T) {
		h := newHarness(t, allowPrivate, onDir)
		h.runOutbound()
		_, key = h.org("A")
		h.subscribe(key, rc, map[string]any{"event_types": []string{"sent"}})
		ids = h.postSent(key, "a", 250)
		select {
		case <-inFlight:
		case <-time.After(30 * time.Second):
			t.Fatal("no second delivery")
		}
		// The service stops here, in the middle of a delivery.
	})
	t.Run("after", func(t *testing.T) {
		h := newHarness(t, allowPrivate, onDir)
		h.runOutbound()
		ids = append(ids, h.postSent(key, "b", 30)...)
		rc.waitFor(ids)
	})
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.requests < 4 {
		t.Errorf("%d requests, want the interrupted one sent again", rc.requests)
	}
}

func TestSubscriptionDisabledAfterPersistentFailure(t *testing.T) {
	h := newHarness(t, allowPrivate, func(c *Config) { c.WebhooksRetryFor = 2 * time.Second })
	h.runOutbound()
	_, key := h.org("A")
	var mu sync.Mutex
	down := true
	rc := newReceiver(t, func(int, *http.Request) int {
		mu.Lock()
		defer mu.Unlock()
		if down {
			return http.StatusBadGateway
		}
		return http.StatusOK
	})
	sub := h.subscribe(key, rc, nil)
	ids := h.postSent(key, "a", 5)
	var got mailtrail.Subscription
	deadline := time.Now().Add(30 * time.Second)
	for got.DisabledAt == nil {
		if time.Now().After(deadline) {
			t.Fatalf("not disabled: %+v", got)
		}
		time.Sleep(50 * time.Millisecond)
		h.do("GET", "/api/v1/subscriptions/"+sub.ID, key, nil, &got)
	}
	if !strings.Contains(got.DisabledReason, "502") || got.ConsecutiveFailures < 2 {
		t.Errorf("disabled subscription = %+v", got)
	}
	// Enabled again with a working receiver: the kept events are delivered.
	mu.Lock()
	down = false
	mu.Unlock()
	var enabled mailtrail.Subscription
	if r := h.do("POST", "/api/v1/subscriptions/"+sub.ID+"/enable", key, nil, &enabled); r.StatusCode != 200 || enabled.DisabledAt != nil ||
		enabled.ConsecutiveFailures != 0 || enabled.FailingSince != nil {
		t.Fatalf("enable: %d %+v", r.StatusCode, enabled)
	}
	rc.waitFor(ids)
}

func TestSubscriptionAPI(t *testing.T) {
	h := newHarness(t)
	_, key := h.org("A")
	_, keyB := h.org("B")
	// 93.184.215.14 is a public address; this harness never runs the dispatcher, so it is
	// never dialled. 203.0.113.0/24 and the other documentation ranges are refused.
	for _, body := range []map[string]any{
		{"url": "https://203.0.113.10/hook"},
		{"url": "https://[2002:7f00:1::]/hook"},
		{"url": "http://93.184.215.14/hook"},
		{"url": "https://127.0.0.1/hook"},
		{"url": "https://169.254.169.254/latest/meta-data"},
		{"url": "https://10.1.2.3/hook"},
		{"url": "https://[::1]/hook"},
		{"url": "https://[::ffff:192.168.1.1]/hook"},
		{"url": "https://localhost:8443/hook"},
		{"url": "ftp://93.184.215.14/hook"},
		{"url": "https://user:pw@93.184.215.14/hook"},
		{"url": "/relative"},
		{"url": "https://93.184.215.14/hook", "event_types": []string{"nope"}},
		{"url": "https://93.184.215.14/hook", "secret": "short"},
	} {
		r := h.do("POST", "/api/v1/subscriptions", key, body, nil)
		if code := errorCode(t, r.Body); r.StatusCode != 400 || code != mailtrail.EINVALID {
			t.Errorf("%v: %d %s, want 400 invalid", body, r.StatusCode, code)
		}
	}
	secret := "my-own-secret-0123456789abcdef"
	var sub subscriptionAnswer
	if r := h.do("POST", "/api/v1/subscriptions", key, map[string]any{"url": "https://93.184.215.14/hook", "secret": secret,
		"event_types": []string{"opened", "clicked"}, "campaign_id": "spring"}, &sub); r.StatusCode != 201 || sub.Secret != secret {
		t.Fatalf("create: %d %+v", r.StatusCode, sub)
	}
	var list struct{ Subscriptions []json.RawMessage }
	h.do("GET", "/api/v1/subscriptions", key, nil, &list)
	if len(list.Subscriptions) != 1 || strings.Contains(string(list.Subscriptions[0]), secret) ||
		!strings.Contains(string(list.Subscriptions[0]), `"event_types":["opened","clicked"]`) {
		t.Fatalf("list = %s", list.Subscriptions)
	}
	for _, p := range []string{"", "/deliveries"} {
		if r := h.do("GET", "/api/v1/subscriptions/"+sub.ID+p, keyB, nil, nil); r.StatusCode != 404 {
			t.Errorf("another organization's GET %s: %d, want 404", p, r.StatusCode)
		}
	}
	if r := h.do("DELETE", "/api/v1/subscriptions/"+sub.ID, keyB, nil, nil); r.StatusCode != 404 {
		t.Errorf("another organization's DELETE: %d, want 404", r.StatusCode)
	}
	if d := h.deliveries(key, sub.ID); len(d) != 0 {
		t.Errorf("deliveries = %v", d)
	}
	if r := h.do("DELETE", "/api/v1/subscriptions/"+sub.ID, key, nil, nil); r.StatusCode != 204 {
		t.Errorf("DELETE: %d", r.StatusCode)
	}
	if r := h.do("GET", "/api/v1/subscriptions/"+sub.ID, key, nil, nil); r.StatusCode != 404 {
		t.Errorf("GET after DELETE: %d", r.StatusCode)
	}
}
