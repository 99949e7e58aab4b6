package sqlite

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/query"
)

// TestViewsHoldingEveryReader: as many views as reader connections, each holding its
// connection, each run a statement the pool has never prepared. Preparing it on the pool
// would wait for a connection that only the end of a view gives back; the views must
// prepare on their own connections and finish. (The context's deadline only turns a
// deadlock into a failure instead of a hung test.)
func TestViewsHoldingEveryReader(t *testing.T) {
	const readers = 2
	db, err := Open(pctx, filepath.Join(t.TempDir(), "mailtrail.db"), Options{Synchronous: "NORMAL", Readers: readers})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	org := pOrg(t, db, "acme")
	if err := db.CreateMessages(pctx, org, []*mailtrail.Message{{ID: pRef(0), CampaignID: "c1", CustomerID: "u0", CustomerEmail: "u0@example.com"}}); err != nil {
		t.Fatal(err)
	}
	pWrite(t, db, &mailtrail.Event{OrgID: org, MessageID: pRef(0), Type: mailtrail.EventSent, OccurredAt: time.Now()})
	ctx, cancel := context.WithTimeout(pctx, time.Minute)
	defer cancel()
	var held, done sync.WaitGroup
	held.Add(readers)
	errs := make(chan error, readers)
	for range readers {
		done.Add(1)
		go func() {
			defer done.Done()
			errs <- db.View(ctx, func(sn query.Snapshot) error {
				_, err := sn.CampaignBuckets(ctx, org, "c1") // the view now holds a connection
				held.Done()
				if err != nil {
					return err
				}
				held.Wait() // every reader connection is held
				page, err := sn.ListEvents(ctx, org, mailtrail.EventFilter{CampaignID: "c1"})
				if err == nil && len(page.Events) != 1 {
					t.Errorf("%d events, want 1", len(page.Events))
				}
				return err
			})
		}()
	}
	done.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}
