package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// printTable writes the curve: per offered rate, medians over rounds.
func printTable(w io.Writer, st settings, results map[int][]stepResult) {
	fmt.Fprintf(w, "| offered ev/s | acked ev/s | ack p50 | ack p99 | lag p50 | lag p99 | lag p99, worst round | lag max | max lag, positions | events per position | catch-up | server CPU | failed | kept up (lag p99 < %v) |\n", st.lagGoal)
	fmt.Fprintln(w, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
	best := 0
	for _, rate := range uniqueRates(st.rates) {
		rs := results[rate]
		f := func(g func(stepResult) float64) float64 { return median(rs, g) }
		d := func(g func(stepResult) time.Duration) time.Duration {
			return time.Duration(f(func(r stepResult) float64 { return float64(g(r)) }))
		}
		var worst, lagMax time.Duration
		failed, kept, censored := 0, 0, 0
		for _, r := range rs {
			worst = max(worst, r.lagP99)
			lagMax = max(lagMax, r.lagMax)
			failed += r.failed
			censored += r.censored
			if r.keptUp(st.lagGoal) {
				kept++
			}
		}
		med := stepResult{
			offered: rate,
			ackRate: f(func(r stepResult) float64 { return r.ackRate }),
			lagP99:  d(func(r stepResult) time.Duration { return r.lagP99 }),
			failed:  failed,
		}
		verdict := "no"
		if med.keptUp(st.lagGoal) {
			verdict = "yes"
			if rate > best {
				best = rate
			}
		}
		verdict += fmt.Sprintf(" (%d of %d rounds)", kept, len(rs))
		lb := ""
		if censored > 0 {
			lb = "≥ "
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s%s | %s%s | %s%s | %s%s | %s | %.1f | %s%s | %.2f | %d | %s |\n",
			thousands(float64(rate)), thousands(med.ackRate),
			ms(d(func(r stepResult) time.Duration { return r.ackP50 })), ms(d(func(r stepResult) time.Duration { return r.ackP99 })),
			lb, ms(d(func(r stepResult) time.Duration { return r.lagP50 })), lb, ms(med.lagP99), lb, ms(worst), lb, ms(lagMax),
			thousands(f(func(r stepResult) float64 { return float64(r.maxLagPositions) })),
			f(func(r stepResult) float64 { return r.eventsPerPosition }),
			lb, ms(d(func(r stepResult) time.Duration { return r.catchUp })),
			f(func(r stepResult) float64 { return r.serverCPU }), failed, verdict)
	}
	fmt.Fprintln(w)
	if best > 0 {
		fmt.Fprintf(w, "Sustained: **%s events/s**, the highest offered rate acknowledged in full (≥ 95 %% of it, no failed request) with a median lag p99 under %v.\n\n",
			thousands(float64(best)), st.lagGoal)
	} else {
		fmt.Fprintf(w, "Sustained: **none of the offered rates** was acknowledged in full with a median lag p99 under %v.\n\n", st.lagGoal)
	}
	fmt.Fprintln(w, "Medians over rounds. Acked = events acknowledged (200) ÷ the time from the step's first scheduled send to the later of")
	fmt.Fprintln(w, "its end and the last acknowledgement. Ack latencies run from the scheduled send (open loop: a late send counts).")
	if st.lagBy == lagByMetrics {
		fmt.Fprintln(w, "Lag = time from a batch's acknowledgement to the first /metrics sample whose mailtrail_projection_position is at")
		fmt.Fprintln(w, "or past the batch's Mailtrail-Log-Position (sample time: the middle of its request; resolution about the poll")
		fmt.Fprintln(w, "interval).")
	} else {
		fmt.Fprintln(w, "Lag = time from a batch's acknowledgement to the answer of GET /api/v1/settings sent right after it with")
		fmt.Fprintln(w, "Mailtrail-After: the batch's Mailtrail-Log-Position (the server answers once the projection holds it; asked")
		fmt.Fprintln(w, "again after each 503 of --read-wait).")
	}
	fmt.Fprintf(w, "\"≥\": some batches were not projected %v after the step's end; their lag counts as of then (a lower bound).\n", st.drain)
	fmt.Fprintln(w, "Max lag, positions: the largest mailtrail_eventlog_position − mailtrail_projection_position seen in /metrics.")
	fmt.Fprintln(w, "Catch-up: from the step's end until the projection held every acknowledged batch. Server CPU: cores the mailtrail")
	fmt.Fprintln(w, "process used from the step's start to its catch-up. Failed: requests not acknowledged (status, no answer, or not")
	fmt.Fprintln(w, "sent past -max-inflight), all rounds.")
}

// printRounds writes every step's figures.
func printRounds(w io.Writer, st settings, results map[int][]stepResult) {
	fmt.Fprintln(w, "<details><summary>every step</summary>")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| round | offered ev/s | stored before | acked ev/s | ack p50 | ack p99 | lag p50 | lag p99 | lag max | not projected in time | max lag, positions | catch-up | server CPU | others, CPUs | appended − acked | rejected | /metrics reads | read-wait 503s | failed |")
	fmt.Fprintln(w, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
	var all []stepResult
	for _, rate := range uniqueRates(st.rates) {
		all = append(all, results[rate]...)
	}
	slices.SortStableFunc(all, func(a, b stepResult) int { return a.round - b.round })
	for _, r := range all {
		lb := lowerBound(r)
		fmt.Fprintf(w, "| %d | %s | %s | %s | %s | %s | %s%s | %s%s | %s%s | %d | %s | %s%s | %.2f | %.2f | %s | %s | %d | %d | %s |\n", r.round,
			thousands(float64(r.offered)), thousands(r.storeBefore), thousands(r.ackRate), ms(r.ackP50), ms(r.ackP99),
			lb, ms(r.lagP50), lb, ms(r.lagP99), lb, ms(r.lagMax), r.censored, thousands(float64(r.maxLagPositions)),
			lb, ms(r.catchUp), r.serverCPU, r.othersCPU, thousands(r.appended-float64(r.acked*st.batch)), thousands(r.rejected),
			r.polls, r.readWaits, failedText(r))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Others: CPUs used by other processes than this one and the server (the shared machine's noise).")
	fmt.Fprintln(w, "Stored before: events the server's pipeline had committed before the step (mailtrail_ingest_batch_events_sum).")
	fmt.Fprintln(w, "Appended − acked: events committed to the log during the step beyond those acknowledged (work for requests")
	fmt.Fprintln(w, "answered 503 after the committer took them). Rejected: mailtrail_ingest_rejected_events_total during the step.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "</details>")
}

func failedText(r stepResult) string {
	if r.failed == 0 {
		return "0"
	}
	var parts []string
	for k, n := range r.statuses {
		parts = append(parts, fmt.Sprintf("%s: %d", k, n))
	}
	slices.Sort(parts)
	return fmt.Sprintf("%d (%s)", r.failed, strings.Join(parts, ", "))
}

// logSummary counts the server logs' lines by level and their distinct warnings and
// errors (message, route, status, err), over every server of the run.
type logSummary struct {
	levels map[string]int
	counts map[string]int
	order  []string
	other  int
	errs   []string
}

func newLogSummary() *logSummary {
	return &logSummary{levels: map[string]int{}, counts: map[string]int{}}
}

// add reads one server's log.
func (l *logSummary) add(path string) {
	f, err := os.Open(path)
	if err != nil {
		l.errs = append(l.errs, err.Error())
		return
	}
	defer f.Close()
	note := func(key string) {
		if l.counts[key] == 0 {
			l.order = append(l.order, key)
		}
		l.counts[key]++
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		var rec struct {
			Level  string `json:"level"`
			Msg    string `json:"msg"`
			Err    string `json:"err"`
			Route  string `json:"route"`
			Status int    `json:"status"`
		}
		if json.Unmarshal(sc.Bytes(), &rec) != nil || rec.Level == "" {
			l.other++
			if line := sc.Text(); strings.HasPrefix(line, "panic:") || strings.HasPrefix(line, "fatal error:") {
				note("CRASH " + line)
			}
			continue
		}
		l.levels[rec.Level]++
		if rec.Level != "WARN" && rec.Level != "ERROR" {
			continue
		}
		key := rec.Level + " " + rec.Msg
		if rec.Route != "" {
			key += " " + rec.Route
		}
		if rec.Status != 0 {
			key += " status " + strconv.Itoa(rec.Status)
		}
		if rec.Err != "" {
			key += ": " + rec.Err
		}
		if len(key) > 200 {
			key = key[:200] + "…"
		}
		note(key)
	}
}

// print writes the summary.
func (l *logSummary) print(w io.Writer, servers int) {
	var ls []string
	for lv, n := range l.levels {
		ls = append(ls, fmt.Sprintf("%s %d", lv, n))
	}
	slices.Sort(ls)
	fmt.Fprintf(w, "Server logs (%d servers): lines by level [%s], %d not JSON.\n", servers, strings.Join(ls, ", "), l.other)
	for i, k := range l.order {
		if i == 12 {
			fmt.Fprintf(w, "- … %d more distinct\n", len(l.order)-i)
			break
		}
		fmt.Fprintf(w, "- `%s` ×%d\n", k, l.counts[k])
	}
	for _, e := range l.errs {
		fmt.Fprintf(w, "- (could not read a log: %s)\n", e)
	}
}

func median(rs []stepResult, f func(stepResult) float64) float64 {
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

// ms formats d in milliseconds with one decimal.
func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 1, 64) + " ms"
}

// thousands formats v rounded to an integer with comma separators.
func thousands(v float64) string {
	neg := v < 0
	if neg {
		v = -v
	}
	s := strconv.FormatInt(int64(v+0.5), 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "−" + b.String()
	}
	return b.String()
}

// uniqueRates returns rates without repeats, in their first order (-rates may repeat one
// rate to follow a growing store; results holds every step of a rate once).
func uniqueRates(rates []int) []int {
	var out []int
	for _, r := range rates {
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}
