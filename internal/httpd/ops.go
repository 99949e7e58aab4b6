package httpd

import (
	_ "embed"
	"net/http"

	"github.com/mailtrail/mailtrail/internal/metrics"
)

type serverMetrics struct {
	requests        *metrics.CounterVec
	trackInvalid    *metrics.CounterVec
	trackUnrecorded *metrics.CounterVec
	trackOverBudget *metrics.CounterVec
}

func newServerMetrics(reg *metrics.Registry) *serverMetrics {
	return &serverMetrics{
		requests:        reg.NewCounter("mailtrail_http_requests_total", "HTTP requests by route and status.", "route", "status"),
		trackInvalid:    reg.NewCounter("mailtrail_tracking_invalid_total", "Invalid tracking hits: every tracking path answered 404 (click, unsubscribe, other) and pixel hits with an invalid token (open).", "kind"),
		trackOverBudget: reg.NewCounter("mailtrail_tracking_over_budget_total", "Tracking hits answered but not stored: their token was past its hourly budget (--tracking-budget).", "kind"),
		trackUnrecorded: reg.NewCounter("mailtrail_tracking_unrecorded_total", "Tracking hits answered before their event was committed (store slow or failing).", "kind"),
	}
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if err := s.store.Ping(r.Context()); err != nil {
		s.log.ErrorContext(r.Context(), "readyz: store not ready", "err", err.Error())
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "store unavailable"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

func (s *Server) metrics(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	s.opt.Metrics.Write(w)
}

//go:embed openapi.json
var openapiDoc []byte

func (s *Server) openapi(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write(openapiDoc)
}
