// Command compare measures mailtrail against the minimal baseline server of
// bench/baseline on this machine and prints a markdown table of ratios.
//
// It builds both binaries (or takes -mailtrail), starts them on loopback
// ports in temporary directories, provisions mailtrail (an organization and
// -messages instrumented emails), and then loads the servers in
// alternating rounds (baseline, mailtrail, baseline, …) with the same
// requests: open pixel and click redirect at each of -conns connections,
// and batch ingest of POST /api/v1/events. Medians over rounds are compared,
// so slow drifts of a shared machine hit every server alike. Nothing is
// asserted: the table says which goals were met.
//
// -modes runs one mailtrail server per write path, each on its own data
// directory, in the same alternation (baseline, store, log, baseline, …):
// "store" is serve as it is (acknowledged once in the store), "log" is serve
// --event-log (acknowledged once in the event log, applied to the store
// behind). After each round on a server with the event log, the next round
// waits until its projector has applied everything acknowledged (the
// catch-up time is reported), so deferred work is never charged to the
// next server's round.
//
// Usage, from the repository:
//
//	go run ./bench/cmd/compare                 # the full run, about 6 minutes
//	go run ./bench/cmd/compare -rounds 1 -duration 3s -only open
//	go run ./bench/cmd/compare -modes store,log   # both write paths, each against the same baseline
//	go run ./bench/cmd/compare -dry-run        # a second baseline stands in for mailtrail
//	go run ./bench/cmd/compare -modes log -before /tmp/mailtrail-old   # a change, before and after, in one run
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mailtrail/mailtrail/bench/load"
	"github.com/mailtrail/mailtrail/bench/pgbench"
)

// settings are the command's flags.
type settings struct {
	rounds       int
	duration     time.Duration
	warmup       time.Duration
	conns        []int
	ingestConns  int
	batch        int
	messages     int
	only         []string
	modes        []string // write paths of mailtrail, see modeArgs
	serveArgs    []string // extra arguments of every mailtrail serve
	catchUp      time.Duration
	mailtrailBin string
	beforeBin    string // -before: a second mailtrail binary, run in every mode too
	natsURL      string // -nats-url: the JetStream cluster of modes "cluster-log" and "node"
	postgresDSN  string // -postgres-dsn: the PostgreSQL of mode "node"
	dryRun       bool
	keep         bool
	readyTimeout time.Duration
	loadAtStart  string    // /proc/loadavg when the run began
	othersCPU    []float64 // CPUs used by other processes during each round (-1: unknown)
}

// String returns the settings as the report prints them.
func (s settings) String() string {
	extra := ""
	if len(s.serveArgs) > 0 {
		extra = fmt.Sprintf("; extra serve arguments %q", strings.Join(s.serveArgs, " "))
	}
	return fmt.Sprintf("%d alternating rounds × %v measured (+%v warm-up) per server and scenario; "+
		"pixel/click at %v connections over %d instrumented messages; "+
		"ingest: batches of %d events on %d connections; scenarios %s; mailtrail modes %s%s",
		s.rounds, s.duration, s.warmup, s.conns, s.messages, s.batch, s.ingestConns,
		strings.Join(s.only, ","), strings.Join(s.modes, ","), extra)
}

func parseFlags() (settings, error) {
	var s settings
	conns := flag.String("conns", "64,256", "connection counts for the pixel and click scenarios")
	only := flag.String("only", "open,click,ingest", "scenarios to run (also: webhook, SendGrid batches of 100 and 1000)")
	modes := flag.String("modes", modeStore, "mailtrail write paths, one server each, alternating in every round: store (serve), log (serve --event-log), cluster-log (serve --event-log-url on -nats-url), node (an API node, serve --cluster, with a worker, on -nats-url and -postgres-dsn)")
	flag.StringVar(&s.natsURL, "nats-url", "", "with modes cluster-log and node: the JetStream cluster's URLs (scripts/nats-cluster.sh start DIR prints them); the server gets a stream of its own, 3 replicas")
	flag.StringVar(&s.postgresDSN, "postgres-dsn", "", "with mode node: the PostgreSQL the worker projects into (a schema of the run, dropped after)")
	serveArgs := flag.String("serve-args", "", "extra arguments of every mailtrail serve, split on spaces (e.g. \"--max-queue 200000\")")
	flag.DurationVar(&s.catchUp, "catch-up", 2*time.Minute, "with the event log: how long to wait after a round for the projector to apply what was acknowledged")
	flag.IntVar(&s.rounds, "rounds", 3, "rounds per server and scenario")
	flag.DurationVar(&s.duration, "duration", 10*time.Second, "measured time of one round")
	flag.DurationVar(&s.warmup, "warmup", time.Second, "unmeasured warm-up before each round")
	flag.IntVar(&s.ingestConns, "ingest-conns", 8, "connections of the ingest scenario")
	flag.IntVar(&s.batch, "batch", 1000, "events per ingest request")
	flag.IntVar(&s.messages, "messages", 10_000, "messages to instrument; their open and click URLs are loaded round-robin")
	flag.StringVar(&s.mailtrailBin, "mailtrail", "", "mailtrail binary to use instead of building ./cmd/mailtrail")
	flag.StringVar(&s.beforeBin, "before", "", "a second mailtrail binary (e.g. built from an earlier commit) run in every mode as well, as mode \"<mode>"+beforeSuffix+"\", in the same alternation: a change measured before and after in one run")
	flag.BoolVar(&s.dryRun, "dry-run", false, "test the harness: a second baseline stands in for mailtrail")
	flag.BoolVar(&s.keep, "keep", false, "keep the temporary directory (binaries, data, server logs)")
	flag.DurationVar(&s.readyTimeout, "ready-timeout", time.Minute, "how long a server may take to answer /readyz")
	flag.Parse()

	for _, f := range strings.Split(*conns, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > load.MaxConns {
			return s, fmt.Errorf("-conns: %q is not a connection count in 1..%d", f, load.MaxConns)
		}
		s.conns = append(s.conns, n)
	}
	for _, k := range strings.Split(*only, ",") {
		k = strings.TrimSpace(k)
		if k != kindOpen && k != kindClick && k != kindIngest && k != kindWebhook {
			return s, fmt.Errorf("-only: unknown scenario %q (want open, click, ingest, webhook)", k)
		}
		s.only = append(s.only, k)
	}
	for _, m := range strings.Split(*modes, ",") {
		m = strings.TrimSpace(m)
		if _, ok := modeArgs[m]; !ok {
			return s, fmt.Errorf("-modes: unknown mode %q (want store, log, cluster-log, node)", m)
		}
		if (m == modeClusterLog || m == modeNode) && s.natsURL == "" {
			return s, fmt.Errorf("-modes %s needs -nats-url", m)
		}
		if m == modeNode && s.postgresDSN == "" {
			return s, errors.New("-modes node needs -postgres-dsn")
		}
		if slices.Contains(s.modes, m) {
			return s, fmt.Errorf("-modes: %q given twice", m)
		}
		s.modes = append(s.modes, m)
	}
	if s.beforeBin != "" {
		for _, m := range s.modes {
			s.modes = append(s.modes, m+beforeSuffix)
		}
	}
	s.serveArgs = strings.Fields(*serveArgs)
	switch {
	case s.rounds < 1:
		return s, errors.New("-rounds must be at least 1")
	case s.duration <= 0 || s.warmup < 0 || s.duration+s.warmup > load.MaxDuration:
		return s, fmt.Errorf("-duration + -warmup must be within (0, %v]", load.MaxDuration)
	case s.ingestConns < 1 || s.ingestConns > load.MaxConns:
		return s, fmt.Errorf("-ingest-conns must be in 1..%d", load.MaxConns)
	case s.batch < 1 || s.batch > 10_000:
		return s, errors.New("-batch must be in 1..10000")
	case s.messages < 1 || s.messages > 1_000_000:
		return s, errors.New("-messages must be in 1..1000000")
	}
	return s, nil
}

// scenarios returns the scenarios to run, in order.
func (s settings) scenarios() []scenario {
	var out []scenario
	for _, kind := range []string{kindOpen, kindClick} {
		if slices.Contains(s.only, kind) {
			for _, c := range s.conns {
				out = append(out, scenario{kind: kind, conns: c})
			}
		}
	}
	if slices.Contains(s.only, kindIngest) {
		out = append(out, scenario{kind: kindIngest, conns: s.ingestConns})
	}
	if slices.Contains(s.only, kindWebhook) {
		for _, n := range webhookSizes {
			out = append(out, scenario{kind: kindWebhook, conns: s.ingestConns, batch: n})
		}
	}
	return out
}

func main() {
	st, err := parseFlags()
	if err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(2)
	}
	// Ctrl-C or SIGTERM cancels the run; the deferred stops still run.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, st); err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		stop()
		os.Exit(1)
	}
}

func run(ctx context.Context, st settings) error {
	st.loadAtStart = load.LoadAverage()
	root, err := moduleRoot(ctx)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "mailtrail-bench-")
	if err != nil {
		return err
	}
	if st.keep {
		progress("keeping %s", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}

	baselineBin, mailtrailBin, err := buildBinaries(ctx, st, root, tmp)
	if err != nil {
		return err
	}
	signer, err := newSGSigner()
	if err != nil {
		return err
	}
	base, err := startBaseline(ctx, "baseline", baselineBin, tmp, st.readyTimeout, signer.pub)
	if err != nil {
		return err
	}
	defer base.stop()

	// One mailtrail server per mode, each with its own data directory, key and tokens.
	// The baseline ignores tokens; it gets the first server's paths.
	var mts []*target
	bodies := load.NewEventBodies(st.batch, 16, randomHex(4))
	var basePaths trackingPaths
	var baseKey, baseWebhook string
	for _, mode := range st.modes {
		name := "mailtrail-" + mode
		var mt *server
		var apiKey, webhookPath string
		var paths trackingPaths
		if st.dryRun {
			if mt, err = startBaseline(ctx, name, baselineBin, tmp, st.readyTimeout, signer.pub); err != nil {
				return err
			}
			defer mt.stop()
			apiKey, paths = "dry-run", syntheticPaths(st.messages)
			webhookPath = "/webhooks/v2/sendgrid/conn_dryrun"
		} else {
			adminToken := randomHex(16)
			args := append(slices.Clone(modeArgs[baseMode(mode)]), st.serveArgs...)
			var worker []string // mode node: the worker's arguments
			switch baseMode(mode) {
			case modeClusterLog:
				stream := "BENCH" + randomHex(6)
				defer pgbench.DeleteStream(st.natsURL, stream)
				args = append(args, "--event-log-url", st.natsURL, "--event-log-stream", stream)
			case modeNode:
				stream, schema := "BENCH"+randomHex(6), "bench_node_"+randomHex(6)
				defer pgbench.DeleteStream(st.natsURL, stream)
				defer pgbench.DropSchema(st.postgresDSN, schema)
				engines := []string{"--event-log-url", st.natsURL, "--event-log-stream", stream, "--postgres-dsn", st.postgresDSN, "--postgres-schema", schema}
				args = append(append(args, engines...), "--secret-key", randomHex(24))
				worker = append([]string{"worker"}, engines...)
			}
			bin := mailtrailBin
			if strings.HasSuffix(mode, beforeSuffix) {
				if bin, err = filepath.Abs(st.beforeBin); err != nil {
					return err
				}
			}
			if mt, err = startMailtrail(ctx, name, bin, tmp, adminToken, args, st.readyTimeout); err != nil {
				return err
			}
			defer mt.stop()
			if worker != nil {
				w, err := startProcess(name+"-worker", bin, worker, tmp)
				if err != nil {
					return err
				}
				defer w.stop()
			}
			t0 := time.Now()
			if apiKey, paths, err = provisionMailtrail(ctx, mt.base, adminToken, st.messages); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			progress("%s: provisioned %d messages in %v", name, st.messages, time.Since(t0).Round(time.Millisecond))
			if webhookPath, err = provisionSendGrid(ctx, mt.base, apiKey, signer.pub); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			if mt.logged, err = hasEventLog(ctx, mt.base); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			if mt.logged != (baseMode(mode) != modeStore) {
				progress("%s: note: the event log is %v with %q", name, onOff(mt.logged), strings.Join(args, " "))
			}
		}
		if mts == nil {
			basePaths, baseKey, baseWebhook = paths, apiKey, webhookPath
		}
		t := newTarget(name, mt, apiKey, paths, bodies)
		t.mode, t.webhookPath = mode, webhookPath
		mts = append(mts, t)
	}
	base0 := newTarget("baseline", base, baseKey, basePaths, bodies)
	base0.webhookPath = baseWebhook
	targets := append([]*target{base0}, mts...)
	runID := randomHex(4)
	sgSets := map[int]*load.Bodies{}
	for _, n := range webhookSizes {
		sgSets[n] = newSGBodies(n, 16, st.messages, runID+strconv.Itoa(n)) // keys unique per size too
	}
	for _, t := range targets {
		t.signer, t.sgBodies = signer, map[int]func() []byte{}
		for n, b := range sgSets {
			t.sgBodies[n] = b.Stream()
		}
		if err := t.check(ctx); err != nil {
			return fmt.Errorf("smoke check: %w", err)
		}
		if slices.Contains(st.only, kindWebhook) {
			if err := t.checkWebhook(ctx); err != nil {
				return fmt.Errorf("smoke check: %w", err)
			}
		}
		if err := t.srv.waitCaughtUp(ctx, st.catchUp); err != nil {
			return fmt.Errorf("smoke check: %s: %w", t.name, err)
		}
	}

	scs := st.scenarios()
	progress("running %d scenarios × %d rounds × %d servers × %v: about %v",
		len(scs), st.rounds, len(targets), st.duration+st.warmup,
		(time.Duration(len(scs)*st.rounds*len(targets)) * (st.duration + st.warmup + time.Second)).Round(time.Second))
	var servers []*server
	for _, t := range targets {
		servers = append(servers, t.srv)
	}
	var allOthers []float64
	var outs []*outcome
	for _, sc := range scs {
		o := &outcome{sc: sc, modes: st.modes, mailtrail: map[string][]load.Result{}, catchUp: map[string][]time.Duration{},
			others: map[string][]float64{}, cpu: map[string][]float64{}}
		outs = append(outs, o)
		for round := 1; round <= st.rounds; round++ {
			for _, t := range targets {
				c0 := load.SampleCPU(pids(servers)...)
				cpu0, cpuErr := load.ProcessCPU(t.srv.cmd.Process.Pid)
				r, err := measure(ctx, st, sc, t)
				others := load.OthersCPU(c0, load.SampleCPU(pids(servers)...))
				if err != nil {
					return fmt.Errorf("%s %d conns, round %d, %s: %w", sc, sc.conns, round, t.name, err)
				}
				note := ""
				if t.srv.logged {
					// What the projector still has to apply is work of this round: wait for it
					// before the next server's round, and report how long it took.
					t0 := time.Now()
					if err := t.srv.waitCaughtUp(ctx, st.catchUp); err != nil {
						return fmt.Errorf("%s %d conns, round %d, %s: %w", sc, sc.conns, round, t.name, err)
					}
					d := time.Since(t0)
					o.catchUp[t.mode] = append(o.catchUp[t.mode], d)
					note = "  catch-up " + ms(d)
				}
				// The server's CPU per unit of work: from the warm-up's start to the end of
				// the catch-up, over the measured work scaled to the warm-up as well (the
				// warm-up's answers are not counted, its rate is taken as the round's).
				cpu := -1.0
				if cpu1, err := load.ProcessCPU(t.srv.cmd.Process.Pid); err == nil && cpuErr == nil {
					if units := o.rate(r) * (r.Elapsed + st.warmup).Seconds(); units > 0 {
						cpu = float64((cpu1 - cpu0).Microseconds()) / units
					}
				}
				o.cpu[t.mode] = append(o.cpu[t.mode], cpu)
				if t == targets[0] {
					o.baseline = append(o.baseline, r)
				} else {
					o.mailtrail[t.mode] = append(o.mailtrail[t.mode], r)
				}
				o.others[t.mode] = append(o.others[t.mode], others)
				allOthers = append(allOthers, others)
				progress("%-14s %4d conns  round %d  %-15s %10s/s  p99 %s  failed %d  others %.2f CPUs  server %.1f µs CPU/%s%s",
					sc, sc.conns, round, t.name, thousands(o.rate(r)), ms(r.Latency.Quantile(0.99)), r.Failed(), others, cpu, o.unit(), note)
			}
		}
	}

	for _, t := range targets[1:] {
		t.srv.stop() // flushes the log, and is what a clean stop looks like
	}
	st.othersCPU = allOthers
	printHeader(os.Stdout, st)
	printTable(os.Stdout, outs)
	fmt.Println()
	printRounds(os.Stdout, outs)
	fmt.Println()
	printServerLogs(os.Stdout, targets[1:])
	return nil
}

// measure runs one round of sc against t.
func measure(ctx context.Context, st settings, sc scenario, t *target) (load.Result, error) {
	select {
	case <-t.srv.done:
		return load.Result{}, fmt.Errorf("server exited\n%s", t.srv.logTail())
	default:
	}
	return load.Run(ctx, load.Config{
		Conns:    sc.conns,
		Duration: st.duration,
		Warmup:   st.warmup,
		Next:     t.source(sc),
	})
}

// buildBinaries builds the baseline and, unless given or in a dry run,
// mailtrail into tmp/bin, and returns their paths.
func buildBinaries(ctx context.Context, st settings, root, tmp string) (baseline, mailtrail string, err error) {
	bin := filepath.Join(tmp, "bin")
	baseline = filepath.Join(bin, "baseline")
	progress("building %s", baseline)
	if err := build(ctx, root, "./bench/baseline", baseline); err != nil {
		return "", "", err
	}
	switch {
	case st.dryRun:
	case st.mailtrailBin != "":
		mailtrail, err = filepath.Abs(st.mailtrailBin)
	default:
		mailtrail = filepath.Join(bin, "mailtrail")
		progress("building %s", mailtrail)
		err = build(ctx, root, "./cmd/mailtrail", mailtrail)
	}
	return baseline, mailtrail, err
}

// startBaseline starts a baseline server in its own directory under tmp.
func startBaseline(ctx context.Context, name, bin, tmp string, readyTimeout time.Duration, sendgridKey string) (*server, error) {
	dir, port, err := serverDir(tmp, name)
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	return startServer(ctx, name, bin, []string{"-addr", addr, "-file", filepath.Join(dir, "events.log"), "-sendgrid-key", sendgridKey},
		dir, "http://"+addr, readyTimeout)
}

// startMailtrail starts mailtrail, named name, with a fresh data directory under tmp
// and extra arguments of serve.
func startMailtrail(ctx context.Context, name, bin, tmp, adminToken string, extra []string, readyTimeout time.Duration) (*server, error) {
	dir, port, err := serverDir(tmp, name)
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	args := []string{"serve",
		"--addr", addr,
		"--data-dir", filepath.Join(dir, "data"),
		"--public-url", "http://" + addr,
		"--admin-token", adminToken,
	}
	args = append(args, extra...)
	// The pixel and click scenarios replay each token many times an hour: with the
	// tracking budget on, most hits would be answered without being stored, which is not
	// what is measured. The environment (not a flag) also suits binaries older than it.
	os.Setenv("MAILTRAIL_TRACKING_BUDGET", "0")
	return startServer(ctx, name, bin, args, dir, "http://"+addr, readyTimeout)
}

// Modes: mailtrail's write paths.
const (
	modeStore = "store" // serve: acknowledged once in the store
	modeLog   = "log"   // serve --event-log: acknowledged once in the event log
	// serve --event-log-url: acknowledged once in the event log on an external JetStream
	// cluster (3 replicas)
	modeClusterLog = "cluster-log"
	// serve --cluster: an API node (acknowledged once in the event log on an external
	// JetStream; a worker, started beside it, applies the log to PostgreSQL)
	modeNode = "node"
)

// beforeSuffix names the modes of the -before binary.
const beforeSuffix = "-before"

// baseMode returns the write path of a mode (the mode without beforeSuffix).
func baseMode(mode string) string { return strings.TrimSuffix(mode, beforeSuffix) }

// modeArgs are the serve arguments of each mode.
var modeArgs = map[string][]string{
	modeStore: nil,
	modeLog:   {"--event-log"},
	// and --event-log-url, --event-log-stream (a stream of the server's own), added when it starts
	modeClusterLog: {},
	modeNode:       {"--cluster"},
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// serverDir creates tmp/name and picks a port for the server that runs there.
func serverDir(tmp, name string) (string, int, error) {
	dir := filepath.Join(tmp, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", 0, err
	}
	port, err := freePort()
	return dir, port, err
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

// pids returns the process ids of servers.
func pids(servers []*server) []int {
	out := make([]int, len(servers))
	for i, srv := range servers {
		out[i] = srv.cmd.Process.Pid
	}
	return out
}
