package postgres_test

import (
	"context"
	"testing"

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
