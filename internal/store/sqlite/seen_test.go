package sqlite

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/ingest"
	"github.com/mailtrail/mailtrail/internal/store/storetest"
)

var seenT0 = time.Date(2026, 11, 5, 10, 0, 0, 0, time.UTC)

// seenEvent is an API event of customer cust in campaign "seen" (the message is the
// campaign's synthetic one), received an hour after it occurred, with dedupe key key.
func seenEvent(org, cust string, typ mailtrail.EventType, at time.Duration, key string) *mailtrail.Event {
	e := &mailtrail.Event{OrgID: org, CampaignID: "seen", CustomerID: cust, CustomerEmail: cust + "@example.com", Type: typ,
		OccurredAt: seenT0.Add(at), ReceivedAt: seenT0.Add(at + time.Hour), Source: mailtrail.SourceAPI, DedupeKey: key}
	if typ == mailtrail.EventOpened {
		e.Source = mailtrail.SourceTracking
	}
	ingest.Normalize(e, e.ReceivedAt)
	return e
}

func seenOrg(t testing.TB, db *DB, name string) string {
	t.Helper()
	o, _, err := db.CreateOrg(context.Background(), name, "UTC")
	if err != nil {
		t.Fatal(err)
	}
	return o.ID
}

// A projection's write (WriteAt) runs at synchronous NORMAL and gives the writer
// connection back at the store's level, FULL by default: whether it commits, finds its
// records applied, finds the position moved, or cannot begin.
func TestProjectionWriteRestoresSynchronous(t *testing.T) {
	const normal = 1
	for _, c := range []struct {
		opt   string
		level int
	}{{"", 2}, {"FULL", 2}, {"EXTRA", 3}, {"NORMAL", normal}} {
		t.Run(fmt.Sprintf("%q", c.opt), func(t *testing.T) {
			ctx := context.Background()
			db, err := Open(ctx, filepath.Join(t.TempDir(), "sync.db"), Options{Synchronous: c.opt})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			org := seenOrg(t, db, "acme")
			level := func() int {
				t.Helper()
				var n int
				if err := db.wc.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&n); err != nil {
					t.Fatalf("PRAGMA synchronous: %v", err)
				}
				return n
			}
			if got := level(); got != c.level {
				t.Fatalf("writer at synchronous %d after Open, want %d", got, c.level)
			}
			// The store reads its clock inside a projection's transaction (the position's
			// updated_at): the level there is the one the transaction commits at.
			var during []int
			db.now = func() time.Time { during = append(during, level()); return time.Now() }
			defer func() { db.now = time.Now }()
			batch := func(i int) []*mailtrail.Event {
				return []*mailtrail.Event{seenEvent(org, "u1", mailtrail.EventOpened, time.Duration(i)*time.Minute, "")}
			}

			if _, err := db.WriteAt(ctx, "events", 0, 3, batch(1)); err != nil {
				t.Fatalf("WriteAt: %v", err)
			}
			if got := level(); got != c.level {
				t.Fatalf("after a WriteAt: synchronous %d, want %d", got, c.level)
			}
			if _, err := db.WriteAt(ctx, "events", 0, 3, batch(2)); !errors.Is(err, ingest.ErrApplied) {
				t.Fatalf("WriteAt of applied records: %v", err)
			}
			if got := level(); got != c.level {
				t.Fatalf("after a WriteAt of applied records: synchronous %d, want %d", got, c.level)
			}
			if _, err := db.WriteAt(ctx, "events", 1, 5, batch(3)); !errors.Is(err, ingest.ErrPositionMoved) {
				t.Fatalf("WriteAt after a position not stored: %v", err)
			}
			if got := level(); got != c.level {
				t.Fatalf("after a WriteAt refused for the position: synchronous %d, want %d", got, c.level)
			}
			cancelled, cancel := context.WithCancel(ctx)
			cancel()
			if _, err := db.WriteAt(cancelled, "events", 3, 5, batch(4)); !errors.Is(err, context.Canceled) {
				t.Fatalf("WriteAt with a cancelled context: %v", err)
			}
			if got := level(); got != c.level {
				t.Fatalf("after a WriteAt that did not begin: synchronous %d, want %d", got, c.level)
			}
			if len(during) != 3 {
				t.Fatalf("the clock was read in %d transactions, want 3", len(during))
			}
			for i, l := range during {
				if l != normal {
					t.Fatalf("transaction %d of WriteAt ran at synchronous %d, want NORMAL (%d)", i, l, normal)
				}
			}
			// The writer still writes, at its level.
			db.now = time.Now
			if _, err := db.Write(ctx, batch(5)); err != nil {
				t.Fatalf("Write after the WriteAts: %v", err)
			}
			if got := level(); got != c.level {
				t.Fatalf("after a Write: synchronous %d, want %d", got, c.level)
			}
			if p, err := db.Position(ctx, "events"); err != nil || p != 3 {
				t.Fatalf("position %d, %v; want 3", p, err)
			}
		})
	}
}

// BenchmarkSeen: the ack path's dedupe lookups for a batch of 1,000 events (half of them
// with an idempotency key, half with a dedupe key; a quarter already stored) against a
// store of 100,000 events. Reported per event.
func BenchmarkSeen(b *testing.B) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(b.TempDir(), "seen.db"), Options{Synchronous: "NORMAL"})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	org := seenOrg(b, db, "acme")
	key := func(i int) string {
		if i%2 == 1 {
			return ingest.IdempotencyPrefix + fmt.Sprintf("k-%d", i)
		}
		return fmt.Sprintf("d-%d", i)
	}
	const stored = 100_000
	for start := 0; start < stored; start += 5000 {
		var evs []*mailtrail.Event
		for i := start; i < start+5000; i++ {
			evs = append(evs, seenEvent(org, fmt.Sprintf("u%d", i), mailtrail.EventSent, 0, key(i)))
		}
		if _, err := db.Write(ctx, evs); err != nil {
			b.Fatal(err)
		}
	}
	probes := make([]*mailtrail.Event, 1000)
	for i := range probes {
		j := i * 97 // a quarter stored, spread over the store
		if i%4 != 0 {
			j = stored + i
		}
		probes[i] = seenEvent(org, fmt.Sprintf("u%d", j), mailtrail.EventSent, 0, key(j))
	}
	b.ResetTimer()
	for range b.N {
		if _, err := db.Seen(ctx, probes); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(probes)), "ns/event")
}

// TestSeenInChunks: a batch longer than one lookup (seenChunk keys) gets every answer, for
// both kinds of key, in the events' order, with new events mixed in.
func TestSeenInChunks(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "seen.db"), Options{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	org := seenOrg(t, db, "acme")
	n := 2*seenChunk + 7
	var stored []*mailtrail.Event
	for i := range n {
		key := fmt.Sprintf("d-%d", i)
		if i%2 == 1 {
			key = ingest.IdempotencyPrefix + fmt.Sprintf("k-%d", i)
		}
		stored = append(stored, seenEvent(org, fmt.Sprintf("u%d", i), mailtrail.EventSent, 0, key))
	}
	if _, err := db.Write(ctx, stored); err != nil {
		t.Fatal(err)
	}
	var probes []*mailtrail.Event
	var want []string
	for i, ev := range stored {
		retry := seenEvent(org, ev.CustomerID, mailtrail.EventSent, 0, ev.DedupeKey)
		fresh := seenEvent(org, ev.CustomerID, mailtrail.EventSent, 0, ev.DedupeKey+"-new")
		probes, want = append(probes, retry, fresh), append(want, stored[i].ID, "")
	}
	got, err := db.Seen(ctx, probes)
	if err != nil {
		t.Fatal(err)
	}
	for i := range probes {
		if got[i] != want[i] {
			t.Fatalf("probe %d (%s): Seen %q, want %q", i, probes[i].DedupeKey, got[i], want[i])
		}
	}
}

// StoredKeys and CountStoredKeys (storetest.StoredKeys) across pages of 3 keys.
func TestStoredKeys(t *testing.T) {
	defer func(n int) { storedKeysChunk = n }(storedKeysChunk)
	storedKeysChunk = 3
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "s.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	storetest.StoredKeys(t, db, ingest.Normalize)
}
