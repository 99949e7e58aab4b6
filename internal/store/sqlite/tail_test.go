package sqlite

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
)

// A customer's timeline is exact before the indexer ran (the tail listed in memory), after
// a restart (the tail listed again from the file), after the indexer ran (no event twice)
// and after the listed tail was dropped (the index alone).
func TestCustomerTailExactThroughIndexingAndRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mailtrail.db")
	db, err := Open(pctx, path, Options{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	org := pOrg(t, db, "acme")
	t0 := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	for i := 0; i < 3; i++ {
		pWrite(t, db, &mailtrail.Event{OrgID: org, CampaignID: "c", CustomerID: "u1", Type: mailtrail.EventSent, OccurredAt: t0.Add(time.Duration(i) * time.Hour),
			Source: mailtrail.SourceAPI, DedupeKey: "s" + string(rune('a'+i))},
			&mailtrail.Event{OrgID: org, CampaignID: "c", CustomerID: "u2", Type: mailtrail.EventSent, OccurredAt: t0, Source: mailtrail.SourceAPI,
				DedupeKey: "o" + string(rune('a'+i))})
	}
	count := func(db *DB, stage string) {
		t.Helper()
		page, err := db.ListEvents(pctx, org, mailtrail.EventFilter{CustomerID: "u1"})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Events) != 3 {
			t.Fatalf("%s: %d events of u1, want 3", stage, len(page.Events))
		}
		did, err := db.Did(pctx, org, mailtrail.Condition{CustomerID: "u1", Type: mailtrail.EventSent})
		if err != nil || did.Count != 3 {
			t.Fatalf("%s: did %+v %v, want 3", stage, did, err)
		}
	}
	count(db, "before indexing")
	db.Close()
	if db, err = Open(pctx, path, Options{Synchronous: "NORMAL"}); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	count(db, "after a restart")
	if n, err := db.IndexCustomerEvents(pctx); err != nil || n != 6 {
		t.Fatalf("indexed %d (%v), want 6", n, err)
	}
	count(db, "after indexing")
	db.tail.indexedUpTo(1<<62, time.Now().Add(2*tailKeep))
	if ids := db.tail.ids(1); ids != "[]" {
		t.Fatalf("tail still lists %s after it was indexed long ago", ids)
	}
	count(db, "after the tail was dropped")
}
