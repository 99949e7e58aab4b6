package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/store/eventlog"
)

// The end-to-end tests of serve --event-log (the real newApp behind a real HTTP server,
// on real files): read-your-writes, the store failing behind the log, the move of a store
// to the log and back, and a data directory whose log is gone.

// eventLogCfg is the harness's configuration with the event log on.
func eventLogCfg(c *Config) { c.EventLog = true }

// startHeld runs the service with cfg as harness.start does, except that the projector
// (which applies the log to the store) starts only when project is called: until then
// every acknowledged write stays in the log, a tail the store has not applied.
func startHeld(t *testing.T, cfg Config) (h *harness, project func()) {
	t.Helper()
	h = &harness{t: t, admin: testAdmin,
		client: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }, Timeout: 10 * time.Second}}
	srv := httptest.NewUnstartedServer(nil)
	cfg.PublicURL = "http://" + srv.Listener.Addr().String()
	a, err := newApp(context.Background(), cfg, io.Discard)
	if err != nil {
		srv.Listener.Close()
		t.Fatal(err)
	}
	if a.logged == nil {
		t.Fatal("startHeld: the configuration has no event log")
	}
	srv.Config.Handler = a.server
	srv.Start()
	done := make(chan struct{})
	go func() { a.pipeline.Run(context.Background()); close(done) }()
	h.app, h.srv, h.pipeDone = a, srv, done
	var once sync.Once
	project = func() {
		once.Do(h.runProjector)
	}
	t.Cleanup(func() {
		if h.app != nil {
			project()
			h.stop()
		}
	})
	return h, project
}

// abandon ends a startHeld service whose projector never ran, as a kill -9 would leave
// it: every write it acknowledged is in the log, none in the store.
func (h *harness) abandon() {
	h.t.Helper()
	if h.projDone != nil {
		h.t.Fatal("abandon: the projector ran")
	}
	h.srv.Close()
	h.app.pipeline.Close(context.Background())
	<-h.pipeDone
	if err := h.app.close(); err != nil {
		h.t.Fatal(err)
	}
	h.app = nil
}

// baseCfg is newHarness's configuration on dataDir.
func baseCfg(dataDir string) Config {
	return Config{Addr: "127.0.0.1:0", DataDir: dataDir, AdminToken: testAdmin, SecretKeyID: 1,
		TrackingWait: 2 * time.Second, Synchronous: "NORMAL", LogLevel: "error", LogFormat: "text",
		MaxBatch: 5000, MaxQueue: 50000, QueueWait: 2 * time.Second, ShutdownTimeout: 10 * time.Second, ReadWait: 2 * time.Second,
		RetentionInterval: time.Hour, TrustedProxies: "127.0.0.0/8"}
}

// raw sends a request with optional headers and returns the answer with its body.
func (h *harness) raw(method, path, bearer string, body any, hdr http.Header) (*http.Response, []byte) {
	h.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, h.srv.URL+path, rd)
	req.Header.Set("User-Agent", desktopUA)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := h.client.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// postmarkConn creates a Postmark connection (basic auth pm / pm-pass) and returns its
// webhook path.
func (h *harness) postmarkConn(key string) string {
	h.t.Helper()
	var c struct {
		WebhookURL string `json:"webhook_url"`
	}
	if r := h.do("POST", "/api/v1/connections", key, map[string]any{"vendor": "postmark", "name": "pm", "username": "pm", "password": "pm-pass"}, &c); r.StatusCode != 201 {
		h.t.Fatalf("create connection: %d", r.StatusCode)
	}
	u := c.WebhookURL
	if i := strings.Index(u, "/webhooks/"); i >= 0 {
		u = u[i:]
	}
	return u
}

// hardBounce posts Postmark's hard bounce of message msgID to email on the connection
// at path; it returns the answer's log position after checking it is a 200 that accepted
// the event.
func (h *harness) hardBounce(path, msgID, email string, id int) uint64 {
	h.t.Helper()
	body := map[string]any{"RecordType": "Bounce", "ID": 4323372036854000000 + id, "Type": "HardBounce", "MessageID": fmt.Sprintf("pm-%d", id),
		"Email": email, "BouncedAt": time.Now().Add(-time.Minute).UTC().Format(time.RFC3339), "Details": "550 5.1.1 no such user",
		"Metadata": map[string]any{"mt_message_id": msgID}}
	resp, b := h.raw("POST", path, "", body, basic("pm", "pm-pass"))
	var res hookResult
	if resp.StatusCode != 200 || json.Unmarshal(b, &res) != nil || res.Accepted != 1 {
		h.t.Fatalf("bounce webhook for %s: %d %s", email, resp.StatusCode, b)
	}
	return logPosition(h.t, resp)
}

// check asks /api/v1/suppressions/check about email; it returns the status and, for a
// 200, the reason it is suppressed for ("" when it is not).
func (h *harness) check(key, email string) (int, string, *http.Response) {
	h.t.Helper()
	resp, b := h.raw("POST", "/api/v1/suppressions/check", key, map[string]any{"emails": []string{email}}, nil)
	if resp.StatusCode != 200 {
		return resp.StatusCode, "", resp
	}
	var out checkAnswer
	if err := json.Unmarshal(b, &out); err != nil || out.Checked != 1 {
		h.t.Fatalf("check %s: %s (%v)", email, b, err)
	}
	for _, s := range out.Suppressed {
		if s.Email == email {
			return 200, s.Reason, resp
		}
	}
	return 200, "", resp
}

// postEventsAt posts events and returns the answer (which must be a 200) and its log
// position.
func (h *harness) postEventsAt(key string, evs ...map[string]any) (postAnswer, uint64) {
	h.t.Helper()
	resp, b := h.raw("POST", "/api/v1/events", key, map[string]any{"events": evs}, nil)
	var a postAnswer
	if resp.StatusCode != 200 || json.Unmarshal(b, &a) != nil {
		h.t.Fatalf("post events: %d %s", resp.StatusCode, b)
	}
	return a, logPosition(h.t, resp)
}

// reportAfter returns the campaign's report read with ?after=pos, retrying while it is
// 503 (the store has not applied pos yet) up to attempts times.
func (h *harness) reportAfter(key, campaign string, pos uint64, attempts int) mailtrail.Report {
	h.t.Helper()
	for i := 0; ; i++ {
		resp, b := h.raw("GET", fmt.Sprintf("/api/v1/campaigns/%s/report?after=%d", campaign, pos), key, nil, nil)
		if resp.StatusCode == 200 {
			var rep mailtrail.Report
			if err := json.Unmarshal(b, &rep); err != nil {
				h.t.Fatal(err)
			}
			return rep
		}
		if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" || i+1 >= attempts {
			h.t.Fatalf("report after %d: %d (Retry-After %q) %s", pos, resp.StatusCode, resp.Header.Get("Retry-After"), b)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// wantUnavailable checks an answer is 503 with Retry-After and the unavailable code.
func wantUnavailable(t *testing.T, what string, resp *http.Response, body []byte) {
	t.Helper()
	var e struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" || json.Unmarshal(body, &e) != nil || e.Error.Code != "unavailable" {
		t.Errorf("%s while the store has not applied it: %d Retry-After %q %s; want 503 unavailable with Retry-After",
			what, resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
}

// (a) Read your writes. A bounce webhook's 200 is seen by the very next suppression check
// (50 addresses, each bounced then checked at once); a write's Mailtrail-Log-Position as
// ?after= (or Mailtrail-After) gives a report that counts its events; an after that is not
// a position is a 400 JSON error.
func TestEventLogReadYourWrites(t *testing.T) {
	h := newHarness(t, eventLogCfg)
	_, key := h.org("acme")
	path := h.postmarkConn(key)
	const n = 50
	msgs := make([]instrumented, n)
	for i := range msgs {
		msgs[i] = h.instrument(key, "ryw", fmt.Sprintf("ryw%d", i))
	}
	var last uint64
	for i, m := range msgs {
		email := fmt.Sprintf("ryw%d@example.com", i)
		pos := h.hardBounce(path, m.MessageID, email, i)
		if pos <= last {
			t.Errorf("bounce %d: log position %d after %d; want it to grow", i, pos, last)
		}
		last = pos
		if code, reason, _ := h.check(key, email); code != 200 || reason != mailtrail.ReasonHardBounce {
			t.Errorf("check right after %s's bounce webhook answered 200: %d, suppressed for %q; want hard_bounce", email, code, reason)
		}
	}

	evs := []map[string]any{
		{"event_type": "sent", "campaign_id": "ryw-report", "customer_id": "a", "customer_email": "a@example.com"},
		{"event_type": "sent", "campaign_id": "ryw-report", "customer_id": "b", "customer_email": "b@example.com"},
		{"event_type": "sent", "campaign_id": "ryw-report", "customer_id": "c", "customer_email": "c@example.com"},
		{"event_type": "delivered", "campaign_id": "ryw-report", "customer_id": "a", "customer_email": "a@example.com"},
		{"event_type": "delivered", "campaign_id": "ryw-report", "customer_id": "b", "customer_email": "b@example.com"},
	}
	if a, pos := h.postEventsAt(key, evs...); a.Accepted != 5 || pos <= last {
		t.Errorf("post events: %+v at position %d (after %d)", a, pos, last)
	} else if rep := h.reportAfter(key, "ryw-report", pos, 1); rep.Counts.Sent != 3 || rep.Counts.Delivered != 2 {
		t.Errorf("report ?after=%d: sent %d delivered %d, want 3 and 2", pos, rep.Counts.Sent, rep.Counts.Delivered)
	}

	for _, bad := range []struct {
		query string
		hdr   http.Header
	}{
		{"?after=abc", nil}, {"?after=-1", nil}, {"?after=1.5", nil}, {"?after=18446744073709551616", nil},
		{"", http.Header{"Mailtrail-After": {"x"}}},
	} {
		resp, b := h.raw("GET", "/api/v1/campaigns/ryw-report/report"+bad.query, key, nil, bad.hdr)
		var e struct {
			Error struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		if resp.StatusCode != 400 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") ||
			json.Unmarshal(b, &e) != nil || e.Error.Code != "invalid" || !strings.Contains(e.Error.Message, "after") {
			t.Errorf("report%s %v: %d %q %s; want a 400 JSON error with code invalid naming after", bad.query, bad.hdr, resp.StatusCode, resp.Header.Get("Content-Type"), b)
		}
	}
}

// (a) continued, with the store held behind the log (the projector not running): the
// waits are real. A suppression check after a bounce's 200, and a report asked after a
// write's position, answer 503 with Retry-After — never a 200 without the write — while a
// plain report answers what the store has, with the lag; once the projector runs they see
// the writes.
func TestEventLogReadsWaitForTheStore(t *testing.T) {
	cfg := baseCfg(t.TempDir())
	cfg.EventLog, cfg.ReadWait = true, 300*time.Millisecond
	h, project := startHeld(t, cfg)
	_, key := h.org("acme")
	path := h.postmarkConn(key)
	m := h.instrument(key, "held", "held")

	bounce := h.hardBounce(path, m.MessageID, "held@example.com", 1)
	code, reason, resp := h.check(key, "held@example.com")
	if code == 200 {
		t.Errorf("check after the bounce's 200, store behind: 200 suppressed for %q; want 503 until the store has the bounce", reason)
	} else {
		wantUnavailable(t, "check", resp, []byte(`{"error":{"code":"unavailable"}}`))
	}
	_, pos := h.postEventsAt(key, map[string]any{"event_type": "delivered", "campaign_id": "held", "customer_id": "held", "message_id": m.MessageID})
	if pos <= bounce {
		t.Errorf("positions: events at %d after the bounce at %d", pos, bounce)
	}
	resp, b := h.raw("GET", fmt.Sprintf("/api/v1/campaigns/held/report?after=%d", pos), key, nil, nil)
	wantUnavailable(t, "report ?after=position", resp, b)
	resp, b = h.raw("GET", "/api/v1/campaigns/held/report", key, nil, http.Header{"Mailtrail-After": {strconv.FormatUint(pos, 10)}})
	wantUnavailable(t, "report with Mailtrail-After", resp, b)
	resp, b = h.raw("GET", "/api/v1/campaigns/held/report", key, nil, nil)
	var rep mailtrail.Report
	if resp.StatusCode != 200 || json.Unmarshal(b, &rep) != nil {
		t.Fatalf("report without after: %d %s", resp.StatusCode, b)
	}
	if lag, _ := strconv.Atoi(resp.Header.Get("Mailtrail-Projection-Lag")); lag < 1 || rep.Counts.Delivered != 0 || rep.Counts.BouncedHard != 0 {
		t.Errorf("report without after, store behind: lag %q, delivered %d, bounced %d; want lag ≥ 1 and nothing of the log yet",
			resp.Header.Get("Mailtrail-Projection-Lag"), rep.Counts.Delivered, rep.Counts.BouncedHard)
	}

	project()
	if code, reason, _ := h.check(key, "held@example.com"); code != 200 || reason != mailtrail.ReasonHardBounce {
		t.Errorf("check once the projector runs: %d %q, want 200 hard_bounce", code, reason)
	}
	if rep := h.reportAfter(key, "held", pos, 20); rep.Counts.Delivered != 1 || rep.Counts.BouncedHard != 1 {
		t.Errorf("report ?after=%d once the projector runs: %+v", pos, rep.Counts)
	}
}

// (b) The store failing for a while (its file system full; the log is on a file system
// of its own): writes are still acknowledged on the log, reads that need them answer 503,
// the projector counts its failed writes; once there is space it catches up, and the
// figures are exactly what was acknowledged. (Root only: it mounts tmpfs file systems.)
func TestEventLogStoreFailingBehindTheLog(t *testing.T) {
	dir := mountTmpfs(t, "24m")
	mountTmpfsOn(t, filepath.Join(dir, eventLogDir), "128m")
	h := newHarness(t, eventLogCfg, func(c *Config) { c.DataDir, c.Synchronous, c.ReadWait = dir, "FULL", 500*time.Millisecond })
	_, key := h.org("acme")
	batch := func(from, n int) []map[string]any {
		evs := make([]map[string]any, n)
		for i := range evs {
			c := fmt.Sprintf("f%d", from+i)
			evs[i] = map[string]any{"event_type": "sent", "campaign_id": "full", "customer_id": c, "customer_email": c + "@example.com",
				"idempotency_key": "full-" + c}
		}
		return evs
	}
	_, pos := h.postEventsAt(key, batch(0, 10)...)
	if rep := h.reportAfter(key, "full", pos, 10); rep.Counts.Sent != 10 {
		t.Fatalf("before the disk is full: sent %d, want 10", rep.Counts.Sent)
	}
	applied := h.app.logged.Applied()

	truncateWAL(t, filepath.Join(dir, "mailtrail.db"))
	filler := fillDisk(t, dir)
	const batches, per = 20, 50
	acked := 10
	var last uint64
	var retry []map[string]any
	for i := range batches {
		evs := batch(10+i*per, per)
		a, p := h.postEventsAt(key, evs...)
		if a.Accepted != per || p <= last {
			t.Fatalf("batch %d with the store's disk full: %+v at position %d (after %d); want all accepted, a new position", i, a, p, last)
		}
		acked += per
		last = p
		if i == 3 {
			retry = evs
		}
	}
	// A retry of a batch the store does not hold yet: duplicates, from the log's side.
	if a, _ := h.postEventsAt(key, retry...); a.Accepted != 0 || a.Duplicates != per {
		t.Errorf("retry with the disk full: %+v, want %d duplicates", a, per)
	}
	if got := h.app.logged.Applied(); got != applied {
		t.Fatalf("the store applied up to %d with its disk full (was %d): the disk is not full", got, applied)
	}
	resp, b := h.raw("GET", fmt.Sprintf("/api/v1/campaigns/full/report?after=%d", last), key, nil, nil)
	wantUnavailable(t, "report ?after= the last acknowledged position", resp, b)
	for i := 0; ; i++ {
		line := h.metric("mailtrail_projection_errors_total")
		if line != "" && !strings.HasSuffix(line, " 0") {
			break
		}
		if i == 100 {
			t.Fatalf("the projector's write failures are not counted: %q", line)
		}
		time.Sleep(100 * time.Millisecond)
	}
	resp, _ = h.raw("GET", "/api/v1/settings", key, nil, nil)
	if lag, _ := strconv.ParseUint(resp.Header.Get("Mailtrail-Projection-Lag"), 10, 64); lag < last-applied {
		t.Errorf("lag %q with the store at %d and the log at %d", resp.Header.Get("Mailtrail-Projection-Lag"), applied, last)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	// The projector retries within its longest pause (5 s); a read waits --read-wait.
	rep := h.reportAfter(key, "full", last, 60)
	if rep.Counts.Sent != int64(acked) {
		t.Errorf("once the store has space: sent %d, acknowledged %d", rep.Counts.Sent, acked)
	}
	if n := countRows(t, filepath.Join(dir, "mailtrail.db"), `SELECT count(*) FROM events`); n != acked {
		t.Errorf("events stored %d, acknowledged %d", n, acked)
	}
	if w, a := h.app.logged.Written(), h.app.logged.Applied(); a < w {
		t.Errorf("the store applied %d of %d", a, w)
	}
}

// countRows runs a count query on the store file at path (read-only, beside the service).
func countRows(t *testing.T, path, q string) int {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(q).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// mountTmpfsOn mounts a tmpfs of size on dir (created) until the end of the test.
func mountTmpfsOn(t *testing.T, dir, size string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs (needs root): %v %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", dir, err, out)
		}
	})
}

// figures are what a data directory's API answers about the migration scene: a campaign
// report and a customer's events, as raw JSON.
type figures struct{ report, events string }

func (h *harness) figures(key string) figures {
	h.t.Helper()
	get := func(path string) string {
		resp, b := h.raw("GET", path, key, nil, nil)
		if resp.StatusCode != 200 {
			h.t.Fatalf("%s: %d %s", path, resp.StatusCode, b)
		}
		return string(b)
	}
	return figures{get("/api/v1/campaigns/mig/report"), get("/api/v1/customers/m1/events?limit=1000")}
}

// (c) Migration. A store written without --event-log (API events, webhook bounces, pixel
// opens and clicks), started with --event-log: every figure is the same, new events are
// projected on top. Then a run with --event-log ends like a kill -9 with a tail the store
// has not applied, and the next start WITHOUT --event-log applies that tail first: nothing
// is lost, nothing counted twice (opens without a key included), a retry of a tail event is
// a duplicate; and the log, started again, replays nothing.
func TestEventLogMigration(t *testing.T) {
	h := newHarness(t)
	cfg := h.app.cfg
	_, key := h.org("acme")
	path := h.postmarkConn(key)
	var msgs []instrumented
	for i := range 9 { // m8 is left for the run with the log, m6 and m7 for the tail
		msgs = append(msgs, h.instrument(key, "mig", fmt.Sprintf("m%d", i)))
	}
	h.postEvents(key, map[string]any{"event_type": "sent", "campaign_id": "mig", "customer_id": "m1", "message_id": msgs[1].MessageID, "idempotency_key": "mig-s1"},
		map[string]any{"event_type": "delivered", "campaign_id": "mig", "customer_id": "m1", "message_id": msgs[1].MessageID},
		map[string]any{"event_type": "sent", "campaign_id": "mig", "customer_id": "m2", "message_id": msgs[2].MessageID})
	h.track(msgs[1].Tracking.OpenURL)
	h.track(msgs[1].Tracking.ClickURLs[0])
	h.track(msgs[2].Tracking.OpenURL)
	h.hardBounceNoLog(path, msgs[3].MessageID, "m3@example.com", 1)
	// A soft bounce the vendor will retry, byte for byte, once the log is on.
	softBounce := map[string]any{"RecordType": "Bounce", "ID": 4323372036854000009, "Type": "SoftBounce", "MessageID": "pm-9",
		"Email": "m2@example.com", "BouncedAt": time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), "Details": "452 mailbox full",
		"Metadata": map[string]any{"mt_message_id": msgs[2].MessageID}}
	if resp, b := h.raw("POST", path, "", softBounce, basic("pm", "pm-pass")); resp.StatusCode != 200 {
		t.Fatalf("soft bounce: %d %s", resp.StatusCode, b)
	}
	before := h.figures(key)
	var rep mailtrail.Report
	if err := json.Unmarshal([]byte(before.report), &rep); err != nil || rep.Counts.OpensTotal != 2 || rep.Counts.BouncedHard != 1 || rep.Counts.Sent < 2 {
		t.Fatalf("the scene without the log: %+v (%v)", rep.Counts, err)
	}

	// Started with --event-log.
	h.stop()
	cfg.EventLog = true
	h.start(cfg)
	if after := h.figures(key); after != before {
		t.Errorf("figures changed by the start with --event-log:\nbefore %s\n       %s\nafter  %s\n       %s", before.report, before.events, after.report, after.events)
	}
	if code, reason, _ := h.check(key, "m3@example.com"); code != 200 || reason != mailtrail.ReasonHardBounce {
		t.Errorf("a bounce stored without the log, checked with it: %d %q", code, reason)
	}
	// The sink's filter of the store's keys is built in the background: once it is, the
	// keys stored without the log must still be found (in the store), and new keys are
	// answered by the filter alone.
	waitFor(t, "the dedupe filter built from the store", func() bool { return h.app.logged.sink.Filter().Ready })
	if a, _ := h.postEventsAt(key, map[string]any{"event_type": "sent", "campaign_id": "mig", "customer_id": "m1", "message_id": msgs[1].MessageID, "idempotency_key": "mig-s1"}); a.Duplicates != 1 {
		t.Errorf("a retry of an event stored without the log: %+v, want a duplicate", a)
	}
	var retried hookResult
	if resp, b := h.raw("POST", path, "", softBounce, basic("pm", "pm-pass")); resp.StatusCode != 200 || json.Unmarshal(b, &retried) != nil || retried.Duplicates != 1 || retried.Accepted != 0 {
		t.Errorf("the vendor's retry of a bounce stored without the log: %d %s, want a duplicate", resp.StatusCode, b)
	}
	h.postEventsAt(key, map[string]any{"event_type": "delivered", "campaign_id": "mig", "customer_id": "m8", "message_id": msgs[8].MessageID})
	h.track(msgs[4].Tracking.OpenURL)
	h.hardBounce(path, msgs[5].MessageID, "m5@example.com", 2)
	// A last write marks the end: its position follows the delivery, the open and the bounce.
	_, pos := h.postEventsAt(key, map[string]any{"event_type": "sent", "campaign_id": "mig-marker", "customer_id": "x"})
	onTop := h.reportAfter(key, "mig", pos, 10)
	// On top: m8 delivered, m4 opened (so delivered too), m5 bounced.
	wantTop := rep.Counts
	wantTop.Delivered += 2
	wantTop.OpensTotal++
	wantTop.OpensUnique++
	wantTop.HumanOpensTotal++
	wantTop.HumanOpensUnique++
	wantTop.Bounced++
	wantTop.BouncedHard++
	if onTop.Counts != wantTop {
		t.Errorf("new events with --event-log:\n got %+v\nwant %+v", onTop.Counts, wantTop)
	}
	// The new bounce (its vendor id a dedupe key) was answered by the filter, no lookup.
	if l := h.metric(`mailtrail_eventlog_dedupe_lookups_total{answer="filter"}`); l == "" || strings.HasSuffix(l, " 0") {
		t.Errorf("the filter answered for no new event: %q", l)
	}
	h.stop()

	// A run with --event-log whose store never applies what it acknowledges, ended as by
	// kill -9: the tail is in the log only.
	held, _ := startHeld(t, cfg)
	held.postEventsAt(key, map[string]any{"event_type": "delivered", "campaign_id": "mig", "customer_id": "m6", "message_id": msgs[6].MessageID, "idempotency_key": "mig-d6"})
	held.track(msgs[7].Tracking.OpenURL)
	held.track(msgs[1].Tracking.ClickURLs[0])
	held.hardBounce(path, msgs[0].MessageID, "m0@example.com", 3)
	_, tailEnd := held.postEventsAt(key, map[string]any{"event_type": "sent", "campaign_id": "mig-marker", "customer_id": "y"})
	held.abandon()
	if head, stored := eventLogHead(t, cfg.DataDir); head != tailEnd || stored >= head {
		t.Fatalf("the constructed tail: log ends at %d, store at %d; want a tail up to %d", head, stored, tailEnd)
	}

	// Started without --event-log: the tail is applied before anything is served.
	cfg.EventLog = false
	h.start(cfg)
	final := h.report(key, "mig")
	// The tail: m6 delivered, m7 opened (so delivered too), a click again on m1's link,
	// m0 bounced; each applied once.
	want := onTop.Counts
	want.Delivered += 2
	want.OpensTotal++
	want.OpensUnique++
	want.HumanOpensTotal++
	want.HumanOpensUnique++
	want.ClicksTotal++
	want.Bounced++
	want.BouncedHard++
	if final.Counts != want {
		t.Errorf("after the start without --event-log:\n got %+v\nwant %+v (the tail: a delivery, an open, a click, a bounce)", final.Counts, want)
	}
	if m := h.report(key, "mig-marker"); m.Counts.Sent != 2 {
		t.Errorf("mig-marker: sent %d, want 2 (the tail's last event)", m.Counts.Sent)
	}
	if code, reason, _ := h.check(key, "m0@example.com"); code != 200 || reason != mailtrail.ReasonHardBounce {
		t.Errorf("the tail's bounce: %d %q", code, reason)
	}
	if a := h.post(key, map[string]any{"event_type": "delivered", "campaign_id": "mig", "customer_id": "m6", "message_id": msgs[6].MessageID, "idempotency_key": "mig-d6"}); a.Duplicates != 1 {
		t.Errorf("a retry of a tail event after the drain: %+v, want a duplicate", a)
	}
	drained := h.figures(key)
	h.stop()
	if head, stored := eventLogHead(t, cfg.DataDir); stored != head {
		t.Errorf("after the drain: store at %d, log at %d", stored, head)
	}

	// And with the log again: nothing is applied twice.
	cfg.EventLog = true
	h.start(cfg)
	if again := h.figures(key); again != drained {
		t.Errorf("figures changed by a start with --event-log after the drain:\nbefore %s\nafter  %s", drained.report, again.report)
	}
}

// track hits a tracking link on the running server (a link made by an earlier start names
// that start's address), as a person's mail client does.
func (h *harness) track(link string) {
	h.t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		h.t.Fatal(err)
	}
	h.hit(h.srv.URL+u.RequestURI(), desktopUA)
}

// hardBounceNoLog is hardBounce for a service without the log (no position header).
func (h *harness) hardBounceNoLog(path, msgID, email string, id int) {
	h.t.Helper()
	body := map[string]any{"RecordType": "Bounce", "ID": 4323372036854000000 + id, "Type": "HardBounce", "MessageID": fmt.Sprintf("pm-%d", id),
		"Email": email, "BouncedAt": time.Now().Add(-time.Minute).UTC().Format(time.RFC3339), "Details": "550 5.1.1 no such user",
		"Metadata": map[string]any{"mt_message_id": msgID}}
	if resp, b := h.raw("POST", path, "", body, basic("pm", "pm-pass")); resp.StatusCode != 200 {
		h.t.Fatalf("bounce webhook for %s: %d %s", email, resp.StatusCode, b)
	}
}

// (d) A data directory whose event log was removed after its store applied positions of
// it: a start with --event-log is refused with an error naming the log, and changes
// nothing: the store's file is the same, and the directory starts without --event-log
// with the same figures.
func TestEventLogRemovedLogRefusesToStart(t *testing.T) {
	h := newHarness(t, eventLogCfg)
	cfg := h.app.cfg
	_, key := h.org("acme")
	m := h.instrument(key, "mig", "m1")
	_, pos := h.postEventsAt(key, map[string]any{"event_type": "delivered", "campaign_id": "mig", "customer_id": "m1", "message_id": m.MessageID})
	h.track(m.Tracking.OpenURL)
	_, pos = h.postEventsAt(key, map[string]any{"event_type": "sent", "campaign_id": "mig", "customer_id": "m1", "message_id": m.MessageID})
	h.reportAfter(key, "mig", pos, 10)
	before := h.figures(key)
	h.stop()
	if _, stored := eventLogHead(t, cfg.DataDir); stored == 0 {
		t.Fatal("the store applied no position")
	}
	logDir := filepath.Join(cfg.DataDir, eventLogDir)
	if err := os.RemoveAll(logDir); err != nil {
		t.Fatal(err)
	}
	dbPath := filepath.Join(cfg.DataDir, "mailtrail.db")
	truncateWAL(t, dbPath) // the store in its main file only: a refused start must not change it
	dbBefore, err := os.ReadFile(dbPath)
	if err != nil {
		t.Fatal(err)
	}

	for range 2 { // refused, and refused again (the first refusal left nothing that makes the log valid)
		a, err := newApp(context.Background(), cfg, io.Discard)
		if err == nil {
			a.close()
			t.Fatal("a start with --event-log and the log removed was not refused")
		}
		if msg := err.Error(); !strings.Contains(msg, "event log") || !strings.Contains(msg, logDir) || !strings.Contains(msg, "was removed") {
			t.Errorf("refusal: %q; want it to name the event log %s and say it was removed", msg, logDir)
		}
	}
	if after, err := os.ReadFile(dbPath); err != nil || !bytes.Equal(after, dbBefore) {
		t.Errorf("the refused start changed the store's file (%v)", err)
	}

	// Without --event-log the directory starts, with the same figures.
	cfg.EventLog = false
	h.start(cfg)
	if after := h.figures(key); after != before {
		t.Errorf("figures after the refused start:\nbefore %s\nafter  %s", before.report, after.report)
	}
	h.stop()

	// A log replaced by another (here an empty one) is refused too.
	l, err := eventlog.Open(t.Context(), logDir, eventlog.Options{MaxMessageBytes: eventLogMessageBytes})
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	cfg.EventLog = true
	if a, err := newApp(context.Background(), cfg, io.Discard); err == nil {
		a.close()
		t.Fatal("a start with --event-log on a replaced log was not refused")
	} else if msg := err.Error(); !strings.Contains(msg, "event log") || !strings.Contains(msg, logDir) || !strings.Contains(msg, "ends at 0") {
		t.Errorf("refusal of a replaced log: %q; want it to name the event log %s and its end", msg, logDir)
	}
}

// A start with --event-log on a log with a tail the store has not applied (what a kill -9
// leaves): a read that must see every acknowledged write waits for the tail although this
// process acknowledged none of it, and a retry of a tail event is a duplicate answered
// with the id the store then holds — not a new event with an id the store never holds.
func TestEventLogRestartWithATail(t *testing.T) {
	cfg := baseCfg(t.TempDir())
	cfg.EventLog, cfg.ReadWait = true, 300*time.Millisecond
	first, project := startHeld(t, cfg)
	project()
	_, key := first.org("acme")
	path := first.postmarkConn(key)
	m := first.instrument(key, "tail", "t1")
	first.stop()

	held, _ := startHeld(t, cfg)
	held.hardBounce(path, m.MessageID, "t1@example.com", 1)
	ev := map[string]any{"event_type": "delivered", "campaign_id": "tail", "customer_id": "t1", "message_id": m.MessageID, "idempotency_key": "tail-d1"}
	orig, _ := held.postEventsAt(key, ev)
	held.abandon()

	h, project := startHeld(t, cfg)
	if code, reason, _ := h.check(key, "t1@example.com"); code == 200 {
		t.Errorf("check at a start with the bounce in the unapplied tail: 200 suppressed for %q; want 503 until the store has applied the tail", reason)
	}
	again, _ := h.postEventsAt(key, ev)
	if again.Accepted != 0 || again.Duplicates != 1 || len(again.EventIDs) != 1 || again.EventIDs[0] != orig.EventIDs[0] {
		t.Errorf("retry of a tail event after the restart: %+v; want a duplicate of %v", again, orig.EventIDs)
	}
	project()
	if code, reason, _ := h.check(key, "t1@example.com"); code != 200 || reason != mailtrail.ReasonHardBounce {
		t.Errorf("check once the tail is applied: %d %q", code, reason)
	}
	evs := h.events(key, "campaign_id=tail")
	var ids []string
	for _, e := range evs {
		if e.Type == mailtrail.EventDelivered {
			ids = append(ids, e.ID)
		}
	}
	if len(ids) != 1 || ids[0] != orig.EventIDs[0] {
		t.Errorf("deliveries stored %v, want only the acknowledged %v", ids, orig.EventIDs)
	}
}

// logKeeps reports whether the data directory's event log still holds needle 10 s on.
// When a purge removes every message, JetStream's file store moves the message folder
// aside at once and deletes it in the background (a start deletes one left by a crash):
// the files go within moments, not always before the erasure's answer.
func logKeeps(t *testing.T, dataDir, needle string) bool {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); logHolds(t, dataDir, needle); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			return true
		}
	}
	return false
}

// logHolds reports whether any file of the data directory's event log contains needle.
func logHolds(t *testing.T, dataDir, needle string) bool {
	t.Helper()
	// The running server may remove a file or folder while the walk reads the tree (a
	// purge drops message blocks): the walk is then read again, whole.
	for attempt := 0; ; attempt++ {
		found := false
		err := filepath.WalkDir(filepath.Join(dataDir, eventLogDir), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || found {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			found = bytes.Contains(b, []byte(needle))
			return nil
		})
		if errors.Is(err, fs.ErrNotExist) && attempt < 10 {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		return found
	}
}

// An erasure reaches the log: the erased customer's events leave its files at once, by
// the API (the store applied them first) and by the offline verb on a log with a tail the
// store had not applied (the verb applies it first, so the customer's events in it are
// erased too, and a later start does not bring them back).
func TestEventLogErasureLeavesTheLog(t *testing.T) {
	cfg := baseCfg(t.TempDir())
	cfg.EventLog = true
	h, project := startHeld(t, cfg)
	project()
	orgID, key := h.org("acme")
	send := func(h *harness, customer string) {
		t.Helper()
		ans, _ := h.postEventsAt(key, map[string]any{"event_type": "sent", "campaign_id": "erase", "customer_id": customer,
			"customer_email": customer + "@example.com", "ip": "203.0.113.77"})
		if ans.Accepted != 1 {
			t.Fatalf("send to %s: %+v", customer, ans)
		}
	}
	send(h, "gone-api")
	send(h, "stays")
	if !logHolds(t, cfg.DataDir, "gone-api@example.com") {
		t.Fatal("the log's files do not hold the address they were sent: this test cannot see an erasure")
	}
	if resp, body := h.raw("DELETE", "/api/v1/customers/gone-api", key, nil, nil); resp.StatusCode != 200 {
		t.Fatalf("erase: %d %s", resp.StatusCode, body)
	}
	if logKeeps(t, cfg.DataDir, "gone-api@example.com") {
		t.Error("after the API's erasure the event log's files still hold the customer's address")
	}
	send(h, "gone-cli")
	h.stop()

	held, _ := startHeld(t, cfg)
	send(held, "gone-tail")
	held.abandon()
	if !logHolds(t, cfg.DataDir, "gone-tail@example.com") {
		t.Fatal("the unapplied tail does not hold the address")
	}
	for _, id := range []string{"gone-cli", "gone-tail"} {
		var out, errb bytes.Buffer
		if err := Run(context.Background(), []string{"customer", "erase", "--data-dir", cfg.DataDir, "--org", orgID, id}, &out, &errb); err != nil {
			t.Fatalf("customer erase %s: %v %s", id, err, errb.String())
		}
	}
	for _, addr := range []string{"gone-cli@example.com", "gone-tail@example.com"} {
		if logKeeps(t, cfg.DataDir, addr) {
			t.Errorf("after the offline erasure the event log's files still hold %s", addr)
		}
	}

	again := newHarness(t, func(c *Config) { *c = cfg })
	evs := again.events(key, "campaign_id=erase")
	sent := map[string]int{}
	for _, e := range evs {
		if e.Type != mailtrail.EventSent {
			continue
		}
		sent[e.CustomerID]++
		if e.CustomerEmail != "" && e.CustomerEmail != "stays@example.com" {
			t.Errorf("an erased customer's address is back after a restart: %+v", e)
		}
	}
	if len(evs) != 4 || sent["stays"] != 1 {
		t.Errorf("sends after the erasures and a restart: %d events %v; want the 4 sends, only stays@ named", len(evs), sent)
	}
}

// A backup holds the store, not the log: restored into a new directory it starts with
// --event-log on a new log (its events the log's starting point), with the same figures,
// instead of refusing a log that "was removed".
func TestEventLogBackupRestore(t *testing.T) {
	cfg := baseCfg(t.TempDir())
	cfg.EventLog = true
	h, project := startHeld(t, cfg)
	project()
	_, key := h.org("acme")
	m := h.instrument(key, "mig", "m1")
	h.track(m.Tracking.OpenURL)
	h.track(m.Tracking.ClickURLs[0])
	if ans, _ := h.postEventsAt(key, map[string]any{"event_type": "delivered", "campaign_id": "mig", "customer_id": "m1",
		"message_id": m.MessageID, "idempotency_key": "restore-d1"}); ans.Accepted != 1 {
		t.Fatalf("delivered: %+v", ans)
	}
	if err := h.app.logged.WaitFor(t.Context(), h.app.logged.Written()); err != nil {
		t.Fatal(err)
	}
	before := h.figures(key)
	h.stop()

	file := filepath.Join(t.TempDir(), "b.tar")
	var out, errb bytes.Buffer
	if err := Run(context.Background(), []string{"backup", "--data-dir", cfg.DataDir, "--to", file}, &out, &errb); err != nil {
		t.Fatalf("backup: %v %s", err, errb.String())
	}
	restored := cfg
	restored.DataDir = filepath.Join(t.TempDir(), "restored")
	if err := Run(context.Background(), []string{"restore", "--from", file, "--data-dir", restored.DataDir}, &out, &errb); err != nil {
		t.Fatalf("restore: %v %s", err, errb.String())
	}
	again := newHarness(t, func(c *Config) { *c = restored })
	if got := again.figures(key); got != before {
		t.Errorf("figures after the restore %+v, before %+v", got, before)
	}
	retry, pos := again.postEventsAt(key, map[string]any{"event_type": "delivered", "campaign_id": "mig", "customer_id": "m1",
		"message_id": m.MessageID, "idempotency_key": "restore-d1"})
	if retry.Duplicates != 1 || retry.Accepted != 0 {
		t.Errorf("retry of a restored event: %+v; want a duplicate", retry)
	}
	fresh, pos2 := again.postEventsAt(key, map[string]any{"event_type": "sent", "campaign_id": "mig", "customer_id": "m2",
		"customer_email": "m2@example.com", "idempotency_key": "restore-s2"})
	if fresh.Accepted != 1 || pos2 == 0 {
		t.Errorf("a new event after the restore: %+v at position %d (retry at %d)", fresh, pos2, pos)
	}
	if rep := again.reportAfter(key, "mig", pos2, 10); rep.Counts.Sent != 1 || rep.Counts.Delivered != 1 {
		t.Errorf("report after a new send on the restored store: sent %d delivered %d, want 1 and 1", rep.Counts.Sent, rep.Counts.Delivered)
	}
}

// A projector stopped before its Run started (serve stopping right after it started)
// does not run: the Run returns at once instead of applying the log until its context
// ends.
func TestEventLogStoppedBeforeRun(t *testing.T) {
	cfg := baseCfg(t.TempDir())
	cfg.EventLog = true
	a, err := newApp(context.Background(), cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	if !a.logged.stopCaughtUp(context.Background()) {
		t.Fatal("an empty log's store is not caught up")
	}
	done := make(chan struct{})
	go func() { a.logged.run(context.Background()); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the projector's Run went on after stopCaughtUp")
	}
}

// waitFor polls cond until it holds, failing t after a minute (a bound for a broken
// build, not a timing assertion).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited a minute for %s", what)
		}
	}
}
