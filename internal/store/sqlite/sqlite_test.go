package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/mailtrail/mailtrail/internal/ingest"
	"github.com/mailtrail/mailtrail/internal/store/sqlite"
	"github.com/mailtrail/mailtrail/internal/store/storetest"
)

func open(t *testing.T) storetest.Store {
	return openAt(t, filepath.Join(t.TempDir(), "mailtrail.db"))
}

func openAt(t *testing.T, path string) *sqlite.DB {
	db, err := sqlite.Open(context.Background(), path, sqlite.Options{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// reopen closes the store and opens its file again.
func reopen(t *testing.T, s storetest.Projection) storetest.Projection {
	db := s.(*sqlite.DB)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return openAt(t, db.Path())
}

func TestConformance(t *testing.T) {
	storetest.Run(t, open, reopen, ingest.Normalize)
}

// TestProjectionConformance runs the subset of the suite a projection store begins with
// (storetest.RunProjection) on the reference store, so the subset itself is proven here.
func TestProjectionConformance(t *testing.T) {
	storetest.RunProjection(t, func(t *testing.T) storetest.Projection { return open(t) }, reopen, ingest.Normalize)
}

// TestOperationalConformance runs the operational subset of the suite
// (storetest.RunOperational) on the reference store, so the subset itself is proven here.
func TestOperationalConformance(t *testing.T) {
	storetest.RunOperational(t, func(t *testing.T) storetest.Operational { return open(t) }, ingest.Normalize)
}
