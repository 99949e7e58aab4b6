package sqlite

import (
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/ingest"
)

// A store made before migration 018 has no projection positions: after the upgrade every
// stream is at 0, its events are still there, and WriteAt moves a stream's position with
// its batch.
func TestMigrateProjectionPositions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	w, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if err := (&DB{w: w}).migrate(pctx, "017"); err != nil {
		t.Fatal(err)
	}
	var applied int
	if err := w.QueryRow(`SELECT count(*) FROM schema_migrations WHERE name >= 'migrations/018'`).Scan(&applied); err != nil || applied != 0 {
		t.Fatalf("the old store has later migrations: %d %v", applied, err)
	}
	w.Close()

	db, err := Open(pctx, path, Options{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if p, err := db.Position(pctx, "events"); err != nil || p != 0 {
		t.Fatalf("position after the upgrade: %d %v", p, err)
	}
	o, _, err := db.CreateOrg(pctx, "acme", "UTC")
	if err != nil {
		t.Fatal(err)
	}
	open := func() *mailtrail.Event {
		e := &mailtrail.Event{OrgID: o.ID, CampaignID: "c", CustomerID: "u", CustomerEmail: "u@example.com", Type: mailtrail.EventOpened,
			Source: mailtrail.SourceTracking, OccurredAt: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
		ingest.Normalize(e, e.OccurredAt)
		return e
	}
	if _, err := db.Write(pctx, []*mailtrail.Event{open()}); err != nil {
		t.Fatal(err)
	}
	if cs, err := db.WriteAt(pctx, "events", 0, 7, []*mailtrail.Event{open()}); err != nil || len(cs.Events) != 1 {
		t.Fatalf("WriteAt: %v %+v", err, cs)
	}
	if _, err := db.WriteAt(pctx, "events", 0, 7, []*mailtrail.Event{open()}); !errors.Is(err, ingest.ErrApplied) {
		t.Fatalf("WriteAt again: %v", err)
	}
	if p, err := db.Position(pctx, "events"); err != nil || p != 7 {
		t.Fatalf("position: %d %v", p, err)
	}
	var n int
	if err := db.r.QueryRow(`SELECT count(*) FROM events`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("%d events stored, want 2 (%v)", n, err)
	}
}
