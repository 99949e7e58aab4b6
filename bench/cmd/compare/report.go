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

// goals are the targets a mode is measured against.
type goals struct {
	issue        string
	throughput   float64       // mailtrail ÷ baseline req/s, pixel and click
	p99          float64       // mailtrail ÷ baseline p99, pixel and click
	ingestEvents float64       // mailtrail events/s, absolute (0: none)
	ingestRatio  float64       // mailtrail ÷ baseline events/s (0: informative only)
	webhookRatio float64       // mailtrail ÷ baseline events/s, SendGrid webhook
	webhookP99   time.Duration // mailtrail p99 of the ×1000 webhook
}

// modeGoals: the store path's goals are issue 2's (and issue 3's for the webhook), the
// event log's issue 16's.
var modeGoals = map[string]goals{
	modeStore: {issue: "2", throughput: 0.7, p99: 2, ingestEvents: 50_000, webhookRatio: 0.5, webhookP99: 250 * time.Millisecond},
	modeLog:   {issue: "16", throughput: 0.8, p99: 1.5, ingestRatio: 0.7, webhookRatio: 0.5, webhookP99: 250 * time.Millisecond},
	// Issue 17 sets no ratio for one node: the log mode's goals, for comparison.
	modeClusterLog: {issue: "16", throughput: 0.8, p99: 1.5, ingestRatio: 0.7, webhookRatio: 0.5, webhookP99: 250 * time.Millisecond},
	modeNode:       {issue: "16", throughput: 0.8, p99: 1.5, ingestRatio: 0.7, webhookRatio: 0.5, webhookP99: 250 * time.Millisecond},
}

// outcome holds every round's result of one scenario on the baseline and on each
// mailtrail mode.
type outcome struct {
	sc        scenario
	modes     []string
	baseline  []load.Result
	mailtrail map[string][]load.Result   // by mode
	catchUp   map[string][]time.Duration // by mode, servers with the event log: wait after each round
	others    map[string][]float64       // by mode ("" for the baseline): CPUs other processes used in each round
	cpu       map[string][]float64       // by mode ("" for the baseline): the server's CPU µs per unit (o.unit) in each round, -1 unknown
}

// unit names what the scenario's throughput counts: an event or a request.
func (o *outcome) unit() string {
	if o.sc.kind == kindIngest || o.sc.kind == kindWebhook {
		return "event"
	}
	return "request"
}

// medianCPU returns the median of a mode's server CPU per unit over rounds, or -1 when a
// round has none.
func (o *outcome) medianCPU(mode string) float64 {
	v := slices.Clone(o.cpu[mode])
	if len(v) == 0 || slices.Contains(v, -1) {
		return -1
	}
	slices.Sort(v)
	if len(v)%2 == 0 {
		return (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	return v[len(v)/2]
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
	fmt.Fprintf(w, "- machine load: at the start %s; at the end %s\n", st.loadAtStart, load.LoadAverage())
	if len(st.othersCPU) > 0 && !slices.Contains(st.othersCPU, -1) {
		v := slices.Sorted(slices.Values(st.othersCPU))
		fmt.Fprintf(w, "- other processes (neither the harness nor its servers) used %.2f CPUs in the median round (min %.2f, max %.2f, of %d)\n",
			v[len(v)/2], v[0], v[len(v)-1], runtime.NumCPU())
	}
	fmt.Fprintln(w)
}

// printTable writes the markdown summary: medians over rounds and ratios, one row per
// scenario and mode.
func printTable(w io.Writer, outs []*outcome) {
	fmt.Fprintln(w, "| scenario | conns | mode | baseline | mailtrail | ratio | goal | baseline p99 | mailtrail p99 | p99 ratio | goal | baseline spread | catch-up | with catch-up | server CPU per unit, baseline / mailtrail | failed b/m |")
	fmt.Fprintln(w, "|---|---:|---|---:|---:|---:|---|---:|---:|---:|---|---:|---:|---:|---:|---:|")
	for _, o := range outs {
		for _, mode := range o.modes {
			g := modeGoals[baseMode(mode)]
			rs := o.mailtrail[mode]
			b, m := o.medianRate(o.baseline), o.medianRate(rs)
			bp, mp := medianP99(o.baseline), medianP99(rs)
			unit, ratio, p99Ratio := "req/s", safeDiv(m, b), safeDiv(float64(mp), float64(bp))
			goal := verdict(ratio >= g.throughput, fmt.Sprintf("≥ %.1f", g.throughput))
			p99Goal := verdict(p99Ratio <= g.p99, fmt.Sprintf("≤ %.1f", g.p99))
			switch o.sc.kind {
			case kindIngest:
				unit, p99Goal = "ev/s", "–"
				switch {
				case g.ingestRatio > 0:
					goal = verdict(ratio >= g.ingestRatio, fmt.Sprintf("≥ %.1f", g.ingestRatio))
				case g.ingestEvents > 0:
					goal = verdict(m >= g.ingestEvents, "≥ "+thousands(g.ingestEvents)+" ev/s")
				default:
					goal = "–"
				}
			case kindWebhook:
				unit, p99Goal = "ev/s", "–"
				goal = verdict(ratio >= g.webhookRatio, fmt.Sprintf("≥ %.1f", g.webhookRatio))
				if o.sc.batch == 1000 {
					p99Goal = verdict(mp < g.webhookP99, "mailtrail < "+ms(g.webhookP99))
				}
			}
			catchUp, with := "–", "–"
			if cs := o.catchUp[mode]; len(cs) > 0 && len(cs) == len(rs) {
				catchUp = ms(medianDuration(cs))
				// The throughput counting the projector's catch-up: what was acknowledged
				// in the round over the round plus the time the store took to hold it.
				v := make([]float64, len(rs))
				for i, r := range rs {
					v[i] = o.rate(r) * r.Elapsed.Seconds() / (r.Elapsed + cs[i]).Seconds()
				}
				slices.Sort(v)
				wm := v[len(v)/2]
				if len(v)%2 == 0 {
					wm = (v[len(v)/2-1] + v[len(v)/2]) / 2
				}
				with = fmt.Sprintf("%s (%.2f)", thousands(wm), safeDiv(wm, b))
			}
			cpu := "–"
			if bc, mc := o.medianCPU(""), o.medianCPU(mode); bc >= 0 && mc >= 0 {
				cpu = fmt.Sprintf("%.1f / %.1f µs", bc, mc)
			}
			fmt.Fprintf(w, "| %s | %d | %s | %s %s | %s %s | %.2f | %s | %s | %s | %.2f | %s | %s | %s | %s | %s | %d / %d |\n",
				o.sc, o.sc.conns, mode, thousands(b), unit, thousands(m), unit, ratio, goal,
				ms(bp), ms(mp), p99Ratio, p99Goal, o.spreadText(), catchUp, with, cpu, failed(o.baseline), failed(rs))
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Medians over rounds; ratio = mailtrail ÷ baseline (the same baseline rounds for every mode). Goals: mode store,")
	fmt.Fprintln(w, "issues 2 and 3; mode log (serve --event-log), issue 16. Baseline spread = (max − min) ÷ median of the baseline's")
	fmt.Fprintln(w, "throughput over rounds: the machine's noise; a ratio closer to 1 than that tells nothing. Catch-up = median time,")
	fmt.Fprintln(w, "after a round with the event log, until the projection had applied every position acknowledged in it (not")
	fmt.Fprintln(w, "counted in the throughput; the next round waits for it). With catch-up = median of the round's acknowledged")
	fmt.Fprintln(w, "work ÷ (round + its catch-up), and its ratio to the baseline: the rate the store keeps up with. Failed =")
	fmt.Fprintln(w, "requests without an answer or with status ≥ 400, all rounds. Server CPU per unit = median over rounds of the")
	fmt.Fprintln(w, "server process's user + system CPU from the round's warm-up to the end of its catch-up, over the round's")
	fmt.Fprintln(w, "events or requests (the warm-up's counted at the round's rate): what a unit costs, whatever else runs.")
}

// printRounds writes every round's figures, to judge the noise behind the medians.
func printRounds(w io.Writer, outs []*outcome) {
	fmt.Fprintln(w, "<details><summary>every round</summary>")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| scenario | conns | round | server | throughput | p50 | p99 | p99.9 | max | catch-up | others, CPUs | failed (status: count) |")
	fmt.Fprintln(w, "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---|")
	for _, o := range outs {
		for i := range o.baseline {
			type run struct {
				name    string
				rs      []load.Result
				catchUp []time.Duration
				others  []float64
			}
			runs := []run{{"baseline", o.baseline, nil, o.others[""]}}
			for _, mode := range o.modes {
				runs = append(runs, run{"mailtrail " + mode, o.mailtrail[mode], o.catchUp[mode], o.others[mode]})
			}
			for _, s := range runs {
				if i >= len(s.rs) {
					continue
				}
				r := s.rs[i]
				catchUp, others := "–", "–"
				if i < len(s.catchUp) {
					catchUp = ms(s.catchUp[i])
				}
				if i < len(s.others) && s.others[i] >= 0 {
					others = fmt.Sprintf("%.2f", s.others[i])
				}
				fmt.Fprintf(w, "| %s | %d | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", o.sc, o.sc.conns, i+1, s.name,
					thousands(o.rate(r)), ms(r.Latency.Quantile(0.5)), ms(r.Latency.Quantile(0.99)),
					ms(r.Latency.Quantile(0.999)), ms(r.Latency.Max()), catchUp, others, failedText(r))
			}
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "</details>")
}

// failedText returns a round's failed requests with their statuses, e.g. "3 (503: 2, no answer: 1)".
func failedText(r load.Result) string {
	n := r.Failed()
	if n == 0 {
		return "0"
	}
	var parts []string
	codes := make([]int, 0, len(r.Status))
	for c := range r.Status {
		if c >= 400 {
			codes = append(codes, c)
		}
	}
	slices.Sort(codes)
	for _, c := range codes {
		parts = append(parts, fmt.Sprintf("%d: %d", c, r.Status[c]))
	}
	if r.Errors > 0 {
		parts = append(parts, fmt.Sprintf("no answer: %d", r.Errors))
	}
	return fmt.Sprintf("%d (%s)", n, strings.Join(parts, ", "))
}

// printServerLogs writes, per mailtrail server, its log lines by level and the first
// distinct warnings and errors, so a run that had them says so.
func printServerLogs(w io.Writer, ts []*target) {
	fmt.Fprintln(w, "Server logs:")
	fmt.Fprintln(w)
	for _, t := range ts {
		sum, err := summarizeLog(t.srv.log)
		if err != nil {
			fmt.Fprintf(w, "- %s: %v\n", t.name, err)
			continue
		}
		levels := make([]string, 0, len(sum.levels))
		for l, n := range sum.levels {
			levels = append(levels, fmt.Sprintf("%s %d", l, n))
		}
		slices.Sort(levels)
		crash := ""
		if sum.panicked {
			crash = ", PANICKED"
		}
		fmt.Fprintf(w, "- %s: log lines by level [%s], %d not JSON%s\n", t.name, strings.Join(levels, ", "), sum.other, crash)
		for _, n := range sum.notable {
			if c := sum.counts[n]; c > 1 {
				fmt.Fprintf(w, "  - `%s` ×%d\n", n, c)
			} else {
				fmt.Fprintf(w, "  - `%s`\n", n)
			}
		}
	}
}

func medianDuration(ds []time.Duration) time.Duration {
	v := slices.Clone(ds)
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
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
