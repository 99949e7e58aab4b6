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

// principal is who a request authenticated as: the organization of its API key and the
// key's scope. auth sets it once, in the request's context; handlers read it with
// principalFrom and scope every query to its organization.
type principal struct {
	org *mailtrail.Organization
	// readOnly: the key's scope is read (mailtrail.ScopeRead); auth has already refused
	// such a key on every route not declared readable.
	readOnly bool
	// secret is the key as presented, resolved to the key's public id only when an audit
	// entry needs it (actor): Authenticate does not return the id.
	secret string
}

// orgID returns the id of the principal's organization.
func (p *principal) orgID() string { return p.org.ID }

type principalKey struct{}

// withPrincipal returns ctx carrying p.
func withPrincipal(ctx context.Context, p *principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// principalFrom returns the principal auth set in ctx; nil outside an authenticated route
// (the dashboard's entry points set one of their own: asPrincipal).
func principalFrom(ctx context.Context) *principal {
	p, _ := ctx.Value(principalKey{}).(*principal)
	return p
}

// asPrincipal returns r for org as if auth had authenticated it: the dashboard, which
// authenticates by its session, answers through the API's handlers with it.
func asPrincipal(r *http.Request, org *mailtrail.Organization) *http.Request {
	return r.WithContext(withPrincipal(r.Context(), &principal{org: org, readOnly: org.KeyScope == mailtrail.ScopeRead}))
}

func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "Bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// access is who may call a route: declared by each entry of the route table and checked
// once, by the route's wrapper (Server.wrap), never inside handlers.
type access int

const (
	public    access = iota // anyone: probes, tracking, ESP webhooks (which check their own credentials)
	adminOnly               // the admin token
	keyRead                 // any API key, read-only ones included: reads, and POSTs that only read
	keyWrite                // an API key of scope all: every route that changes data
)

// errReadOnly is the answer to a read-only key on a route that is not keyRead.
var errReadOnly = mailtrail.Errorf(mailtrail.EFORBIDDEN, "this API key is read-only: use a key with scope all to change data")

// auth requires an organization API key (of scope all unless readable); the handler runs
// with the key's principal in its context, and every query it makes is scoped to the
// principal's organization.
func (s *Server) auth(readable bool, next handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		key := bearer(r)
		if key == "" {
			return mailtrail.Errorf(mailtrail.EUNAUTHORIZED, "missing API key: send Authorization: Bearer <key>")
		}
		org, err := s.store.Authenticate(r.Context(), key)
		if err != nil {
			return err
		}
		p := &principal{org: org, readOnly: org.KeyScope == mailtrail.ScopeRead, secret: key}
		if p.readOnly && !readable {
			return errReadOnly
		}
		return next(w, r.WithContext(withPrincipal(r.Context(), p)))
	}
}

// admin requires the configured admin token (compared in constant time).
func (s *Server) admin(next handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		tok := bearer(r)
		if s.opt.AdminToken == "" || tok == "" || subtle.ConstantTimeCompare([]byte(tok), []byte(s.opt.AdminToken)) != 1 {
			return mailtrail.Errorf(mailtrail.EUNAUTHORIZED, "admin token required")
		}
		return next(w, r)
	}
}

// wrap returns rt's handler behind the check its access declares, its errors answered by
// the one sink (handle).
func (s *Server) wrap(rt Route) http.Handler {
	h := s.fresh(rt, rt.h)
	switch rt.access {
	case adminOnly:
		h = s.admin(h)
	case keyRead, keyWrite:
		h = s.auth(rt.access == keyRead, h)
	}
	return s.handle(h)
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
