package sqlite

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A store that a newer version migrated is not opened: this build would run on a schema it
// does not know. The error says what to do.
func TestOpenRefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "mailtrail.db")
	db, err := Open(ctx, path, Options{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.wc.ExecContext(ctx, `INSERT INTO schema_migrations (name, applied_at) VALUES ('migrations/999_future.sql', 1)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := Open(ctx, path, Options{Synchronous: "NORMAL"}); err == nil || !strings.Contains(err.Error(), "upgraded by a newer mailtrail") ||
		!strings.Contains(err.Error(), "999_future.sql") {
		t.Fatalf("open of a newer store: %v", err)
	}
	applied, err := AppliedMigrations(ctx, path)
	if err != nil || len(applied) != len(KnownMigrations())+1 {
		t.Fatalf("applied %v: %v", applied, err)
	}
	if newer := UnknownMigrations(applied); len(newer) != 1 || newer[0] != "migrations/999_future.sql" {
		t.Fatalf("unknown migrations %v", newer)
	}
}

// Snapshot copies a store that is open (its writer connection held): the copy holds what
// was committed, passes the integrity check and opens; a missing source is an error and
// is not created. (Under concurrent ingest: cmd/mailtrail TestBackupRestoreUnderLoad.)
func TestSnapshot(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := Open(ctx, filepath.Join(dir, "mailtrail.db"), Options{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	org, _, err := db.CreateOrg(ctx, "snap", "UTC")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Snapshot(ctx, filepath.Join(dir, "missing.db"), filepath.Join(dir, "x.db")); err == nil {
		t.Fatal("snapshot of a missing file succeeded")
	}
	if _, err := os.Stat(filepath.Join(dir, "missing.db")); !os.IsNotExist(err) {
		t.Fatalf("snapshot created its source: %v", err)
	}
	dst := filepath.Join(dir, "copy.db")
	migs, err := Snapshot(ctx, db.Path(), dst)
	if err != nil || len(migs) != len(KnownMigrations()) {
		t.Fatalf("snapshot: %v %v", migs, err)
	}
	if err := Check(ctx, dst); err != nil {
		t.Fatal(err)
	}
	cp, err := Open(ctx, dst, Options{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close()
	if got, err := cp.Org(ctx, org.ID); err != nil || got.Name != "snap" {
		t.Fatalf("organization in the copy: %+v %v", got, err)
	}
}
