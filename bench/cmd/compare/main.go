// Command compare measures mailtrail against the minimal baseline server of
// bench/baseline on this machine and prints a markdown table of ratios.
//
// It builds both binaries (or takes -mailtrail), starts them on loopback
// ports in temporary directories, provisions mailtrail (an organization and
// -messages instrumented emails), and then loads the two servers in
// alternating rounds (baseline, mailtrail, baseline, …) with the same
// requests: open pixel and click redirect at each of -conns connections,
// and batch ingest of POST /api/v1/events. Medians over rounds are compared,
// so slow drifts of a shared machine hit both servers alike. Nothing is
// asserted: the table says which goals were met.
//
// Usage, from the repository:
//
//	go run ./bench/cmd/compare                 # the full run, about 6 minutes
//	go run ./bench/cmd/compare -rounds 1 -duration 3s -only open
//	go run ./bench/cmd/compare -dry-run        # a second baseline stands in for mailtrail
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
	mailtrailBin string
	dryRun       bool
	keep         bool
	readyTimeout time.Duration
}

// String returns the settings as the report prints them.
func (s settings) String() string {
	return fmt.Sprintf("%d alternating rounds × %v measured (+%v warm-up) per server and scenario; "+
		"pixel/click at %v connections over %d instrumented messages; "+
		"ingest: batches of %d events on %d connections; scenarios %s",
		s.rounds, s.duration, s.warmup, s.conns, s.messages, s.batch, s.ingestConns,
		strings.Join(s.only, ","))
}

func parseFlags() (settings, error) {
	var s settings
	conns := flag.String("conns", "64,256", "connection counts for the pixel and click scenarios")
	only := flag.String("only", "open,click,ingest", "scenarios to run (also: webhook, SendGrid batches of 100 and 1000)")
	flag.IntVar(&s.rounds, "rounds", 3, "rounds per server and scenario")
	flag.DurationVar(&s.duration, "duration", 10*time.Second, "measured time of one round")
	flag.DurationVar(&s.warmup, "warmup", time.Second, "unmeasured warm-up before each round")
	flag.IntVar(&s.ingestConns, "ingest-conns", 8, "connections of the ingest scenario")
	flag.IntVar(&s.batch, "batch", 1000, "events per ingest request")
	flag.IntVar(&s.messages, "messages", 10_000, "messages to instrument; their open and click URLs are loaded round-robin")
	flag.StringVar(&s.mailtrailBin, "mailtrail", "", "mailtrail binary to use instead of building ./cmd/mailtrail")
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

	var mt *server
	var apiKey string
	var paths trackingPaths
	var webhookPath string
	if st.dryRun {
		if mt, err = startBaseline(ctx, "mailtrail", baselineBin, tmp, st.readyTimeout, signer.pub); err != nil {
			return err
		}
		defer mt.stop()
		apiKey, paths = "dry-run", syntheticPaths(st.messages)
		webhookPath = "/webhooks/v2/sendgrid/conn_dryrun"
	} else {
		adminToken := randomHex(16)
		if mt, err = startMailtrail(ctx, mailtrailBin, tmp, adminToken, st.readyTimeout); err != nil {
			return err
		}
		defer mt.stop()
		t0 := time.Now()
		if apiKey, paths, err = provisionMailtrail(ctx, mt.base, adminToken, st.messages); err != nil {
			return err
		}
		progress("provisioned %d messages in %v", st.messages, time.Since(t0).Round(time.Millisecond))
		if webhookPath, err = provisionSendGrid(ctx, mt.base, apiKey, signer.pub); err != nil {
			return err
		}
	}

	bodies := newBatchBodies(st.batch, 16, randomHex(4))
	targets := []*target{
		newTarget("baseline", base, apiKey, paths, bodies),
		newTarget("mailtrail", mt, apiKey, paths, bodies),
	}
	runID := randomHex(4)
	sgSets := map[int]*batchBodies{}
	for _, n := range webhookSizes {
		sgSets[n] = newSGBodies(n, 16, st.messages, runID+strconv.Itoa(n)) // keys unique per size too
	}
	for _, t := range targets {
		t.webhookPath, t.signer, t.sgBodies = webhookPath, signer, map[int]func() []byte{}
		for n, b := range sgSets {
			t.sgBodies[n] = b.stream()
		}
		if err := t.check(ctx); err != nil {
			return fmt.Errorf("smoke check: %w", err)
		}
		if slices.Contains(st.only, kindWebhook) {
			if err := t.checkWebhook(ctx); err != nil {
				return fmt.Errorf("smoke check: %w", err)
			}
		}
	}

	scs := st.scenarios()
	progress("running %d scenarios × %d rounds × 2 servers × %v: about %v",
		len(scs), st.rounds, st.duration+st.warmup,
		(time.Duration(len(scs)*st.rounds*2) * (st.duration + st.warmup + time.Second)).Round(time.Second))
	var outs []*outcome
	for _, sc := range scs {
		o := &outcome{sc: sc}
		outs = append(outs, o)
		for round := 1; round <= st.rounds; round++ {
			for _, t := range targets {
				r, err := measure(ctx, st, sc, t)
				if err != nil {
					return fmt.Errorf("%s %d conns, round %d, %s: %w", sc, sc.conns, round, t.name, err)
				}
				if t == targets[0] {
					o.baseline = append(o.baseline, r)
				} else {
					o.mailtrail = append(o.mailtrail, r)
				}
				progress("%-14s %4d conns  round %d  %-9s %10s/s  p99 %s  failed %d",
					sc, sc.conns, round, t.name, thousands(o.rate(r)), ms(r.Latency.Quantile(0.99)), r.Failed())
			}
		}
	}

	printHeader(os.Stdout, st)
	printTable(os.Stdout, outs)
	fmt.Println()
	printRounds(os.Stdout, outs)
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

// startMailtrail starts mailtrail with a fresh data directory under tmp.
func startMailtrail(ctx context.Context, bin, tmp, adminToken string, readyTimeout time.Duration) (*server, error) {
	dir, port, err := serverDir(tmp, "mailtrail")
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
	// The pixel and click scenarios replay each token many times an hour: with the
	// tracking budget on, most hits would be answered without being stored, which is not
	// what is measured. The environment (not a flag) also suits binaries older than it.
	os.Setenv("MAILTRAIL_TRACKING_BUDGET", "0")
	return startServer(ctx, "mailtrail", bin, args, dir, "http://"+addr, readyTimeout)
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
