package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/store/sqlite"
)

// BenchmarkAttributeLookups asks what bench/cmd/compare's SendGrid batches ask of the
// store: the batch's ESP message ids (none known) and then its addresses (all known),
// over 5,000 messages, for batches of 100 and 1,000 distinct recipients.
func BenchmarkAttributeLookups(b *testing.B) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "m.db"), sqlite.Options{Synchronous: "NORMAL"})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	org, _, err := db.CreateOrg(ctx, "bench", "UTC")
	if err != nil {
		b.Fatal(err)
	}
	const recipients = 5000
	var msgs []*mailtrail.Message
	for i := range recipients {
		msgs = append(msgs, &mailtrail.Message{ID: fmt.Sprintf("bench%011d", i), CampaignID: "c1",
			CustomerID: fmt.Sprintf("c%d", i), CustomerEmail: fmt.Sprintf("c%d@example.com", i)})
	}
	if err := db.CreateMessages(ctx, org.ID, msgs); err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) {
			var ids, emails []string
			for i := range n {
				c := (i * 7919) % recipients
				ids = append(ids, fmt.Sprintf("sgm%d", c))
				emails = append(emails, fmt.Sprintf("c%d@example.com", c))
			}
			b.ReportAllocs()
			for b.Loop() {
				if got, err := db.MessagesByESPID(ctx, org.ID, ids); err != nil || len(got) != 0 {
					b.Fatalf("by esp id: %d, %v", len(got), err)
				}
				if got, err := db.MessagesByEmail(ctx, org.ID, emails); err != nil || len(got) != n {
					b.Fatalf("by email: %d, %v", len(got), err)
				}
			}
		})
	}
}
