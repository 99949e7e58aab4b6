// Command backlog measures the projector alone: how fast it applies a backlog of the
// event log to a SQLite store, with nothing else running (no HTTP, no acknowledgements,
// no reads). It appends -events events to an event log in messages of -batch events (the
// mix of bench/projector's POST /api/v1/events bodies, each with an idempotency key,
// decoded as the API decodes them), then runs a projector from the store's position to
// the log's head and prints the events applied per second, the time spent reading the log
// and writing the store (per event), and the transactions it took. -pre applies that many
// events first (untimed), to measure a larger store.
//
//	go run ./bench/backlog                              # 200,000 events in messages of 1,000
//	go run ./bench/backlog -batch 20 -events 100000     # small messages (group commits at pixel load)
//	go run ./bench/backlog -pre 300000                  # on a store that holds 300,000 events already
//	go run ./bench/backlog -cpuprofile cpu.out          # go tool pprof cpu.out
//	go run ./bench/backlog -pre 1500000 -cache-mib 512  # a larger store, a larger writer cache
//
// It asserts nothing. On a shared machine, run it several times and alternate what is
// compared (for a before/after, a binary built from each version).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"sync/atomic"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/bench/load"
	"github.com/mailtrail/mailtrail/internal/ingest"
	"github.com/mailtrail/mailtrail/internal/projector"
	"github.com/mailtrail/mailtrail/internal/store/eventlog"
	"github.com/mailtrail/mailtrail/internal/store/sqlite"
)

// timedLog is the log's projection, timing its Reads.
type timedLog struct {
	eventlog.Projection
	ns, calls atomic.Int64
}

func (t *timedLog) Read(ctx context.Context, from uint64, max int) ([]projector.Record, error) {
	t0 := time.Now()
	r, err := t.Projection.Read(ctx, from, max)
	t.ns.Add(int64(time.Since(t0)))
	t.calls.Add(1)
	return r, err
}

// timedStore is the store, timing its projection writes.
type timedStore struct {
	*sqlite.DB
	ns, txs, events atomic.Int64
}

func (t *timedStore) WriteAt(ctx context.Context, stream string, after, pos uint64, batch []*mailtrail.Event) (ingest.ChangeSet, error) {
	t0 := time.Now()
	cs, err := t.DB.WriteAt(ctx, stream, after, pos, batch)
	t.ns.Add(int64(time.Since(t0)))
	t.txs.Add(1)
	t.events.Add(int64(len(batch)))
	return cs, err
}

func main() {
	total := flag.Int("events", 200_000, "events of the timed backlog")
	batch := flag.Int("batch", 1000, "events per log message")
	pre := flag.Int("pre", 0, "events applied before the timed backlog (untimed): a larger store")
	maxEvents := flag.Int("max-events", 0, "projector.Options.MaxEvents (0: the default)")
	readMax := flag.Int("read-max", 0, "projector.Options.ReadMax (0: the default)")
	profile := flag.String("cpuprofile", "", "write a CPU profile of the timed part to this file")
	dir := flag.String("dir", "", "directory for the store and the log (default: a temporary one, removed)")
	cacheMiB := flag.Int("cache-mib", 0, "the store's writer page cache in MiB (0: the store's default)")
	flag.Parse()
	if err := run(*total, *batch, *pre, *maxEvents, *readMax, *cacheMiB, *profile, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "backlog:", err)
		os.Exit(1)
	}
}

func run(total, batch, pre, maxEvents, readMax, cacheMiB int, profile, dir string) error {
	if total < 1 || batch < 1 || batch > 10_000 || pre < 0 {
		return fmt.Errorf("-events must be positive, -batch in 1..10000, -pre at least 0")
	}
	ctx := context.Background()
	if dir == "" {
		d, err := os.MkdirTemp("", "mailtrail-backlog-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	db, err := sqlite.Open(ctx, filepath.Join(dir, "mailtrail.db"), sqlite.Options{CacheMiB: cacheMiB})
	if err != nil {
		return err
	}
	defer db.Close()
	org, _, err := db.CreateOrg(ctx, "bench", "UTC")
	if err != nil {
		return err
	}
	l, err := eventlog.Open(ctx, filepath.Join(dir, "eventlog"), eventlog.Options{MaxMessageBytes: 4 << 20})
	if err != nil {
		return err
	}
	defer l.Close()
	bodies := load.NewEventBodies(batch, 16, fmt.Sprint(time.Now().UnixNano()%1_000_000)).Stream()

	// appendEvents appends n events (rounded up to whole messages), one message per
	// append, and returns the last message's position.
	appendEvents := func(n int) (uint64, error) {
		var last uint64
		for done := 0; done < n; done += batch {
			evs, err := load.Events(bodies(), org.ID, time.Now())
			if err != nil {
				return 0, err
			}
			r, err := l.Append(ctx, 0, "", evs)
			if err != nil {
				return 0, err
			}
			last = r.Pos.Seq
		}
		return last, nil
	}
	// apply runs a projector until the store holds the log up to head.
	apply := func(head uint64, profile string) (time.Duration, *timedLog, *timedStore, error) {
		tl, ts := &timedLog{Projection: l.Projection()}, &timedStore{DB: db}
		p := projector.New(tl, ts, projector.Options{MaxEvents: maxEvents, ReadMax: readMax, OnError: func(err error) { fmt.Fprintln(os.Stderr, "projector:", err) }})
		if profile != "" {
			f, err := os.Create(profile)
			if err != nil {
				return 0, nil, nil, err
			}
			defer f.Close()
			if err := pprof.StartCPUProfile(f); err != nil {
				return 0, nil, nil, err
			}
			defer pprof.StopCPUProfile()
		}
		pctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		t0 := time.Now()
		go func() { done <- p.Run(pctx) }()
		err := p.WaitFor(ctx, head)
		elapsed := time.Since(t0)
		cancel()
		if rerr := <-done; rerr != nil {
			return 0, nil, nil, rerr
		}
		return elapsed, tl, ts, err
	}

	if pre > 0 {
		head, err := appendEvents(pre)
		if err != nil {
			return err
		}
		elapsed, _, _, err := apply(head, "")
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "applied %d events first in %v\n", pre, elapsed.Round(time.Millisecond))
	}
	head, err := appendEvents(total)
	if err != nil {
		return err
	}
	elapsed, tl, ts, err := apply(head, profile)
	if err != nil {
		return err
	}
	n := float64(ts.events.Load())
	fmt.Printf("applied %d events (messages of %d, %d stored before) in %v: %.0f events/s; log reads %v in %d calls (%.1f µs/event); "+
		"store writes %v in %d transactions (%.1f µs/event, %.0f events per transaction)\n",
		int(n), batch, pre, elapsed.Round(time.Millisecond), n/elapsed.Seconds(),
		time.Duration(tl.ns.Load()).Round(time.Millisecond), tl.calls.Load(), float64(tl.ns.Load())/1e3/n,
		time.Duration(ts.ns.Load()).Round(time.Millisecond), ts.txs.Load(), float64(ts.ns.Load())/1e3/n, n/float64(ts.txs.Load()))
	return nil
}
