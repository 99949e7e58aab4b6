package httpd

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/mailtrail/mailtrail"
)

// Projection is what the API knows of the event log and the projection behind it, when
// writes are acknowledged on the log (serve --event-log): positions are the log's.
type Projection interface {
	// Written returns the position of the last write the log acknowledged.
	Written() uint64
	// Applied returns the position the projection (what reads see) has applied.
	Applied() uint64
	// WaitFor waits until Applied ≥ pos, or returns ctx's error.
	WaitFor(ctx context.Context, pos uint64) error
}

// Headers of read-your-writes (docs/api.md, "Read your writes").
const (
	// HeaderPosition answers a write with the log position that holds it.
	HeaderPosition = "Mailtrail-Log-Position"
	// HeaderAfter asks a read to wait until the projection holds that position (as does
	// the after query parameter).
	HeaderAfter = "Mailtrail-After"
	// HeaderLag tells how many log positions the projection was behind the log when the
	// read was answered.
	HeaderLag = "Mailtrail-Projection-Lag"
)

// readsYourWrites are the reads that see every write acknowledged before them without
// asking: a suppression check right after a bounce webhook's 200, journey checks and
// waits, a suppression's list and history.
var readsYourWrites = map[string]bool{
	"/api/v1/suppressions/check":           true,
	"/api/v1/suppressions":                 true,
	"/api/v1/suppressions/{email}/history": true,
	"/api/v1/customers/{customer}/did":     true,
	"/api/v1/customers/{customer}/wait":    true,
}

// appendsOnly are the write routes whose changes go through the event log only (or touch
// nothing events derive from): they do not wait for the projection. Every other write
// changes the store directly (a suppression removed, a setting changed, a customer
// erased) and first waits until the store has applied every event acknowledged before
// it, so the two apply in the order they were acknowledged — as without the log.
var appendsOnly = map[string]bool{
	"/api/v1/events":   true,
	"/api/v1/messages": true,
}

// errProjectionBehind answers a read whose position the projection did not reach in time.
var errProjectionBehind = mailtrail.Errorf(mailtrail.EUNAVAILABLE, "the projection has not reached the position this read waits for yet; retry shortly")

// fresh returns next behind read-your-writes when the server has a Projection: a read
// waits (at most Options.ReadWait) until the projection holds the position it asks for
// (?after= or Mailtrail-After), or every write acknowledged before it on the routes of
// readsYourWrites and on writes to the store (not appendsOnly), and answers 503 with
// Retry-After past that; every answer says the projection's lag, and a write's 2xx the
// log position holding it.
func (s *Server) fresh(rt Route, next handlerFunc) handlerFunc {
	p := s.opt.Projection
	if p == nil || (rt.access == public && !strings.HasPrefix(rt.Pattern, "/webhooks/")) {
		return next // tracking pages and probes say nothing of the log
	}
	write := rt.Method != http.MethodGet && rt.access != keyRead
	always := readsYourWrites[rt.Pattern] && (rt.Method == http.MethodGet || rt.access == keyRead) ||
		rt.access == keyWrite && !appendsOnly[rt.Pattern]
	return func(w http.ResponseWriter, r *http.Request) error {
		var want uint64
		if always {
			want = p.Written()
		}
		raw := r.URL.Query().Get("after")
		if raw == "" {
			raw = r.Header.Get(HeaderAfter)
		}
		if raw != "" {
			after, err := strconv.ParseUint(raw, 10, 64)
			if err != nil {
				return mailtrail.Errorf(mailtrail.EINVALID, "after must be a log position (a non-negative integer, from the %s header of a write)", HeaderPosition)
			}
			want = max(want, after)
		}
		if want > p.Applied() {
			ctx, cancel := context.WithTimeout(r.Context(), s.opt.ReadWait)
			err := p.WaitFor(ctx, want)
			cancel()
			if err != nil {
				s.m.readWaitTimeouts.Inc()
				return errProjectionBehind
			}
		}
		h := w.Header()
		h.Set(HeaderLag, strconv.FormatUint(sub0(p.Written(), p.Applied()), 10))
		if write {
			w = &positionWriter{ResponseWriter: w, p: p}
		}
		return next(w, r)
	}
}

// sub0 returns a−b, or 0 when b ≥ a.
func sub0(a, b uint64) uint64 {
	if b >= a {
		return 0
	}
	return a - b
}

// positionWriter sets a write's log position on its 2xx answer: the last position the log
// acknowledged when the answer starts, which holds the request's events (it was
// acknowledged before) — a read after it sees them.
type positionWriter struct {
	http.ResponseWriter
	p     Projection
	wrote bool
}

func (w *positionWriter) WriteHeader(code int) {
	if !w.wrote {
		w.wrote = true
		if code >= 200 && code < 300 {
			w.Header().Set(HeaderPosition, strconv.FormatUint(w.p.Written(), 10))
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *positionWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *positionWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *positionWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// defaultReadWait is Options.ReadWait's default.
const defaultReadWait = 2 * time.Second
