package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/httpd"
	"github.com/mailtrail/mailtrail/internal/token"
)

// harness is the real service on a real SQLite file behind a real HTTP server.
type harness struct {
	t      *testing.T
	app    *app
	srv    *httptest.Server
	client *http.Client
	admin  string

	pipeDone chan struct{}      // closed when the pipeline's Run returns
	projDone chan struct{}      // with EventLog, closed when the projector's Run returns
	projStop context.CancelFunc // with EventLog, cancels the projector's Run (as serve's parts do after its Stop)
}

const testAdmin = "test-admin-token-0123456789"

func newHarness(t *testing.T, mut ...func(*Config)) *harness {
	t.Helper()
	cfg := Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), AdminToken: testAdmin, SecretKeyID: 1,
		TrackingWait: 2 * time.Second, Synchronous: "NORMAL", LogLevel: "error", LogFormat: "text",
		MaxBatch: 5000, MaxQueue: 50000, QueueWait: 2 * time.Second, ShutdownTimeout: 10 * time.Second, ReadWait: 2 * time.Second, RetentionInterval: time.Hour,
		TrustedProxies: "127.0.0.0/8"}
	// MAILTRAIL_TEST_EVENT_LOG=1 runs every harness test with --event-log (the write path
	// of issue 16); the tests of that mode set it themselves.
	matrix := testEventLog()
	// A test of that mode (one that turns the log on itself) says which positions its
	// requests wait for: it runs as written, the same in both runs, without the client
	// below (which would make a read the test wants answered at once wait, or fail).
	probe := cfg
	for _, m := range mut {
		m(&probe)
	}
	ownLog := probe.EventLog
	if matrix {
		cfg.EventLog = true
	}
	for _, m := range mut {
		m(&cfg)
	}
	h := &harness{t: t, admin: testAdmin,
		client: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }, Timeout: 10 * time.Second}}
	if matrix && !ownLog {
		h.client.Transport = readsAfterWrites{h: h}
	}
	h.start(cfg)
	t.Cleanup(h.stop)
	return h
}

// testEventLog reports whether this run is the event log's (MAILTRAIL_TEST_EVENT_LOG set):
// newHarness then runs the service with --event-log. Tests whose right answer differs
// between the two write paths (serve's parts, the publisher of change-sets) ask it.
func testEventLog() bool { return os.Getenv("MAILTRAIL_TEST_EVENT_LOG") != "" }

// readsAfterWrites is the harness client's transport under MAILTRAIL_TEST_EVENT_LOG=1: it
// makes every API request read after every write the log acknowledged so far (Mailtrail-After, as a
// client that wants its own writes sends the positions it was given): the tests written
// for the store's write path run unchanged on the log's.
type readsAfterWrites struct{ h *harness }

func (t readsAfterWrites) RoundTrip(r *http.Request) (*http.Response, error) {
	if a := t.h.app; a != nil && a.logged != nil && strings.HasPrefix(r.URL.Path, "/api/v1/") && r.Header.Get(httpd.HeaderAfter) == "" {
		r = r.Clone(r.Context())
		r.Header.Set(httpd.HeaderAfter, strconv.FormatUint(a.logged.Written(), 10))
	}
	return http.DefaultTransport.RoundTrip(r)
}

// start runs the service with cfg behind a new test server.
func (h *harness) start(cfg Config) {
	h.t.Helper()
	// Tracking URLs must point at the test server, known only once it listens.
	srv := httptest.NewUnstartedServer(nil)
	cfg.PublicURL = "http://" + srv.Listener.Addr().String()
	a, err := newApp(context.Background(), cfg, io.Discard)
	if err != nil {
		srv.Listener.Close()
		h.t.Fatal(err)
	}
	srv.Config.Handler = a.server
	srv.Start()
	done := make(chan struct{})
	go func() { a.pipeline.Run(context.Background()); close(done) }()
	h.app, h.srv, h.pipeDone = a, srv, done
	if a.logged != nil { // --event-log: the projector applies the log behind the acks
		h.runProjector()
	}
}

// runProjector runs the projector of the service's event log until stop, on a context
// that stop cancels once the store caught up, as serve's parts cancel a part's Run after
// its Stop.
func (h *harness) runProjector() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	h.projDone, h.projStop = done, cancel
	go func() { h.app.logged.run(ctx); close(done) }()
}

// stop stops the service and closes its store, which frees the data directory.
func (h *harness) stop() {
	if h.app == nil {
		return
	}
	h.srv.Close()
	h.app.pipeline.Close(context.Background())
	<-h.pipeDone
	if h.app.logged != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		h.app.logged.stopCaughtUp(ctx)
		cancel()
		h.projStop()
		<-h.projDone
	}
	h.app.close()
	h.app = nil
}

// offline stops the service, runs f with its data directory (free for CLI verbs), then
// starts the service again on the same directory, behind a new test server.
func (h *harness) offline(f func(dataDir string)) {
	h.t.Helper()
	cfg := h.app.cfg
	h.stop()
	f(cfg.DataDir)
	h.start(cfg)
}

// do sends a request and decodes a JSON answer into out (when non-nil); it returns the response.
// desktopUA is Thunderbird on a desktop, as a person opening and clicking would send.
const desktopUA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0"

func (h *harness) do(method, path, bearer string, body any, out any) *http.Response {
	h.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	u := path
	if !strings.HasPrefix(u, "http") {
		u = h.srv.URL + path
	}
	req, _ := http.NewRequest(method, u, rd)
	// A person's mail client, not Go's agent (which the classifier rightly calls a bot).
	req.Header.Set("User-Agent", desktopUA)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := h.client.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	resp.Body = io.NopCloser(bytes.NewReader(raw))
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			h.t.Fatalf("%s %s: %d %s: %v", method, path, resp.StatusCode, raw, err)
		}
	}
	return resp
}

func (h *harness) org(name string) (id, key string) {
	h.t.Helper()
	var out struct {
		ID     string `json:"id"`
		APIKey string `json:"api_key"`
	}
	if r := h.do("POST", "/api/v1/admin/organizations", h.admin, map[string]string{"name": name, "timezone": "Europe/Paris"}, &out); r.StatusCode != 201 {
		h.t.Fatalf("create org: %d", r.StatusCode)
	}
	return out.ID, out.APIKey
}

type instrumented struct {
	MessageID string            `json:"message_id"`
	HTML      string            `json:"html"`
	Text      string            `json:"text"`
	Headers   map[string]string `json:"headers"`
	Links     []string          `json:"links"`
	Custom    map[string]string `json:"custom_args"`
	Tracking  struct {
		OpenURL        string   `json:"open_url"`
		ClickURLs      []string `json:"click_urls"`
		UnsubscribeURL string   `json:"unsubscribe_url"`
	} `json:"tracking"`
}

const emailHTML = `<html><body><p>Hi</p><a href="https://shop.example.com/a?x=1&amp;y=2">A</a>
<a href="mailto:help@example.com">mail</a> <a href="#top">top</a> <a href="https://shop.example.com/b" data-mt-notrack>B</a>
<a href="https://shop.example.com/c">C</a><a href="{{unsubscribe_url}}">unsubscribe</a></body></html>`

func (h *harness) instrument(key, campaign, customer string) instrumented {
	h.t.Helper()
	var m instrumented
	r := h.do("POST", "/api/v1/messages", key, map[string]any{"campaign_id": campaign, "customer_id": customer,
		"customer_email": customer + "@example.com", "html": emailHTML, "text": "Visit https://shop.example.com/t now."}, &m)
	if r.StatusCode != 200 {
		h.t.Fatalf("instrument: %d", r.StatusCode)
	}
	return m
}

func (h *harness) report(key, campaign string) mailtrail.Report {
	h.t.Helper()
	var rep mailtrail.Report
	if r := h.do("GET", "/api/v1/campaigns/"+campaign+"/report", key, nil, &rep); r.StatusCode != 200 {
		h.t.Fatalf("report: %d", r.StatusCode)
	}
	return rep
}

func (h *harness) events(key, query string) []mailtrail.Event {
	h.t.Helper()
	var page mailtrail.EventPage
	if r := h.do("GET", "/api/v1/events?"+query, key, nil, &page); r.StatusCode != 200 {
		h.t.Fatalf("events: %d", r.StatusCode)
	}
	return page.Events
}

func TestRoundTrip(t *testing.T) {
	h := newHarness(t)
	_, key := h.org("acme")
	m := h.instrument(key, "spring", "cust-1")

	// Instrumenting: three tracked links (A, C in HTML; one in the text), mailto, anchor
	// and the marked link untouched, pixel in, placeholder replaced, headers and args out.
	if want := []string{"https://shop.example.com/a?x=1&y=2", "https://shop.example.com/c", "https://shop.example.com/t"}; fmt.Sprint(m.Links) != fmt.Sprint(want) {
		t.Fatalf("links %v, want %v", m.Links, want)
	}
	for _, s := range []string{`href="mailto:help@example.com"`, `href="#top"`, `href="https://shop.example.com/b"`, m.Tracking.OpenURL, m.Tracking.UnsubscribeURL} {
		if !strings.Contains(m.HTML, s) {
			t.Errorf("instrumented html lacks %q", s)
		}
	}
	if strings.Contains(m.HTML, "{{unsubscribe_url}}") || strings.Contains(m.HTML, "data-mt-notrack") {
		t.Error("placeholder or notrack marker left in html")
	}
	if !strings.Contains(m.Text, m.Tracking.ClickURLs[2]) {
		t.Errorf("text link not rewritten: %q", m.Text)
	}
	if m.Headers["List-Unsubscribe"] != "<"+m.Tracking.UnsubscribeURL+">" || m.Headers["List-Unsubscribe-Post"] != "List-Unsubscribe=One-Click" ||
		m.Headers["X-Mailtrail-Message-ID"] != m.MessageID {
		t.Errorf("headers %v", m.Headers)
	}
	if m.Custom["mt_message_id"] != m.MessageID || m.Custom["mt_campaign_id"] != "spring" {
		t.Errorf("custom args %v", m.Custom)
	}

	// The CRM records the send; the ESP's delivery arrives as an API event here.
	at := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	var res struct{ Accepted, Duplicates int }
	h.do("POST", "/api/v1/events", key, map[string]any{"events": []map[string]any{
		{"event_type": "sent", "message_id": m.MessageID, "esp_message_id": "esp-1", "occurred_at": at.Format(time.RFC3339), "idempotency_key": "s1"},
		{"event_type": "delivered", "message_id": m.MessageID, "occurred_at": at.Add(time.Minute).Format(time.RFC3339), "idempotency_key": "d1"},
	}}, &res)
	if res.Accepted != 2 || res.Duplicates != 0 {
		t.Fatalf("post events: %+v", res)
	}

	// Two opens, three clicks on two links, one HEAD that counts nothing.
	for i := 0; i < 2; i++ {
		r := h.do("GET", m.Tracking.OpenURL, "", nil, nil)
		body, _ := io.ReadAll(r.Body)
		if r.StatusCode != 200 || len(body) != 43 || r.Header.Get("Content-Type") != "image/gif" || !strings.Contains(r.Header.Get("Cache-Control"), "no-store") {
			t.Fatalf("pixel: %d %d bytes %v", r.StatusCode, len(body), r.Header)
		}
	}
	for _, i := range []int{0, 0, 1} {
		r := h.do("GET", m.Tracking.ClickURLs[i], "", nil, nil)
		if r.StatusCode != 302 || r.Header.Get("Location") != m.Links[i] {
			t.Fatalf("click %d: %d %q", i, r.StatusCode, r.Header.Get("Location"))
		}
	}
	if r := h.do("HEAD", m.Tracking.ClickURLs[1], "", nil, nil); r.StatusCode != 302 || r.Header.Get("Location") != m.Links[1] {
		t.Fatalf("HEAD click: %d", r.StatusCode)
	}

	// Unsubscribe: the page changes nothing; the one-click POST does, once.
	if r := h.do("GET", m.Tracking.UnsubscribeURL, "", nil, nil); r.StatusCode != 200 {
		t.Fatalf("unsubscribe page: %d", r.StatusCode)
	}
	if n := len(h.events(key, "type=unsubscribed")); n != 0 {
		t.Fatalf("GET unsubscribed: %d events", n)
	}
	for i := 0; i < 2; i++ {
		if r := h.postForm(m.Tracking.UnsubscribeURL, i == 1); r.StatusCode != 200 || r.Header.Get("Location") != "" {
			t.Fatalf("one-click POST %d: %d", i, r.StatusCode)
		}
	}

	rep := h.report(key, "spring")
	want := mailtrail.Counts{Sent: 1, Delivered: 1, OpensTotal: 2, OpensUnique: 1, HumanOpensTotal: 2, HumanOpensUnique: 1,
		ClicksTotal: 3, ClicksUnique: 1, HumanClicksTotal: 3, HumanClicksUnique: 1, Unsubscribed: 1}
	if rep.Counts != want {
		t.Fatalf("report counts:\n got %+v\nwant %+v", rep.Counts, want)
	}
	if rep.Rates.Open != 1 || rep.Rates.Click != 1 || rep.Rates.Unsubscribe != 1 || rep.Timezone != "Europe/Paris" {
		t.Fatalf("rates %+v tz %s", rep.Rates, rep.Timezone)
	}
	if len(rep.Links) != 2 || rep.Links[0].URL != m.Links[0] || rep.Links[0].Total != 2 || rep.Links[0].Unique != 1 || rep.Links[1].Total != 1 {
		t.Fatalf("links %+v", rep.Links)
	}
	var hourly int64
	for _, b := range rep.Hourly {
		hourly += b.Sent
		if _, off := b.Start.Zone(); off != 3600 && off != 7200 {
			t.Fatalf("hourly bucket not in Europe/Paris: %v", b.Start)
		}
	}
	if hourly != 1 {
		t.Fatalf("hourly timeline sends %d", hourly)
	}
	evs := h.events(key, "campaign_id=spring")
	if len(evs) != 8 { // sent, delivered, 2 opens, 3 clicks, 1 unsubscribe
		t.Fatalf("%d events listed, want 8", len(evs))
	}
	var sup *mailtrail.Suppression
	if sup, _ = h.app.db.Suppressed(context.Background(), evs[0].OrgID, "cust-1@example.com"); sup == nil || sup.Reason != "unsubscribed" || sup.Source != "tracking_link" {
		t.Fatalf("suppression after unsubscribe: %+v", sup)
	}
	// A repeat of the posted events is acknowledged and changes nothing.
	h.do("POST", "/api/v1/events", key, map[string]any{"events": []map[string]any{
		{"event_type": "sent", "message_id": m.MessageID, "esp_message_id": "esp-1", "occurred_at": at.Format(time.RFC3339), "idempotency_key": "s1"},
	}}, &res)
	if res.Accepted != 0 || res.Duplicates != 1 || h.report(key, "spring").Counts != want {
		t.Fatalf("retry counted again: %+v", res)
	}
}

// postForm posts the RFC 8058 body, form-encoded or multipart.
func (h *harness) postForm(u string, multi bool) *http.Response {
	h.t.Helper()
	var body bytes.Buffer
	ct := "application/x-www-form-urlencoded"
	if multi {
		mw := multipart.NewWriter(&body)
		mw.WriteField("List-Unsubscribe", "One-Click")
		mw.Close()
		ct = mw.FormDataContentType()
	} else {
		body.WriteString("List-Unsubscribe=One-Click")
	}
	resp, err := h.client.Post(u, ct, &body)
	if err != nil {
		h.t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func TestBadTokens(t *testing.T) {
	h := newHarness(t)
	orgID, key := h.org("acme")
	m := h.instrument(key, "c", "u1")
	tok := func(u string) string { return u[strings.LastIndexByte(u, '/')+1:] }
	open, click, unsub := tok(m.Tracking.OpenURL), tok(m.Tracking.ClickURLs[0]), tok(m.Tracking.UnsubscribeURL)
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	// A token signed with a key the server no longer knows.
	retired, _ := token.NewSigner(token.KeyFromSecret(2, []byte("an-old-secret-that-was-retired-long-ago")))
	ref, _ := token.ParseRef(m.MessageID)
	bad := map[string][]string{
		"open":  {flip(open, 5), flip(open, len(open)-1), open[:len(open)-1], open + "A", click, unsub, retired.Sign(token.Open, ref, 0), "", "..%2f"},
		"click": {flip(click, 5), flip(click, len(click)-1), click[:len(click)-2], click + "AA", open, unsub, retired.Sign(token.Click, ref, 0)},
	}
	for _, t1 := range bad["open"] {
		r := h.do("GET", "/api/track/open/"+t1, "", nil, nil)
		body, _ := io.ReadAll(r.Body)
		if r.StatusCode != 200 || len(body) != 43 {
			t.Errorf("pixel for bad token %q: %d, %d bytes", t1, r.StatusCode, len(body))
		}
	}
	for _, t1 := range bad["click"] {
		r := h.do("GET", "/api/track/click/"+t1, "", nil, nil)
		if r.StatusCode != 404 || r.Header.Get("Location") != "" {
			t.Errorf("click for bad token %q: %d %q", t1, r.StatusCode, r.Header.Get("Location"))
		}
	}
	for _, t1 := range []string{open, click, flip(unsub, 3), retired.Sign(token.Unsubscribe, ref, 0)} {
		if r := h.postForm(h.srv.URL+"/api/track/unsubscribe/"+t1, false); r.StatusCode != 404 {
			t.Errorf("unsubscribe with bad token: %d", r.StatusCode)
		}
	}
	if evs := h.events(key, ""); len(evs) != 0 {
		t.Fatalf("bad tokens recorded %d events", len(evs))
	}
	if sup, _ := h.app.db.Suppressed(context.Background(), orgID, "u1@example.com"); sup != nil {
		t.Fatal("bad unsubscribe token suppressed the address")
	}
	// The same token with the right key still works: the checks above were not vacuous.
	if r := h.do("GET", m.Tracking.ClickURLs[0], "", nil, nil); r.StatusCode != 302 {
		t.Fatalf("valid click: %d", r.StatusCode)
	}
}

func TestKeyRotation(t *testing.T) {
	const oldSecret = "0123456789abcdef0123456789abcdef-old"
	dir := t.TempDir()
	h1 := newHarness(t, func(c *Config) { c.DataDir = dir; c.SecretKey = oldSecret; c.SecretKeyID = 1 })
	_, key := h1.org("acme")
	m := h1.instrument(key, "c", "u1")
	path := m.Tracking.ClickURLs[0][strings.Index(m.Tracking.ClickURLs[0], "/api/"):]
	h1.stop() // frees the data directory for the next one
	// New key signs, the old one still verifies.
	h3 := newHarness(t, func(c *Config) {
		c.DataDir = dir
		c.SecretKey = "fedcba9876543210fedcba9876543210-new"
		c.SecretKeyID = 2
		c.OldSecretKeys = "1:" + oldSecret
	})
	if r := h3.do("GET", path, "", nil, nil); r.StatusCode != 302 {
		t.Fatalf("old-key token after rotation: %d", r.StatusCode)
	}
	m2 := h3.instrument(key, "c", "u2")
	path2 := m2.Tracking.ClickURLs[0][strings.Index(m2.Tracking.ClickURLs[0], "/api/"):]
	h3.stop() // frees the data directory for the next one
	// A server that knows only the old key cannot verify the new tokens: they are signed
	// with the new key.
	h5 := newHarness(t, func(c *Config) { c.DataDir = dir; c.SecretKey = oldSecret; c.SecretKeyID = 1 })
	if r := h5.do("GET", path2, "", nil, nil); r.StatusCode != 404 {
		t.Fatalf("new token verified by the old key alone: %d", r.StatusCode)
	}
	h5.stop() // frees the data directory for the next one
	// Once the old key is retired, its tokens fail.
	h4 := newHarness(t, func(c *Config) {
		c.DataDir = dir
		c.SecretKey = "fedcba9876543210fedcba9876543210-new"
		c.SecretKeyID = 2
	})
	if r := h4.do("GET", path, "", nil, nil); r.StatusCode != 404 {
		t.Fatalf("retired-key token: %d", r.StatusCode)
	}
}

func TestOpenRedirect(t *testing.T) {
	h := newHarness(t)
	_, key := h.org("acme")
	m := h.instrument(key, "c", "u1")
	click := m.Tracking.ClickURLs[0]
	tokenPath := click[strings.Index(click, "/api/"):]
	attempts := []string{
		tokenPath + "?url=https://evil.test", tokenPath + "?dest=https://evil.test&redirect=//evil.test",
		"/api/track/click//evil.test", "/api/track/click/https:evil.test", "/api/track/click/%2F%2Fevil.test",
		"/api/track/click/%5C%5Cevil.test", "/api/track/click/javascript:alert(1)", "/api/track/click/" + url.PathEscape("https://evil.test"),
		tokenPath + "/https://evil.test", tokenPath + "%2F%2Fevil.test",
	}
	for _, p := range attempts {
		r := h.do("GET", p, "", nil, nil)
		loc := r.Header.Get("Location")
		if loc != "" && loc != m.Links[0] {
			t.Errorf("%s redirected to %q", p, loc)
		}
		if r.StatusCode == 302 && loc != m.Links[0] {
			t.Errorf("%s: 302 to %q", p, loc)
		}
	}
}

func TestUnsubscribeRules(t *testing.T) {
	h := newHarness(t)
	_, key := h.org("acme")
	m := h.instrument(key, "c", "u1")
	for _, body := range []string{"", "List-Unsubscribe=Yes", "foo=bar"} {
		resp, err := h.client.Post(m.Tracking.UnsubscribeURL, "application/x-www-form-urlencoded", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("POST %q: %d, want 400", body, resp.StatusCode)
		}
	}
	for i := 0; i < 20; i++ { // scanners following the link
		h.do("GET", m.Tracking.UnsubscribeURL, "", nil, nil)
		h.do("HEAD", m.Tracking.UnsubscribeURL, "", nil, nil)
	}
	if rep := h.report(key, "c"); rep.Counts.Unsubscribed != 0 {
		t.Fatalf("GETs unsubscribed: %+v", rep.Counts)
	}
	if n := len(h.events(key, "")); n != 0 {
		t.Fatalf("%d events after GETs", n)
	}
}

func TestTenantIsolation(t *testing.T) {
	h := newHarness(t)
	_, keyA := h.org("a")
	_, keyB := h.org("b")
	m := h.instrument(keyA, "secret-campaign", "u1")
	h.do("GET", m.Tracking.OpenURL, "", nil, nil)
	if r := h.do("GET", "/api/v1/campaigns/secret-campaign/report", keyB, nil, nil); r.StatusCode != 404 {
		t.Fatalf("B reads A's report: %d", r.StatusCode)
	}
	if evs := h.events(keyB, "campaign_id=secret-campaign"); len(evs) != 0 {
		t.Fatalf("B lists A's events")
	}
	var e struct{ Error mailtrail.Error }
	r := h.do("POST", "/api/v1/events", keyB, map[string]any{"event_type": "complained", "message_id": m.MessageID}, &e)
	if r.StatusCode != 400 || len(e.Error.Details) != 1 || e.Error.Details[0].Field != "message_id" {
		t.Fatalf("B posts on A's message: %d %+v", r.StatusCode, e)
	}
	if rep := h.report(keyA, "secret-campaign"); rep.Counts.Complained != 0 || rep.Counts.OpensTotal != 1 {
		t.Fatalf("A's report changed: %+v", rep.Counts)
	}
	for _, k := range []string{"", "mt_nope", keyA + "x"} {
		if r := h.do("GET", "/api/v1/events", k, nil, nil); r.StatusCode != 401 {
			t.Fatalf("key %q: %d", k, r.StatusCode)
		}
	}
	if r := h.do("POST", "/api/v1/admin/organizations", keyA, map[string]string{"name": "x"}, nil); r.StatusCode != 401 {
		t.Fatalf("API key used as admin token: %d", r.StatusCode)
	}
}

func TestEventValidation(t *testing.T) {
	h := newHarness(t)
	_, key := h.org("acme")
	var e struct{ Error mailtrail.Error }
	r := h.do("POST", "/api/v1/events", key, map[string]any{"events": []map[string]any{
		{"event_type": "sent", "campaign_id": "c", "customer_id": "u1"},
		{"event_type": "bogus", "campaign_id": "c", "customer_id": "u1"},
		{"event_type": "bounced", "campaign_id": "c", "customer_id": "u1"},
		{"event_type": "sent", "campaign_id": "c"},
		{"event_type": "sent", "campaign_id": "c", "customer_id": "u1", "occurred_at": "yesterday"},
	}}, &e)
	if r.StatusCode != 400 || e.Error.Code != "invalid" || len(e.Error.Details) != 4 {
		t.Fatalf("validation: %d %+v", r.StatusCode, e)
	}
	for i, d := range e.Error.Details {
		if d.Index != i+1 {
			t.Fatalf("detail %d names item %d", i, d.Index)
		}
	}
	if n := len(h.events(key, "")); n != 0 {
		t.Fatalf("a rejected batch stored %d events", n)
	}
	for _, body := range []string{"{", "[]", `{"events":"x"}`, strings.Repeat("[", 10000)} {
		if r := h.do("POST", "/api/v1/events", key, body, nil); r.StatusCode != 400 {
			t.Errorf("body %.20q: %d", body, r.StatusCode)
		}
	}
	big := `{"events":[` + strings.Repeat(`{"event_type":"sent"},`, 1<<20) + `{}]}`
	if r := h.do("POST", "/api/v1/events", key, big, nil); r.StatusCode != 413 {
		t.Errorf("oversized body: %d", r.StatusCode)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{Addr: ":1", DataDir: "x", RetentionInterval: -time.Minute}, "--retention-interval"},
		{Config{Addr: "nope", DataDir: "x"}, "--addr"},
		{Config{Addr: ":1", DataDir: "x", PublicURL: "ftp://x"}, "--public-url"},
		{Config{Addr: ":1", DataDir: "x", SecretKey: "short"}, "--secret-key"},
		{Config{Addr: ":1", DataDir: "x", Synchronous: "OFF"}, "--synchronous"},
		{Config{Addr: ":1", DataDir: "x", TrustedProxies: "10.0.0.0/99"}, "--trusted-proxies"},
		{Config{Addr: ":1", DataDir: "x", OldSecretKeys: "1:short"}, "--old-secret-keys"},
		{Config{Addr: ":1", DataDir: "x", GeoIPDB: "/nonexistent/GeoLite2-City.mmdb"}, "--geoip-db"},
	} {
		err := c.cfg.validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("config %+v: error %v, want one naming %s", c.cfg, err, c.want)
		}
	}
}

// A token replayed past its hourly budget still gets its pixel or redirect, but only the
// first hits are stored; the rest are counted in a metric. Uniques are unaffected.
func TestTrackingBudget(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.TrackingBudget = 3 })
	_, key := h.org("acme")
	m := h.instrument(key, "flood", "u1")
	for i := range 5 {
		resp, err := h.client.Get(m.Tracking.OpenURL)
		if err != nil || resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/gif" {
			t.Fatalf("open %d: %v %v", i, err, resp)
		}
		resp.Body.Close()
		resp, err = h.client.Get(m.Tracking.ClickURLs[0])
		if err != nil || resp.StatusCode != 302 || resp.Header.Get("Location") == "" {
			t.Fatalf("click %d: %v %v", i, err, resp)
		}
		resp.Body.Close()
	}
	c := h.report(key, "flood").Counts
	if c.OpensTotal != 3 || c.OpensUnique != 1 || c.ClicksTotal != 3 || c.ClicksUnique != 1 {
		t.Fatalf("counts %+v, want 3 opens and 3 clicks stored", c)
	}
	for kind, want := range map[string]string{"open": "2", "click": "2"} {
		if got := h.metric(`mailtrail_tracking_over_budget_total{kind="` + kind + `"}`); !strings.HasSuffix(got, " "+want) {
			t.Errorf("over-budget %s: %q", kind, got)
		}
	}
}

// Journey ids and a client's own metadata keys are kept with the event (SPEC §1), within
// bounds; past them the batch is refused and nothing is stored.
func TestEventMetadataKept(t *testing.T) {
	h := newHarness(t)
	_, key := h.org("acme")
	h.postEvents(key, map[string]any{"event_type": "sent", "campaign_id": "welcome-step-2", "customer_id": "u1",
		"metadata": map[string]any{"journey_id": "welcome", "step_id": "2", "variant": "B", "score": 7}})
	evs := h.events(key, "campaign_id=welcome-step-2")
	if len(evs) != 1 {
		t.Fatalf("%d events", len(evs))
	}
	md := evs[0].Metadata
	if md.JourneyID != "welcome" || md.StepID != "2" || md.Extra["variant"] != "B" || md.Extra["score"] != float64(7) || len(md.Extra) != 2 {
		t.Fatalf("metadata %+v", md)
	}
	big := map[string]any{}
	for i := range 40 {
		big[fmt.Sprintf("k%d", i)] = i
	}
	r := h.do("POST", "/api/v1/events", key, map[string]any{"events": []map[string]any{
		{"event_type": "sent", "campaign_id": "c2", "customer_id": "u2"},
		{"event_type": "sent", "campaign_id": "c2", "customer_id": "u3", "metadata": big}}}, nil)
	if r.StatusCode != 400 {
		t.Fatalf("40 keys of one's own: %d", r.StatusCode)
	}
	if evs := h.events(key, "campaign_id=c2"); len(evs) != 0 {
		t.Fatalf("a refused batch stored %d events", len(evs))
	}
}

// An organization's tracking domain: its new messages' tracking URLs use it; on it, only
// its own click links are followed (another organization's link there is a 404); links
// on the service's own URL keep working; a host belongs to one organization.
func TestTrackingDomain(t *testing.T) {
	h := newHarness(t)
	_, keyA := h.org("acme")
	_, keyB := h.org("globex")
	before := h.instrument(keyA, "c", "early")
	var st mailtrail.OrgSettings
	if r := h.do("PATCH", "/api/v1/settings", keyA, map[string]any{"tracking_url": "https://Click.Acme.example/"}, &st); r.StatusCode != 200 || st.TrackingURL != "https://click.acme.example" {
		t.Fatalf("set: %d %+v", r.StatusCode, st)
	}
	for _, bad := range []string{"ftp://click.acme.example", "https://click.acme.example/path", "https://user:pw@click.acme.example", "click.acme.example", "https://a.example?x=1"} {
		if r := h.do("PATCH", "/api/v1/settings", keyB, map[string]any{"tracking_url": bad}, nil); r.StatusCode != 400 {
			t.Errorf("tracking_url %q: %d", bad, r.StatusCode)
		}
	}
	if r := h.do("PATCH", "/api/v1/settings", keyB, map[string]any{"tracking_url": "http://click.acme.example"}, nil); r.StatusCode != 409 {
		t.Errorf("another organization's host: %d", r.StatusCode)
	}
	a := h.instrument(keyA, "c", "u1")
	b := h.instrument(keyB, "c", "u2")
	for _, u := range append([]string{a.Tracking.OpenURL, a.Tracking.UnsubscribeURL}, a.Tracking.ClickURLs...) {
		if !strings.HasPrefix(u, "https://click.acme.example/api/track/") {
			t.Fatalf("tracking URL %q not on the organization's domain", u)
		}
	}
	if !strings.Contains(a.Headers["List-Unsubscribe"], "https://click.acme.example/") {
		t.Errorf("List-Unsubscribe %q", a.Headers["List-Unsubscribe"])
	}
	if strings.HasPrefix(b.Tracking.OpenURL, "https://click.acme.example") {
		t.Fatalf("another organization's URL on the domain: %s", b.Tracking.OpenURL)
	}
	click := func(u, host string) *http.Response {
		t.Helper()
		p, _ := url.Parse(u)
		req, _ := http.NewRequest("GET", h.srv.URL+p.Path, nil)
		req.Host = host
		req.Header.Set("User-Agent", desktopUA)
		resp, err := h.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if r := click(a.Tracking.ClickURLs[0], "click.acme.example"); r.StatusCode != 302 || !strings.HasPrefix(r.Header.Get("Location"), "https://shop.example.com/") {
		t.Fatalf("own link on the domain: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	if r := click(b.Tracking.ClickURLs[0], "CLICK.acme.example"); r.StatusCode != 404 || r.Header.Get("Location") != "" {
		t.Fatalf("another organization's link on the domain: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	srvHost := strings.TrimPrefix(h.srv.URL, "http://")
	for _, u := range []string{b.Tracking.ClickURLs[0], before.Tracking.ClickURLs[0]} {
		if r := click(u, srvHost); r.StatusCode != 302 {
			t.Fatalf("%s on the service's URL: %d", u, r.StatusCode)
		}
	}
	if c := h.report(keyB, "c").Counts; c.ClicksTotal != 1 {
		t.Fatalf("globex clicks %d: the refused click was recorded", c.ClicksTotal)
	}
	// Cleared: new messages use the service's URL again, and the host is free.
	if r := h.do("PATCH", "/api/v1/settings", keyA, map[string]any{"tracking_url": ""}, &st); r.StatusCode != 200 || st.TrackingURL != "" {
		t.Fatalf("clear: %d %+v", r.StatusCode, st)
	}
	if r := h.do("PATCH", "/api/v1/settings", keyB, map[string]any{"tracking_url": "https://click.acme.example"}, nil); r.StatusCode != 200 {
		t.Fatalf("the freed host: %d", r.StatusCode)
	}
}

// A read-only key reads everything of its organization and changes nothing: every route
// that writes answers 403 and stores nothing.
func TestAPIKeyScopes(t *testing.T) {
	h := newHarness(t)
	orgID, key := h.org("acme")
	m := h.instrument(key, "c1", "u1")
	h.postEvents(key, map[string]any{"event_type": "sent", "message_id": m.MessageID})
	var k struct {
		Key    mailtrail.APIKey `json:"key"`
		APIKey string           `json:"api_key"`
	}
	if r := h.do("POST", "/api/v1/admin/organizations/"+orgID+"/keys", h.admin, map[string]string{"name": "bi", "scope": "read"}, &k); r.StatusCode != 201 || k.Key.Scope != "read" {
		t.Fatalf("read key: %d %+v", r.StatusCode, k.Key)
	}
	if r := h.do("POST", "/api/v1/admin/organizations/"+orgID+"/keys", h.admin, map[string]string{"scope": "write-ish"}, nil); r.StatusCode != 400 {
		t.Fatalf("unknown scope: %d", r.StatusCode)
	}
	ro := k.APIKey
	for _, p := range []string{"/api/v1/campaigns/c1/report", "/api/v1/events?campaign_id=c1", "/api/v1/campaigns", "/api/v1/suppressions", "/api/v1/settings"} {
		if r := h.do("GET", p, ro, nil, nil); r.StatusCode != 200 {
			t.Errorf("GET %s with a read-only key: %d", p, r.StatusCode)
		}
	}
	if r := h.do("POST", "/api/v1/suppressions/check", ro, map[string]any{"emails": []string{"a@example.com"}}, nil); r.StatusCode != 200 {
		t.Errorf("suppression check: %d", r.StatusCode)
	}
	if r := h.do("POST", "/api/v1/segments/evaluate", ro, map[string]any{"has_done": map[string]any{"event": "sent"}}, nil); r.StatusCode == 403 {
		t.Errorf("segment evaluation refused to a read-only key")
	}
	writes := []struct {
		method, path string
		body         any
	}{
		{"POST", "/api/v1/events", map[string]any{"events": []map[string]any{{"event_type": "opened", "message_id": m.MessageID}}}},
		{"POST", "/api/v1/messages", map[string]any{"campaign_id": "c2", "customer_id": "u2", "customer_email": "u2@example.com", "html": "<p>x</p>"}},
		{"POST", "/api/v1/suppressions", map[string]any{"suppressions": []map[string]any{{"email": "ro@example.com"}}}},
		{"PATCH", "/api/v1/settings", map[string]any{"keep_full_ip": true}},
		{"POST", "/api/v1/connections", map[string]any{"vendor": "generic", "name": "g", "signing_key": "k-0123456789"}},
		{"DELETE", "/api/v1/customers/u1", nil},
	}
	for _, w := range writes {
		if r := h.do(w.method, w.path, ro, w.body, nil); r.StatusCode != 403 {
			t.Errorf("%s %s with a read-only key: %d", w.method, w.path, r.StatusCode)
		}
	}
	if c := h.report(key, "c1").Counts; c.OpensTotal != 0 || c.Sent != 1 {
		t.Errorf("a refused write changed the report: %+v", c)
	}
	if got := h.checkReasons(key, "ro@example.com"); len(got) != 0 {
		t.Errorf("a refused write suppressed %v", got)
	}
	var keys struct{ Keys []mailtrail.APIKey }
	h.do("GET", "/api/v1/admin/organizations/"+orgID+"/keys", h.admin, nil, &keys)
	scopes := map[string]string{}
	for _, k := range keys.Keys {
		scopes[k.Name] = k.Scope
	}
	if scopes["bi"] != "read" || scopes["default"] != "all" {
		t.Errorf("listed scopes %v", scopes)
	}
}
