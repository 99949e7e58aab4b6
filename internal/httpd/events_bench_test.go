package httpd

import (
	"bytes"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
)

// evBenchBody returns a body of 1,000 events like the load generator's (bench/load).
func evBenchBody() []byte {
	b := []byte(`{"events":[`)
	types := []string{"sent", "delivered", "opened", "clicked", "bounced"}
	for i := 0; i < 1000; i++ {
		if i > 0 {
			b = append(b, ',')
		}
		meta := ""
		switch types[i%5] {
		case "clicked":
			meta = `,"metadata":{"link_url":"https://example.com/a"}`
		case "bounced":
			meta = `,"metadata":{"bounce_type":"soft"}`
		}
		b = append(b, fmt.Sprintf(`{"event_type":%q,"campaign_id":"bench-2","customer_id":"c%d","customer_email":"c%d@example.com","esp_message_id":"esp-%d","occurred_at":"2026-11-21T10:11:12Z","idempotency_key":"k-abcdef-%012d"%s}`, types[i%5], i, i, i, i, meta)...)
	}
	return append(b, "]}"...)
}

// BenchmarkEventsBody is what POST /api/v1/events does with a body before the pipeline:
// read, bound, decode, and check and convert each of its 1,000 events (a fifth of them
// with metadata).
func BenchmarkEventsBody(b *testing.B) {
	body := evBenchBody()
	s := &Server{}
	org := &mailtrail.Organization{ID: "o1"}
	now := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		r := httptest.NewRequest("POST", "/api/v1/events", bytes.NewReader(body))
		var req eventsRequest
		if err := readBounded(httptest.NewRecorder(), r, 10<<20, MaxEvents, &req); err != nil {
			b.Fatal(err)
		}
		backing := make([]mailtrail.Event, len(req.Events))
		for i := range req.Events {
			if e := s.toEvent(r, org, &req.Events[i], now, &backing[i]); e != nil {
				b.Fatal(e)
			}
		}
	}
}
