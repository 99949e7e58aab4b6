package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/mailtrail/mailtrail/internal/httpd"
	"github.com/mailtrail/mailtrail/internal/rungroup"
)

// parts records which background parts of serve are running: the ingest pipeline, the
// outbound dispatcher and the bounce-mailbox poller. /readyz waits for each.
type parts struct {
	mu      sync.Mutex
	running map[string]bool
}

// background parts started by serve, in /readyz's order.
var backgroundParts = []string{"pipeline", "outbound", "mailbox"}

// run marks name running while f runs.
func (p *parts) run(name string, f func()) {
	p.set(name, true)
	defer p.set(name, false)
	f()
}

func (p *parts) set(name string, on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.running == nil {
		p.running = map[string]bool{}
	}
	p.running[name] = on
}

func (p *parts) isRunning(name string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.running[name]
}

// readyChecks are /readyz's checks besides the store ping: the segment index built, and
// every background part running.
func (a *app) readyChecks() []httpd.ReadyCheck {
	checks := []httpd.ReadyCheck{{Name: "segment_index", Check: func(context.Context) error {
		if a.segments.LoadError() != nil {
			return errors.New("failed to load; see the server log")
		}
		if !a.segments.Ready() {
			return errors.New("loading")
		}
		return nil
	}}}
	names := backgroundParts
	if a.logged != nil {
		names = append(slices.Clone(names), "projector")
	}
	if a.node != nil {
		// The webhook deliveries and the mailboxes run on one API node at a time.
		names = []string{"pipeline", "follow"}
	}
	for _, name := range names {
		checks = append(checks, httpd.ReadyCheck{Name: name, Check: func(context.Context) error {
			if !a.parts.isRunning(name) {
				return errors.New("not running")
			}
			return nil
		}})
	}
	return checks
}

// registerOpsMetrics registers the gauges of readiness, the segment index and the queue.
func (a *app) registerOpsMetrics() {
	a.metrics.NewGauge("mailtrail_ingest_queue_capacity", "Events the ingest queue holds at most (--max-queue); past it requests wait, then get 503.",
		func() float64 { return float64(a.cfg.MaxQueue) })
	a.metrics.NewGauge("mailtrail_segment_index_ready", "1 once the segment index is built from the store, else 0 (segment requests answer 503).",
		func() float64 { return boolFloat(a.segments.Ready()) })
	a.metrics.NewGauge("mailtrail_segment_index_loaded_from_snapshot", "1 when serve loaded the segment index from its snapshot (and the events since), 0 when it built it from the store.",
		func() float64 { return boolFloat(a.segmentsFromSnapshot.Load()) })
	a.segmentSnapshots = a.metrics.NewCounter("mailtrail_segment_snapshots_total", "Segment index snapshots written (every --segment-snapshot-interval and at a clean stop), by result (written, failed).", "result")
	a.segmentSnapshots.Init("written")
	a.segmentSnapshots.Init("failed")
	var mu sync.Mutex
	var at time.Time
	var bytes float64
	a.metrics.NewGauge("mailtrail_segment_index_memory_bytes", "Estimated bytes held by the segment index (bitmaps, event logs, customer ids; recomputed at most every 15 s).",
		func() float64 {
			mu.Lock()
			defer mu.Unlock()
			if time.Since(at) > 15*time.Second {
				bytes, at = float64(a.segments.MemoryBytes()), time.Now()
			}
			return bytes
		})
	checks := a.readyChecks()
	a.metrics.NewGaugeVec("mailtrail_component_ready", "1 when a part /readyz checks is ready (store, segment_index, pipeline, outbound, mailbox), else 0.", "component",
		func() map[string]float64 {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			out := map[string]float64{"store": boolFloat(a.st.Ping(ctx) == nil)}
			for _, c := range checks {
				out[c.Name] = boolFloat(c.Check(ctx) == nil)
			}
			return out
		})
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// newAccessLogger returns the access log's logger (--access-log): the format of the
// service log, at info whatever --log-level says; nil when the access log is off.
func newAccessLogger(cfg *Config, w io.Writer) *slog.Logger {
	if !cfg.AccessLog {
		return nil
	}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, nil))
	}
	return slog.New(slog.NewJSONHandler(w, nil))
}

// metricsPart serves /metrics on the --metrics-addr listener (opened by serve before the
// store, like the main one) until it is stopped. A listener that fails is logged; the
// service goes on without it.
func metricsPart(a *app, ln net.Listener) rungroup.Part {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", a.metrics.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second, MaxHeaderBytes: 16 << 10}
	return rungroup.Part{Name: "metrics",
		Run: func(context.Context) error {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				a.log.Error("metrics listener", "err", err.Error())
			}
			return nil
		},
		Stop: func(ctx context.Context) error { _ = srv.Shutdown(ctx); return nil }}
}
