package projector_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/ingest"
	"github.com/mailtrail/mailtrail/internal/projector"
	"github.com/mailtrail/mailtrail/internal/store/storetest"
)

// smallRecords is a log of many small records (1 to 3 events, as group commits at pixel
// load are): the events of mixed(records), cut anew.
func smallRecords(records int) func(org string) [][]*mailtrail.Event {
	return func(org string) [][]*mailtrail.Event {
		var flat []*mailtrail.Event
		for _, b := range mixed(records)(org) {
			flat = append(flat, b...)
		}
		r := rand.New(rand.NewPCG(5, 6))
		var out [][]*mailtrail.Event
		for len(flat) > 0 {
			n := min(len(flat), 1+r.IntN(3))
			out = append(out, flat[:n])
			flat = flat[n:]
		}
		return out
	}
}

// write is one WriteAt a store received and committed.
type write struct {
	after, pos uint64
	events     int
}

// recordingStore is the real store, recording the writes it committed.
type recordingStore struct {
	projector.Store
	mu     sync.Mutex
	writes []write
}

func (s *recordingStore) WriteAt(ctx context.Context, stream string, after, pos uint64, batch []*mailtrail.Event) (ingest.ChangeSet, error) {
	cs, err := s.Store.WriteAt(ctx, stream, after, pos, batch)
	if err == nil {
		s.mu.Lock()
		s.writes = append(s.writes, write{after, pos, len(batch)})
		s.mu.Unlock()
	}
	return cs, err
}

// flakyLog fails every third Read: a read ahead that fails applies what was read before.
type flakyLog struct {
	*memLog
	mu    sync.Mutex
	reads int
}

func (l *flakyLog) Read(ctx context.Context, from uint64, max int) ([]projector.Record, error) {
	l.mu.Lock()
	l.reads++
	fail := l.reads%3 == 0
	l.mu.Unlock()
	if fail {
		return nil, fmt.Errorf("test: the log is unreachable")
	}
	return l.memLog.Read(ctx, from, max)
}

// clickKey names a click as a relabel does: its customer, link and time.
func clickKey(customer, link string, at int64) string {
	return fmt.Sprintf("%s %s %d", customer, link, at)
}

// humanClicks returns, per click key, how many clicks are human: as the store holds them
// (figs, storetest.Figures's raw lines, whose ids name the published events), and as a
// subscriber knows them from the change-sets (each click as published, then the
// relabels in order). relabels counts the relabels published.
func humanClicks(t *testing.T, figs string, sets []ingest.ChangeSet) (stored, published map[string]int, relabels int) {
	t.Helper()
	key := map[string]string{} // event id → click key
	published = map[string]int{}
	for _, cs := range sets {
		for _, e := range cs.Events {
			if e.Type != mailtrail.EventClicked || !e.Counted {
				continue
			}
			k := clickKey(e.CustomerID, e.Metadata.LinkURL, e.OccurredAt.UnixMilli())
			key[e.ID] = k
			if e.IsHuman() {
				published[k]++
			}
		}
		for _, r := range cs.Relabels {
			k := clickKey(r.CustomerID, r.LinkURL, r.At)
			if r.Human {
				published[k]++
			} else {
				published[k]--
			}
			relabels++
		}
	}
	stored = map[string]int{}
	for _, l := range strings.Split(figs, "\n") {
		f := strings.Split(l, " ") // id message type time label reasons…
		k, ok := key[f[0]]
		if !ok || len(f) < 5 {
			continue
		}
		if f[4] == "" || f[4] == string(mailtrail.Human) {
			stored[k]++
		}
	}
	for k, n := range stored {
		if n == 0 {
			delete(stored, k)
		}
	}
	for k, n := range published {
		if n == 0 {
			delete(published, k)
		}
	}
	return stored, published, relabels
}

// A backlog of many small records applied in merged transactions (each read ahead over
// several Reads, up to MaxEvents, some Reads failing) leaves the store as one record per
// transaction leaves it, and publishes the same events in the same order: every record
// applied exactly once. The transactions follow each other without a gap or an overlap
// (each moves the position from the previous one's to the last record it holds), hold
// at most MaxEvents events unless one record holds more, and each of the
// change-sets carries its transaction's position; applying their events then their
// relabels, in order, gives the click labels the store holds.
func TestMergedBacklogEqualsOneRecordPerTransaction(t *testing.T) {
	const readMax, maxEvents = 4, 50
	gen := smallRecords(60)

	// The oracle: one record per transaction.
	path, org := newStore(t, msgs)
	log := newLog(gen(org))
	head, _ := log.Head(context.Background())
	recs, _ := log.Read(context.Background(), 1, 1<<20)
	db := openStore(t, path)
	defer db.Close()
	one := &recordingStore{Store: db}
	oneSets := runToEnd(t, log, one, head, projector.Options{MaxEvents: 1})
	if len(one.writes) != len(recs) {
		t.Fatalf("MaxEvents 1: %d transactions for %d records", len(one.writes), len(recs))
	}
	want := storetest.Figures(t, db, org, "camp")
	stored, published, relabels := humanClicks(t, want, oneSets)
	if fmt.Sprint(stored) != fmt.Sprint(published) {
		t.Fatalf("one record per transaction: labels as published\n%v\ndiffer from the store's\n%v", published, stored)
	}
	if relabels == 0 {
		t.Fatal("no click relabelled: the log proves nothing about relabels")
	}

	for _, flaky := range []bool{false, true} {
		t.Run(fmt.Sprintf("flaky=%v", flaky), func(t *testing.T) {
			path, org := newStore(t, msgs)
			mem := newLog(gen(org))
			var log projector.Log = mem
			if flaky {
				log = &flakyLog{memLog: mem}
			}
			db := openStore(t, path)
			defer db.Close()
			merged := &recordingStore{Store: db}
			sets := runToEnd(t, log, merged, head, projector.Options{ReadMax: readMax, MaxEvents: maxEvents,
				RetryMin: time.Microsecond, RetryMax: time.Millisecond, OnError: func(error) {}})
			got := storetest.Figures(t, db, org, "camp")
			if got != want {
				t.Fatalf("figures differ from one record per transaction:\n%s", storetest.DiffLines(want, got))
			}
			if a, b := eventIDs(oneSets), eventIDs(sets); a != b {
				t.Fatalf("published events differ from one record per transaction:\n%s\n%s", b, a)
			}

			// The transactions: contiguous, bounded, merged over several Reads.
			events := map[uint64]int{} // record position → its events
			for _, r := range recs {
				events[r.Pos] = len(r.Events)
			}
			prev, most := uint64(0), 0
			for i, w := range merged.writes {
				n, count := 0, 0
				for _, r := range recs {
					if r.Pos > w.after && r.Pos <= w.pos {
						n++
						count += events[r.Pos]
					}
				}
				if w.after != prev || events[w.pos] == 0 || count != w.events {
					t.Fatalf("transaction %d moves %d → %d with %d events (%d in those records); the previous ended at %d", i, w.after, w.pos, w.events, count, prev)
				}
				if w.events > maxEvents && n > 1 {
					t.Fatalf("transaction %d holds %d events of %d records, over MaxEvents %d", i, w.events, n, maxEvents)
				}
				prev, most = w.pos, max(most, n)
			}
			if prev != head {
				t.Fatalf("the last transaction ends at %d, the log at %d", prev, head)
			}
			if most <= readMax || len(merged.writes)*readMax >= len(recs) {
				t.Fatalf("%d transactions for %d records, at most %d records in one: not merged over Reads of %d", len(merged.writes), len(recs), most, readMax)
			}
			j := 0
			for _, cs := range sets {
				for j < len(merged.writes) && merged.writes[j].pos < cs.Position {
					j++
				}
				if j == len(merged.writes) || merged.writes[j].pos != cs.Position {
					t.Fatalf("a change-set at position %d, which no transaction ended at", cs.Position)
				}
				j++
			}
			stored, published, _ := humanClicks(t, got, sets)
			if fmt.Sprint(stored) != fmt.Sprint(published) {
				t.Fatalf("merged transactions: labels as published\n%v\ndiffer from the store's\n%v", published, stored)
			}
			t.Logf("%d records in %d transactions (at most %d records in one)", len(recs), len(merged.writes), most)
		})
	}
}

// eventIDs lists the events the change-sets carry, in order.
func eventIDs(sets []ingest.ChangeSet) string {
	var b strings.Builder
	for _, cs := range sets {
		for _, e := range cs.Events {
			b.WriteString(e.ID)
			b.WriteByte(' ')
		}
	}
	return b.String()
}

// A projector stopped between two merged transactions, then a new one on the same store
// (a restart), apply the backlog once: the second starts after the position the first
// committed, and both publish every event once, in log order.
func TestMergedBacklogResumesAfterAStop(t *testing.T) {
	ctx := context.Background()
	gen := smallRecords(60)
	want := cleanFigures(t, msgs, gen)
	path, org := newStore(t, msgs)
	log := newLog(gen(org))
	head, _ := log.Head(ctx)
	db := openStore(t, path)
	defer db.Close()
	opt := projector.Options{ReadMax: 4, MaxEvents: 40}

	first := projector.New(log, db, opt)
	var mu sync.Mutex
	var sets []ingest.ChangeSet
	rctx, cancel := context.WithCancel(ctx)
	first.Subscribe("stop", func(cs ingest.ChangeSet) {
		mu.Lock()
		sets = append(sets, cs)
		mu.Unlock()
		cancel() // after the first transaction
	})
	if err := first.Run(rctx); err != nil {
		t.Fatal(err)
	}
	stopped, err := db.Position(ctx, "events")
	if err != nil {
		t.Fatal(err)
	}
	if len(sets) != 1 || stopped == 0 || stopped >= head || sets[0].Position != stopped {
		t.Fatalf("stopped with %d change-sets at position %d (log head %d): want one, at the store's position", len(sets), stopped, head)
	}
	rest := runToEnd(t, log, db, head, opt)
	if got := storetest.Figures(t, db, org, "camp"); got != want {
		t.Fatalf("figures after a stop differ from one clean application:\n%s", storetest.DiffLines(want, got))
	}
	// Every stored event published once, in log order.
	figs := storetest.Figures(t, db, org, "camp")
	var ids []string
	for _, b := range gen(org) {
		for _, e := range b {
			if strings.Contains(figs, "\n"+e.ID+" ") {
				ids = append(ids, e.ID)
			}
		}
	}
	if got := eventIDs(append(sets, rest...)); got != strings.Join(ids, " ")+" " {
		t.Fatalf("published across the stop:\n%s\nwant, in log order:\n%s", got, strings.Join(ids, " "))
	}
}
