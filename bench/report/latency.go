package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/ingest"
	"github.com/mailtrail/mailtrail/internal/query"
	"github.com/mailtrail/mailtrail/internal/store/sqlite"
)

// loadGen is the background ingest of the report benchmark: opens and clicks, each
// submitted alone to the pipeline and waited for at most -tracking-wait, as the pixel and
// redirect handlers do. Each worker goroutine paces its arrivals at rate ÷ workers and
// hands each hit to its own goroutine (open loop: a slow commit does not slow arrivals);
// at most maxInFlight hits wait at once, like a server's connection limit, and a hit
// beyond that is shed and counted.
type loadGen struct {
	p         *ingest.Pipeline
	td        *trafficData
	same      *campaign // the campaign whose report is measured
	other     *campaign
	sameShare float64
	rate      float64 // events/s over all workers; 0: closed loop, as fast as the store goes
	workers   int
	wait      time.Duration

	sem                         chan struct{}
	committed, unrecorded, shed atomic.Int64
	measuring                   atomic.Bool
	mu                          sync.Mutex
	waits                       []time.Duration
	hits                        sync.WaitGroup
}

const maxInFlight = 4096

// event returns the next open (85 %) or click (15 %) of a random recipient.
func (l *loadGen) event(r *rng) *mailtrail.Event {
	c := l.other
	if r.float() < l.sameShare {
		c = l.same
	}
	i := r.intn(c.N)
	pr := newRNG(c.Seed, uint64(i))
	prof := newProfile(&pr) // the recipient's own profile, as in the built history
	typ := mailtrail.EventOpened
	if r.intn(100) < 15 {
		typ = mailtrail.EventClicked
	}
	links := c.links(i)
	return l.td.trackingEvent(r, prof, typ, c.msgID(i), links, r.intn(len(links)))
}

func (l *loadGen) submit(ev *mailtrail.Event) {
	ctx, cancel := context.WithTimeout(context.Background(), l.wait)
	defer cancel()
	t := time.Now()
	_, err := l.p.Submit(ctx, []*mailtrail.Event{ev})
	d := time.Since(t)
	if err != nil {
		l.unrecorded.Add(1)
	} else {
		l.committed.Add(1)
	}
	if l.measuring.Load() {
		l.mu.Lock()
		l.waits = append(l.waits, d)
		l.mu.Unlock()
	}
}

// run loads the pipeline until ctx ends, then waits for the hits in flight.
func (l *loadGen) run(ctx context.Context, seed uint64) {
	if l.sem == nil {
		l.sem = make(chan struct{}, maxInFlight)
	}
	var ws sync.WaitGroup
	for w := range l.workers {
		ws.Add(1)
		go func() {
			defer ws.Done()
			r := newRNG(seed, uint64(w))
			if l.rate <= 0 {
				for ctx.Err() == nil {
					l.submit(l.event(&r))
				}
				return
			}
			interval := time.Duration(float64(time.Second) * float64(l.workers) / l.rate)
			next := time.Now().Add(time.Duration(r.intn(int(interval))))
			for {
				if d := time.Until(next); d > 0 {
					select {
					case <-ctx.Done():
						return
					case <-time.After(d):
					}
				} else if ctx.Err() != nil {
					return
				}
				next = next.Add(interval)
				ev := l.event(&r)
				select {
				case l.sem <- struct{}{}:
					l.hits.Add(1)
					go func() {
						defer func() { <-l.sem; l.hits.Done() }()
						l.submit(ev)
					}()
				default:
					l.shed.Add(1)
				}
			}
		}()
	}
	ws.Wait()
	l.hits.Wait()
}

// phaseResult is one measured phase: the reports of both campaigns, and for a phase under
// load the ingest that ran meanwhile.
type phaseResult struct {
	big, small       lat
	ingestRate       float64
	unrecorded, shed int64
	wait             lat
}

// roundResult is one round: the same reports without and with ingest.
type roundResult struct {
	quiet, load phaseResult
	loadFirst   bool
}

// reportLoop calls the report of big, then of small, from one goroutine, until d has passed.
func reportLoop(ctx context.Context, svc *query.Service, org, tz, big, small string, d, pause time.Duration) (b, s []time.Duration, err error) {
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		for _, c := range [2]string{big, small} {
			if pause > 0 {
				time.Sleep(pause)
			}
			t := time.Now()
			if _, err := svc.Report(ctx, org, c, tz); err != nil {
				return nil, nil, fmt.Errorf("report of %s: %w", c, err)
			}
			if c == big {
				b = append(b, time.Since(t))
			} else {
				s = append(s, time.Since(t))
			}
		}
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
	}
	return b, s, nil
}

// reportBench is benchmark A.
type reportBench struct {
	cfg    *config
	db     *sqlite.DB
	meta   *storeMeta
	svc    *query.Service
	p      *ingest.Pipeline
	td     *trafficData
	enrich string
	cpu    string // CPU use during the rounds
}

// quietPhase measures the reports with no ingest running: once the pipeline's queue is
// empty (hits that stopped waiting may still be queued) and the customer index has caught
// up with what the previous load wrote.
func (rb *reportBench) quietPhase(ctx context.Context) (phaseResult, error) {
	for t := time.Now(); rb.p.QueueDepth() > 0 && time.Since(t) < time.Minute; {
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := drainIndex(ctx, rb.db); err != nil {
		return phaseResult{}, err
	}
	cfg := rb.cfg
	if _, _, err := reportLoop(ctx, rb.svc, rb.meta.Org, cfg.tz, campBig, campSmall, cfg.warmup, cfg.reportPause); err != nil {
		return phaseResult{}, err
	}
	b, s, err := reportLoop(ctx, rb.svc, rb.meta.Org, cfg.tz, campBig, campSmall, cfg.duration, cfg.reportPause)
	return phaseResult{big: summarize(b), small: summarize(s)}, err
}

// loadPhase measures the reports while the load generator and the customer indexer run.
func (rb *reportBench) loadPhase(ctx context.Context, seed uint64) (phaseResult, error) {
	cfg := rb.cfg
	l := &loadGen{p: rb.p, td: rb.td, same: rb.meta.Campaigns[0], other: rb.meta.Campaigns[2], sameShare: cfg.sameShare,
		rate: cfg.ingestRate, workers: cfg.ingestWorkers, wait: cfg.trackingWait}
	lctx, stopLoad := context.WithCancel(ctx)
	loadDone := make(chan struct{})
	go func() { l.run(lctx, seed); close(loadDone) }()
	stopIndexer := startIndexer(rb.db)
	defer func() {
		stopLoad()
		<-loadDone
		stopIndexer()
	}()
	if _, _, err := reportLoop(ctx, rb.svc, rb.meta.Org, cfg.tz, campBig, campSmall, cfg.warmup, cfg.reportPause); err != nil {
		return phaseResult{}, err
	}
	c0, u0, s0 := l.committed.Load(), l.unrecorded.Load(), l.shed.Load()
	t0 := time.Now()
	l.measuring.Store(true)
	b, s, err := reportLoop(ctx, rb.svc, rb.meta.Org, cfg.tz, campBig, campSmall, cfg.duration, cfg.reportPause)
	l.measuring.Store(false)
	el := time.Since(t0)
	r := phaseResult{big: summarize(b), small: summarize(s),
		ingestRate: float64(l.committed.Load()-c0) / el.Seconds(),
		unrecorded: l.unrecorded.Load() - u0, shed: l.shed.Load() - s0}
	l.mu.Lock()
	r.wait = summarize(l.waits)
	l.mu.Unlock()
	return r, err
}

func runReportBench(ctx context.Context, cfg *config, td *trafficData, enrichFn func(*mailtrail.Event), enrichDesc string, out io.Writer) error {
	dir := cfg.dir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "mailtrail-report-bench-")
		if err != nil {
			return err
		}
		if cfg.keep {
			progress("keeping %s (reuse it with -dir %s)", tmp, tmp)
		} else {
			defer os.RemoveAll(tmp)
		}
		dir = tmp
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	db, meta, err := openOrBuild(ctx, cfg, dir, td, enrichFn)
	if err != nil {
		return err
	}
	defer db.Close()
	rb := &reportBench{cfg: cfg, db: db, meta: meta, svc: &query.Service{R: db}, td: td, enrich: enrichDesc}
	before := map[string]*mailtrail.Report{}
	for _, c := range []string{campBig, campSmall} {
		rep, err := rb.svc.Report(ctx, meta.Org, c, cfg.tz)
		if err != nil {
			return fmt.Errorf("first report of %s: %w", c, err)
		}
		before[c] = rep
	}

	rb.p = ingest.New(db, ingest.Options{Enrich: enrichFn, Observer: &failLog{}})
	pctx, stopPipeline := context.WithCancel(context.WithoutCancel(ctx))
	pipeDone := make(chan struct{})
	go func() { rb.p.Run(pctx); close(pipeDone) }()
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		rb.p.Close(cctx)
		cancel()
		stopPipeline()
		<-pipeDone
	}()

	progress("report latency: %d rounds × (no ingest, ingest at %s) × %v (+%v warm-up), reports of %s and %s in turn, tz %s",
		cfg.rounds, rateDesc(cfg.ingestRate), cfg.duration, cfg.warmup, campBig, campSmall, cfg.tz)
	var rounds []roundResult
	cpu0 := sampleCPU()
	for i := range cfg.rounds {
		rr := roundResult{loadFirst: i%2 == 1}
		for _, loaded := range []bool{rr.loadFirst, !rr.loadFirst} {
			if loaded {
				if rr.load, err = rb.loadPhase(ctx, cfg.seed*1000+uint64(i)); err != nil {
					return err
				}
				progress("round %d  ingest    %s p50 %s p99 %s ms | %s p99 %s ms | ingest %s events/s (p99 commit wait %s ms, unrecorded %d, shed %d)",
					i+1, campBig, fms(msOf(rr.load.big.p50)), fms(msOf(rr.load.big.p99)), campSmall, fms(msOf(rr.load.small.p99)),
					thousands(rr.load.ingestRate), fms(msOf(rr.load.wait.p99)), rr.load.unrecorded, rr.load.shed)
			} else {
				if rr.quiet, err = rb.quietPhase(ctx); err != nil {
					return err
				}
				progress("round %d  no ingest %s p50 %s p99 %s ms | %s p99 %s ms",
					i+1, campBig, fms(msOf(rr.quiet.big.p50)), fms(msOf(rr.quiet.big.p99)), campSmall, fms(msOf(rr.quiet.small.p99)))
			}
		}
		rounds = append(rounds, rr)
	}
	rb.cpu = othersCPU(cpu0, sampleCPU())
	printReportBench(out, rb, before, rounds)
	return nil
}

func rateDesc(rate float64) string {
	if rate <= 0 {
		return "full speed (closed loop)"
	}
	return thousands(rate) + " events/s"
}

func printReportBench(w io.Writer, rb *reportBench, before map[string]*mailtrail.Report, rounds []roundResult) {
	cfg, meta := rb.cfg, rb.meta
	big, small := meta.Campaigns[0], meta.Campaigns[1]
	fmt.Fprintf(w, "## A. Report latency while ingest runs\n\n")
	built := "built by this run"
	if meta.reused {
		built = "built by an earlier run (-dir), so it also holds that run's ingest load"
	}
	fmt.Fprintf(w, "Store: embedded SQLite (synchronous=%s), %s in %s: messages with CreateMessages, then %s events "+
		"(%s of them for %s) written in time order through the store's Write in batches of %d, opens and clicks enriched "+
		"as in serve (%s); customer index caught up. Report: `query.Service{R: db}.Report(org, campaign, %q)`, called in a loop from one goroutine, "+
		"%s and %s in turn. Each round measures %v without ingest and %v with ingest (order alternates between rounds; %v warm-up before each); "+
		"figures are the median over %d rounds of each round's percentile.\n\n",
		cfg.synchronous, built, meta.BuildTook, thousands(float64(meta.Events)), thousands(float64(meta.CampaignEvents[0])), big.Name,
		cfg.buildBatch, rb.enrich, cfg.tz, big.Name, small.Name,
		cfg.duration, cfg.duration, cfg.warmup, len(rounds))
	pace := "back to back (the loop alone keeps one CPU busy)"
	if cfg.reportPause > 0 {
		pace = fmt.Sprintf("with a pause of %v before each", cfg.reportPause)
	}
	fmt.Fprintf(w, "Reports are called %s. CPU during the rounds: %s.\n\n", pace, rb.cpu)
	fmt.Fprintf(w, "Ingest during the load phases: an `ingest.Pipeline` on the same store (its default batch and queue, enrich step on) "+
		"receiving opens (85 %%) and clicks (15 %%), one event per Submit waited for at most %v like the pixel and the redirect, "+
		"paced at %s from %d goroutines, %.0f %% to %s itself and the rest to %s (%s recipients); the customer indexer runs beside it as in `serve`.\n\n",
		cfg.trackingWait, rateDesc(cfg.ingestRate), cfg.ingestWorkers, 100*cfg.sameShare, big.Name, campOther, thousands(float64(meta.Campaigns[2].N)))

	fmt.Fprintf(w, "| campaign (before the rounds) | recipients | sent | delivered | bounced | opens (unique / total / human unique) | clicks (unique / total / human unique) | complaints | unsubscribes |\n")
	fmt.Fprintf(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, c := range []*campaign{big, small} {
		k := before[c.Name].Counts
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s / %s / %s | %s / %s / %s | %s | %s |\n", c.Name, thousands(float64(c.N)),
			thousands(float64(k.Sent)), thousands(float64(k.Delivered)), thousands(float64(k.Bounced)),
			thousands(float64(k.OpensUnique)), thousands(float64(k.OpensTotal)), thousands(float64(k.HumanOpensUnique)),
			thousands(float64(k.ClicksUnique)), thousands(float64(k.ClicksTotal)), thousands(float64(k.HumanClicksUnique)),
			thousands(float64(k.Complained)), thousands(float64(k.Unsubscribed)))
	}
	fmt.Fprintln(w)

	type series struct {
		name string
		get  func(roundResult) lat
	}
	ss := []series{
		{fmt.Sprintf("%s (%s recipients), no ingest — baseline", big.Name, thousands(float64(big.N))), func(r roundResult) lat { return r.quiet.big }},
		{fmt.Sprintf("%s (%s recipients), under ingest", big.Name, thousands(float64(big.N))), func(r roundResult) lat { return r.load.big }},
		{fmt.Sprintf("%s (%s recipients), under ingest", small.Name, thousands(float64(small.N))), func(r roundResult) lat { return r.load.small }},
		{fmt.Sprintf("%s (%s recipients), no ingest", small.Name, thousands(float64(small.N))), func(r roundResult) lat { return r.quiet.small }},
	}
	med := func(get func(roundResult) lat, f func(lat) time.Duration) float64 {
		return medianOf(rounds, func(r roundResult) float64 { return msOf(f(get(r))) })
	}
	p50 := func(l lat) time.Duration { return l.p50 }
	p90 := func(l lat) time.Duration { return l.p90 }
	p99 := func(l lat) time.Duration { return l.p99 }
	mx := func(l lat) time.Duration { return l.max }
	fmt.Fprintf(w, "| report of | p50 ms | p90 ms | p99 ms | max ms | reports per round |\n|---|---:|---:|---:|---:|---:|\n")
	for _, s := range ss {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", s.name, fms(med(s.get, p50)), fms(med(s.get, p90)), fms(med(s.get, p99)), fms(med(s.get, mx)),
			thousands(medianOf(rounds, func(r roundResult) float64 { return float64(s.get(r).n) })))
	}
	fmt.Fprintln(w)
	bq, bl, sl := ss[0].get, ss[1].get, ss[2].get
	fmt.Fprintf(w, "| ratio (median over rounds of the per-round ratio) | p50 | p99 |\n|---|---:|---:|\n")
	rr := func(a, b func(roundResult) lat, f func(lat) time.Duration) string {
		return fms(medianOf(rounds, func(r roundResult) float64 { return msOf(f(a(r))) / msOf(f(b(r))) }))
	}
	fmt.Fprintf(w, "| %s under ingest ÷ %s without (cost of the concurrent ingest) | %s | %s |\n", big.Name, big.Name, rr(bl, bq, p50), rr(bl, bq, p99))
	fmt.Fprintf(w, "| %s ÷ %s, both under ingest (growth with campaign size, %s× the recipients) | %s | %s |\n", big.Name, small.Name,
		thousands(float64(big.N)/float64(small.N)), rr(bl, sl, p50), rr(bl, sl, p99))
	fmt.Fprintln(w)
	goal := med(bl, p99)
	worst := 0.0
	for _, r := range rounds {
		worst = max(worst, msOf(r.load.big.p99))
	}
	verdict := "met"
	if goal >= 10 {
		verdict = "NOT met"
	}
	fmt.Fprintf(w, "Goal (issue): p99 of the %s report under ingest < 10 ms: **%s** (median p99 %s ms; worst round %s ms).\n\n", big.Name, verdict, fms(goal), fms(worst))
	fmt.Fprintf(w, "Ingest meanwhile: median %s events/s committed (target %s); commit wait of a hit p50 %s ms, p99 %s ms; "+
		"hits unrecorded after %v: %d; shed (more than %d waiting): %d (totals over rounds).\n\n",
		thousands(medianOf(rounds, func(r roundResult) float64 { return r.load.ingestRate })), rateDesc(cfg.ingestRate),
		fms(medianOf(rounds, func(r roundResult) float64 { return msOf(r.load.wait.p50) })),
		fms(medianOf(rounds, func(r roundResult) float64 { return msOf(r.load.wait.p99) })),
		cfg.trackingWait, sumOf(rounds, func(r roundResult) int64 { return r.load.unrecorded }), maxInFlight,
		sumOf(rounds, func(r roundResult) int64 { return r.load.shed }))
	xs := make([]float64, len(rounds))
	for i, r := range rounds {
		xs[i] = msOf(r.quiet.big.p50)
	}
	fmt.Fprintf(w, "Noise: the baseline's p50 spread over rounds ((max − min) ÷ median) is %.0f %%. A ratio closer to 1 than that is not a result.\n\n", 100*spread(xs))

	fmt.Fprintf(w, "Every round (ms):\n\n| round | order | %s no ingest p50 / p99 / max | %s ingest p50 / p99 / max | %s ingest p50 / p99 | ingest events/s | commit wait p99 |\n|---:|---|---|---|---|---:|---:|\n",
		big.Name, big.Name, small.Name)
	for i, r := range rounds {
		order := "no ingest, ingest"
		if r.loadFirst {
			order = "ingest, no ingest"
		}
		fmt.Fprintf(w, "| %d | %s | %s / %s / %s | %s / %s / %s | %s / %s | %s | %s |\n", i+1, order,
			fms(msOf(r.quiet.big.p50)), fms(msOf(r.quiet.big.p99)), fms(msOf(r.quiet.big.max)),
			fms(msOf(r.load.big.p50)), fms(msOf(r.load.big.p99)), fms(msOf(r.load.big.max)),
			fms(msOf(r.load.small.p50)), fms(msOf(r.load.small.p99)), thousands(r.load.ingestRate), fms(msOf(r.load.wait.p99)))
	}
	fmt.Fprintln(w)
}

func sumOf[T any](items []T, f func(T) int64) int64 {
	var s int64
	for _, it := range items {
		s += f(it)
	}
	return s
}
