// Command report runs the two benchmarks of the analytics issue on the embedded store,
// each against a baseline measured in the same run, and prints markdown tables:
//
//	A (report):  latency of query.Service.Report on a campaign of 1,000,000 recipients and
//	             3,000,000 events while an ingest load runs (goal: p99 under 10 ms); the
//	             baselines are the same report with no ingest running, and the report of a
//	             1,000-recipient campaign under the same ingest.
//	B (enrich):  ingest throughput (pipeline + SQLite) of opens and clicks with the enrich
//	             step (classification; geography once internal/geo is merged) off and on,
//	             in alternating rounds (goal: at most 10 % slower), and Enricher.Event's
//	             cost per event without disk.
//
// Nothing is asserted: the tables say which goals were met. Building A's store writes
// every event through the store and takes minutes at full size; progress goes to stderr,
// tables to stdout.
//
//	go run ./bench/report                       # both, the sizes
//	go run ./bench/report -small                # both, 20,000 recipients / 60,000 events, short rounds
//	go run ./bench/report -only report -dir /var/tmp/mt-1m -keep   # build once, reuse with -dir
//	go run ./bench/report -only enrich -enrich-rounds 5
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/mailtrail/mailtrail/internal/classify"
	"github.com/mailtrail/mailtrail/internal/enrich"
)

type config struct {
	only  []string
	small bool
	seed  uint64
	keep  bool

	// A
	dir             string
	recipients      int
	events          int
	smallRecipients int
	otherRecipients int
	buildBatch      int
	tz              string
	rounds          int
	duration        time.Duration
	warmup          time.Duration
	ingestRate      float64
	ingestWorkers   int
	sameShare       float64
	trackingWait    time.Duration
	reportPause     time.Duration

	// B
	enrichRounds     int
	enrichDuration   time.Duration
	enrichWarmup     time.Duration
	enrichShapes     string
	enrichRecipients int
	indexer          bool

	// both
	synchronous       string
	geoDB             string
	classifyData      string
	classifyDataShown string
}

func (c *config) sizes() [4]int {
	return [4]int{c.recipients, c.events, c.smallRecipients, c.otherRecipients}
}

func parseFlags(args []string) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: go run ./bench/report [flags]\n\n"+
			"A: report latency of a large campaign while ingest runs, beside the same report without ingest\n"+
			"   and a small campaign's report under the same ingest. B: ingest throughput with the enrich step\n"+
			"   off and on, alternating rounds. Markdown tables on stdout, progress on stderr.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	only := fs.String("only", "report,enrich", "benchmarks to run: report (A), enrich (B)")
	fs.BoolVar(&c.small, "small", false, "quick run: 20,000 recipients / 60,000 events, 5,000 others, 5 s rounds, 3 s enrich rounds (flags given explicitly win)")
	fs.Uint64Var(&c.seed, "seed", 1, "seed of the generated traffic")
	fs.BoolVar(&c.keep, "keep", false, "keep the temporary directories (A's store can then be reused with -dir)")

	fs.StringVar(&c.dir, "dir", "", "A: directory of the store; built there if empty, reused if built before with the same sizes (default: a temporary directory)")
	fs.IntVar(&c.recipients, "recipients", 1_000_000, "A: recipients of the large campaign")
	fs.IntVar(&c.events, "events", 3_000_000, "A: events of the large campaign (2.5 to 3.3 per recipient; the smaller campaigns get the same shape)")
	fs.IntVar(&c.smallRecipients, "small-recipients", 1_000, "A: recipients of the small campaign")
	fs.IntVar(&c.otherRecipients, "other-recipients", 50_000, "A: recipients of the other campaign the ingest load also hits")
	fs.IntVar(&c.buildBatch, "build-batch", 5_000, "A: events per store Write while building")
	fs.StringVar(&c.tz, "tz", "Europe/Paris", "A: time zone of the report's timelines")
	fs.IntVar(&c.rounds, "rounds", 3, "A: rounds; each measures without and with ingest, order alternating")
	fs.DurationVar(&c.duration, "duration", 20*time.Second, "A: measured time of each phase")
	fs.DurationVar(&c.warmup, "warmup", 2*time.Second, "A: unmeasured warm-up before each phase")
	fs.Float64Var(&c.ingestRate, "ingest-rate", 2_000, "A: opens and clicks per second submitted during the load phases (0: closed loop, as fast as the store commits)")
	fs.IntVar(&c.ingestWorkers, "ingest-workers", 8, "A: goroutines pacing the ingest load")
	fs.Float64Var(&c.sameShare, "same-share", 0.5, "A: share of the ingest load for the measured campaign itself (the rest: the other campaign)")
	fs.DurationVar(&c.trackingWait, "tracking-wait", time.Second, "A: how long a hit waits for its commit, as serve's --tracking-wait")
	fs.DurationVar(&c.reportPause, "report-pause", 0, "A: pause between two reports of the loop (0: back to back, the loop then keeps one CPU busy)")

	fs.IntVar(&c.enrichRounds, "enrich-rounds", 3, "B: rounds per mode and shape (off and on alternate)")
	fs.DurationVar(&c.enrichDuration, "enrich-duration", 10*time.Second, "B: measured time of a round")
	fs.DurationVar(&c.enrichWarmup, "enrich-warmup", time.Second, "B: unmeasured warm-up before each round")
	fs.StringVar(&c.enrichShapes, "enrich-shapes", "256x1,8x500", "B: SUBMITTERSxEVENTS per Submit, comma-separated (256x1: pixel hits; 8x500: API batches)")
	fs.IntVar(&c.enrichRecipients, "enrich-recipients", 50_000, "B: messages the opens and clicks go to")
	fs.BoolVar(&c.indexer, "indexer", true, "B: run the customer indexer beside ingest, as serve does")

	fs.StringVar(&c.synchronous, "synchronous", "FULL", "SQLite synchronous level of the stores: FULL (serve's default) or NORMAL")
	fs.StringVar(&c.geoDB, "geoip-db", "", "MaxMind-format database for the enrich step's geography, or \"synthetic\" for a generated one of 20,000 networks (see bench/report/geo.go)")
	fs.StringVar(&c.classifyData, "classify-data", "", "directory of the classifier's data files the traffic draws from (default: internal/classify/data of this module)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if c.small {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		for name, v := range map[string]string{"recipients": "20000", "events": "60000", "other-recipients": "5000",
			"duration": "5s", "warmup": "1s", "enrich-duration": "3s", "enrich-warmup": "500ms", "enrich-recipients": "5000"} {
			if !set[name] {
				fs.Set(name, v)
			}
		}
	}
	for _, k := range strings.Split(*only, ",") {
		k = strings.TrimSpace(k)
		if k != "report" && k != "enrich" {
			return nil, fmt.Errorf("-only: unknown benchmark %q (want report, enrich)", k)
		}
		c.only = append(c.only, k)
	}
	c.synchronous = strings.ToUpper(c.synchronous)
	switch {
	case c.recipients < 1 || c.smallRecipients < 1 || c.otherRecipients < 1 || c.enrichRecipients < 1:
		return nil, errors.New("recipient counts must be at least 1")
	case c.recipients > 1<<31 || c.otherRecipients > 1<<31:
		return nil, errors.New("at most 2^31 recipients")
	case c.buildBatch < 1 || c.rounds < 1 || c.enrichRounds < 1 || c.ingestWorkers < 1:
		return nil, errors.New("-build-batch, -rounds, -enrich-rounds and -ingest-workers must be at least 1")
	case c.duration <= 0 || c.enrichDuration <= 0 || c.warmup < 0 || c.enrichWarmup < 0 || c.trackingWait <= 0 || c.reportPause < 0:
		return nil, errors.New("durations must be positive")
	case c.ingestRate < 0 || c.sameShare < 0 || c.sameShare > 1:
		return nil, errors.New("-ingest-rate must be ≥ 0 and -same-share in [0, 1]")
	case c.synchronous != "FULL" && c.synchronous != "NORMAL":
		return nil, errors.New("-synchronous must be FULL or NORMAL")
	}
	if _, err := time.LoadLocation(c.tz); err != nil {
		return nil, fmt.Errorf("-tz: %w", err)
	}
	m := defaultModel()
	if err := m.fit(float64(c.events) / float64(c.recipients)); err != nil {
		return nil, fmt.Errorf("-events: %w", err)
	}
	if _, err := parseShapes(c.enrichShapes); err != nil {
		return nil, err
	}
	return c, nil
}

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		stop()
		os.Exit(1)
	}
}

func run(ctx context.Context, cfg *config) error {
	td, err := loadTrafficData(cfg.classifyData)
	if err != nil {
		return err
	}
	cfg.classifyDataShown = td.dir
	if wd, err := os.Getwd(); err == nil && strings.HasPrefix(td.dir, wd+string(os.PathSeparator)) {
		cfg.classifyDataShown = strings.TrimPrefix(td.dir, wd+string(os.PathSeparator))
	}
	classifier, err := classify.New()
	if err != nil {
		return err
	}
	geo, closeGeo, err := openGeo(cfg.geoDB)
	if err != nil {
		return err
	}
	defer closeGeo()
	// As cmd/mailtrail wires it (app.go): classification, and geography when a database is given.
	enricher := &enrich.Enricher{Classifier: classifier, Geo: geo}
	desc := "classification (`classify.New()`)"
	if geo != nil {
		desc += " + geo lookup (" + cfg.geoDB + ")"
	}
	fmt.Printf("# mailtrail: report latency and enrich cost\n\n")
	fmt.Printf("Run %s on %s, GOMAXPROCS %d. Timings are medians over alternating rounds, each beside a baseline measured in the same run.\n\n",
		time.Now().Format("2006-01-02 15:04"), hostDesc(), runtimeProcs())
	if slices.Contains(cfg.only, "report") {
		if err := runReportBench(ctx, cfg, td, enricher.Event, desc, os.Stdout); err != nil {
			return err
		}
	}
	if slices.Contains(cfg.only, "enrich") {
		if err := runEnrichBench(ctx, cfg, td, enrichMode{name: desc, fn: enricher.Event}, os.Stdout); err != nil {
			return err
		}
	}
	return nil
}
