package projector_test

import (
	"context"
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

const msgs = 16

// mixed is the tests' log: sends, deliveries, bounces, complaints and unsubscribes with
// dedupe keys (some twice), pixel opens and clicks without (each arrival counts).
func mixed(records int) func(org string) [][]*mailtrail.Event {
	return func(org string) [][]*mailtrail.Event {
		return storetest.MixedLog(21, org, msgs, records, ingest.Normalize)
	}
}

// One clean run: every record applied once, change-sets published in log order, each
// stored event in exactly one of them.
func TestApplyPublishesInOrder(t *testing.T) {
	path, org := newStore(t, msgs)
	batches := mixed(80)(org)
	log := newLog(batches)
	last, _ := log.Head(context.Background())
	db := openStore(t, path)
	defer db.Close()
	got := runToEnd(t, log, db, last, projector.Options{MaxEvents: 30})
	var ids []string
	for _, cs := range got {
		if cs.Duplicate != nil || cs.Empty() {
			t.Fatalf("published change-set with outcomes or nothing: %+v", cs)
		}
		for _, e := range cs.Events {
			ids = append(ids, e.ID)
		}
	}
	if len(got) < 2 {
		t.Fatalf("%d change-sets for %d records with at most 30 events each", len(got), len(batches))
	}
	figs := storetest.Figures(t, db, org, "camp")
	var want []string
	for _, b := range batches {
		for _, e := range b {
			if strings.Contains(figs, "\n"+e.ID+" ") {
				want = append(want, e.ID)
			}
		}
	}
	if len(want) == 0 || strings.Join(ids, ",") != strings.Join(want, ",") {
		t.Fatalf("published %d events, %d stored (in log order):\n%v\n%v", len(ids), len(want), ids, want)
	}
	if p, err := db.Position(context.Background(), "events"); err != nil || p != last {
		t.Fatalf("stored position %d %v, want %d", p, err, last)
	}
}

// The log applied with random interruptions (cancelled mid-run, a new projector on the
// same store, the store closed and opened again, two projectors at once, store writes
// refused or committed with their answer lost, so records already applied are read and
// written again) has the figures of one clean application.
func TestInterruptedEqualsClean(t *testing.T) {
	const records = 150
	want := cleanFigures(t, msgs, mixed(records))
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 1))

	path, org := newStore(t, msgs)
	log := newLog(mixed(records)(org))
	last, _ := log.Head(context.Background())
	db := openStore(t, path)
	defer func() { db.Close() }()
	var errs, rounds, pairs int
	for rounds = 0; ; rounds++ {
		if rounds == 300 {
			t.Fatal("300 interrupted runs and the log is not applied")
		}
		if pos, err := db.Position(context.Background(), "events"); err != nil {
			t.Fatal(err)
		} else if pos == last {
			break
		}
		if r.IntN(4) == 0 {
			db.Close()
			db = openStore(t, path)
		}
		fs := &faultyStore{DB: db, r: rand.New(rand.NewPCG(r.Uint64(), 2))}
		if r.IntN(2) == 0 {
			fs.failBefore, fs.loseAfter = 0.1, 0.2
		}
		opt := projector.Options{MaxEvents: 1 + r.IntN(60), ReadMax: 1 + r.IntN(8), RetryMin: time.Microsecond, RetryMax: time.Millisecond,
			OnError: func(error) {}}
		n := 1 + r.IntN(2)
		if n == 2 {
			pairs++
		}
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		var mu sync.Mutex
		commits, stopAfter := 0, 1+r.IntN(6)
		for range n {
			p := projector.New(log, fs, opt)
			// Stop after a few commits, or at a random moment (mid-write included).
			p.Subscribe("stop", func(ingest.ChangeSet) {
				mu.Lock()
				defer mu.Unlock()
				if commits++; commits >= stopAfter {
					cancel()
				}
			})
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := p.Run(ctx); err != nil {
					t.Error(err)
				}
			}()
		}
		stop := time.AfterFunc(time.Duration(r.IntN(3000))*time.Microsecond, cancel)
		wg.Wait()
		stop.Stop()
		cancel()
		errs += int(fs.failed.Load() + fs.lost.Load())
	}
	t.Logf("%d runs (%d with two projectors), %d store failures and lost answers", rounds, pairs, errs)
	if rounds < 3 || errs == 0 {
		t.Fatalf("%d runs, %d failures: the log was not interrupted enough to prove anything", rounds, errs)
	}
	if got := storetest.Figures(t, db, org, "camp"); got != want {
		t.Fatalf("figures after interrupted runs differ from one clean application:\n%s", storetest.DiffLines(want, got))
	}
}

// A store that refuses every write (a full disk) stops nothing but the projection: the
// projector retries the same records, the lag counts the log's records, and once the
// store writes again everything is applied, once.
func TestStoreDownRetriesSameRecords(t *testing.T) {
	const records = 40
	want := cleanFigures(t, msgs, mixed(records))
	path, org := newStore(t, msgs)
	log := newLog(mixed(records)(org))
	last, _ := log.Head(context.Background())
	db := openStore(t, path)
	defer db.Close()
	fs := &faultyStore{DB: db, r: rand.New(rand.NewPCG(5, 5)), loseAfter: 0.3}
	fs.down.Store(true)
	var mu sync.Mutex
	var errs []error
	p := projector.New(log, fs, projector.Options{MaxEvents: 25, RetryMin: time.Microsecond, RetryMax: time.Millisecond,
		OnError: func(err error) { mu.Lock(); errs = append(errs, err); mu.Unlock() }})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	waitFor(t, "errors while the store is down", func() bool { mu.Lock(); defer mu.Unlock(); return len(errs) >= 5 })
	// Nothing read from the store yet, so the whole log is behind.
	if p.Position() != 0 || p.Lag() != last {
		t.Fatalf("while the store is down: position %d, lag %d, want 0 and %d", p.Position(), p.Lag(), last)
	}
	fs.down.Store(false)
	waitFor(t, "the log applied", func() bool { return p.Position() == last })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if fs.lost.Load() == 0 {
		t.Fatal("no answer was lost after a commit: the test proves nothing about them")
	}
	mu.Lock()
	for _, err := range errs[:5] {
		if !strings.Contains(err.Error(), "disk full") && !strings.Contains(err.Error(), "cannot write") {
			t.Errorf("error reported: %v", err)
		}
	}
	mu.Unlock()
	if got := storetest.Figures(t, db, org, "camp"); got != want {
		t.Fatalf("figures differ from one clean application:\n%s", storetest.DiffLines(want, got))
	}
}

// Records appended while the projector runs are applied, whether the log tells it when it
// grows (Wait) or it polls.
func TestFollowsAppends(t *testing.T) {
	for _, polling := range []bool{false, true} {
		t.Run(map[bool]string{false: "wait", true: "poll"}[polling], func(t *testing.T) {
			const records = 30
			want := cleanFigures(t, msgs, mixed(records))
			path, org := newStore(t, msgs)
			batches := mixed(records)(org)
			log := newLog(batches[:5])
			db := openStore(t, path)
			defer db.Close()
			var l projector.Log = log
			if polling {
				l = readOnly{log}
			}
			p := projector.New(l, db, projector.Options{PollMax: 2 * time.Millisecond})
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- p.Run(ctx) }()
			first, _ := log.Head(ctx)
			waitFor(t, "the first records", func() bool { return p.Position() == first })
			var last uint64
			for _, b := range batches[5:] {
				last = log.Append(b)
			}
			waitFor(t, "the appended records", func() bool { return p.Position() == last })
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if got := storetest.Figures(t, db, org, "camp"); got != want {
				t.Fatalf("figures differ from one clean application:\n%s", storetest.DiffLines(want, got))
			}
		})
	}
}

// disorderedLog answers records out of order: a broken log stops the projector with an
// error instead of being applied in the wrong order.
type disorderedLog struct{}

func (disorderedLog) Read(context.Context, uint64, int) ([]projector.Record, error) {
	return []projector.Record{{Pos: 5}, {Pos: 4}}, nil
}

func TestDisorderedLogStops(t *testing.T) {
	path, _ := newStore(t, 1)
	db := openStore(t, path)
	defer db.Close()
	err := projector.New(disorderedLog{}, db, projector.Options{}).Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "position 4 after 5") {
		t.Fatalf("Run: %v", err)
	}
	if p, _ := db.Position(context.Background(), "events"); p != 0 {
		t.Fatalf("position %d after a broken log", p)
	}
}
