package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
)

// testClock is the webhook clock of a harness, moved by the test.
type testClock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	c.off += d
	c.mu.Unlock()
}

// recordingFetcher answers outbound GETs from a map and records every URL asked.
type recordingFetcher struct {
	mu   sync.Mutex
	body map[string][]byte
	urls []string
}

func (f *recordingFetcher) Get(_ context.Context, u string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.urls = append(f.urls, u)
	if b, ok := f.body[u]; ok {
		return b, nil
	}
	return []byte("<ConfirmSubscriptionResponse/>"), nil
}

func (f *recordingFetcher) calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.urls...)
}

// hookHarness is the e2e harness with the webhook clock and fetcher replaced, and a
// second connection to the database file for counting rows.
type hookHarness struct {
	*harness
	clock   *testClock
	fetcher *recordingFetcher
	sql     *sql.DB
}

func newHookHarness(t *testing.T, mut ...func(*Config)) *hookHarness {
	t.Helper()
	cfg := Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), AdminToken: testAdmin, SecretKeyID: 1,
		TrackingWait: 2 * time.Second, Synchronous: "NORMAL", LogLevel: "error", LogFormat: "text",
		MaxBatch: 5000, MaxQueue: 50000, QueueWait: 2 * time.Second, ShutdownTimeout: 10 * time.Second, RetentionInterval: time.Hour}
	for _, m := range mut {
		m(&cfg)
	}
	clock := &testClock{}
	fetcher := &recordingFetcher{body: map[string][]byte{}}
	srv := httptest.NewUnstartedServer(nil)
	cfg.PublicURL = "http://" + srv.Listener.Addr().String()
	a, err := newApp(context.Background(), cfg, io.Discard, func(d *appDeps) { d.now, d.fetcher = clock.now, fetcher })
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = a.server
	srv.Start()
	done := make(chan struct{})
	go func() { a.pipeline.Run(context.Background()); close(done) }()
	db, err := sql.Open("sqlite", "file:"+a.db.Path())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		db.Close()
		srv.Close()
		a.pipeline.Close(context.Background())
		<-done
		a.close()
	})
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }, Timeout: 20 * time.Second}
	return &hookHarness{harness: &harness{t: t, app: a, srv: srv, client: client, admin: testAdmin}, clock: clock, fetcher: fetcher, sql: db}
}

// count runs a count(*) query on the database file.
func (h *hookHarness) count(q string, args ...any) int {
	h.t.Helper()
	var n int
	if err := h.sql.QueryRow(q, args...).Scan(&n); err != nil {
		h.t.Fatalf("%s: %v", q, err)
	}
	return n
}

func (h *hookHarness) eventRows() int { return h.count(`SELECT count(*) FROM events`) }

type connOut struct {
	ID                 string     `json:"id"`
	OrgID              string     `json:"organization_id"`
	Vendor             string     `json:"vendor"`
	WebhookURL         string     `json:"webhook_url"`
	Disabled           bool       `json:"disabled"`
	LastWebhookAt      *time.Time `json:"last_webhook_at"`
	PreviousValidUntil *time.Time `json:"previous_valid_until"`
}

func (h *hookHarness) connection(key string, body map[string]any) connOut {
	h.t.Helper()
	var c connOut
	if r := h.do("POST", "/api/v1/connections", key, body, &c); r.StatusCode != 201 {
		h.t.Fatalf("create connection: %d", r.StatusCode)
	}
	return c
}

// hook posts a webhook body with headers to a connection URL; it returns status and body.
func (h *hookHarness) hook(url string, body []byte, hdr http.Header) (int, string) {
	h.t.Helper()
	req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
	for k, v := range hdr {
		req.Header[k] = v
	}
	if req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := h.client.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

type hookResult struct{ Accepted, Duplicates, Ignored, Unattributed int }

func (h *hookHarness) hookOK(url string, body []byte, hdr http.Header) hookResult {
	h.t.Helper()
	code, b := h.hook(url, body, hdr)
	if code != 200 {
		h.t.Fatalf("webhook: %d %s", code, b)
	}
	var r hookResult
	if err := json.Unmarshal([]byte(b), &r); err != nil {
		h.t.Fatal(err)
	}
	return r
}

// --- signing, as each vendor does it ---

type sgKey struct {
	priv *ecdsa.PrivateKey
	pub  string
}

func newSGKey(t *testing.T) sgKey {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	return sgKey{priv: priv, pub: base64.StdEncoding.EncodeToString(der)}
}

func (k sgKey) headers(t *testing.T, at time.Time, body []byte) http.Header {
	ts := strconv.FormatInt(at.Unix(), 10)
	sum := sha256.Sum256(append([]byte(ts), body...))
	sig, err := ecdsa.SignASN1(rand.Reader, k.priv, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return http.Header{"X-Twilio-Email-Event-Webhook-Signature": {base64.StdEncoding.EncodeToString(sig)},
		"X-Twilio-Email-Event-Webhook-Timestamp": {ts}}
}

func hmacHex(key string, parts ...string) string {
	m := hmac.New(sha256.New, []byte(key))
	for _, p := range parts {
		m.Write([]byte(p))
	}
	return hex.EncodeToString(m.Sum(nil))
}

func genericHeaders(key string, at time.Time, body []byte) http.Header {
	ts := strconv.FormatInt(at.Unix(), 10)
	return http.Header{"X-Mailtrail-Signature": {"t=" + ts + ",v1=" + hmacHex(key, ts, ".", string(body))}}
}

var tokenSeq int

func mailgunBody(key string, at time.Time, token string, eventData map[string]any) []byte {
	ts := strconv.FormatInt(at.Unix(), 10)
	if token == "" {
		tokenSeq++
		token = fmt.Sprintf("%050d", tokenSeq)
	}
	b, _ := json.Marshal(map[string]any{
		"signature":  map[string]string{"timestamp": ts, "token": token, "signature": hmacHex(key, ts, token)},
		"event-data": eventData,
	})
	return b
}

func resendHeaders(secret, id string, at time.Time, body []byte) http.Header {
	raw, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	ts := strconv.FormatInt(at.Unix(), 10)
	m := hmac.New(sha256.New, raw)
	m.Write([]byte(id + "." + ts + "." + string(body)))
	return http.Header{"Svix-Id": {id}, "Svix-Timestamp": {ts}, "Svix-Signature": {"v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))}}
}

func basic(user, pass string) http.Header {
	return http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))}}
}

func mustJSON(v any) []byte { b, _ := json.Marshal(v); return b }

// typesOf lists the types of events, sorted by name.
func typesOf(evs []mailtrail.Event) string {
	var s []string
	for _, e := range evs {
		s = append(s, e.Type.String())
	}
	sort.Strings(s)
	return strings.Join(s, ",")
}
