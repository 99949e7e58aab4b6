// Command postgres measures the projection into PostgreSQL against the projection into
// SQLite, in the same run: a projector applies one backlog of the log to each store, and
// the events applied per second are compared.
//
// It builds a log in memory of -events events in records of -batch events (the mix of
// bench/projector's POST /api/v1/events bodies: one campaign, customers among 100,000,
// events that name no message, each with an idempotency key, decoded as the API decodes
// them), then, each round, opens a fresh SQLite store (a temporary file, the projection's
// synchronous=NORMAL) and a fresh PostgreSQL store (a schema of its own, dropped after,
// on the server of -dsn), and runs a projector (internal/projector, transactions of up to
// -max-events events) from position 0 to the log's head on each, one after the other;
// rounds alternate which goes first. After each round it compares the campaign's report
// (counts, buckets, links, breakdowns) between the two stores and stops if they differ.
// It prints each round and the medians, and the ratio PostgreSQL / SQLite. It asserts
// nothing about time.
//
//	go run ./bench/postgres                                   # 100,000 events in records of 1,000, 3 rounds
//	go run ./bench/postgres -batch 20 -max-events 200         # small transactions (a projector that keeps up)
//	go run ./bench/postgres -dsn 'postgres://u@host:5432/db'  # another server (default: MAILTRAIL_TEST_POSTGRES_DSN)
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/bench/load"
	"github.com/mailtrail/mailtrail/bench/pgbench"
	"github.com/mailtrail/mailtrail/internal/projector"
	"github.com/mailtrail/mailtrail/internal/query"
	"github.com/mailtrail/mailtrail/internal/store/postgres"
	"github.com/mailtrail/mailtrail/internal/store/sqlite"
)

// store is what the bench needs of either store.
type store interface {
	projector.Store
	query.Reader
	CreateOrg(ctx context.Context, name, timezone string) (*mailtrail.Organization, string, error)
}

func main() {
	total := flag.Int("events", 100_000, "events of the backlog")
	batch := flag.Int("batch", 1000, "events per log record")
	rounds := flag.Int("rounds", 3, "rounds (each: a fresh store of each kind)")
	maxEvents := flag.Int("max-events", 0, "projector.Options.MaxEvents (0: the default, 50,000)")
	dsn := flag.String("dsn", os.Getenv("MAILTRAIL_TEST_POSTGRES_DSN"), "the PostgreSQL server (a schema is created and dropped each round)")
	flag.Parse()
	if err := run(*total, *batch, *rounds, *maxEvents, *dsn); err != nil {
		fmt.Fprintln(os.Stderr, "postgres:", err)
		os.Exit(1)
	}
}

func run(total, batch, rounds, maxEvents int, dsn string) error {
	if total < 1 || batch < 1 || batch > 10_000 || rounds < 1 {
		return fmt.Errorf("-events and -rounds must be positive, -batch in 1..10000")
	}
	if dsn == "" {
		return fmt.Errorf("no PostgreSQL server: -dsn or MAILTRAIL_TEST_POSTGRES_DSN (e.g. postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable)")
	}
	ctx := context.Background()
	log := &pgbench.MemLog{}
	bodies := load.NewEventBodies(batch, 16, "pg").Stream()
	for n := 0; n < total; n += batch {
		evs, err := load.Events(bodies(), "", time.Now())
		if err != nil {
			return err
		}
		log.Add(evs)
	}
	events := log.Len() * batch
	fmt.Printf("%d events in %d records of %d; projector transactions of at most %d events\n", events, log.Len(), batch, cmpOr(maxEvents, 50_000))
	var lite, pg []float64
	for round := range rounds {
		dir, err := os.MkdirTemp("", "mailtrail-bench-pg-")
		if err != nil {
			return err
		}
		sq, err := sqlite.Open(ctx, filepath.Join(dir, "mailtrail.db"), sqlite.Options{})
		if err != nil {
			return err
		}
		schema := pgbench.RandomName("bench_", 6)
		pq, err := postgres.Open(ctx, dsn, postgres.Options{Schema: schema})
		if err != nil {
			return err
		}
		cleanup := func() {
			sq.Close()
			os.RemoveAll(dir)
			pq.Close()
			pgbench.DropSchema(dsn, schema)
		}
		kinds := []struct {
			name string
			s    store
			out  *[]float64
		}{{"sqlite", sq, &lite}, {"postgres", pq, &pg}}
		if round%2 == 1 {
			kinds[0], kinds[1] = kinds[1], kinds[0]
		}
		reports := map[string]string{}
		for _, k := range kinds {
			rate, report, err := apply(ctx, k.s, log, maxEvents)
			if err != nil {
				cleanup()
				return fmt.Errorf("%s: %w", k.name, err)
			}
			*k.out = append(*k.out, rate)
			reports[k.name] = report
		}
		cleanup()
		same := reports["sqlite"] == reports["postgres"]
		fmt.Printf("round %d (%s first): sqlite %.0f events/s, postgres %.0f events/s, ratio %.2f; reports equal: %v\n",
			round+1, kinds[0].name, lite[round], pg[round], pg[round]/lite[round], same)
		if !same {
			a, b := filepath.Join(os.TempDir(), "bench-postgres-sqlite.json"), filepath.Join(os.TempDir(), "bench-postgres-postgres.json")
			_ = os.WriteFile(a, []byte(reports["sqlite"]), 0o644)
			_ = os.WriteFile(b, []byte(reports["postgres"]), 0o644)
			return fmt.Errorf("the campaign's report differs between the stores: see %s and %s", a, b)
		}
	}
	ml, mp := pgbench.Median(lite), pgbench.Median(pg)
	fmt.Printf("median over %d rounds: sqlite %.0f events/s, postgres %.0f events/s, ratio postgres/sqlite %.2f\n", rounds, ml, mp, mp/ml)
	return nil
}

// apply runs a projector over the whole log on s and returns the events applied per
// second and the campaign's report as JSON (link ids, the stores' own, and the top
// clickers' message ids left out).
func apply(ctx context.Context, s store, log *pgbench.MemLog, maxEvents int) (float64, string, error) {
	org, _, err := s.CreateOrg(ctx, "bench", "UTC")
	if err != nil {
		return 0, "", err
	}
	l := log.WithOrg(org.ID)
	p := projector.New(l, s, projector.Options{MaxEvents: maxEvents, OnError: func(err error) { fmt.Fprintln(os.Stderr, "projector:", err) }})
	pctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	t0 := time.Now()
	go func() { done <- p.Run(pctx) }()
	err = p.WaitFor(ctx, uint64(l.Len()))
	elapsed := time.Since(t0)
	cancel()
	if rerr := <-done; rerr != nil {
		return 0, "", rerr
	}
	if err != nil {
		return 0, "", err
	}
	rep, err := (&query.Service{R: s}).Report(ctx, org.ID, "bench-2", "UTC")
	if err != nil {
		return 0, "", err
	}
	for i := range rep.Links {
		rep.Links[i].ID = 0
		for j := range rep.Links[i].TopClickers {
			// The id of a message an event did not name is made from the organization's
			// id, which differs between the two stores.
			rep.Links[i].TopClickers[j].MessageID = ""
		}
	}
	j, _ := json.MarshalIndent(rep, "", " ")
	n := 0
	recs, _ := l.Read(ctx, 1, l.Len())
	for _, r := range recs {
		n += len(r.Events)
	}
	return float64(n) / elapsed.Seconds(), string(j), nil
}

func cmpOr(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}
