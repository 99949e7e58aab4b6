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
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "mailtrail.db"), sqlite.Options{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestConformance(t *testing.T) {
	storetest.Run(t, open, ingest.Normalize)
}
