// Command worker measures what `mailtrail worker` adds to the projection into
// PostgreSQL, in the same run: the same backlog applied to a fresh PostgreSQL schema
//
//   - mem:    from an in-memory copy of the log (the projection alone: bench/postgres's
//     figure, the baseline);
//   - log:    from the stream on the JetStream cluster, read as the worker reads it
//     (eventlog.Reader: one message per request);
//   - worker: the same, with the ClickHouse shipper running beside the projector on the
//     same reader (the whole worker), timed until both reached the head;
//
// in an order that rotates every round. The backlog (-events in appends of -batch, the
// mix of bench/projector's POST /api/v1/events bodies) is appended once to a stream of
// its own with -replicas replicas, through eventlog (as serve --event-log-url appends),
// and deleted at the end. After each variant the campaign's counts are compared with the
// first variant's, and ClickHouse's distinct events with the log's; the run stops if
// they differ. It prints each round, the medians, and each variant's ratio to mem. It
// asserts nothing about time.
//
//	go run ./bench/worker                 # 100,000 events in appends of 1,000, 3 rounds
//	go run ./bench/worker -events 300000  # a longer backlog
//
// The engines default to the ones scripts/test.sh starts: MAILTRAIL_TEST_NATS_URL,
// MAILTRAIL_TEST_POSTGRES_DSN, MAILTRAIL_TEST_CLICKHOUSE_URL.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/bench/load"
	"github.com/mailtrail/mailtrail/bench/pgbench"
	"github.com/mailtrail/mailtrail/internal/projector"
	"github.com/mailtrail/mailtrail/internal/query"
	"github.com/mailtrail/mailtrail/internal/store/clickhouse"
	"github.com/mailtrail/mailtrail/internal/store/eventlog"
	"github.com/mailtrail/mailtrail/internal/store/postgres"
)

const org = "org_benchworker"

// memLog is the backlog in memory: every Read returns copies (a store changes the events
// it writes).
type memLog struct{ recs []projector.Record }

func (l *memLog) Read(_ context.Context, from uint64, limit int) ([]projector.Record, error) {
	var out []projector.Record
	for _, r := range l.recs {
		if r.Pos < from || len(out) >= limit {
			continue
		}
		evs := make([]*mailtrail.Event, len(r.Events))
		for j, e := range r.Events {
			c := *e
			evs[j] = &c
		}
		out = append(out, projector.Record{Pos: r.Pos, Events: evs})
	}
	return out, nil
}

func main() {
	total := flag.Int("events", 100_000, "events of the backlog")
	batch := flag.Int("batch", 1000, "events per append (one log message each)")
	rounds := flag.Int("rounds", 3, "rounds (each: every variant on a fresh schema)")
	replicas := flag.Int("replicas", 3, "replicas of the benchmark's stream")
	natsURL := flag.String("nats", os.Getenv("MAILTRAIL_TEST_NATS_URL"), "the JetStream cluster's URLs")
	dsn := flag.String("dsn", os.Getenv("MAILTRAIL_TEST_POSTGRES_DSN"), "the PostgreSQL server (a schema per variant, dropped after)")
	chURL := flag.String("clickhouse", os.Getenv("MAILTRAIL_TEST_CLICKHOUSE_URL"), "ClickHouse's HTTP interface (a database per variant, dropped after)")
	flag.Parse()
	if err := run(*total, *batch, *rounds, *replicas, *natsURL, *dsn, *chURL); err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		os.Exit(1)
	}
}

func run(total, batch, rounds, replicas int, natsURL, dsn, chURL string) error {
	if total < 1 || batch < 1 || batch > 10_000 || rounds < 1 {
		return fmt.Errorf("-events and -rounds must be positive, -batch in 1..10000")
	}
	if natsURL == "" || dsn == "" || chURL == "" {
		return fmt.Errorf("-nats, -dsn and -clickhouse are needed (or MAILTRAIL_TEST_NATS_URL, _POSTGRES_DSN, _CLICKHOUSE_URL; scripts/test.sh prints how it starts them)")
	}
	ctx := context.Background()
	stream := "BENCHW" + strings.ToUpper(pgbench.RandomName("", 4))
	prefix := strings.ToLower(stream)
	dir, err := os.MkdirTemp("", "mailtrail-bench-worker-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	w, err := eventlog.Open(ctx, dir, eventlog.Options{URL: natsURL, Stream: stream, SubjectPrefix: prefix, Replicas: replicas})
	if err != nil {
		return err
	}
	defer pgbench.DeleteStream(natsURL, stream)
	mem := &memLog{}
	bodies := load.NewEventBodies(batch, 16, "w").Stream()
	t0 := time.Now()
	for n := 0; n < total; n += batch {
		evs, err := load.Events(bodies(), org, time.Now())
		if err != nil {
			w.Close()
			return err
		}
		r, err := w.Append(ctx, 0, "", evs)
		if err != nil {
			w.Close()
			return err
		}
		mem.recs = append(mem.recs, projector.Record{Pos: r.Pos.Seq, Events: evs})
	}
	appended := time.Since(t0)
	w.Close()
	head := mem.recs[len(mem.recs)-1].Pos
	events := len(mem.recs) * batch
	fmt.Printf("%d events in %d messages of stream %s (%d replicas), appended at %.0f events/s\n", events, len(mem.recs), stream, replicas, float64(events)/appended.Seconds())

	variants := []string{"mem", "log", "worker"}
	rates := map[string][]float64{}
	for round := range rounds {
		order := append(slices.Clone(variants[round%3:]), variants[:round%3]...)
		var want mailtrail.Counts
		line := fmt.Sprintf("round %d:", round+1)
		for i, v := range order {
			rate, counts, err := variant(ctx, v, mem, head, natsURL, stream, prefix, dsn, chURL)
			if err != nil {
				return fmt.Errorf("%s: %w", v, err)
			}
			if i == 0 {
				want = counts
			} else if counts != want {
				return fmt.Errorf("%s: counts %+v differ from %s's %+v", v, counts, order[0], want)
			}
			rates[v] = append(rates[v], rate)
			line += fmt.Sprintf(" %s %.0f", v, rate)
		}
		fmt.Println(line + " events/s; counts equal")
	}
	base := pgbench.Median(rates["mem"])
	fmt.Printf("median over %d rounds (events/s): mem %.0f (spread %.0f–%.0f), log %.0f (%.2f of mem), worker %.0f (%.2f of mem)\n", rounds,
		base, slices.Min(rates["mem"]), slices.Max(rates["mem"]), pgbench.Median(rates["log"]), pgbench.Median(rates["log"])/base, pgbench.Median(rates["worker"]), pgbench.Median(rates["worker"])/base)
	return nil
}

// variant applies the backlog once in the way v names and returns the events applied per
// second and the campaign's counts.
func variant(ctx context.Context, v string, mem *memLog, head uint64, natsURL, stream, prefix, dsn, chURL string) (float64, mailtrail.Counts, error) {
	schema := pgbench.RandomName("benchw_", 6)
	pg, err := postgres.Open(ctx, dsn, postgres.Options{Schema: schema})
	if err != nil {
		return 0, mailtrail.Counts{}, err
	}
	defer pgbench.DropSchema(dsn, schema)
	defer pg.Close()
	if err := pg.AdoptOrg(ctx, mailtrail.Organization{ID: org, Name: "bench", Timezone: "UTC", CreatedAt: time.Now()}, mailtrail.OrgSettings{SoftBounceLimit: 5}); err != nil {
		return 0, mailtrail.Counts{}, err
	}
	var log projector.Log = mem
	if v != "mem" {
		r, err := eventlog.OpenReader(ctx, eventlog.ReaderOptions{URL: natsURL, Stream: stream, SubjectPrefix: prefix})
		if err != nil {
			return 0, mailtrail.Counts{}, err
		}
		defer r.Close()
		log = r
	}
	var ship *clickhouse.Shipper
	var ch *clickhouse.DB
	if v == "worker" {
		if ch, err = clickhouse.Open(ctx, chURL, pgbench.RandomName("benchw_", 6)); err != nil {
			return 0, mailtrail.Counts{}, err
		}
		defer ch.DropDatabase(context.Background())
		ship = clickhouse.NewShipper(ch, log, clickhouse.ShipperOptions{OnError: func(err error) { fmt.Fprintln(os.Stderr, "shipper:", err) }})
	}
	p := projector.New(log, pg, projector.Options{OnError: func(err error) { fmt.Fprintln(os.Stderr, "projector:", err) }})
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 2)
	t0 := time.Now()
	go func() { done <- p.Run(rctx) }()
	if ship != nil {
		go func() { done <- ship.Run(rctx) }()
	}
	if err := p.WaitFor(ctx, head); err != nil {
		return 0, mailtrail.Counts{}, err
	}
	for ship != nil && ship.Position() < head {
		time.Sleep(time.Millisecond)
	}
	elapsed := time.Since(t0)
	cancel()
	rep, err := (&query.Service{R: pg}).Report(ctx, org, "bench-2", "UTC")
	if err != nil {
		return 0, mailtrail.Counts{}, err
	}
	if ship != nil {
		want := map[mailtrail.EventType]int64{}
		for _, r := range mem.recs {
			for _, e := range r.Events {
				if e.CampaignID == "bench-2" {
					want[e.Type]++
				}
			}
		}
		got, err := ch.CountsByType(ctx, org, "bench-2")
		if err != nil {
			return 0, mailtrail.Counts{}, err
		}
		for typ, n := range want {
			if got[typ] != n {
				return 0, mailtrail.Counts{}, fmt.Errorf("ClickHouse holds %d events of type %s, the log %d", got[typ], typ, n)
			}
		}
	}
	return float64(len(mem.recs)*len(mem.recs[0].Events)) / elapsed.Seconds(), rep.Counts, nil
}
