// Package metrics is mailtrail's thin layer over the Prometheus Go client: one private
// prometheus.Registry per process (never the client's global one), the Go runtime and
// process collectors, and the small constructors the packages record with (NewCounter,
// NewGauge, NewHistogram, NewHistogramVec). It has no global state: the binary creates one
// Registry and hands it to the packages that record.
package metrics

import (
	"errors"
	"io"
	"net/http"
	"sort"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// Registry is a private Prometheus registry with the Go runtime and process collectors.
type Registry struct {
	reg *prometheus.Registry

	mu    sync.Mutex
	names map[string]bool // families registered through this package
}

// New returns a registry holding only the Go runtime (go_*) and process (process_*)
// collectors.
func New() *Registry {
	r := &Registry{reg: prometheus.NewRegistry(), names: map[string]bool{}}
	r.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return r
}

// Prometheus returns the underlying registry, to register a collector of one's own.
func (r *Registry) Prometheus() *prometheus.Registry { return r.reg }

// Names returns the names of the families registered through this package (not the
// runtime and process ones), sorted. A labelled family appears in a scrape only once it
// has a sample; Names lists it from its registration on.
func (r *Registry) Names() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, 0, len(r.names))
	for n := range r.names {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// register registers c, or returns the collector already registered under the same
// name and labels (registering twice is then harmless: both callers share one family).
func (r *Registry) register(name string, c prometheus.Collector) prometheus.Collector {
	if err := r.reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			return are.ExistingCollector
		}
		panic("metrics: " + name + ": " + err.Error()) // a programming error: bad name or clashing labels
	}
	r.mu.Lock()
	r.names[name] = true
	r.mu.Unlock()
	return c
}

// Handler serves the registry in the Prometheus exposition formats (text 0.0.4, or
// OpenMetrics and protobuf when the scraper asks for them).
func (r *Registry) Handler() http.Handler {
	return promhttp.HandlerFor(r.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// Write writes every family in the text format 0.0.4. It returns the first error of
// gathering or writing; what could be gathered is written.
func (r *Registry) Write(w io.Writer) error {
	mfs, gerr := r.reg.Gather()
	enc := expfmt.NewEncoder(w, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			return err
		}
	}
	return gerr
}

// CounterVec is a counter family with labels (or none).
type CounterVec struct{ v *prometheus.CounterVec }

// NewCounter registers a counter family. Without labels its one counter is exported from
// the start, at 0; with labels, each label set from its first Add (or Init).
func (r *Registry) NewCounter(name, help string, labels ...string) *CounterVec {
	v := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	if ex, ok := r.register(name, v).(*prometheus.CounterVec); ok {
		v = ex
	}
	c := &CounterVec{v: v}
	if len(labels) == 0 {
		c.Init()
	}
	return c
}

// Add adds n to the counter with these label values (in registration order). A wrong
// number of values, or a negative n, records nothing.
func (c *CounterVec) Add(n int64, vals ...string) {
	if n < 0 {
		return
	}
	if m, err := c.v.GetMetricWithLabelValues(vals...); err == nil {
		m.Add(float64(n))
	}
}

// Inc adds one.
func (c *CounterVec) Inc(vals ...string) { c.Add(1, vals...) }

// Init exports the counter with these label values at 0 until it is first incremented.
func (c *CounterVec) Init(vals ...string) { c.Add(0, vals...) }

// Value returns the current value for these label values (for tests); 0 when unknown.
func (c *CounterVec) Value(vals ...string) int64 {
	m, err := c.v.GetMetricWithLabelValues(vals...)
	if err != nil {
		return 0
	}
	var d dto.Metric
	if err := m.Write(&d); err != nil {
		return 0
	}
	return int64(d.GetCounter().GetValue())
}

// NewGauge registers a gauge whose value fn returns at scrape time. fn runs on the
// scraping goroutine and must be cheap and safe for concurrent use. Registering the same
// name again replaces the function.
func (r *Registry) NewGauge(name, help string, fn func() float64) {
	g := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, fn)
	if ex := r.register(name, g); ex != prometheus.Collector(g) {
		r.reg.Unregister(ex)
		r.register(name, g)
	}
}

// NewGaugeVec registers a gauge family with labels whose values fn returns at scrape
// time, one per label set (the map's key is the one label's value). fn must be cheap and
// safe for concurrent use.
func (r *Registry) NewGaugeVec(name, help, label string, fn func() map[string]float64) {
	r.register(name, &gaugeMap{desc: prometheus.NewDesc(name, help, []string{label}, nil), fn: fn})
}

type gaugeMap struct {
	desc *prometheus.Desc
	fn   func() map[string]float64
}

func (g *gaugeMap) Describe(ch chan<- *prometheus.Desc) { ch <- g.desc }

func (g *gaugeMap) Collect(ch chan<- prometheus.Metric) {
	for k, v := range g.fn() {
		ch <- prometheus.MustNewConstMetric(g.desc, prometheus.GaugeValue, v, k)
	}
}

// Histogram counts observations in fixed buckets.
type Histogram struct{ h prometheus.Histogram }

// NewHistogram registers a histogram with the given upper bounds (ascending).
func (r *Registry) NewHistogram(name, help string, bounds ...float64) *Histogram {
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: name, Help: help, Buckets: bounds})
	if ex, ok := r.register(name, h).(prometheus.Histogram); ok {
		h = ex
	}
	return &Histogram{h: h}
}

// Observe records v.
func (h *Histogram) Observe(v float64) { h.h.Observe(v) }

// HistogramVec is a histogram family with labels.
type HistogramVec struct{ v *prometheus.HistogramVec }

// NewHistogramVec registers a histogram family with the given upper bounds (ascending)
// and label names.
func (r *Registry) NewHistogramVec(name, help string, bounds []float64, labels ...string) *HistogramVec {
	v := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: bounds}, labels)
	if ex, ok := r.register(name, v).(*prometheus.HistogramVec); ok {
		v = ex
	}
	return &HistogramVec{v: v}
}

// Observe records v under these label values; a wrong number of values records nothing.
func (h *HistogramVec) Observe(v float64, vals ...string) {
	if o, err := h.v.GetMetricWithLabelValues(vals...); err == nil {
		o.Observe(v)
	}
}

// Init exports the histogram with these label values, empty, before its first
// observation.
func (h *HistogramVec) Init(vals ...string) { _, _ = h.v.GetMetricWithLabelValues(vals...) }
