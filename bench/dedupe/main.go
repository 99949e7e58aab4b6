// Command dedupe measures what the event log's sink costs per event before it appends:
// deciding which events are duplicates. It fills a SQLite store with -pre events (the mix
// of bench/projector's POST /api/v1/events bodies, each with an idempotency key, written
// directly), then appends batches of -batch new events of the same mix through two
// sinks, each on a log of its own, alternating in every round: one that asks the store
// about every key (sqlite.DB.Seen, as before the filter), one with the filter of the
// store's keys built first (eventlog.Sink.BuildFilter; its build time is printed). Each
// batch is one append (one sync), as the ingest pipeline's group commits are. It prints
// events/s per round and sink, their medians and ratio, and the store lookups each made.
//
//	go run ./bench/dedupe                          # 1,000,000 events stored, 5 rounds of 20 batches of 1,000
//	go run ./bench/dedupe -pre 200000 -rounds 3
//
// It asserts nothing; the figures are in bench/README.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/bench/load"
	"github.com/mailtrail/mailtrail/internal/store/eventlog"
	"github.com/mailtrail/mailtrail/internal/store/sqlite"
)

func main() {
	pre := flag.Int("pre", 1_000_000, "events in the store before the timed appends")
	batch := flag.Int("batch", 1000, "events per append")
	batches := flag.Int("batches", 20, "appends per sink and round")
	rounds := flag.Int("rounds", 5, "rounds (each sink once per round, alternating which goes first)")
	flag.Parse()
	if err := run(*pre, *batch, *batches, *rounds); err != nil {
		fmt.Fprintln(os.Stderr, "dedupe:", err)
		os.Exit(1)
	}
}

func run(pre, batch, batches, rounds int) error {
	if pre < 0 || batch < 1 || batch > 5000 || batches < 1 || rounds < 1 {
		return fmt.Errorf("-pre ≥ 0, -batch in 1..5000, -batches and -rounds ≥ 1")
	}
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "mailtrail-dedupe-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	db, err := sqlite.Open(ctx, filepath.Join(dir, "mailtrail.db"), sqlite.Options{Synchronous: "NORMAL"})
	if err != nil {
		return err
	}
	defer db.Close()
	org, _, err := db.CreateOrg(ctx, "bench", "UTC")
	if err != nil {
		return err
	}
	bodies := load.NewEventBodies(batch, 16, fmt.Sprint(time.Now().UnixNano()%1_000_000)).Stream()
	next := func() ([]*mailtrail.Event, error) { return load.Events(bodies(), org.ID, time.Now()) }

	t0 := time.Now()
	for done := 0; done < pre; done += batch {
		evs, err := next()
		if err != nil {
			return err
		}
		if _, err := db.Write(ctx, evs); err != nil {
			return err
		}
		if done%200_000 == 0 && done > 0 {
			fmt.Fprintf(os.Stderr, "stored %d events (%v)\n", done, time.Since(t0).Round(time.Second))
		}
	}
	fmt.Fprintf(os.Stderr, "stored %d events in %v\n", pre, time.Since(t0).Round(time.Second))

	type sink struct {
		name          string
		s             *eventlog.Sink
		rates         []float64
		store, filter int
	}
	open := func(name string, filter bool) (*sink, error) {
		l, err := eventlog.Open(ctx, filepath.Join(dir, "log-"+name), eventlog.Options{MaxMessageBytes: 4 << 20})
		if err != nil {
			return nil, err
		}
		sk := &sink{name: name}
		opt := eventlog.SinkOptions{Seen: db.Seen, OnLookup: func(store, filter int) { sk.store += store; sk.filter += filter }}
		if filter {
			opt.Keys = db
		}
		sk.s = eventlog.NewSink(l, opt)
		if filter {
			t0 := time.Now()
			if err := sk.s.BuildFilter(ctx); err != nil {
				return nil, err
			}
			f := sk.s.Filter()
			fmt.Printf("filter built in %v: %d keys, %d bytes\n", time.Since(t0).Round(time.Millisecond), f.Keys, f.Bytes)
		}
		return sk, nil
	}
	seen, err := open("seen", false)
	if err != nil {
		return err
	}
	filtered, err := open("filter", true)
	if err != nil {
		return err
	}
	for r := range rounds {
		order := []*sink{seen, filtered}
		if r%2 == 1 {
			order = []*sink{filtered, seen}
		}
		for _, sk := range order {
			work := make([][]*mailtrail.Event, batches)
			for i := range work {
				if work[i], err = next(); err != nil {
					return err
				}
			}
			t0 := time.Now()
			for _, evs := range work {
				if _, err := sk.s.Write(ctx, evs); err != nil {
					return err
				}
			}
			rate := float64(batches*batch) / time.Since(t0).Seconds()
			sk.rates = append(sk.rates, rate)
			fmt.Printf("round %d  %-7s %9.0f events/s\n", r+1, sk.name, rate)
		}
	}
	med := func(v []float64) float64 {
		v = slices.Clone(v)
		slices.Sort(v)
		return v[len(v)/2]
	}
	for _, sk := range []*sink{seen, filtered} {
		fmt.Printf("%-7s median %9.0f events/s; store lookups %d, filter answers %d\n", sk.name, med(sk.rates), sk.store, sk.filter)
	}
	fmt.Printf("filter ÷ seen: %.2f (medians of %d rounds, %d events stored, appends of %d)\n", med(filtered.rates)/med(seen.rates), rounds, pre, batch)
	return nil
}
