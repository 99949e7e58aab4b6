package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mailtrail/mailtrail/bench/load"
)

// Goals from issue 2.
const (
	goalThroughputRatio = 0.7    // mailtrail ÷ baseline req/s, pixel and click
	goalP99Ratio        = 2.0    // mailtrail ÷ baseline p99, pixel and click
	goalIngestEvents    = 50_000 // mailtrail events/s, durable
	goalWebhookRatio    = 0.5    // mailtrail ÷ baseline events/s, SendGrid webhook (issue 3)
	goalWebhookP99      = 250 * time.Millisecond
)

// outcome holds every round's result of one scenario on the two servers.
type outcome struct {
	sc        scenario
	baseline  []load.Result
	mailtrail []load.Result
}

// rate returns a result's throughput in the scenario's unit.
func (o *outcome) rate(r load.Result) float64 {
	if o.sc.kind == kindIngest || o.sc.kind == kindWebhook {
		return r.EventsPerSec()
	}
	return r.RPS()
}

// medianRate returns the median throughput over rounds.
func (o *outcome) medianRate(rs []load.Result) float64 {
	return median(rs, o.rate)
}

// spread returns (max − min) ÷ median of the throughput over rounds, or 0.
func (o *outcome) spread(rs []load.Result) float64 {
	if len(rs) == 0 {
		return 0
	}
	lo, hi := o.rate(rs[0]), o.rate(rs[0])
	for _, r := range rs[1:] {
		lo, hi = min(lo, o.rate(r)), max(hi, o.rate(r))
	}
	return safeDiv(hi-lo, o.medianRate(rs))
}

// spreadText formats the baseline's spread, or "–" with a single round.
func (o *outcome) spreadText() string {
	if len(o.baseline) < 2 {
		return "–"
	}
	return fmt.Sprintf("%.0f%%", 100*o.spread(o.baseline))
}

// medianP99 returns the median, over rounds, of each round's p99 latency.
func medianP99(rs []load.Result) time.Duration {
	return time.Duration(median(rs, func(r load.Result) float64 { return float64(r.Latency.Quantile(0.99)) }))
}

func median(rs []load.Result, f func(load.Result) float64) float64 {
	if len(rs) == 0 {
		return 0
	}
	v := make([]float64, len(rs))
	for i, r := range rs {
		v[i] = f(r)
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func failed(rs []load.Result) uint64 {
	var n uint64
	for _, r := range rs {
		n += r.Failed()
	}
	return n
}

// printHeader writes the machine and the settings that the table holds for.
func printHeader(w io.Writer, st settings) {
	fmt.Fprintf(w, "## mailtrail vs baseline, %s\n\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(w, "- machine: %d CPUs (nproc), %s, %s/%s, kernel %s\n",
		runtime.NumCPU(), cpuModel(), runtime.GOOS, runtime.GOARCH, kernel())
	fmt.Fprintf(w, "- go: %s (servers and load generator)\n", runtime.Version())
	fmt.Fprintf(w, "- settings: %s\n", st)
	if st.dryRun {
		fmt.Fprintf(w, "- DRY RUN: the \"mailtrail\" column is a second baseline server\n")
	}
	fmt.Fprintln(w)
}

// printTable writes the markdown summary: medians over rounds and ratios.
func printTable(w io.Writer, outs []*outcome) {
	fmt.Fprintln(w, "| scenario | conns | baseline | mailtrail | ratio | goal | baseline p99 | mailtrail p99 | p99 ratio | goal | baseline spread | failed b/m |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---|---:|---:|---:|---|---:|---:|")
	for _, o := range outs {
		b, m := o.medianRate(o.baseline), o.medianRate(o.mailtrail)
		bp, mp := medianP99(o.baseline), medianP99(o.mailtrail)
		unit, ratio, p99Ratio := "req/s", safeDiv(m, b), safeDiv(float64(mp), float64(bp))
		goal := verdict(ratio >= goalThroughputRatio, fmt.Sprintf("≥ %.1f", goalThroughputRatio))
		p99Goal := verdict(p99Ratio <= goalP99Ratio, fmt.Sprintf("≤ %.0f", goalP99Ratio))
		if o.sc.kind == kindIngest {
			unit = "ev/s"
			goal = verdict(m >= goalIngestEvents, "≥ "+thousands(goalIngestEvents)+" ev/s")
			p99Goal = "–"
		}
		if o.sc.kind == kindWebhook {
			unit = "ev/s"
			goal = verdict(ratio >= goalWebhookRatio, fmt.Sprintf("≥ %.1f", goalWebhookRatio))
			p99Goal = "–"
			if o.sc.batch == 1000 {
				p99Goal = verdict(mp < goalWebhookP99, "mailtrail < "+ms(goalWebhookP99))
			}
		}
		fmt.Fprintf(w, "| %s | %d | %s %s | %s %s | %.2f | %s | %s | %s | %.2f | %s | %s | %d / %d |\n",
			o.sc, o.sc.conns, thousands(b), unit, thousands(m), unit, ratio, goal,
			ms(bp), ms(mp), p99Ratio, p99Goal, o.spreadText(), failed(o.baseline), failed(o.mailtrail))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Medians over rounds; ratio = mailtrail ÷ baseline. Baseline spread = (max − min) ÷ median of the baseline's")
	fmt.Fprintln(w, "throughput over rounds: the machine's noise; a ratio closer to 1 than that tells nothing. Failed = requests")
	fmt.Fprintln(w, "without an answer or with status ≥ 400, all rounds.")
}

// printRounds writes every round's figures, to judge the noise behind the medians.
func printRounds(w io.Writer, outs []*outcome) {
	fmt.Fprintln(w, "<details><summary>every round</summary>")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| scenario | conns | round | server | throughput | p50 | p99 | p99.9 | max |")
	fmt.Fprintln(w, "|---|---:|---:|---|---:|---:|---:|---:|---:|")
	for _, o := range outs {
		for i := range o.baseline {
			for _, s := range []struct {
				name string
				rs   []load.Result
			}{{"baseline", o.baseline}, {"mailtrail", o.mailtrail}} {
				if i >= len(s.rs) {
					continue
				}
				r := s.rs[i]
				fmt.Fprintf(w, "| %s | %d | %d | %s | %s | %s | %s | %s | %s |\n", o.sc, o.sc.conns, i+1, s.name,
					thousands(o.rate(r)), ms(r.Latency.Quantile(0.5)), ms(r.Latency.Quantile(0.99)),
					ms(r.Latency.Quantile(0.999)), ms(r.Latency.Max()))
			}
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "</details>")
}

func verdict(ok bool, goal string) string {
	if ok {
		return goal + " met"
	}
	return goal + " MISSED"
}

func safeDiv(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// ms formats d in milliseconds with two decimals.
func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64) + " ms"
}

// thousands formats v rounded to an integer with comma separators.
func thousands(v float64) string {
	s := strconv.FormatInt(int64(v+0.5), 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// cpuModel returns the first "model name" of /proc/cpuinfo, or "unknown CPU".
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for line := range strings.Lines(string(b)) {
		if name, value, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(name) == "model name" {
			return strings.TrimSpace(value)
		}
	}
	return "unknown CPU"
}

// kernel returns the running kernel's release, or "unknown".
func kernel() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(b))
}
