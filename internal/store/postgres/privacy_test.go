package postgres_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/store/postgres"
	"github.com/mailtrail/mailtrail/internal/store/storetest"
)

// TestErasureQueuedForClickHouse: an erasure that serve queues for ClickHouse is there,
// under the id it gave, once the worker has shipped the log up to the erasure's
// position, and gone once shipped; a failed erasure queues nothing.
func TestErasureQueuedForClickHouse(t *testing.T) {
	ctx := context.Background()
	db := openIn(t, newSchema(t))
	o, _, err := db.CreateOrg(ctx, "acme", "UTC")
	if err != nil {
		t.Fatal(err)
	}
	storetest.Seed(t, db, o.ID, 2)
	if _, err := db.Erase(ctx, o.ID, "nobody", postgres.Erasure{NewID: "erased:00", ForClickHouse: true, LogPosition: 5}); mailtrail.ErrorCode(err) != mailtrail.ENOTFOUND {
		t.Fatalf("erasing an unknown customer: %v", err)
	}
	res, err := db.Erase(ctx, o.ID, "u1", postgres.Erasure{NewID: "erased:0123456789abcdef", ForClickHouse: true, LogPosition: 10})
	if err != nil {
		t.Fatal(err)
	}
	if res.Customer.NewID != "erased:0123456789abcdef" || res.Customer.OldID != "u1" {
		t.Fatalf("erased %+v", res.Customer)
	}
	if p, err := db.PendingErasures(ctx, 9, 10); err != nil || len(p) != 0 {
		t.Fatalf("pending before the position was shipped: %+v, %v", p, err)
	}
	p, err := db.PendingErasures(ctx, 10, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(p) != 1 || p[0].OrgID != o.ID || p[0].OldID != "u1" || p[0].NewID != "erased:0123456789abcdef" || p[0].LogPosition != 10 {
		t.Fatalf("pending: %+v", p)
	}
	if err := db.ErasureShipped(ctx, p[0].ID); err != nil {
		t.Fatal(err)
	}
	if p, err := db.PendingErasures(ctx, 100, 10); err != nil || len(p) != 0 {
		t.Fatalf("pending after shipping: %+v, %v", p, err)
	}
	// Without ForClickHouse nothing is queued.
	if _, err := db.Erase(ctx, o.ID, "u0", postgres.Erasure{}); err != nil {
		t.Fatal(err)
	}
	if p, err := db.PendingErasures(ctx, 100, 10); err != nil || len(p) != 0 {
		t.Fatalf("pending without ClickHouse: %+v, %v", p, err)
	}
}

// TestErasureRenames: each erasure moves the generation and records its rename under it,
// for the API nodes' segment indexes; renames older than RenameKeep are removed at the
// next erasure, and a range that misses one says so (the index must be built).
func TestErasureRenames(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	db, err := postgres.Open(ctx, dsn(t), postgres.Options{Schema: newSchema(t), MaxConns: 4, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	o, _, err := db.CreateOrg(ctx, "acme", "UTC")
	if err != nil {
		t.Fatal(err)
	}
	storetest.Seed(t, db, o.ID, 3)
	g0, err := db.Generation(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"u0", "u1"} {
		if _, err := db.Erase(ctx, o.ID, c, postgres.Erasure{NewID: "erased:" + c}); err != nil {
			t.Fatal(err)
		}
	}
	g2, err := db.Generation(ctx)
	if err != nil || g2 != g0+2 {
		t.Fatalf("generation after two erasures: %d, %v; want %d", g2, err, g0+2)
	}
	r, complete, err := db.Renames(ctx, g0, g2)
	want := []mailtrail.ErasedCustomer{{OrgID: o.ID, OldID: "u0", NewID: "erased:u0"}, {OrgID: o.ID, OldID: "u1", NewID: "erased:u1"}}
	if err != nil || !complete || !slices.Equal(r, want) {
		t.Fatalf("Renames(%d, %d) = %+v, %v, %v; want %+v, complete", g0, g2, r, complete, err, want)
	}
	if r, complete, err := db.Renames(ctx, g2, g2); err != nil || !complete || len(r) != 0 {
		t.Fatalf("Renames of an empty range = %+v, %v, %v", r, complete, err)
	}
	// A retried erasure finds the customer gone, and the id the first one gave it.
	if _, err := db.Erase(ctx, o.ID, "u0", postgres.Erasure{NewID: "erased:again"}); mailtrail.ErrorCode(err) != mailtrail.ENOTFOUND {
		t.Fatalf("erasing u0 again: %v, want not found", err)
	}
	if id, ok, err := db.ErasedAs(ctx, o.ID, "u0"); err != nil || !ok || id != "erased:u0" {
		t.Fatalf("ErasedAs(u0) = %q, %v, %v; want erased:u0", id, ok, err)
	}
	if id, ok, err := db.ErasedAs(ctx, o.ID, "u2"); err != nil || ok {
		t.Fatalf("ErasedAs(u2), not erased = %q, %v, %v", id, ok, err)
	}
	if id, ok, err := db.ErasedAs(ctx, "other-org", "u0"); err != nil || ok {
		t.Fatalf("ErasedAs in another organization = %q, %v, %v", id, ok, err)
	}
	now = now.Add(postgres.RenameKeep + time.Second)
	if id, ok, err := db.ErasedAs(ctx, o.ID, "u0"); err != nil || ok {
		t.Fatalf("ErasedAs(u0) past RenameKeep = %q, %v, %v; want none", id, ok, err)
	}
	if _, err := db.Erase(ctx, o.ID, "u2", postgres.Erasure{NewID: "erased:u2"}); err != nil {
		t.Fatal(err)
	}
	if r, complete, err := db.Renames(ctx, g0, g2+1); err != nil || complete || !slices.Equal(r, []mailtrail.ErasedCustomer{{OrgID: o.ID, OldID: "u2", NewID: "erased:u2"}}) {
		t.Fatalf("Renames after the first two were kept an hour = %+v, %v, %v; want u2's alone, incomplete", r, complete, err)
	}
}
