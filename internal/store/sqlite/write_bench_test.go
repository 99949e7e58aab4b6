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
func BenchmarkWrite(b *testing.B) {
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
			Type: t, Source: mailtrail.SourceAPI, OccurredAt: base.Add(time.Duration(i) * time.Second), DedupeKey: fmt.Sprintf("k%d", i)}
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
