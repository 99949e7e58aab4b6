package sqlite_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/ingest"
	"github.com/mailtrail/mailtrail/internal/store/sqlite"
)

// BenchmarkWrite measures the sink alone: batches of 5000 events of the usual mix over
// 100,000 customers, synchronous=FULL.
func BenchmarkWrite(b *testing.B) { benchmarkWrite(b, "k") }

// BenchmarkWriteIdempotent is BenchmarkWrite with every event carrying a client
// idempotency key: the cost of the idempotency_keys lookup and insert (compare the two
// events/s in one run).
func BenchmarkWriteIdempotent(b *testing.B) { benchmarkWrite(b, ingest.IdempotencyPrefix+"k") }

func benchmarkWrite(b *testing.B, keyPrefix string) {
	db, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "m.db"), sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	org, _, _ := db.CreateOrg(context.Background(), "bench", "UTC")
	r := rand.New(rand.NewPCG(1, 2))
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	mk := func(i int) *mailtrail.Event {
		types := []mailtrail.EventType{mailtrail.EventSent, mailtrail.EventDelivered, mailtrail.EventOpened, mailtrail.EventClicked, mailtrail.EventBounced}
		p := r.IntN(100)
		t := types[0]
		switch {
		case p < 40:
		case p < 78:
			t = types[1]
		case p < 93:
			t = types[2]
		case p < 97:
			t = types[3]
		default:
			t = types[4]
		}
		c := r.IntN(100000)
		ev := &mailtrail.Event{OrgID: org.ID, CampaignID: "bench", CustomerID: fmt.Sprintf("c%d", c), CustomerEmail: fmt.Sprintf("c%d@example.com", c),
			Type: t, Source: mailtrail.SourceAPI, OccurredAt: base.Add(time.Duration(i) * time.Second), DedupeKey: fmt.Sprintf("%s%d", keyPrefix, i)}
		if t == mailtrail.EventClicked {
			ev.Metadata.LinkURL = "https://example.com/a"
		}
		if t == mailtrail.EventBounced {
			ev.Metadata.BounceType = mailtrail.BounceSoft
		}
		ingest.Normalize(ev, base)
		return ev
	}
	n := 0
	// Steady state: every customer has had a first email before the timed part.
	for c := 0; c < 100000; c += 5000 {
		batch := make([]*mailtrail.Event, 5000)
		for j := range batch {
			batch[j] = &mailtrail.Event{OrgID: org.ID, CampaignID: "bench", CustomerID: fmt.Sprintf("c%d", c+j), CustomerEmail: fmt.Sprintf("c%d@example.com", c+j),
				Type: mailtrail.EventSent, Source: mailtrail.SourceAPI, OccurredAt: base, DedupeKey: fmt.Sprintf("w%d", c+j)}
			ingest.Normalize(batch[j], base)
		}
		if _, err := db.Write(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
	}
	// The customer indexer runs beside ingest, as in serve.
	ictx, stop := context.WithCancel(context.Background())
	defer stop()
	go db.RunIndexer(ictx, time.Second, nil)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		batch := make([]*mailtrail.Event, 5000)
		for j := range batch {
			batch[j] = mk(n)
			n++
		}
		if _, err := db.Write(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkWriteOpens measures small batches of pixel opens (the tracking path): 20 opens
// of known messages per transaction, synchronous=FULL.
func BenchmarkWriteOpens(b *testing.B) { benchmarkTracking(b, mailtrail.EventOpened) }

// BenchmarkWriteClicks is the click redirect's write path: batches of 20 clicks round-robin
// over 10,000 messages with three links each, as the compare benchmark loads it.
func BenchmarkWriteClicks(b *testing.B) { benchmarkTracking(b, mailtrail.EventClicked) }

func benchmarkTracking(b *testing.B, typ mailtrail.EventType) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "m.db"), sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	org, _, _ := db.CreateOrg(ctx, "bench", "UTC")
	var ids []string
	for i := 0; i < 10; i++ {
		var msgs []*mailtrail.Message
		for j := 0; j < 1000; j++ {
			id := fmt.Sprintf("m%015d", i*1000+j)
			ids = append(ids, id)
			msgs = append(msgs, &mailtrail.Message{ID: id, CampaignID: "c", CustomerID: id, CustomerEmail: id + "@example.com", TrackOpens: true, TrackClicks: true,
				Links: []string{"https://e.com/a", "https://e.com/b", "https://e.com/c"}})
		}
		if err := db.CreateMessages(ctx, org.ID, msgs); err != nil {
			b.Fatal(err)
		}
	}
	n := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		batch := make([]*mailtrail.Event, 20)
		for j := range batch {
			batch[j] = &mailtrail.Event{MessageID: ids[n%len(ids)], Type: typ, Source: mailtrail.SourceTracking,
				Metadata: mailtrail.Metadata{UserAgent: "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X)", IP: "203.0.113.9", Method: "GET"}}
			if typ == mailtrail.EventClicked {
				link := (n / len(ids)) % 3
				batch[j].Metadata.LinkIndex, batch[j].Metadata.LinkURL = &link, []string{"https://e.com/a", "https://e.com/b", "https://e.com/c"}[link]
			}
			ingest.Normalize(batch[j], time.Now())
			n++
		}
		if _, err := db.Write(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
}
