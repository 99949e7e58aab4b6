package httpd

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/ingest"
	"github.com/mailtrail/mailtrail/internal/query"
	"github.com/mailtrail/mailtrail/internal/store/sqlite"
)

// stuckSink is the real SQLite sink behind a gate: a store made slow.
type stuckSink struct {
	db     *sqlite.DB
	gate   chan struct{}
	writes atomic.Int32
}

func (s *stuckSink) Write(ctx context.Context, b []*mailtrail.Event) (ingest.ChangeSet, error) {
	s.writes.Add(1)
	<-s.gate
	return s.db.Write(ctx, b)
}

func eventsBody(from, n int) []byte {
	evs := make([]map[string]any, n)
	for i := range evs {
		evs[i] = map[string]any{"event_type": "sent", "campaign_id": "c", "customer_id": fmt.Sprintf("u%d", from+i),
			"occurred_at": "2026-11-27T10:00:00Z"}
	}
	b, _ := json.Marshal(map[string]any{"events": evs})
	return b
}

// With the store stuck, every ingest request is answered within the queue and commit
// waits: 503 with Retry-After; a request whose client went away before the committer took
// it is not written; the health check answers meanwhile (it shares nothing with ingest).
// Once the store moves, the batch that was already being written is found stored and the
// others are not: a 503 may have stored the events, and a retry is deduplicated.
func TestIngestAnswersBoundedWhenStoreIsSlow(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, t.TempDir()+"/m.db", sqlite.Options{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	_, key, err := db.CreateOrg(ctx, "acme", "UTC")
	if err != nil {
		t.Fatal(err)
	}
	sink := &stuckSink{db: db, gate: make(chan struct{})}
	p := ingest.New(sink, ingest.Options{MaxWait: 50 * time.Millisecond, CommitWait: 100 * time.Millisecond})
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	t.Cleanup(func() {
		select {
		case <-sink.gate:
		default:
			close(sink.gate)
		}
		p.Close(ctx)
		<-done
		db.Close()
	})
	s := New(db, p, nil, nil, Options{PublicURL: "https://mt.example"})
	post := func(rctx context.Context, body []byte) *httptest.ResponseRecorder {
		req := httptest.NewRequestWithContext(rctx, "POST", "/api/v1/events", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		return rec
	}
	unavailable := func(what string, rec *httptest.ResponseRecorder) {
		t.Helper()
		var e errorBody
		json.Unmarshal(rec.Body.Bytes(), &e)
		if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" || e.Error == nil || e.Error.Code != mailtrail.EUNAVAILABLE {
			t.Fatalf("%s: %d Retry-After %q %s; want 503 unavailable with Retry-After", what, rec.Code, rec.Header().Get("Retry-After"), rec.Body)
		}
	}

	first := make(chan *httptest.ResponseRecorder, 1)
	go func() { first <- post(ctx, eventsBody(0, 10)) }()
	for sink.writes.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	unavailable("queued behind a stuck commit", post(ctx, eventsBody(10, 10)))

	rctx, cancel := context.WithCancel(ctx)
	gone := make(chan *httptest.ResponseRecorder, 1)
	go func() { gone <- post(rctx, eventsBody(20, 10)) }()
	for p.QueueDepth() != 10 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	unavailable("client gone", <-gone)

	health := httptest.NewRecorder()
	s.ServeHTTP(health, httptest.NewRequest("GET", "/healthz", nil))
	if health.Code != 200 {
		t.Fatalf("healthz with ingest stuck: %d", health.Code)
	}
	unavailable("batch stuck in the store", <-first)

	close(sink.gate)
	p.Close(ctx) // drains: the batch taken before the gate opened is written
	org, err := db.Authenticate(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	page, err := (&query.Service{R: db}).Events(ctx, org.ID, mailtrail.EventFilter{CampaignID: "c", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]bool{}
	for _, ev := range page.Events {
		stored[ev.CustomerID] = true
	}
	for i := range 30 {
		if want := i < 10; stored[fmt.Sprintf("u%d", i)] != want {
			t.Errorf("u%d stored %v, want %v (only the batch being written when answered 503 is stored)", i, !want, want)
		}
	}
}
