// Command partitions measures how the cluster mode's projection into PostgreSQL scales
// with partitions applied at once (issue 17's curve of 1, 2 and 3 workers), in the same
// run: the same backlog (-events in appends of -batch, the mix of bench/projector's
// POST /api/v1/events bodies) is written through eventlog's Sink, as serve
// --event-log-url writes it, to one stream per partition count P (1, 2, 3: each event in
// its message's partition), each with -replicas replicas; that append's rate is the
// acknowledged events/s. Then each round applies every stream to a fresh PostgreSQL
// schema with P projectors at once, one per partition, each reading its partition
// (eventlog.Reader, Partitioned) and writing under its own position, as P workers that
// own one partition each do, timed until every one reached its partition's last message;
// the order of the variants rotates every round. After each variant the campaign's
// counts are compared with the round's first: the run stops if they differ. It prints
// each round, the medians and each P's ratio to P = 1, and the events applied per
// CPU-second of the projectors (this process), of PostgreSQL's processes and of the NATS
// servers (their CPU time during the apply, from /proc): the per-core rates a capacity
// model needs, which a shared machine's wall clock does not give. It asserts nothing
// about time.
//
//	go run ./bench/partitions                  # 100,000 events, 3 rounds
//	go run ./bench/partitions -events 200000
//
// The engines default to the ones scripts/test.sh starts: MAILTRAIL_TEST_NATS_URL and
// MAILTRAIL_TEST_POSTGRES_DSN.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/bench/load"
	"github.com/mailtrail/mailtrail/bench/pgbench"
	"github.com/mailtrail/mailtrail/internal/projector"
	"github.com/mailtrail/mailtrail/internal/query"
	"github.com/mailtrail/mailtrail/internal/store/eventlog"
	"github.com/mailtrail/mailtrail/internal/store/postgres"
)

const org = "org_benchparts"

func main() {
	total := flag.Int("events", 100_000, "events of the backlog")
	batch := flag.Int("batch", 1000, "events per append")
	rounds := flag.Int("rounds", 3, "rounds (each: every partition count on a fresh schema)")
	replicas := flag.Int("replicas", 3, "replicas of the benchmark's streams")
	maxParts := flag.Int("partitions", 3, "partition counts measured: 1 to this")
	natsURL := flag.String("nats", os.Getenv("MAILTRAIL_TEST_NATS_URL"), "the JetStream cluster's URLs")
	dsn := flag.String("dsn", os.Getenv("MAILTRAIL_TEST_POSTGRES_DSN"), "the PostgreSQL server (a schema per variant, dropped after)")
	flag.Parse()
	if err := run(*total, *batch, *rounds, *replicas, *maxParts, *natsURL, *dsn); err != nil {
		fmt.Fprintln(os.Stderr, "partitions:", err)
		os.Exit(1)
	}
}

// stream is the backlog appended with one partition count.
type stream struct {
	name, prefix string
	parts        int
	heads        []uint64 // each partition's last message
	appendCPU    cpuUse   // CPU the append used: this process (the Sink), the NATS servers
}

func run(total, batch, rounds, replicas, maxParts int, natsURL, dsn string) error {
	if total < 1 || batch < 1 || batch > 10_000 || rounds < 1 || maxParts < 1 || maxParts > 16 {
		return fmt.Errorf("-events and -rounds must be positive, -batch in 1..10000, -partitions in 1..16")
	}
	if natsURL == "" || dsn == "" {
		return fmt.Errorf("-nats and -dsn are needed (or MAILTRAIL_TEST_NATS_URL, _POSTGRES_DSN; scripts/test.sh prints how it starts them)")
	}
	ctx := context.Background()
	bodies := load.NewEventBodies(batch, 16, "p").Stream()
	var backlog [][]*mailtrail.Event
	for n := 0; n < total; n += batch {
		evs, err := load.Events(bodies(), org, time.Now())
		if err != nil {
			return err
		}
		backlog = append(backlog, evs)
	}
	events := len(backlog) * batch
	id := strings.ToUpper(pgbench.RandomName("", 4))
	var streams []*stream
	for p := 1; p <= maxParts; p++ {
		s := &stream{name: fmt.Sprintf("BENCHP%d%s", p, id), parts: p}
		s.prefix = strings.ToLower(s.name)
		defer pgbench.DeleteStream(natsURL, s.name)
		rate, err := appendBacklog(ctx, s, backlog, natsURL, replicas)
		if err != nil {
			return err
		}
		streams = append(streams, s)
		fmt.Printf("P=%d: %d events appended to stream %s (%d replicas) at %.0f events/s acknowledged, last messages %v; per CPU-second: the Sink %.0f, the NATS servers %.0f events\n",
			p, events, s.name, replicas, rate, s.heads, float64(events)/s.appendCPU.self.Seconds(), float64(events)/s.appendCPU.nats.Seconds())
	}
	rates := make([][]float64, maxParts)
	// events applied per CPU-second of the projectors, of PostgreSQL, of the NATS servers
	selfRate, pgRate, natsRate := make([][]float64, maxParts), make([][]float64, maxParts), make([][]float64, maxParts)
	for round := range rounds {
		order := append(slices.Clone(streams[round%maxParts:]), streams[:round%maxParts]...)
		var want mailtrail.Counts
		line := fmt.Sprintf("round %d:", round+1)
		for i, s := range order {
			rate, counts, use, err := apply(ctx, s, events, natsURL, dsn)
			if err != nil {
				return fmt.Errorf("P=%d: %w", s.parts, err)
			}
			if i == 0 {
				want = counts
			} else if counts != want {
				return fmt.Errorf("P=%d: counts %+v differ from P=%d's %+v", s.parts, counts, order[0].parts, want)
			}
			rates[s.parts-1] = append(rates[s.parts-1], rate)
			line += fmt.Sprintf(" P=%d %.0f", s.parts, rate)
			perCore := func(d time.Duration) float64 { return float64(events) / d.Seconds() }
			selfRate[s.parts-1] = append(selfRate[s.parts-1], perCore(use.self))
			pgRate[s.parts-1] = append(pgRate[s.parts-1], perCore(use.pg))
			natsRate[s.parts-1] = append(natsRate[s.parts-1], perCore(use.nats))
		}
		fmt.Println(line + " events/s applied; counts equal")
	}
	base := pgbench.Median(rates[0])
	fmt.Printf("median over %d rounds (events/s applied):", rounds)
	for p, r := range rates {
		fmt.Printf(" P=%d %.0f (spread %.0f–%.0f, %.2f of P=1)", p+1, pgbench.Median(r), slices.Min(r), slices.Max(r), pgbench.Median(r)/base)
	}
	fmt.Println()
	fmt.Println("events applied per CPU-second, medians (the projectors; PostgreSQL's processes; the NATS servers' reads):")
	for p := range rates {
		fmt.Printf("  P=%d: projectors %.0f, PostgreSQL %.0f, NATS %.0f\n", p+1, pgbench.Median(selfRate[p]), pgbench.Median(pgRate[p]), pgbench.Median(natsRate[p]))
	}
	return nil
}

// appendBacklog writes the backlog to s's stream through a Sink, one Write per batch (as
// serve's pipeline does, a few at once), and returns the events acknowledged per second.
func appendBacklog(ctx context.Context, s *stream, backlog [][]*mailtrail.Event, natsURL string, replicas int) (float64, error) {
	dir, err := os.MkdirTemp("", "mailtrail-bench-partitions-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	l, err := eventlog.Open(ctx, dir, eventlog.Options{URL: natsURL, Stream: s.name, SubjectPrefix: s.prefix, Replicas: replicas, Partitions: s.parts})
	if err != nil {
		return 0, err
	}
	defer l.Close()
	sink := eventlog.NewSink(l, eventlog.SinkOptions{})
	const writers = 4
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	c0 := sampleCPU()
	t0 := time.Now()
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(backlog); i += writers {
				evs := make([]*mailtrail.Event, len(backlog[i]))
				for j, e := range backlog[i] {
					c := *e
					evs[j] = &c
				}
				if _, err := sink.Write(ctx, evs); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(t0)
	s.appendCPU = sampleCPU().minus(c0)
	close(errs)
	if err := <-errs; err != nil {
		return 0, err
	}
	for p := range s.parts {
		r, err := eventlog.OpenReader(ctx, eventlog.ReaderOptions{URL: natsURL, Stream: s.name, SubjectPrefix: s.prefix, Partitioned: true, Partition: p})
		if err != nil {
			return 0, err
		}
		h, err := r.Head(ctx)
		r.Close()
		if err != nil {
			return 0, err
		}
		s.heads = append(s.heads, h)
	}
	return float64(len(backlog)*len(backlog[0])) / elapsed.Seconds(), nil
}

// apply applies s's stream to a fresh schema with one projector per partition at once and
// returns the events applied per second and the campaign's counts.
func apply(ctx context.Context, s *stream, events int, natsURL, dsn string) (float64, mailtrail.Counts, cpuUse, error) {
	schema := pgbench.RandomName("benchp_", 6)
	pg, err := postgres.Open(ctx, dsn, postgres.Options{Schema: schema, MaxConns: int32(2 * s.parts)})
	if err != nil {
		return 0, mailtrail.Counts{}, cpuUse{}, err
	}
	defer pgbench.DropSchema(dsn, schema)
	defer pg.Close()
	if err := pg.AdoptOrg(ctx, mailtrail.Organization{ID: org, Name: "bench", Timezone: "UTC", CreatedAt: time.Now()}, mailtrail.OrgSettings{SoftBounceLimit: 5}); err != nil {
		return 0, mailtrail.Counts{}, cpuUse{}, err
	}
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	projs := make([]*projector.Projector, s.parts)
	for p := range s.parts {
		r, err := eventlog.OpenReader(ctx, eventlog.ReaderOptions{URL: natsURL, Stream: s.name, SubjectPrefix: s.prefix, Partitioned: s.parts > 1, Partition: p})
		if err != nil {
			return 0, mailtrail.Counts{}, cpuUse{}, err
		}
		defer r.Close()
		projs[p] = projector.New(r, pg, projector.Options{Stream: fmt.Sprintf("events/%d", p), OnError: func(err error) { fmt.Fprintln(os.Stderr, "projector:", err) }})
	}
	c0 := sampleCPU()
	t0 := time.Now()
	for _, pr := range projs {
		go pr.Run(rctx)
	}
	for p, pr := range projs {
		if err := pr.WaitFor(ctx, s.heads[p]); err != nil {
			return 0, mailtrail.Counts{}, cpuUse{}, err
		}
	}
	elapsed := time.Since(t0)
	use := sampleCPU().minus(c0)
	cancel()
	rep, err := (&query.Service{R: pg}).Report(ctx, org, "bench-2", "UTC")
	if err != nil {
		return 0, mailtrail.Counts{}, cpuUse{}, err
	}
	return float64(events) / elapsed.Seconds(), rep.Counts, use, nil
}

// cpuUse is CPU time used by the projectors (this process), PostgreSQL's processes and
// the NATS servers.
type cpuUse struct{ self, pg, nats time.Duration }

func sampleCPU() cpuUse {
	return cpuUse{load.SelfCPU(), load.CommandCPU("postgres"), load.CommandCPU("nats-server")}
}

func (a cpuUse) minus(b cpuUse) cpuUse { return cpuUse{a.self - b.self, a.pg - b.pg, a.nats - b.nats} }
