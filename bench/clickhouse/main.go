// Command clickhouse measures the shipper of raw events to ClickHouse
// (internal/store/clickhouse): how many events per second it ships from an event log,
// against a baseline measured in the same run, a bare INSERT of the same rows in one
// block (no staging, no check, no copy, no position: not exactly once).
//
// It appends -events events to an embedded event log in a temporary directory (appends
// of -append events, 8 at a time), reads them back once for the baseline, then runs
// -rounds rounds, each on fresh databases, alternating which goes first: the shipper
// from position 0 until it holds the log's last position (reading the log, staging,
// checking, copying, storing positions: blocks of -block events), and the baseline's one
// INSERT of the same rows into the same events table (its time is the rows' encoding and
// the POST; the log was read before). It prints each round and the medians. It asserts
// nothing.
//
//	scripts/clickhouse.sh start /tmp/mt-ch   # prints the URL
//	go run ./bench/clickhouse -url http://127.0.0.1:18123
//	go run ./bench/clickhouse -url http://127.0.0.1:18123 -events 1000000 -block 100000
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/projector"
	"github.com/mailtrail/mailtrail/internal/store/clickhouse"
	"github.com/mailtrail/mailtrail/internal/store/eventlog"
)

func main() {
	url := flag.String("url", os.Getenv("MAILTRAIL_TEST_CLICKHOUSE_URL"), "ClickHouse's HTTP interface (default $MAILTRAIL_TEST_CLICKHOUSE_URL)")
	events := flag.Int("events", 200_000, "events in the log")
	per := flag.Int("append", 100, "events per append (one log record each, unless appends merge)")
	block := flag.Int("block", 50_000, "the shipper's MaxEvents per block")
	rounds := flag.Int("rounds", 3, "rounds (the order alternates)")
	flag.Parse()
	if *url == "" {
		fmt.Fprintln(os.Stderr, "clickhouse: -url is required (scripts/clickhouse.sh start DIR prints it)")
		os.Exit(2)
	}
	if err := run(*url, *events, *per, *block, *rounds); err != nil {
		fmt.Fprintln(os.Stderr, "clickhouse:", err)
		os.Exit(1)
	}
}

func run(url string, n, per, block, rounds int) error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "bench-clickhouse-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	l, err := eventlog.Open(ctx, dir, eventlog.Options{Partitions: 8})
	if err != nil {
		return err
	}
	defer l.Close()
	start := time.Now()
	if err := fill(ctx, l, n, per); err != nil {
		return err
	}
	head, err := l.Projection().Head(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("log: %d events in %d records, appended in %v\n", n, head, time.Since(start).Round(time.Millisecond))
	recs, err := readAll(ctx, l.Projection())
	if err != nil {
		return err
	}

	var ship, bare []float64
	for r := range rounds {
		var s, b float64
		shipFirst := r%2 == 0
		for _, first := range []bool{true, false} {
			if first == shipFirst {
				if s, err = shipOnce(ctx, url, l, head, n, block); err != nil {
					return err
				}
			} else if b, err = bareOnce(ctx, url, recs, n); err != nil {
				return err
			}
		}
		fmt.Printf("round %d: shipper %.0f events/s, bare INSERT %.0f events/s, ratio %.2f\n", r+1, s, b, s/b)
		ship, bare = append(ship, s), append(bare, b)
	}
	ms, mb := median(ship), median(bare)
	fmt.Printf("median of %d rounds: shipper %.0f events/s, bare INSERT %.0f events/s, ratio %.2f (blocks of %d events)\n", rounds, ms, mb, ms/mb, block)
	return nil
}

// fill appends n events in appends of per events, 8 appenders at a time.
func fill(ctx context.Context, l *eventlog.Log, n, per int) error {
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w * per; i < n; i += 8 * per {
				evs := make([]*mailtrail.Event, min(per, n-i))
				for j := range evs {
					evs[j] = event(i + j)
				}
				if _, err := l.Append(ctx, w, "", evs); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// event is an open of the events API's shape, distinct by n.
func event(n int) *mailtrail.Event {
	at := time.UnixMilli(1_764_000_000_000 + int64(n)*37).UTC()
	return &mailtrail.Event{
		ID: fmt.Sprintf("evt_%012d", n), OrgID: fmt.Sprintf("org_%d", n%3), CampaignID: fmt.Sprintf("campaign-%d", n%20),
		CustomerID: fmt.Sprintf("customer-%d", n%50_000), CustomerEmail: fmt.Sprintf("c%d@example.com", n%50_000),
		MessageID: fmt.Sprintf("msg_%010d", n/4), Type: mailtrail.EventTypes[n%4], OccurredAt: at, ReceivedAt: at.Add(time.Second),
		Source: mailtrail.SourceAPI, DedupeKey: fmt.Sprintf("k-%d", n),
		Metadata: mailtrail.Metadata{UserAgent: "Mozilla/5.0", IP: "192.0.2.7", Client: "Gmail", Device: "desktop", Country: "FR", City: "Paris"},
	}
}

func readAll(ctx context.Context, p eventlog.Projection) ([]projector.Record, error) {
	var out []projector.Record
	for from := uint64(1); ; {
		recs, err := p.Read(ctx, from, 1000)
		if err != nil || len(recs) == 0 {
			return out, err
		}
		out = append(out, recs...)
		from = recs[len(recs)-1].Pos + 1
	}
}

// database opens a database of its own, to drop after the round.
func database(ctx context.Context, url string) (*clickhouse.DB, error) {
	return clickhouse.Open(ctx, url, fmt.Sprintf("mt_bench_%016x", rand.Uint64()))
}

// shipOnce ships the whole log into a fresh database and returns events/s.
func shipOnce(ctx context.Context, url string, l *eventlog.Log, head uint64, n, block int) (float64, error) {
	db, err := database(ctx, url)
	if err != nil {
		return 0, err
	}
	defer db.DropDatabase(ctx)
	var shipErr error
	s := clickhouse.NewShipper(db, l.Projection(), clickhouse.ShipperOptions{MaxEvents: block,
		OnError: func(err error) { shipErr = err }})
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- s.Run(rctx) }()
	for s.Position() < head {
		time.Sleep(time.Millisecond)
	}
	took := time.Since(start)
	cancel()
	if err := <-done; err != nil {
		return 0, err
	}
	if shipErr != nil {
		fmt.Printf("  (the shipper retried after: %v)\n", shipErr)
	}
	return float64(n) / took.Seconds(), nil
}

// bareOnce inserts the records' events in one INSERT into a fresh database and returns
// events/s (the encoding included).
func bareOnce(ctx context.Context, url string, recs []projector.Record, n int) (float64, error) {
	db, err := database(ctx, url)
	if err != nil {
		return 0, err
	}
	defer db.DropDatabase(ctx)
	start := time.Now()
	if err := db.InsertEvents(ctx, recs); err != nil {
		return 0, err
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}
