package projector_test

import (
	"context"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/projector"
	"github.com/mailtrail/mailtrail/internal/store/sqlite"
	"github.com/mailtrail/mailtrail/internal/store/storetest"
)

// appendAll adds records to the log at once: a reader sees none of them or all.
func (l *memLog) appendAll(batches [][]*mailtrail.Event) uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	pos := uint64(1)
	for _, events := range batches {
		if n := len(l.recs); n > 0 {
			pos = l.recs[n-1].Pos + 2
		}
		l.recs = append(l.recs, projector.Record{Pos: pos, Events: copyEvents(events)})
	}
	close(l.grew)
	l.grew = make(chan struct{})
	return pos
}

// lingering starts a projector with a Linger no test outlives, once it has applied the
// log's first record, and returns it with the log, the recording store and a stop func.
func lingering(t *testing.T, batches [][]*mailtrail.Event, path string, opt projector.Options) (*projector.Projector, *memLog, *recordingStore, func()) {
	t.Helper()
	log := newLog(batches[:1])
	db := openStore(t, path)
	store := &recordingStore{Store: db}
	opt.Linger = time.Hour
	p := projector.New(log, store, opt)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	first, _ := log.Head(ctx)
	waitFor(t, "the first record", func() bool { return p.Position() == first })
	return p, log, store, func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
		db.Close()
	}
}

// A projector that keeps up lets small writes gather for Linger, and a read that waits
// for a position (WaitFor) ends the wait at once: the records that arrived after the
// first write go to the store in one transaction, only when the read asks for them.
// Without the wake-up, WaitFor would wait the hour of Linger and the test time out.
func TestLingerGathersUntilAReadWaits(t *testing.T) {
	const records = 12
	want := cleanFigures(t, msgs, mixed(records))
	path, org := newStore(t, msgs)
	batches := mixed(records)(org)
	p, log, store, stop := lingering(t, batches, path, projector.Options{})
	defer stop()

	last := log.appendAll(batches[1:])
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := p.WaitFor(ctx, last); err != nil {
		t.Fatalf("WaitFor(%d): %v (the linger was not ended by the read)", last, err)
	}
	store.mu.Lock()
	writes := append([]write(nil), store.writes...)
	store.mu.Unlock()
	first := writes[0].pos
	events := 0
	for _, b := range batches[1:] {
		events += len(b)
	}
	if len(writes) != 2 || writes[1] != (write{after: first, pos: last, events: events}) {
		t.Fatalf("writes %+v, want the first record, then records %d…%d (%d events) in one transaction", writes, first+1, last, events)
	}
	if got := storetest.Figures(t, store.Store.(*sqlite.DB), org, "camp"); got != want {
		t.Fatalf("figures differ from one clean application:\n%s", storetest.DiffLines(want, got))
	}
}

// Once LingerEvents events have gathered, the projector writes without waiting for
// Linger to pass, and nobody has to ask for a position.
func TestLingerWritesOnceEnoughGathered(t *testing.T) {
	const records = 12
	path, org := newStore(t, msgs)
	batches := mixed(records)(org)
	events := 0
	for _, b := range batches[1:] {
		events += len(b)
	}
	p, log, store, stop := lingering(t, batches, path, projector.Options{LingerEvents: events})
	defer stop()

	last := log.appendAll(batches[1:])
	waitFor(t, "the gathered records, written without a read waiting", func() bool { return p.Position() == last })
	store.mu.Lock()
	defer store.mu.Unlock()
	if len(store.writes) != 2 || store.writes[1].events != events {
		t.Fatalf("writes %+v, want the first record, then %d events in one transaction", store.writes, events)
	}
}
