// Command pgreport measures the campaign report read from the cluster's PostgreSQL
// projection while a worker applies ingest to it: issue 17's "campaign report p99 < 10 ms
// at 3 M events read from the cluster's stores while ingest runs".
//
// It builds, in a schema of its own on the server of -dsn, the projection of a log of
// -events events of one campaign (bench-2: the mix of bench/projector's POST
// /api/v1/events bodies, customers among 100,000, over 7 days) with the worker's
// projector (internal/projector, the same code as `mailtrail worker`). Then, each round,
// it calls query.Service.Report of the campaign from one goroutine, back to back or with
// -pause between calls (time zone Europe/Paris), for -duration without ingest, and for -duration while a projector
// applies new events at -ingest-rate events/s (records of -ingest-batch events, as a
// worker keeping up with the log applies them); rounds alternate which phase goes first.
// It prints each phase's p50 and p99 and their medians over the rounds, the ingest rate
// reached, and the CPU used by other processes. It asserts nothing about time.
//
//	go run ./bench/pgreport                       # 3,000,000 events, 3 rounds of 10 s each phase
//	go run ./bench/pgreport -events 300000        # a quicker look
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"slices"
	"sync/atomic"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/bench/load"
	"github.com/mailtrail/mailtrail/bench/pgbench"
	"github.com/mailtrail/mailtrail/internal/projector"
	"github.com/mailtrail/mailtrail/internal/query"
	"github.com/mailtrail/mailtrail/internal/store/postgres"
)

const campaign = "bench-2"

type config struct {
	events, batch, rounds   int
	duration, warmup, pause time.Duration
	ingestRate, ingestBatch int
	dsn, tz                 string
}

func main() {
	var c config
	flag.IntVar(&c.events, "events", 3_000_000, "events of the campaign's projection built first")
	flag.IntVar(&c.batch, "batch", 1000, "events per log record of the build")
	flag.IntVar(&c.rounds, "rounds", 3, "rounds: each measures the report without and with ingest")
	flag.DurationVar(&c.duration, "duration", 10*time.Second, "measured time of each phase")
	flag.DurationVar(&c.warmup, "warmup", time.Second, "unmeasured reports before each phase")
	flag.DurationVar(&c.pause, "pause", 0, "a pause before each report (0: back to back, which keeps a CPU busy by itself)")
	flag.IntVar(&c.ingestRate, "ingest-rate", 2000, "events/s the projector applies during the ingest phase")
	flag.IntVar(&c.ingestBatch, "ingest-batch", 20, "events per log record during the ingest phase")
	flag.StringVar(&c.dsn, "dsn", os.Getenv("MAILTRAIL_TEST_POSTGRES_DSN"), "the PostgreSQL server")
	flag.StringVar(&c.tz, "tz", "Europe/Paris", "the report's time zone")
	flag.Parse()
	if err := run(&c); err != nil {
		fmt.Fprintln(os.Stderr, "pgreport:", err)
		os.Exit(1)
	}
}

func run(c *config) error {
	if c.dsn == "" {
		return fmt.Errorf("no PostgreSQL server: -dsn or MAILTRAIL_TEST_POSTGRES_DSN (e.g. postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable)")
	}
	if c.events < 1 || c.batch < 1 || c.rounds < 1 || c.ingestRate < 1 || c.ingestBatch < 1 || c.duration <= 0 {
		return fmt.Errorf("-events, -batch, -rounds, -ingest-rate, -ingest-batch and -duration must be positive")
	}
	ctx := context.Background()
	schema := pgbench.RandomName("bench_report_", 6)
	db, err := postgres.Open(ctx, c.dsn, postgres.Options{Schema: schema})
	if err != nil {
		return err
	}
	defer db.Close()
	defer pgbench.DropSchema(c.dsn, schema)
	log := &pgbench.MemLog{}
	bodies := load.NewEventBodies(c.batch, 16, "rep").Stream()
	var buf []*mailtrail.Event // decoded, not handed out yet
	next := func(n int) ([]*mailtrail.Event, error) {
		for len(buf) < n {
			evs, err := load.Events(bodies(), "", time.Now())
			if err != nil {
				return nil, err
			}
			buf = append(buf, evs...)
		}
		out := buf[:n:n]
		buf = buf[n:]
		return out, nil
	}
	org, _, err := db.CreateOrg(ctx, "bench", "UTC")
	if err != nil {
		return err
	}
	log.Org = org.ID
	for n := 0; n < c.events; n += c.batch {
		evs, err := next(min(c.batch, c.events-n))
		if err != nil {
			return err
		}
		log.Add(evs)
	}
	p := projector.New(log, db, projector.Options{OnError: func(err error) { fmt.Fprintln(os.Stderr, "projector:", err) }})
	t0 := time.Now()
	if err := runUntil(ctx, p, uint64(log.Len())); err != nil {
		return err
	}
	took := time.Since(t0)
	fmt.Printf("built: %d events in %s (%.0f events/s applied)\n", c.events, took.Round(time.Second), float64(c.events)/took.Seconds())

	svc := &query.Service{R: db}
	rep, err := svc.Report(ctx, log.Org, campaign, c.tz)
	if err != nil {
		return err
	}
	fmt.Printf("campaign %s: %d sent, %d delivered, %d opens, %d clicks, %d hours, %d links in the report\n", campaign, rep.Counts.Sent, rep.Counts.Delivered,
		rep.Counts.OpensTotal, rep.Counts.ClicksTotal, len(rep.Hourly), len(rep.Links))

	var quietP50, quietP99, loadP50, loadP99, rates []float64
	for round := range c.rounds {
		phases := []bool{false, true}
		if round%2 == 1 {
			phases = []bool{true, false}
		}
		for _, ingest := range phases {
			a := load.SampleCPU()
			lat, rate, err := phase(ctx, c, svc, db, log, next, ingest)
			b := load.SampleCPU()
			if err != nil {
				return err
			}
			p50, p99 := pct(lat, 50), pct(lat, 99)
			name := "no ingest"
			if ingest {
				name = fmt.Sprintf("ingest %.0f events/s", rate)
				loadP50, loadP99, rates = append(loadP50, p50), append(loadP99, p99), append(rates, rate)
			} else {
				quietP50, quietP99 = append(quietP50, p50), append(quietP99, p99)
			}
			fmt.Printf("round %d, %-24s %6d reports  p50 %6.2f ms  p99 %6.2f ms  (this process %.2f CPUs, others, PostgreSQL included, %.2f)\n",
				round+1, name+":", len(lat), p50, p99, (b.Ours-a.Ours).Seconds()/b.At.Sub(a.At).Seconds(), load.OthersCPU(a, b))
		}
	}
	m := pgbench.Median
	fmt.Printf("\nmedians over %d rounds (report of %s, %s):\n", c.rounds, campaign, c.tz)
	fmt.Printf("| phase | p50 ms | p99 ms |\n|---|---:|---:|\n")
	fmt.Printf("| no ingest | %.2f | %.2f |\n", m(quietP50), m(quietP99))
	fmt.Printf("| ingest at %.0f events/s | %.2f | %.2f |\n", m(rates), m(loadP50), m(loadP99))
	fmt.Printf("ingest ÷ none, p99: %.2f; goal p99 < 10 ms under ingest: %v\n", m(loadP99)/m(quietP99), m(loadP99) < 10)
	return nil
}

// runUntil runs a projector of the log on db until it has applied position pos.
func runUntil(ctx context.Context, p *projector.Projector, pos uint64) error {
	pctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- p.Run(pctx) }()
	err := p.WaitFor(ctx, pos)
	cancel()
	if rerr := <-done; rerr != nil && err == nil {
		err = rerr
	}
	return err
}

// phase calls the report back to back for the warm-up, then for c.duration, and returns
// the measured latencies (ms). With ingest, a projector meanwhile applies records of
// c.ingestBatch events appended at c.ingestRate events/s; it returns the rate applied.
func phase(ctx context.Context, c *config, svc *query.Service, db *postgres.DB, log *pgbench.MemLog,
	next func(int) ([]*mailtrail.Event, error), ingest bool) ([]float64, float64, error) {
	var appended atomic.Int64
	caughtUp := true
	stop := func() error { return nil }
	if ingest {
		// The ingest's events are made before the phase, so that making them (JSON
		// decoding) takes no CPU from the reports.
		var ready [][]*mailtrail.Event
		for n := 0; n < c.ingestRate*int((c.duration+c.warmup)/time.Second+2); n += c.ingestBatch {
			evs, err := next(c.ingestBatch)
			if err != nil {
				return nil, 0, err
			}
			ready = append(ready, evs)
		}
		p := projector.New(log, db, projector.Options{OnError: func(err error) { fmt.Fprintln(os.Stderr, "projector:", err) }})
		pctx, cancel := context.WithCancel(ctx)
		gctx, stopGen := context.WithCancel(ctx)
		errs := make(chan error, 2)
		go func() { errs <- p.Run(pctx) }()
		go func() {
			every := time.Duration(float64(time.Second) * float64(c.ingestBatch) / float64(c.ingestRate))
			t := time.NewTicker(every)
			defer t.Stop()
			for {
				select {
				case <-gctx.Done():
					errs <- nil
					return
				case <-t.C:
				}
				if len(ready) == 0 {
					continue
				}
				evs := ready[0]
				ready = ready[1:]
				log.Add(evs)
				appended.Add(int64(len(evs)))
			}
		}()
		stop = func() error {
			stopGen()
			// What was appended is applied before the phase ends (within 30 s), so no
			// backlog carries into the next phase.
			wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
			caughtUp = p.WaitFor(wctx, uint64(log.Len())) == nil
			wcancel()
			cancel()
			for range 2 {
				if err := <-errs; err != nil && err != context.Canceled {
					return err
				}
			}
			return nil
		}
	}
	loop := func(d time.Duration) ([]float64, error) {
		var out []float64
		for end := time.Now().Add(d); time.Now().Before(end); {
			time.Sleep(c.pause)
			t := time.Now()
			if _, err := svc.Report(ctx, log.Org, campaign, c.tz); err != nil {
				return nil, err
			}
			out = append(out, float64(time.Since(t).Microseconds())/1000)
		}
		return out, nil
	}
	if _, err := loop(c.warmup); err != nil {
		stop()
		return nil, 0, err
	}
	t0 := time.Now()
	lat, err := loop(c.duration)
	took := time.Since(t0)
	if serr := stop(); err == nil {
		err = serr
	}
	if !caughtUp && err == nil {
		err = fmt.Errorf("the projector did not apply the ingest of %d events/s within 30 s of the phase's end: lower -ingest-rate", c.ingestRate)
	}
	return lat, float64(appended.Load()) / (took + c.warmup).Seconds(), err
}

// pct returns the p-th percentile of v.
func pct(v []float64, p int) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)]
}
