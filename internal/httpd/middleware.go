package httpd

import (
	"context"
	"crypto/subtle"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/mailtrail/mailtrail"
)

type ctxKey int

const orgKey ctxKey = 1

// orgFrom returns the organization authenticated for the request.
func orgFrom(r *http.Request) *mailtrail.Organization {
	o, _ := r.Context().Value(orgKey).(*mailtrail.Organization)
	return o
}

func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "Bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// auth requires an organization API key; the handler runs with the key's organization, and
// every query it makes is scoped to it.
func (s *Server) auth(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		key := bearer(r)
		if key == "" {
			s.writeError(w, r, mailtrail.Errorf(mailtrail.EUNAUTHORIZED, "missing API key: send Authorization: Bearer <key>"))
			return
		}
		org, err := s.store.Authenticate(r.Context(), key)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if org.KeyScope == mailtrail.ScopeRead && !readOnlyRoute(r) {
			s.writeError(w, r, mailtrail.Errorf(mailtrail.EFORBIDDEN, "this API key is read-only: use a key with scope all to change data"))
			return
		}
		next(w, r.WithContext(context.WithValue(r.Context(), orgKey, org)))
	}
}

// readOnlyRoute tells whether a read-only key may use r's route: reads, and the two
// POSTs that only read (segment evaluation, saved or not; suppression checks).
func readOnlyRoute(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		return true
	}
	return r.Pattern == "POST /api/v1/segments/evaluate" || r.Pattern == "POST /api/v1/segments/{name}/evaluate" ||
		r.Pattern == "POST /api/v1/suppressions/check"
}

// admin requires the configured admin token (compared in constant time).
func (s *Server) admin(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok := bearer(r)
		if s.opt.AdminToken == "" || tok == "" || subtle.ConstantTimeCompare([]byte(tok), []byte(s.opt.AdminToken)) != 1 {
			s.writeError(w, r, mailtrail.Errorf(mailtrail.EUNAUTHORIZED, "admin token required"))
			return
		}
		next(w, r)
	}
}

type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection (deadlines of long waits).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// logRequests logs every request by its route pattern (never the path: it carries
// tracking tokens), recovers panics as 500s, counts requests, times them by route group
// and, with Options.AccessLog, writes the access log.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				s.log.ErrorContext(r.Context(), "panic", slog.String("route", r.Pattern), slog.Any("panic", p))
				if sw.status == 0 {
					s.writeError(sw, r, mailtrail.Errorf(mailtrail.EINTERNAL, "internal error"))
				}
			}
			took := time.Since(start)
			route := r.Pattern
			if route == "" || route == "/" {
				route = "unmatched"
			}
			group := routeGroup(r)
			s.m.requests.Inc(route, strconv.Itoa(sw.status))
			s.m.latency.Observe(took.Seconds(), group)
			// Every request is counted in metrics; the log gets server errors, and the rest
			// only at debug level (a pixel hit per log line would cost as much as the hit).
			lvl := slog.LevelDebug
			if sw.status >= 500 {
				lvl = slog.LevelWarn
			}
			s.log.LogAttrs(r.Context(), lvl, "request", slog.String("route", route), slog.Int("status", sw.status),
				slog.Duration("took", took))
			if s.opt.AccessLog != nil {
				s.accessLog(r, sw, route, group, took)
			}
		}()
		next.ServeHTTP(sw, r)
	})
}

// accessLog writes one line for a finished request. It holds the route pattern, never the
// path or the query (tracking ids are tokens; customer ids and addresses in paths are
// personal data), and the client address truncated to its /24 or /48.
func (s *Server) accessLog(r *http.Request, sw *statusWriter, route, group string, took time.Duration) {
	status := sw.status
	if status == 0 {
		status = http.StatusOK // nothing written: net/http answers 200
	}
	s.opt.AccessLog.LogAttrs(r.Context(), slog.LevelInfo, "access",
		slog.String("method", r.Method), slog.String("route", route), slog.String("group", group),
		slog.Int("status", status), slog.Int64("bytes", sw.bytes), slog.Duration("took", took),
		slog.String("client", mailtrail.TruncateIP(s.clientIP(r))), slog.String("proto", r.Proto))
}

// Route groups of mailtrail_http_request_duration_seconds.
var routeGroups = []string{"tracking", "api", "reads", "webhooks", "dashboard", "long_poll", "ops", "unmatched"}

// routeGroup names the latency group of r's route: tracking (pixel, click, unsubscribe),
// webhooks (ESP webhooks), dashboard, long_poll (the event stream and journey waits,
// whose duration is the wait), reads (GETs of the API and the two POSTs that only read),
// api (the API's writes and the admin API), ops (probes, metrics, openapi.json), unmatched.
func routeGroup(r *http.Request) string {
	p := r.Pattern
	method, path, ok := strings.Cut(p, " ")
	if !ok {
		method, path = r.Method, p
	}
	switch {
	case strings.HasPrefix(path, "/api/track/") || (p == "" || p == "/") && strings.HasPrefix(r.URL.Path, "/api/track/"):
		return "tracking"
	case strings.HasPrefix(path, "/webhooks/"):
		return "webhooks"
	case strings.HasPrefix(path, "/dashboard/") || p == "GET /{$}":
		return "dashboard"
	case path == "/api/v1/stream" || strings.HasSuffix(path, "/wait"):
		return "long_poll"
	case path == "/api/v1/segments/evaluate" || path == "/api/v1/suppressions/check":
		return "reads"
	case strings.HasPrefix(path, "/api/v1/"):
		if method == http.MethodGet || method == http.MethodHead {
			return "reads"
		}
		return "api"
	case path == "/healthz" || path == "/readyz" || path == "/metrics" || path == "/openapi.json":
		return "ops"
	}
	return "unmatched"
}

// ClientIP returns the address of the client: the peer, or, when the peer is a trusted
// proxy and a client header is configured, the right-most untrusted address in it.
func (s *Server) ClientIP(r *http.Request) string { return s.clientIP(r) }

func (s *Server) clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return ""
	}
	peer = peer.Unmap()
	if s.opt.ClientIPHeader == "" || !s.trusted(peer) {
		return peer.String()
	}
	vals := r.Header.Values(s.opt.ClientIPHeader)
	var parts []string
	for _, v := range vals {
		parts = append(parts, strings.Split(v, ",")...)
	}
	for i := len(parts) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(parts[i]))
		if err != nil {
			break
		}
		a = a.Unmap()
		if !s.trusted(a) {
			return a.String()
		}
		peer = a
	}
	return peer.String()
}

func (s *Server) trusted(a netip.Addr) bool {
	for _, p := range s.opt.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
