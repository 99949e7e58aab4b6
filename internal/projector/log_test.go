package projector_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/ingest"
	"github.com/mailtrail/mailtrail/internal/projector"
	"github.com/mailtrail/mailtrail/internal/store/sqlite"
	"github.com/mailtrail/mailtrail/internal/store/storetest"
)

// memLog is the log side of these tests: records in memory, in order. The real log (an
// embedded NATS JetStream stream, internal/store/eventlog) is not on this branch yet;
// memLog keeps what the projector relies on: positions from 1, strictly increasing, with
// gaps (as a stream's sequence may have), Read from a position, and events of their own
// at every Read (a real log decodes them afresh).
type memLog struct {
	mu   sync.Mutex
	recs []projector.Record
	grew chan struct{} // closed when a record is appended, then replaced
}

func newLog(batches [][]*mailtrail.Event) *memLog {
	l := &memLog{grew: make(chan struct{})}
	for _, b := range batches {
		l.Append(b)
	}
	return l
}

// Append adds a record after the last one, two positions further (a gap), and returns
// its position.
func (l *memLog) Append(events []*mailtrail.Event) uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	pos := uint64(1)
	if n := len(l.recs); n > 0 {
		pos = l.recs[n-1].Pos + 2
	}
	l.recs = append(l.recs, projector.Record{Pos: pos, Events: copyEvents(events)})
	close(l.grew)
	l.grew = make(chan struct{})
	return pos
}

func (l *memLog) Read(ctx context.Context, from uint64, max int) ([]projector.Record, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	i, _ := slices.BinarySearchFunc(l.recs, from, func(r projector.Record, pos uint64) int {
		switch {
		case r.Pos < pos:
			return -1
		case r.Pos > pos:
			return 1
		}
		return 0
	})
	var out []projector.Record
	for ; i < len(l.recs) && len(out) < max; i++ {
		out = append(out, projector.Record{Pos: l.recs[i].Pos, Events: copyEvents(l.recs[i].Events)})
	}
	return out, nil
}

func (l *memLog) Wait(ctx context.Context, after uint64) error {
	l.mu.Lock()
	if n := len(l.recs); n > 0 && l.recs[n-1].Pos > after {
		l.mu.Unlock()
		return nil
	}
	grew := l.grew
	l.mu.Unlock()
	select {
	case <-grew:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (l *memLog) Head(context.Context) (uint64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.recs) == 0 {
		return 0, nil
	}
	return l.recs[len(l.recs)-1].Pos, nil
}

// readOnly is a log that can only be read: the projector polls it.
type readOnly struct{ l *memLog }

func (r readOnly) Read(ctx context.Context, from uint64, max int) ([]projector.Record, error) {
	return r.l.Read(ctx, from, max)
}

func copyEvents(evs []*mailtrail.Event) []*mailtrail.Event {
	out := make([]*mailtrail.Event, len(evs))
	for i, e := range evs {
		c := *e
		c.Reasons = slices.Clone(e.Reasons)
		out[i] = &c
	}
	return out
}

// faultyStore is the real store with failures put in front of it or after it: a write
// refused as a full disk refuses it (nothing written), or a write committed whose answer
// is lost (the projector must find it applied, not apply it again).
type faultyStore struct {
	*sqlite.DB
	mu         sync.Mutex
	r          *rand.Rand
	failBefore float64 // share of WriteAt and Position calls failing before the store
	loseAfter  float64 // share of committed WriteAt calls answered with an error
	down       atomic.Bool
	failed     atomic.Int64
	lost       atomic.Int64
}

var errDiskFull = fmt.Errorf("test: %w", sqlite.ErrStorageUnavailable)

func (f *faultyStore) roll(p float64) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.r != nil && f.r.Float64() < p
}

func (f *faultyStore) WriteAt(ctx context.Context, stream string, after, pos uint64, batch []*mailtrail.Event) (ingest.ChangeSet, error) {
	if f.down.Load() || f.roll(f.failBefore) {
		f.failed.Add(1)
		return ingest.ChangeSet{}, errDiskFull
	}
	cs, err := f.DB.WriteAt(ctx, stream, after, pos, batch)
	if err == nil && f.roll(f.loseAfter) {
		f.lost.Add(1)
		return ingest.ChangeSet{}, errors.New("test: connection lost after the commit")
	}
	return cs, err
}

func (f *faultyStore) Position(ctx context.Context, stream string) (uint64, error) {
	if f.down.Load() || f.roll(f.failBefore) {
		f.failed.Add(1)
		return 0, errDiskFull
	}
	return f.DB.Position(ctx, stream)
}

// openStore opens the store file at path as the projector uses it: synchronous NORMAL,
// no sync per transaction (the log is the source of truth).
func openStore(t *testing.T, path string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), path, sqlite.Options{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// newStore creates a store file with an organization and msgs messages of campaign
// "camp", and returns its path and the organization.
func newStore(t *testing.T, msgs int) (path, org string) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "projection.db")
	db := openStore(t, path)
	defer db.Close()
	o, _, err := db.CreateOrg(context.Background(), "acme", "UTC")
	if err != nil {
		t.Fatal(err)
	}
	storetest.Seed(t, db, o.ID, msgs)
	return path, o.ID
}

// waitFor waits until cond holds. The bound only keeps a broken projector from hanging
// the test run; nothing is asserted about time.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// runToEnd runs a projector of log into store until it has applied the log's last
// record, then stops it, and returns what it published.
func runToEnd(t *testing.T, log projector.Log, store projector.Store, last uint64, opt projector.Options) []ingest.ChangeSet {
	t.Helper()
	p := projector.New(log, store, opt)
	var mu sync.Mutex
	var got []ingest.ChangeSet
	p.Subscribe("test", func(cs ingest.ChangeSet) {
		mu.Lock()
		got = append(got, cs)
		mu.Unlock()
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	waitFor(t, fmt.Sprintf("position %d", last), func() bool { return p.Position() >= last })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if p.Position() != last || p.Lag() != 0 {
		t.Fatalf("stopped at %d with lag %d, want %d and 0", p.Position(), p.Lag(), last)
	}
	mu.Lock()
	defer mu.Unlock()
	return got
}

// cleanFigures applies the log once, uninterrupted, to a fresh store and returns its
// figures: the oracle of the tests that interrupt.
func cleanFigures(t *testing.T, msgs int, batches func(org string) [][]*mailtrail.Event) string {
	t.Helper()
	path, org := newStore(t, msgs)
	log := newLog(batches(org))
	last, _ := log.Head(context.Background())
	db := openStore(t, path)
	defer db.Close()
	runToEnd(t, log, db, last, projector.Options{})
	return storetest.Figures(t, db, org, "camp")
}
