// Command eventlog measures the durable event log (internal/store/eventlog: an embedded
// JetStream server, file store synced on every write, group commit) beside a baseline
// measured in the same run: the bare append-only file with one fdatasync per group
// commit (bench/journal, the baseline server's). Both take the same encoded events from
// the same closed-loop appenders: N goroutines, each appending its next batch as soon as
// the previous one is acknowledged. For every appender count and batch size it runs
// -rounds rounds of each, alternating which goes first, each on a fresh directory, and
// prints the medians of acknowledged events/s and of p50 / p99 append latency, the ratio
// log ÷ baseline and the baseline's spread. It asserts nothing.
//
//	go run ./bench/eventlog [-appenders 1,64,256] [-sizes 1,100] [-rounds 3] [-duration 5s]
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/bench/journal"
	"github.com/mailtrail/mailtrail/bench/load"
	"github.com/mailtrail/mailtrail/internal/store/eventlog"
)

func main() {
	appenders := flag.String("appenders", "1,64,256", "concurrent appenders, comma-separated")
	sizes := flag.String("sizes", "1,100", "events per append, comma-separated")
	rounds := flag.Int("rounds", 3, "rounds per target and scenario (alternating)")
	duration := flag.Duration("duration", 5*time.Second, "measured time of a round")
	warmup := flag.Duration("warmup", time.Second, "unmeasured time before a round's measurement")
	partitions := flag.Int("partitions", 1, "partitions of the log; appender i appends to partition i mod partitions")
	ids := flag.Bool("ids", true, "give every append an id (the dedupe index is consulted and filled)")
	flag.Parse()
	ns, err := ints(*appenders)
	if err != nil {
		log.Fatal(err)
	}
	bs, err := ints(*sizes)
	if err != nil {
		log.Fatal(err)
	}
	root, err := os.MkdirTemp("", "mailtrail-eventlogbench-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(root)

	host, _ := os.Hostname()
	fmt.Printf("# Event log against a bare group-committed file\n\n")
	fmt.Printf("%s, %d CPUs, %s; %d rounds of %s (+%s warm-up) per target, alternating; %d partition(s); append ids %v.\n\n",
		host, runtime.NumCPU(), runtime.Version(), *rounds, *duration, *warmup, *partitions, *ids)
	fmt.Println("| appenders | events/append | log events/s | baseline events/s | ratio | log p50 / p99 | baseline p50 / p99 | p99 ratio | events per message | baseline spread |")
	fmt.Println("|---:|---:|---:|---:|---:|---|---|---:|---:|---:|")
	var rows []string
	run := 0
	for _, n := range ns {
		for _, b := range bs {
			var logRs, baseRs []result
			for r := range *rounds {
				order := []string{"baseline", "log"}
				if r%2 == 1 {
					order = []string{"log", "baseline"}
				}
				for _, target := range order {
					run++
					dir := filepath.Join(root, strconv.Itoa(run))
					cfg := config{appenders: n, size: b, duration: *duration, warmup: *warmup, partitions: *partitions, ids: *ids}
					var res result
					var err error
					if target == "log" {
						res, err = runLog(dir, cfg)
						logRs = append(logRs, res)
					} else {
						res, err = runBaseline(dir, cfg)
						baseRs = append(baseRs, res)
					}
					if err != nil {
						log.Fatalf("%s, %d appenders × %d: %v", target, n, b, err)
					}
					os.RemoveAll(dir)
					rows = append(rows, fmt.Sprintf("| %d | %d | %d | %s | %.0f | %s | %s | %s | %.1f |",
						n, b, r+1, target, res.rate, ms(res.p50), ms(res.p99), ms(res.max), res.perMsg))
					fmt.Fprintf(os.Stderr, "%d×%d round %d %s: %.0f events/s, p50 %s p99 %s\n", n, b, r+1, target, res.rate, ms(res.p50), ms(res.p99))
				}
			}
			lr, br := median(logRs, rateOf), median(baseRs, rateOf)
			l50, l99 := medianD(logRs, p50Of), medianD(logRs, p99Of)
			b50, b99 := medianD(baseRs, p50Of), medianD(baseRs, p99Of)
			fmt.Printf("| %d | %d | %.0f | %.0f | %.2f | %s / %s | %s / %s | %.2f | %.1f | %.0f %% |\n",
				n, b, lr, br, lr/br, ms(l50), ms(l99), ms(b50), ms(b99), float64(l99)/float64(b99),
				median(logRs, func(r result) float64 { return r.perMsg }), 100*spread(baseRs))
		}
	}
	fmt.Println("\nEvery round:")
	fmt.Println()
	fmt.Println("| appenders | events/append | round | target | events/s | p50 | p99 | max | events per message |")
	fmt.Println("|---:|---:|---:|---|---:|---:|---:|---:|---:|")
	for _, r := range rows {
		fmt.Println(r)
	}
}

type config struct {
	appenders, size, partitions int
	duration, warmup            time.Duration
	ids                         bool
}

type result struct {
	rate          float64 // acknowledged events per second in the measured window
	p50, p99, max time.Duration
	perMsg        float64 // events per log message (the log only; 0 for the baseline)
}

// appendFunc appends one worker's batch; i numbers the worker's appends.
type appendFunc func(ctx context.Context, worker, i int, evs []*mailtrail.Event) error

func runLog(dir string, cfg config) (result, error) {
	ctx := context.Background()
	l, err := eventlog.Open(ctx, dir, eventlog.Options{Partitions: cfg.partitions})
	if err != nil {
		return result{}, err
	}
	var total atomic.Int64
	res, err := drive(cfg, func(ctx context.Context, w, i int, evs []*mailtrail.Event) error {
		id := ""
		if cfg.ids {
			id = "w" + strconv.Itoa(w) + "-" + strconv.Itoa(i)
		}
		_, err := l.Append(ctx, w%cfg.partitions, id, evs)
		if err == nil {
			total.Add(int64(len(evs)))
		}
		return err
	})
	if err != nil {
		l.Close()
		return res, err
	}
	last, err := l.Last(ctx)
	if err == nil && last.Seq > 0 {
		res.perMsg = float64(total.Load()) / float64(last.Seq)
	}
	if cerr := l.Close(); err == nil {
		err = cerr
	}
	return res, err
}

func runBaseline(dir string, cfg config) (result, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return result{}, err
	}
	j, err := journal.Open(filepath.Join(dir, "journal"))
	if err != nil {
		return result{}, err
	}
	res, err := drive(cfg, func(ctx context.Context, w, i int, evs []*mailtrail.Event) error {
		// The same work per event as the log's Append: encode each record, frame it.
		var buf []byte
		for _, e := range evs {
			b, err := eventlog.EncodeEvent(e)
			if err != nil {
				return err
			}
			buf = strconv.AppendInt(buf, int64(len(b)), 10)
			buf = append(buf, ' ')
			buf = append(buf, b...)
		}
		return j.Append(buf)
	})
	if cerr := j.Close(); err == nil {
		err = cerr
	}
	return res, err
}

// drive runs cfg.appenders closed-loop workers for warm-up plus duration, counting the
// appends acknowledged inside the measured window.
func drive(cfg config, do appendFunc) (result, error) {
	start := time.Now()
	from, until := start.Add(cfg.warmup), start.Add(cfg.warmup+cfg.duration)
	hists := make([]load.Histogram, cfg.appenders)
	counts := make([]int64, cfg.appenders)
	errs := make(chan error, cfg.appenders)
	var wg sync.WaitGroup
	for w := range cfg.appenders {
		wg.Go(func() {
			evs := batch(w, cfg.size)
			for i := 0; ; i++ {
				for k, e := range evs {
					e.ID = "ev-" + strconv.Itoa(w) + "-" + strconv.Itoa(i) + "-" + strconv.Itoa(k)
				}
				t0 := time.Now()
				if t0.After(until) {
					return
				}
				if err := do(context.Background(), w, i, evs); err != nil {
					errs <- err
					return
				}
				t1 := time.Now()
				if t0.After(from) && !t1.After(until) {
					hists[w].Record(t1.Sub(t0))
					counts[w] += int64(len(evs))
				}
			}
		})
	}
	wg.Wait()
	select {
	case err := <-errs:
		return result{}, err
	default:
	}
	var h load.Histogram
	var n int64
	for w := range hists {
		h.Merge(&hists[w])
		n += counts[w]
	}
	return result{rate: float64(n) / cfg.duration.Seconds(), p50: h.Quantile(0.5), p99: h.Quantile(0.99), max: h.Max()}, nil
}

// batch returns size events shaped like tracked opens: about 250 bytes each encoded.
func batch(worker, size int) []*mailtrail.Event {
	now := time.Now().UTC().Truncate(time.Millisecond)
	evs := make([]*mailtrail.Event, size)
	for k := range evs {
		c := worker*1000 + k
		evs[k] = &mailtrail.Event{
			OrgID: "org_01JBENCH", CampaignID: "spring-sale-2026", CustomerID: "cust-" + strconv.Itoa(c),
			CustomerEmail: "customer" + strconv.Itoa(c) + "@example.com", MessageID: "msg_01JBENCH" + strconv.Itoa(c),
			Type: mailtrail.EventOpened, OccurredAt: now, ReceivedAt: now, Source: mailtrail.SourceTracking,
			Classification: mailtrail.Human, Counted: true,
			Metadata: mailtrail.Metadata{UserAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
				IP: "203.0.113.0", Client: "Chrome", Device: "desktop", Country: "FR", City: "Lyon"},
		}
	}
	return evs
}

func ints(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("bad count %q", f)
		}
		out = append(out, n)
	}
	return out, nil
}

func rateOf(r result) float64      { return r.rate }
func p50Of(r result) time.Duration { return r.p50 }
func p99Of(r result) time.Duration { return r.p99 }
func ms(d time.Duration) string    { return strconv.FormatFloat(float64(d)/1e6, 'f', 2, 64) + " ms" }
func median(rs []result, f func(result) float64) float64 {
	xs := make([]float64, len(rs))
	for i, r := range rs {
		xs[i] = f(r)
	}
	slices.Sort(xs)
	if len(xs) == 0 {
		return 0
	}
	if len(xs)%2 == 1 {
		return xs[len(xs)/2]
	}
	return (xs[len(xs)/2-1] + xs[len(xs)/2]) / 2
}

func medianD(rs []result, f func(result) time.Duration) time.Duration {
	return time.Duration(median(rs, func(r result) float64 { return float64(f(r)) }))
}

// spread is (max − min) ÷ median of the rates: the noise of the machine during the run.
func spread(rs []result) float64 {
	if len(rs) == 0 {
		return 0
	}
	lo, hi := rs[0].rate, rs[0].rate
	for _, r := range rs {
		lo, hi = min(lo, r.rate), max(hi, r.rate)
	}
	return (hi - lo) / median(rs, rateOf)
}
