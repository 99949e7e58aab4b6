// Package metrics is a small registry of counters, gauges and histograms written in the
// Prometheus text exposition format. It has no global state: the binary creates one
// Registry and hands it to the packages that record.
package metrics

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
)

// Registry holds metric families in registration order.
type Registry struct {
	mu       sync.Mutex
	families []family
}

type family interface {
	write(w io.Writer)
}

// New returns an empty registry.
func New() *Registry { return &Registry{} }

func (r *Registry) add(f family) {
	r.mu.Lock()
	r.families = append(r.families, f)
	r.mu.Unlock()
}

// Write writes every family in the text format.
func (r *Registry) Write(w io.Writer) {
	r.mu.Lock()
	fs := append([]family(nil), r.families...)
	r.mu.Unlock()
	for _, f := range fs {
		f.write(w)
	}
}

// labelKey joins label values; values are escaped when written.
func labelKey(vals []string) string { return strings.Join(vals, "\xff") }

func escape(s string) string {
	return strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`).Replace(s)
}

func labelString(names, vals []string, extra string) string {
	if len(names) == 0 && extra == "" {
		return ""
	}
	parts := make([]string, 0, len(names)+1)
	for i, n := range names {
		parts = append(parts, fmt.Sprintf(`%s="%s"`, n, escape(vals[i])))
	}
	if extra != "" {
		parts = append(parts, extra)
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// CounterVec is a counter family with labels.
type CounterVec struct {
	name, help string
	labels     []string
	mu         sync.Mutex
	vals       map[string]*atomic.Int64
	order      map[string][]string
}

// NewCounter registers a counter family.
func (r *Registry) NewCounter(name, help string, labels ...string) *CounterVec {
	c := &CounterVec{name: name, help: help, labels: labels, vals: map[string]*atomic.Int64{}, order: map[string][]string{}}
	r.add(c)
	return c
}

// Add adds n to the counter with these label values (in registration order).
func (c *CounterVec) Add(n int64, vals ...string) {
	k := labelKey(vals)
	c.mu.Lock()
	v, ok := c.vals[k]
	if !ok {
		v = new(atomic.Int64)
		c.vals[k] = v
		c.order[k] = append([]string(nil), vals...)
	}
	c.mu.Unlock()
	v.Add(n)
}

// Inc adds one.
func (c *CounterVec) Inc(vals ...string) { c.Add(1, vals...) }

// Value returns the current value for these label values (for tests).
func (c *CounterVec) Value(vals ...string) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if v, ok := c.vals[labelKey(vals)]; ok {
		return v.Load()
	}
	return 0
}

func (c *CounterVec) write(w io.Writer) {
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s counter\n", c.name, c.help, c.name)
	c.mu.Lock()
	keys := make([]string, 0, len(c.vals))
	for k := range c.vals {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "%s%s %d\n", c.name, labelString(c.labels, c.order[k], ""), c.vals[k].Load())
	}
	c.mu.Unlock()
}

// Gauge is a value read when metrics are written.
type Gauge struct {
	name, help string
	fn         func() float64
}

// NewGauge registers a gauge whose value fn returns at scrape time.
func (r *Registry) NewGauge(name, help string, fn func() float64) {
	r.add(&Gauge{name: name, help: help, fn: fn})
}

func (g *Gauge) write(w io.Writer) {
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s gauge\n%s %g\n", g.name, g.help, g.name, g.name, g.fn())
}

// Histogram counts observations in fixed buckets.
type Histogram struct {
	name, help string
	bounds     []float64
	mu         sync.Mutex
	counts     []int64
	sum        float64
	n          int64
}

// NewHistogram registers a histogram with the given upper bounds (ascending).
func (r *Registry) NewHistogram(name, help string, bounds ...float64) *Histogram {
	h := &Histogram{name: name, help: help, bounds: bounds, counts: make([]int64, len(bounds)+1)}
	r.add(h)
	return h
}

// Observe records v.
func (h *Histogram) Observe(v float64) {
	i := sort.SearchFloat64s(h.bounds, v)
	h.mu.Lock()
	h.counts[i]++
	h.sum += v
	h.n++
	h.mu.Unlock()
}

func (h *Histogram) write(w io.Writer) {
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s histogram\n", h.name, h.help, h.name)
	h.mu.Lock()
	defer h.mu.Unlock()
	var cum int64
	for i, b := range h.bounds {
		cum += h.counts[i]
		fmt.Fprintf(w, "%s_bucket{le=\"%g\"} %d\n", h.name, b, cum)
	}
	cum += h.counts[len(h.bounds)]
	fmt.Fprintf(w, "%s_bucket{le=\"+Inf\"} %d\n%s_sum %g\n%s_count %d\n", h.name, cum, h.name, h.sum, h.name, h.n)
}
