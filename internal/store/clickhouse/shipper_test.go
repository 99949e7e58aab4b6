package clickhouse_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/store/clickhouse"
)

// TestShipEverythingOnce: events appended to a real log are shipped in blocks of many
// records, each once: counts equal a recount, no row twice, escaped strings intact.
func TestShipEverythingOnce(t *testing.T) {
	url := chURL(t)
	db := testDB(t, url)
	l := openLog(t)
	want := map[key]map[mailtrail.EventType]int64{}
	appendEvents(t, l, 0, 3000, want)

	var blocks []clickhouse.Block
	var mu sync.Mutex
	s := clickhouse.NewShipper(db, l.Projection(), clickhouse.ShipperOptions{MaxEvents: 700,
		OnError:   func(err error) { t.Errorf("OnError: %v", err) },
		OnShipped: func(b clickhouse.Block) { mu.Lock(); blocks = append(blocks, b); mu.Unlock() }})
	shipAll(t, s, head(t, l))
	checkCounts(t, db, want)

	// Events appended later are followed (the log's Wait) and shipped after the rest.
	appendEvents(t, l, 3000, 500, want)
	shipAll(t, s, head(t, l))
	checkCounts(t, db, want)

	rows, ids, err := db.Rows(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rows != ids {
		t.Errorf("a clean run copied %d rows for %d events", rows, ids)
	}
	mu.Lock()
	defer mu.Unlock()
	next, events := uint64(1), 0
	for _, b := range blocks {
		if b.First != next || b.Last < b.First {
			t.Fatalf("blocks %v: not contiguous from 1", blocks)
		}
		if b.Events > 700+40 {
			t.Errorf("block %s holds %d events, more than MaxEvents and a record", b.ID(), b.Events)
		}
		next, events = b.Last+1, events+b.Events
	}
	if events != 3500 || len(blocks) < 5 {
		t.Errorf("%d blocks shipped %d events, want 3500 in several blocks", len(blocks), events)
	}
	if got, _ := db.ShippedPosition(context.Background(), "events"); got != head(t, l) {
		t.Errorf("stored position %d, log head %d", got, head(t, l))
	}

	ev := event(5)
	got, err := db.Field(context.Background(), ev.ID, "link_url")
	if err != nil || got != ev.Metadata.LinkURL {
		t.Errorf("link_url read back %q (%v), want %q", got, err, ev.Metadata.LinkURL)
	}
	if got, _ := db.Field(context.Background(), ev.ID, "campaign"); got != ev.CampaignID {
		t.Errorf("campaign read back %q, want %q", got, ev.CampaignID)
	}
}

// TestShipperRestartedAtRandomPoints: a shipper cancelled at random moments (mid-upload,
// between copy and position, anywhere) and started again many times, with events
// appended between the runs, ends with exact counts.
func TestShipperRestartedAtRandomPoints(t *testing.T) {
	url := chURL(t)
	db := testDB(t, url)
	l := openLog(t)
	want := map[key]map[mailtrail.EventType]int64{}
	appendEvents(t, l, 0, 4000, want)
	n := 0
	for i := range 30 {
		if i%3 == 0 {
			appendEvents(t, l, 4000+n*300, 300, want)
			n++
		}
		s := clickhouse.NewShipper(db, l.Projection(), clickhouse.ShipperOptions{MaxEvents: 50 + rand.IntN(350)})
		ctx, cancel := context.WithTimeout(context.Background(), time.Duration(10+rand.IntN(70))*time.Millisecond)
		if err := s.Run(ctx); err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
		cancel()
	}
	rows, ids, _ := db.Rows(context.Background())
	shipped, _ := db.ShippedPosition(context.Background(), "events")
	t.Logf("after the interrupted runs: %d rows, %d distinct events, position %d of %d", rows, ids, shipped, head(t, l))
	s := clickhouse.NewShipper(db, l.Projection(), clickhouse.ShipperOptions{})
	shipAll(t, s, head(t, l))
	checkCounts(t, db, want)
}

// TestCutUploadIsRejected: an upload cut mid-body by a real TCP cut. Cut at a row's end,
// or inside a row's last field, the server commits the rows before the cut (a partial
// staged block, answered 200): the check rejects it, it is cleared and the block shipped
// again. Cut inside a row, the server refuses the upload. Counts exact either way.
func TestCutUploadIsRejected(t *testing.T) {
	url := chURL(t)
	for _, tc := range []struct {
		name      string
		marker    string
		off       int
		rejection bool // the staged block is partial and the check must reject it
	}{
		{"at a row's end", "\tz\n", 3, true},
		{"inside the last field", "\tz\n", 1, true},
		{"inside a row", "", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := testDB(t, url)
			l := openLog(t)
			want := map[key]map[mailtrail.EventType]int64{}
			appendEvents(t, l, 0, 3000, want)

			p := newCutProxy(t, strings.TrimPrefix(url, "http://"))
			if tc.marker != "" {
				p.marker, p.markerOff = []byte(tc.marker), tc.off
			}
			db, err := clickhouse.New("http://"+p.addr(), base.Database())
			if err != nil {
				t.Fatal(err)
			}
			p.cutAfter.Store(150 << 10) // the first upload of the block (about 500 KB) is cut a third in
			var mu sync.Mutex
			var errs []error
			s := clickhouse.NewShipper(db, l.Projection(), clickhouse.ShipperOptions{MaxEvents: 5000, RetryMin: time.Millisecond,
				OnError: func(err error) { mu.Lock(); errs = append(errs, err); mu.Unlock() }})
			shipAll(t, s, head(t, l))
			checkCounts(t, base, want)

			if p.cuts.Load() != 1 {
				t.Fatalf("%d cuts, want 1", p.cuts.Load())
			}
			mu.Lock()
			defer mu.Unlock()
			if len(errs) == 0 {
				t.Fatal("the cut upload was not retried")
			}
			var inc *clickhouse.IncompleteError
			for _, err := range errs {
				t.Logf("retried after: %v", err)
				if errors.As(err, &inc) {
					break
				}
			}
			switch {
			case !tc.rejection:
			case inc == nil:
				t.Fatalf("no staged block was rejected; errors: %v", errs)
			case inc.Staged == 0 || inc.Staged > inc.Sent || (inc.Staged == inc.Sent && inc.Detail != "rows cut in their last field"):
				t.Errorf("rejected block: %v: want a partial block", inc)
			}
		})
	}
}

// TestBlockCopiedTwiceCountsOnce: a crash after the copy and before the position is
// stored copies the block again at the retry: the rows are there twice, the counts once.
func TestBlockCopiedTwiceCountsOnce(t *testing.T) {
	url := chURL(t)
	db := testDB(t, url)
	l := openLog(t)
	want := map[key]map[mailtrail.EventType]int64{}
	appendEvents(t, l, 0, 1500, want)
	// No merge collapses the copies before they are counted.
	if err := db.Exec(context.Background(), "SYSTEM STOP MERGES "+db.Database()+".events"); err != nil {
		t.Fatal(err)
	}

	s, _ := crashingAfterCopy(db, l, 2)
	shipAll(t, s, head(t, l))
	rows, ids, err := db.Rows(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if ids != 1500 || rows != 3*1500 {
		t.Errorf("%d rows of %d events, want the block copied 3 times (4500 rows of 1500)", rows, ids)
	}
	checkCounts(t, db, want)
}
