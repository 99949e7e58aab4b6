package main

import (
	"bufio"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// metricRow is a row of docs/metrics.md's reference table.
type metricRow struct {
	name   string
	prefix bool // a `go_*` row: every family of that prefix
	labels bool // the family has labels: a label set appears from its first sample
}

// docMetrics reads the reference table of docs/metrics.md: rows "| `name` | type |
// labels | meaning |" (labels "–" for none).
func docMetrics(t *testing.T) []metricRow {
	t.Helper()
	f, err := os.Open("../../docs/metrics.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	row := regexp.MustCompile("^\\| `([a-z_]+)(\\*?)` \\| [a-z*]+ \\| ([^|]+) \\|")
	var out []metricRow
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		m := row.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		out = append(out, metricRow{name: m[1], prefix: m[2] == "*", labels: strings.TrimSpace(m[3]) != "–"})
	}
	if len(out) < 20 {
		t.Fatalf("docs/metrics.md: only %d rows in the reference table", len(out))
	}
	return out
}

// scrapedFamilies returns the family names of a Prometheus text exposition.
func scrapedFamilies(text string) []string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if rest, ok := strings.CutPrefix(l, "# TYPE "); ok {
			out = append(out, strings.Fields(rest)[0])
		}
	}
	return out
}

// TestMetricsReference scrapes /metrics of the wired service and compares its families
// with docs/metrics.md, both ways: every scraped family is documented, and every
// documented family is scraped (a labelled one may have no sample yet: it must then be
// registered). go_* and process_* are matched by prefix.
func TestMetricsReference(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.EventLog = true }) // every family, the event log's too
	newRetentionJob(h.app)                                    // serve registers it at its start
	h.org("acme")
	resp := h.do("GET", "/metrics", "", nil, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("/metrics: %d", resp.StatusCode)
	}
	body, _ := io.ReadAll(resp.Body)
	scraped := scrapedFamilies(string(body))
	registered := h.app.metrics.Names()
	rows := docMetrics(t)
	documented := func(name string) bool {
		return slices.ContainsFunc(rows, func(r metricRow) bool {
			return r.name == name || r.prefix && strings.HasPrefix(name, r.name)
		})
	}
	all := append(slices.Clone(scraped), registered...)
	slices.Sort(all)
	for _, name := range slices.Compact(all) {
		if !documented(name) {
			t.Errorf("%s is exported but not in docs/metrics.md", name)
		}
	}
	for _, r := range rows {
		switch {
		case r.prefix:
			if !slices.ContainsFunc(scraped, func(n string) bool { return strings.HasPrefix(n, r.name) }) {
				t.Errorf("docs/metrics.md: no family %s* in the scrape", r.name)
			}
		case slices.Contains(scraped, r.name):
		case r.labels && slices.Contains(registered, r.name):
		default:
			t.Errorf("docs/metrics.md: %s is documented but not exported", r.name)
		}
	}
	for _, want := range []string{"go_goroutines", "process_resident_memory_bytes", "mailtrail_http_request_duration_seconds", "mailtrail_segment_index_memory_bytes"} {
		if !slices.Contains(scraped, want) {
			t.Errorf("scrape lacks %s", want)
		}
	}
	if t.Failed() {
		t.Logf("scraped: %s", strings.Join(scraped, " "))
	}
}
