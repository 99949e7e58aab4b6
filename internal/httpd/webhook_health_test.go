package httpd

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/internal/esp"
	"github.com/mailtrail/mailtrail/internal/ingest"
	"github.com/mailtrail/mailtrail/internal/secrets"
	"github.com/mailtrail/mailtrail/internal/store/sqlite"
)

// hookServer is a Server over a real SQLite store and ingest pipeline, with a clock the
// test moves, and one organization.
type hookServer struct {
	t   *testing.T
	s   *Server
	key string // the organization's API key

	mu  sync.Mutex
	now time.Time
}

func newHookServer(t *testing.T) *hookServer {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, t.TempDir()+"/mailtrail.db", sqlite.Options{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	p := ingest.New(db, ingest.Options{})
	done := make(chan struct{})
	go func() { p.Run(context.Background()); close(done) }()
	t.Cleanup(func() {
		p.Close(context.Background())
		<-done
		db.Close()
	})
	_, key, err := db.CreateOrg(ctx, "acme", "UTC")
	if err != nil {
		t.Fatal(err)
	}
	vendors := esp.Registry{}
	esp.RegisterA(vendors)
	esp.RegisterB(vendors, nil) // no test here posts to ses, the one vendor that fetches
	h := &hookServer{t: t, key: key, now: time.Now().UTC().Truncate(time.Second)}
	h.s = New(db, p, nil, nil, Options{PublicURL: "https://mt.example", Vendors: vendors,
		Secrets: secrets.NewKeyring([]byte("test service secret")), Now: h.clock})
	return h
}

func (h *hookServer) clock() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.now
}

func (h *hookServer) advance(d time.Duration) {
	h.mu.Lock()
	h.now = h.now.Add(d)
	h.mu.Unlock()
}

// do serves one request; body is sent as is when []byte, else as JSON.
func (h *hookServer) do(method, path string, hdr http.Header, body any) *httptest.ResponseRecorder {
	h.t.Helper()
	var b []byte
	switch v := body.(type) {
	case nil:
	case []byte:
		b = v
	default:
		b, _ = json.Marshal(v)
	}
	r := httptest.NewRequest(method, path, bytes.NewReader(b))
	for k, v := range hdr {
		r.Header[k] = v
	}
	r.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.s.ServeHTTP(rec, r)
	return rec
}

func (h *hookServer) api(method, path string, body, out any) {
	h.t.Helper()
	rec := h.do(method, path, http.Header{"Authorization": {"Bearer " + h.key}}, body)
	if rec.Code/100 != 2 {
		h.t.Fatalf("%s %s: %d %s", method, path, rec.Code, rec.Body)
	}
	if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
}

// testConn is a connection as the API shows it.
type testConn struct {
	ID            string           `json:"id"`
	Vendor        string           `json:"vendor"`
	WebhookURL    string           `json:"webhook_url"`
	WebhookHealth ConnectionHealth `json:"webhook_health"`
}

const genericKey = "generic-signing-key-0123456789"

// genericConn creates a connection of the generic format signed with genericKey.
func (h *hookServer) genericConn() testConn {
	h.t.Helper()
	var c testConn
	h.api("POST", "/api/v1/connections", map[string]any{"vendor": "generic", "name": "gen", "signing_key": genericKey}, &c)
	return c
}

// connection returns the connection as GET /api/v1/connections/{id} shows it, after
// checking that the list shows the same health.
func (h *hookServer) connection(id string) testConn {
	h.t.Helper()
	var c testConn
	h.api("GET", "/api/v1/connections/"+id, nil, &c)
	var list struct{ Connections []testConn }
	h.api("GET", "/api/v1/connections", nil, &list)
	found := false
	for _, lc := range list.Connections {
		if lc.ID == id {
			found = true
			a, _ := json.Marshal(lc.WebhookHealth)
			b, _ := json.Marshal(c.WebhookHealth)
			if !bytes.Equal(a, b) {
				h.t.Errorf("list health %s, get health %s", a, b)
			}
		}
	}
	if !found {
		h.t.Errorf("connection %s not in the list", id)
	}
	return c
}

// hook posts body to the webhook path of connID, signed with key (the generic scheme)
// at the server's clock.
func (h *hookServer) hook(vendor, connID, key string, body []byte) *httptest.ResponseRecorder {
	h.t.Helper()
	ts := strconv.FormatInt(h.clock().Unix(), 10)
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(ts + "." + string(body)))
	sig := "t=" + ts + ",v1=" + hex.EncodeToString(m.Sum(nil))
	return h.do("POST", "/webhooks/v2/"+vendor+"/"+connID, http.Header{esp.GenericSignatureHeader: {sig}}, body)
}

// genericEvents returns a generic body of n delivered events for message ids nobody sent.
func genericEvents(n int, at time.Time) []byte {
	var evs []map[string]any
	for i := range n {
		evs = append(evs, map[string]any{"event_id": fmt.Sprintf("ev-%d-%d", at.UnixNano(), i), "event_type": "delivered",
			"occurred_at": at.Add(-time.Minute).Format(time.RFC3339), "message_id": fmt.Sprintf("msg_unknown_%d", i),
			"customer_email": fmt.Sprintf("someone%d@example.com", i)})
	}
	b, _ := json.Marshal(map[string]any{"events": evs})
	return b
}

func TestWebhookHealthSignatureFailure(t *testing.T) {
	h := newHookServer(t)
	c := h.genericConn()
	if got := c.WebhookHealth; got.Counts != (HealthCounts{}) || len(got.RecentErrors) != 0 || got.Since.IsZero() {
		t.Fatalf("new connection's health = %+v, want none since the start", got)
	}
	body := genericEvents(1, h.clock())
	if rec := h.hook("generic", c.ID, "not-the-key", body); rec.Code != http.StatusUnauthorized {
		t.Fatalf("bad signature: %d %s", rec.Code, rec.Body)
	}
	at := h.clock()
	got := h.connection(c.ID).WebhookHealth
	if want := (HealthCounts{SignatureFailures: 1}); got.Counts != want {
		t.Errorf("counts = %+v, want %+v", got.Counts, want)
	}
	if len(got.RecentErrors) != 1 {
		t.Fatalf("recent errors = %+v, want 1", got.RecentErrors)
	}
	e := got.RecentErrors[0]
	if e.Kind != HealthSignature || e.Message != "webhook credentials or signature invalid" || !e.At.Equal(at) {
		t.Errorf("recent error = %+v, want signature at %v", e, at)
	}
	if last, ok := got.LastErrorAt[HealthSignature]; !ok || !last.Equal(at) || len(got.LastErrorAt) != 1 {
		t.Errorf("last_error_at = %v, want only signature at %v", got.LastErrorAt, at)
	}

	// Signed right: accepted and counted, the error stays.
	h.advance(time.Second)
	if rec := h.hook("generic", c.ID, genericKey, genericEvents(1, h.clock())); rec.Code != http.StatusOK {
		t.Fatalf("signed: %d %s", rec.Code, rec.Body)
	}
	got = h.connection(c.ID).WebhookHealth
	if got.Counts.SignatureFailures != 1 || got.Counts.AcceptedRequests != 1 || len(got.RecentErrors) != 2 {
		t.Errorf("after an accepted request: %+v", got)
	}
}

func TestWebhookHealthUnattributed(t *testing.T) {
	h := newHookServer(t)
	c := h.genericConn()
	rec := h.hook("generic", c.ID, genericKey, genericEvents(3, h.clock()))
	if rec.Code != http.StatusOK {
		t.Fatalf("webhook: %d %s", rec.Code, rec.Body)
	}
	var res webhookResponse
	_ = json.Unmarshal(rec.Body.Bytes(), &res)
	if res.Accepted != 3 || res.Unattributed != 3 {
		t.Fatalf("webhook answered %+v, want 3 accepted and unattributed", res)
	}
	got := h.connection(c.ID).WebhookHealth
	if want := (HealthCounts{AcceptedRequests: 1, AcceptedEvents: 3, UnattributedEvents: 3}); got.Counts != want {
		t.Errorf("counts = %+v, want %+v", got.Counts, want)
	}
	if len(got.RecentErrors) != 1 {
		t.Fatalf("recent errors = %+v, want 1 entry for the request", got.RecentErrors)
	}
	e := got.RecentErrors[0]
	if e.Kind != HealthUnattributed || e.Message != "3 events could not be matched to a sent message" {
		t.Errorf("recent error = %+v", e)
	}
	if _, ok := got.LastErrorAt[HealthUnattributed]; !ok {
		t.Errorf("last_error_at = %v, want unattributed", got.LastErrorAt)
	}

	// An invalid payload: newest first, our own message.
	h.advance(time.Second)
	if rec := h.hook("generic", c.ID, genericKey, genericEvents(0, time.Time{})); rec.Code != http.StatusBadRequest {
		t.Fatalf("empty batch: %d", rec.Code)
	}
	got = h.connection(c.ID).WebhookHealth
	if got.Counts.InvalidPayloads != 1 || len(got.RecentErrors) != 2 || got.RecentErrors[0].Kind != HealthInvalid ||
		!strings.Contains(got.RecentErrors[0].Message, "generic webhook needs 1 to 1000 events") {
		t.Errorf("after an invalid payload: %+v", got)
	}
	raw := h.do("GET", "/api/v1/connections/"+c.ID, http.Header{"Authorization": {"Bearer " + h.key}}, nil).Body.String()
	if strings.Contains(raw, "@example.com") || strings.Contains(raw, "msg_unknown") || strings.Contains(raw, genericKey) {
		t.Errorf("connection JSON shows payload or secret: %s", raw)
	}
}

func TestWebhookHealthUnknownConnection(t *testing.T) {
	h := newHookServer(t)
	c := h.genericConn()
	for _, path := range []struct{ vendor, id string }{
		{"generic", "conn_doesnotexist"},
		{"sendgrid", c.ID}, // a real id under another vendor
		{"novendor", c.ID},
	} {
		if rec := h.hook(path.vendor, path.id, genericKey, genericEvents(1, h.clock())); rec.Code != http.StatusNotFound {
			t.Errorf("%s/%s: %d, want 404", path.vendor, path.id, rec.Code)
		}
	}
	if n := h.s.conns.HealthRecord().Tracked(); n != 0 {
		t.Errorf("%d connections recorded after requests to no connection", n)
	}
	if got := h.s.conns.Health("conn_doesnotexist"); got.Counts != (HealthCounts{}) || len(got.RecentErrors) != 0 {
		t.Errorf("health of an unknown id = %+v", got)
	}
}

func TestWebhookHealthRingKeepsNewest(t *testing.T) {
	h := newHookServer(t)
	c := h.genericConn()
	type sent struct {
		at   time.Time
		kind string
	}
	var all []sent
	for i := range 20 + 5 { // the ring keeps 20
		h.advance(time.Second)
		kind, key, body := HealthSignature, "wrong-key", genericEvents(1, h.clock())
		if i%3 == 0 {
			kind, key, body = HealthInvalid, genericKey, []byte(`{"events":"no"}`)
		}
		if rec := h.hook("generic", c.ID, key, body); rec.Code/100 != 4 {
			t.Fatalf("request %d: %d", i, rec.Code)
		}
		all = append(all, sent{h.clock(), kind})
	}
	got := h.connection(c.ID).WebhookHealth
	if got.Counts.SignatureFailures+got.Counts.InvalidPayloads != int64(len(all)) {
		t.Errorf("counts = %+v, want %d errors", got.Counts, len(all))
	}
	if len(got.RecentErrors) != 20 {
		t.Fatalf("%d recent errors, want %d", len(got.RecentErrors), 20)
	}
	for i, e := range got.RecentErrors {
		want := all[len(all)-1-i] // newest first
		if !e.At.Equal(want.at) || e.Kind != want.kind {
			t.Errorf("recent_errors[%d] = %s at %v, want %s at %v", i, e.Kind, e.At, want.kind, want.at)
		}
	}
	last := all[len(all)-1].at
	for _, s := range all {
		if s.kind == HealthInvalid {
			last = s.at
		}
	}
	if !got.LastErrorAt[HealthInvalid].Equal(last) {
		t.Errorf("last invalid at %v, want %v", got.LastErrorAt[HealthInvalid], last)
	}
}
