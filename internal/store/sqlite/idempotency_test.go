package sqlite

import (
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/ingest"
)

// keyed is an API event of customer u1 with an idempotency key, received at at.
func keyed(org, key string, typ mailtrail.EventType, at time.Time) *mailtrail.Event {
	ev := jEvent(org, "idem", "u1", typ, 0)
	ev.DedupeKey = ingest.IdempotencyPrefix + key
	ev.ReceivedAt = at
	ev.OccurredAt = at
	return ev
}

func writeOne(t *testing.T, db *DB, ev *mailtrail.Event) bool {
	t.Helper()
	ingest.Normalize(ev, ev.ReceivedAt)
	cs, err := db.Write(pctx, []*mailtrail.Event{ev})
	if err != nil {
		t.Fatal(err)
	}
	return cs.Duplicate[0]
}

// A key recognises its retries until it is pruned past the horizon; the answer for a
// duplicate carries the stored event's id. An event stored before the key table existed
// (its key only in the time-prefixed dedupe key) is still recognised by the same
// (time, type, key), and its key is then kept.
func TestIdempotencyKeysHorizon(t *testing.T) {
	db := openPrivacyDB(t)
	org := pOrg(t, db, "acme")
	t0 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	first := keyed(org, "k1", mailtrail.EventSent, t0)
	if writeOne(t, db, first) {
		t.Fatal("first write is a duplicate")
	}
	retry := keyed(org, "k1", mailtrail.EventDelivered, t0.Add(6*24*time.Hour))
	if !writeOne(t, db, retry) || retry.ID != first.ID {
		t.Fatalf("retry 6 days later: id %s, want a duplicate of %s", retry.ID, first.ID)
	}
	if n, err := db.PruneIdempotencyKeys(pctx, t0.Add(-time.Millisecond), 1); err != nil || n != 0 {
		t.Fatalf("pruned %d, %v before the horizon", n, err)
	}
	if n, err := db.PruneIdempotencyKeys(pctx, t0.Add(time.Millisecond), 1); err != nil || n != 1 {
		t.Fatalf("pruned %d, %v, want 1", n, err)
	}
	late := keyed(org, "k1", mailtrail.EventDelivered, t0.Add(8*24*time.Hour))
	if writeOne(t, db, late) || late.ID == first.ID {
		t.Fatal("a key past its horizon still deduplicates")
	}

	// An event stored before migration 013: its key is not in the table.
	old := keyed(org, "k2", mailtrail.EventSent, t0)
	writeOne(t, db, old)
	tx, done, err := db.writeTx(pctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.exec(`DELETE FROM idempotency_keys WHERE event_uid = ?`, old.ID); err != nil {
		t.Fatal(err)
	}
	if err := tx.commit(); err != nil {
		t.Fatal(err)
	}
	done()
	same := keyed(org, "k2", mailtrail.EventSent, t0)
	if !writeOne(t, db, same) || same.ID != old.ID {
		t.Fatalf("same time, type and key: id %s, want a duplicate of %s", same.ID, old.ID)
	}
	other := keyed(org, "k2", mailtrail.EventSent, t0.Add(time.Minute))
	if !writeOne(t, db, other) || other.ID != old.ID {
		t.Fatalf("after the retry kept the key: id %s, want a duplicate of %s", other.ID, old.ID)
	}
	if got := dump(t, db, `SELECT count(*) AS n FROM events WHERE org_id = (SELECT id FROM orgs WHERE public_id = ?)`, org); got != "n=3|\n" {
		t.Fatalf("stored events: %q, want 3", got)
	}
}
