package httpd

import (
	"context"
	_ "embed"
	"net/http"

	"github.com/mailtrail/mailtrail"

	"github.com/mailtrail/mailtrail/internal/metrics"
)

type serverMetrics struct {
	requests        *metrics.CounterVec
	trackInvalid    *metrics.CounterVec
	trackUnrecorded *metrics.CounterVec
	trackOverBudget *metrics.CounterVec
	latency         *metrics.HistogramVec
	// readWaitTimeouts counts reads answered 503 because the projection did not reach
	// their position within --read-wait.
	readWaitTimeouts *metrics.CounterVec
}

func newServerMetrics(reg *metrics.Registry) *serverMetrics {
	m := &serverMetrics{
		requests:         reg.NewCounter("mailtrail_http_requests_total", "HTTP requests by route and status.", "route", "status"),
		readWaitTimeouts: reg.NewCounter("mailtrail_read_wait_timeouts_total", "Reads answered 503 because the event log's projection did not reach their position within --read-wait (serve --event-log)."),
		trackInvalid:     reg.NewCounter("mailtrail_tracking_invalid_total", "Invalid tracking hits: every tracking path answered 404 (click, unsubscribe, other) and pixel hits with an invalid token (open).", "kind"),
		trackOverBudget:  reg.NewCounter("mailtrail_tracking_over_budget_total", "Tracking hits answered but not stored: their token was past its hourly budget (--tracking-budget).", "kind"),
		trackUnrecorded:  reg.NewCounter("mailtrail_tracking_unrecorded_total", "Tracking hits answered before their event was committed (store slow or failing).", "kind"),
		latency: reg.NewHistogramVec("mailtrail_http_request_duration_seconds", "Time from a request's arrival to the end of its answer, by route group (tracking, api, reads, webhooks, dashboard, long_poll, ops, unmatched).",
			[]float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}, "group"),
	}
	for _, g := range routeGroups {
		m.latency.Init(g)
	}
	for _, k := range []string{"open", "click", "unsubscribe"} {
		m.trackInvalid.Init(k)
	}
	for _, k := range []string{"open", "click"} {
		m.trackOverBudget.Init(k)
		m.trackUnrecorded.Init(k)
	}
	return m
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

// ReadyCheck is one part of the service that /readyz waits for.
type ReadyCheck struct {
	Name string
	// Check returns nil when the part is ready, else why not (shown in /readyz's answer;
	// it must not hold secrets, addresses or personal data).
	Check func(ctx context.Context) error
}

// readyz answers 200 when the store answers a ping and every Options.Ready check passes,
// else 503 with Retry-After; "checks" names each part with "ok" or why it is not ready.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	checks := map[string]string{"store": "ok"}
	ready := true
	if err := s.store.Ping(r.Context()); err != nil {
		s.log.ErrorContext(r.Context(), "readyz: store not ready", "err", err.Error())
		checks["store"], ready = "unavailable", false
	}
	for _, c := range s.opt.Ready {
		checks[c.Name] = "ok"
		if err := c.Check(r.Context()); err != nil {
			checks[c.Name], ready = err.Error(), false
		}
	}
	if !ready {
		w.Header().Set("Retry-After", "5")
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "not ready", "checks": checks})
		return nil
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "checks": checks})
	return nil
}

// metrics serves the registry, unless a separate metrics listener does (then: 404, so
// the public listener does not show the service's internals).
func (s *Server) metrics(w http.ResponseWriter, r *http.Request) error {
	if s.opt.MetricsElsewhere {
		return mailtrail.Errorf(mailtrail.ENOTFOUND, "no such route: metrics are served on the metrics listener (--metrics-addr)")
	}
	s.scrape.ServeHTTP(w, r)
	return nil
}

//go:embed openapi.json
var openapiDoc []byte

func (s *Server) openapi(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	w.Write(openapiDoc)
	return nil
}
