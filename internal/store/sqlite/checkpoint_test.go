package sqlite

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
)

// The writer does not checkpoint in its commits; the checkpointer does, on its own
// connection, once the writes have appended checkpointPages pages to the WAL. Close
// stops it, and the store opens again with everything written.
func TestCheckpointerTakesTheWritersCheckpoints(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mailtrail.db")
	db, err := Open(pctx, path, Options{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	var auto int
	if err := db.wc.QueryRowContext(pctx, "PRAGMA wal_autocheckpoint").Scan(&auto); err != nil || auto != 0 {
		t.Fatalf("the writer's wal_autocheckpoint = %d, %v; want 0", auto, err)
	}
	org := pOrg(t, db, "acme")
	written := 0
	for b := 0; db.checkpoints.Load() == 0; b++ {
		if b == 2000 {
			t.Fatalf("%d events written and no checkpoint", written)
		}
		var evs []*mailtrail.Event
		for i := range 200 {
			e := jEvent(org, "ckpt", fmt.Sprintf("u%d-%d", b, i), mailtrail.EventSent, i)
			e.DedupeKey = fmt.Sprintf("k%d-%d", b, i)
			evs = append(evs, e)
		}
		pWrite(t, db, evs...)
		written += len(evs)
		if b >= 10 { // enough pages for several checkpoints: give the checkpointer time
			time.Sleep(time.Millisecond)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := Open(pctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if got := dump(t, again, `SELECT count(*) AS n FROM events`); got != fmt.Sprintf("n=%d|\n", written) {
		t.Fatalf("after a reopen: %s, want %d events", got, written)
	}
}
