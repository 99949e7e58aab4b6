// Command projector measures how fast serve --event-log's projector keeps up: the rate of
// events at which the store applies what the event log acknowledged within a second.
//
// It builds ./cmd/mailtrail (or takes -mailtrail), starts `serve --event-log` on a fresh
// data directory, creates an organization and instruments -messages emails through the
// API, then offers POST /api/v1/events (batches of -batch events, the mix of
// bench/cmd/compare's ingest scenario) open loop at each rate of -rates for -duration: a
// request is sent at its scheduled time whatever the earlier ones are doing. Every
// acknowledgement carries the log position holding its events (Mailtrail-Log-Position),
// and the lag of a batch is the time from its acknowledgement until the projection held
// that position. With -lag-by wait (the default), a read asks for it right after the
// acknowledgement (GET /api/v1/settings with Mailtrail-After: the server answers once the
// projection holds it, or 503 past --read-wait, and it asks again); with -lag-by metrics,
// a poller reads mailtrail_projection_position from /metrics every -poll and the lag ends
// at the first sample at or past the position (a scrape costs the server about 2.5 ms of
// CPU, a fifth of a core at 10 ms: the reason it is not the default).
//
// With -fresh (the default) every step runs on a server of its own with a new data
// directory, so that a rate is measured on the same store whatever ran before it (the
// store's cost per event grows with its size: run -fresh=false with one rate repeated to
// see that). A step waits at most -drain after its end for the projection; batches not
// projected by then count with the lag they had at that moment (a lower bound, flagged
// "≥"). -rounds repeats the series (ascending, then descending, …); the table gives
// medians over rounds per rate, and the highest rate acknowledged in full with a lag p99
// under -lag-goal is the sustained rate. It asserts nothing.
//
//	go run ./bench/projector                       # 6 rates × 3 rounds × 6 s (+ up to 6 s of catch-up), about 4 minutes
//	go run ./bench/projector -rates 20000,40000 -rounds 1 -duration 15s
//	go run ./bench/projector -fresh=false -rates 8000,8000,8000,8000,8000,8000 -rounds 1
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mailtrail/mailtrail/bench/load"
)

// Ways of measuring a batch's lag.
const (
	lagByWait    = "wait"    // a read with Mailtrail-After: its position answers once projected
	lagByMetrics = "metrics" // poll mailtrail_projection_position
)

// settings are the command's flags.
type settings struct {
	rates       []int
	duration    time.Duration
	rounds      int
	batch       int
	messages    int
	fresh       bool
	lagBy       string
	poll        time.Duration
	sample      time.Duration
	maxInflight int
	drain       time.Duration
	lagGoal     time.Duration
	serveArgs   []string
	bin         string
	keep        bool
}

func parseFlags() (settings, error) {
	var s settings
	rates := flag.String("rates", "5000,10000,20000,30000,50000,75000", "offered rates, events/s")
	serveArgs := flag.String("serve-args", "", "extra arguments of serve, split on spaces")
	flag.DurationVar(&s.duration, "duration", 6*time.Second, "how long each rate is offered")
	flag.IntVar(&s.rounds, "rounds", 3, "times the series of rates is run (ascending, descending, …)")
	flag.IntVar(&s.batch, "batch", 1000, "events per request")
	flag.IntVar(&s.messages, "messages", 10_000, "emails instrumented on each server before it is loaded")
	flag.BoolVar(&s.fresh, "fresh", true, "a new server and data directory for every step (else one server for the whole run)")
	flag.StringVar(&s.lagBy, "lag-by", lagByWait, "how the lag of a batch is measured: wait (a read waiting for its log position, Mailtrail-After) or metrics (poll /metrics every -poll)")
	flag.DurationVar(&s.poll, "poll", 10*time.Millisecond, "-lag-by metrics: how often /metrics is read for the projection's position")
	flag.DurationVar(&s.sample, "sample", 100*time.Millisecond, "-lag-by wait: how often /metrics is read (for the largest lag in positions)")
	flag.IntVar(&s.maxInflight, "max-inflight", 256, "requests in flight at most; a send past it is counted as not sent")
	flag.DurationVar(&s.drain, "drain", 6*time.Second, "how long after a step's end its lags are measured; later ones count as lower bounds")
	flag.DurationVar(&s.lagGoal, "lag-goal", time.Second, "the projection lag p99 a rate must stay under to count as kept up")
	flag.StringVar(&s.bin, "mailtrail", "", "mailtrail binary to use instead of building ./cmd/mailtrail")
	flag.BoolVar(&s.keep, "keep", false, "keep the temporary directory (binary, data, server logs)")
	flag.Parse()
	for _, f := range strings.Split(*rates, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 10_000_000 {
			return s, fmt.Errorf("-rates: %q is not a rate in events/s", f)
		}
		s.rates = append(s.rates, n)
	}
	s.serveArgs = strings.Fields(*serveArgs)
	switch {
	case s.duration <= 0 || s.duration > 10*time.Minute:
		return s, errors.New("-duration must be in (0, 10m]")
	case s.rounds < 1:
		return s, errors.New("-rounds must be at least 1")
	case s.batch < 1 || s.batch > 10_000:
		return s, errors.New("-batch must be in 1..10000")
	case s.messages < 0 || s.messages > 1_000_000:
		return s, errors.New("-messages must be in 0..1000000")
	case s.poll < time.Millisecond || s.sample < time.Millisecond:
		return s, errors.New("-poll and -sample must be at least 1ms")
	case s.lagBy != lagByWait && s.lagBy != lagByMetrics:
		return s, fmt.Errorf("-lag-by: %q is neither wait nor metrics", s.lagBy)
	case s.maxInflight < 1 || s.maxInflight > load.MaxConns:
		return s, fmt.Errorf("-max-inflight must be in 1..%d", load.MaxConns)
	case s.drain <= 0:
		return s, errors.New("-drain must be positive")
	}
	return s, nil
}

func main() {
	st, err := parseFlags()
	if err != nil {
		fmt.Fprintln(os.Stderr, "projector:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, st); err != nil {
		fmt.Fprintln(os.Stderr, "projector:", err)
		stop()
		os.Exit(1)
	}
}

// env is a started, provisioned server and the clients that load and watch it.
type env struct {
	srv *server
	o   *offerer
	m   *metricsReader
	dir string
}

// newEnv starts serve --event-log in dir, provisions it and checks one batch.
func newEnv(ctx context.Context, st settings, bin, dir string, bodies *load.Bodies) (*env, error) {
	admin := randomHex(16)
	srv, err := startServer(ctx, bin, dir, admin, st.serveArgs)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*env, error) {
		srv.stop()
		return nil, err
	}
	apiKey, err := provision(ctx, srv.base, admin, st.messages)
	if err != nil {
		return fail(err)
	}
	// Uncompressed: the server gzips /metrics for a client that accepts it, at a cost.
	m := &metricsReader{base: srv.base, client: &http.Client{Transport: &http.Transport{DisableCompression: true}, Timeout: 10 * time.Second}}
	if g, err := m.read(ctx); err != nil {
		return fail(err)
	} else if !g.ok {
		return fail(fmt.Errorf("the server's /metrics has no %s: is it running with --event-log?", metricProjectionPosition))
	}
	o := &offerer{
		st:      st,
		url:     srv.base + "/api/v1/events",
		header:  http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer " + apiKey}},
		bodies:  bodies.Stream(),
		client:  &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: st.maxInflight}, Timeout: 60 * time.Second},
		waitURL: srv.base + "/api/v1/settings",
		// As many waiting reads as batches may be behind: no cap on connections.
		waitClient: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1024}, Timeout: time.Minute},
	}
	// One batch first: its answer must say accepted and carry a log position.
	if b := o.send(ctx, time.Now()); b.status != http.StatusOK || b.pos == 0 {
		return fail(fmt.Errorf("smoke check: POST /api/v1/events: status %d, position %d, err %v\n%s", b.status, b.pos, b.err, srv.logTail()))
	}
	return &env{srv: srv, o: o, m: m, dir: dir}, nil
}

func run(ctx context.Context, st settings) error {
	loadStart := load.LoadAverage()
	tmp, err := os.MkdirTemp("", "mailtrail-projector-")
	if err != nil {
		return err
	}
	if st.keep {
		progress("keeping %s", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	bin := st.bin
	if bin == "" {
		bin = filepath.Join(tmp, "mailtrail")
		progress("building %s", bin)
		if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/mailtrail").CombinedOutput(); err != nil {
			return fmt.Errorf("go build ./cmd/mailtrail (run from the repository): %w\n%s", err, out)
		}
	} else if bin, err = filepath.Abs(bin); err != nil {
		return err
	}
	// Keys stay unique over the run: every server gets the next bodies of one stream.
	bodies := load.NewEventBodies(st.batch, 16, randomHex(4))
	logs := newLogSummary()
	servers := 0
	start := func() (*env, error) {
		servers++
		dir := filepath.Join(tmp, fmt.Sprintf("server-%d", servers))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		t0 := time.Now()
		e, err := newEnv(ctx, st, bin, dir, bodies)
		if err == nil {
			progress("server %d: ready and provisioned with %d messages in %v", servers, st.messages, time.Since(t0).Round(time.Millisecond))
		}
		return e, err
	}
	finish := func(e *env) {
		e.srv.stop()
		logs.add(e.srv.log)
		if !st.keep {
			os.RemoveAll(filepath.Join(e.dir, "data")) // the next server needs the disk, not this store
		}
	}

	var shared *env
	if !st.fresh {
		if shared, err = start(); err != nil {
			return err
		}
		defer shared.srv.stop()
	}
	progress("offering %d rates × %d rounds × %v, open loop (+ up to %v of catch-up after each)",
		len(st.rates), st.rounds, st.duration, st.drain)
	results := map[int][]stepResult{}
	var allOthers []float64
	for round := 1; round <= st.rounds; round++ {
		rates := slices.Clone(st.rates)
		if round%2 == 0 {
			slices.Reverse(rates)
		}
		for _, rate := range rates {
			e := shared
			if e == nil {
				if e, err = start(); err != nil {
					return fmt.Errorf("rate %d, round %d: %w", rate, round, err)
				}
			}
			r, err := step(ctx, st, e, rate)
			if e != shared {
				finish(e)
			}
			if err != nil {
				return fmt.Errorf("rate %d, round %d: %w", rate, round, err)
			}
			r.round = round
			results[rate] = append(results[rate], r)
			progress("round %d  offered %7s ev/s  acked %7s ev/s  ack p99 %s  lag p50 %s p99 %s%s  catch-up %s  server CPU %.2f  others %.2f  failed %d  stored before %s",
				round, thousands(float64(rate)), thousands(r.ackRate), ms(r.ackP99), ms(r.lagP50), lowerBound(r), ms(r.lagP99),
				ms(r.catchUp), r.serverCPU, r.othersCPU, r.failed, thousands(r.storeBefore))
			allOthers = append(allOthers, r.othersCPU)
		}
	}
	if shared != nil {
		finish(shared)
	}

	w := os.Stdout
	fmt.Fprintf(w, "## serve --event-log: projection lag against offered rate, %s\n\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(w, "- machine: %d CPUs (nproc), %s/%s, %s; load: at the start %s, at the end %s\n",
		runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version(), loadStart, load.LoadAverage())
	if len(allOthers) > 0 && !slices.Contains(allOthers, -1) {
		v := slices.Sorted(slices.Values(allOthers))
		fmt.Fprintf(w, "- other processes (neither this command nor the server) used %.2f CPUs in the median step (min %.2f, max %.2f)\n",
			v[len(v)/2], v[0], v[len(v)-1])
	}
	extra := ""
	if len(st.serveArgs) > 0 {
		extra = fmt.Sprintf("; extra serve arguments %q", strings.Join(st.serveArgs, " "))
	}
	lagBy := fmt.Sprintf("lag by a read waiting for each batch's position (Mailtrail-After), /metrics sampled every %v", st.sample)
	if st.lagBy == lagByMetrics {
		lagBy = fmt.Sprintf("lag by /metrics polled every %v", st.poll)
	}
	where := "a fresh server and data directory for every step"
	if !st.fresh {
		where = "one server for the whole run (the store grows from step to step)"
	}
	fmt.Fprintf(w, "- settings: %d rounds (ascending, descending, …) × %v per rate, open loop, %s; batches of %d events "+
		"(POST /api/v1/events, the compare ingest mix); %d instrumented messages; %s; lags measured up to %v after a step's end; "+
		"at most %d requests in flight%s\n\n",
		st.rounds, st.duration, where, st.batch, st.messages, lagBy, st.drain, st.maxInflight, extra)
	printTable(w, st, results)
	fmt.Fprintln(w)
	printRounds(w, st, results)
	fmt.Fprintln(w)
	logs.print(w, servers)
	return nil
}

// progress reports on stderr, keeping stdout for the report.
func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, time.Now().Format("15:04:05 ")+format+"\n", args...)
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
