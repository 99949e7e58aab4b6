// Package dashboard is the web dashboard of mailtrail: server-rendered html/template pages,
// one embedded stylesheet and a little vanilla JavaScript, served by the binary itself
// under /dashboard/. Browsers sign in with an organization API key (or the admin token)
// and get a server-side session; every POST carries the session's CSRF token.
package dashboard

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/query"
)

//go:embed assets templates
var files embed.FS

// Store is what the dashboard reads.
type Store interface {
	Authenticate(ctx context.Context, secret string) (*mailtrail.Organization, error)
	Org(ctx context.Context, id string) (*mailtrail.Organization, error)
	Orgs(ctx context.Context) ([]mailtrail.Organization, error)
	Campaigns(ctx context.Context, orgID string, f mailtrail.CampaignFilter) (*mailtrail.CampaignPage, error)
}

// Options configure the dashboard.
type Options struct {
	Store Store
	Query *query.Service
	// Recipients serves the recipient list of r.PathValue("campaign") for org as the API
	// does (httpd.Server.ServeRecipients); nil: the CSV links answer 404.
	Recipients func(w http.ResponseWriter, r *http.Request, org *mailtrail.Organization)
	// Suppressions lists, adds and removes suppressions; nil: the suppressions page answers 404.
	Suppressions Suppressions
	// SuppressionExport serves the CSV export of org's suppressions as the API does
	// (httpd.Server.ServeSuppressionExport); nil: the export link answers 404.
	SuppressionExport func(w http.ResponseWriter, r *http.Request, org *mailtrail.Organization)
	// Stream serves org's event stream (SSE) as the API does (httpd.Server.ServeStream);
	// nil: the live page answers 404.
	Stream func(w http.ResponseWriter, r *http.Request, org *mailtrail.Organization)
	// Connections lists, creates, rotates, disables and enables the organization's ESP
	// connections and reports their webhooks' health, as the API does (the connections
	// service); nil: the connections page answers 404.
	Connections Connections
	// Segments evaluates segment rules as the API does (httpd.Options.Segments); nil: the
	// segments page answers 404.
	Segments SegmentEvaluator
	// SavedSegments keeps segment rules under names; nil: the segments page cannot save
	// nor load them.
	SavedSegments SavedSegmentStore
	// SegmentExport serves the customer ids of org's segment saved under name as the API's
	// CSV (httpd.Server.ServeSavedSegment with format=csv); nil: the CSV links answer 404.
	SegmentExport func(w http.ResponseWriter, r *http.Request, org *mailtrail.Organization, name string)
	// ClientIP returns the address of a request's client as the API sees it (trusted
	// proxies honoured); nil: the peer address. Sign-in throttling counts by it.
	ClientIP func(r *http.Request) string
	// TempDir holds the CSV files uploaded for import while they are imported; empty: the
	// system's temporary directory.
	TempDir    string
	PublicURL  string // https:// makes the session cookie Secure even behind a TLS proxy
	AdminToken string // empty: the admin cannot sign in
	SessionTTL time.Duration
	// Sessions, when set, keeps the sessions where every process serving the dashboard
	// finds them (an API node of the cluster mode: PostgreSQL); nil: in memory.
	Sessions SessionStore
	// Imports, when set, keeps the status of the CSV imports where every process serving
	// the dashboard finds it; nil: in memory only.
	Imports ImportStore
	// Throttle, when set, counts refused sign-ins where every process serving the
	// dashboard counts them, under digests keyed by ThrottleKey (the same on every such
	// process; required with Throttle); nil: each process counts its own, in memory.
	Throttle    ThrottleStore
	ThrottleKey []byte
	Logger      *slog.Logger
	Now         func() time.Time
}

// Handler serves the dashboard.
type Handler struct {
	opt      Options
	log      *slog.Logger
	sessions *sessions
	throttle limiter
	pages    map[string]*template.Template
	mux      *http.ServeMux
	imports  *importJobs
}

const (
	sessionCookie = "mt_session"
	preCookie     = "mt_csrf" // the sign-in form's CSRF token, before any session
	cookiePath    = "/dashboard"
	maxForm       = 64 << 10
	csrfHeader    = "X-CSRF-Token"
)

// New builds the dashboard handler.
func New(opt Options) *Handler {
	if opt.SessionTTL <= 0 {
		opt.SessionTTL = 12 * time.Hour
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	h := &Handler{opt: opt, log: opt.Logger, sessions: newSessions(opt.SessionTTL, opt.Now, opt.Sessions),
		throttle: newThrottle(opt.Now), pages: parsePages(), imports: newImportJobs(opt.Now, opt.Imports, opt.Logger)}
	if opt.Throttle != nil {
		if len(opt.ThrottleKey) == 0 {
			panic("dashboard: Options.Throttle needs a ThrottleKey")
		}
		h.throttle = &sharedThrottle{store: opt.Throttle, key: opt.ThrottleKey, now: opt.Now}
	}
	assets, _ := fs.Sub(files, "assets")
	fileServer := http.StripPrefix("/dashboard/assets/", http.FileServerFS(assets))
	m := http.NewServeMux()
	m.HandleFunc("GET /dashboard/{$}", h.home)
	m.HandleFunc("GET /dashboard/signin", h.signinPage)
	m.HandleFunc("POST /dashboard/signin", h.signin)
	m.HandleFunc("POST /dashboard/signout", h.auth(h.signout))
	m.HandleFunc("GET /dashboard/orgs", h.auth(h.orgsPage))
	m.HandleFunc("POST /dashboard/orgs", h.auth(h.switchOrg))
	m.HandleFunc("GET /dashboard/campaigns", h.auth(h.campaigns))
	m.HandleFunc("GET /dashboard/campaigns/{campaign}", h.auth(h.report))
	m.HandleFunc("GET /dashboard/compare", h.auth(h.comparePage))
	m.HandleFunc("GET /dashboard/campaigns/{campaign}/recipients.csv", h.auth(h.recipientsCSV))
	m.HandleFunc("GET /dashboard/campaigns/{campaign}/recipients", h.auth(h.recipientsPage))
	m.HandleFunc("GET /dashboard/suppressions", h.auth(h.suppressionsPage))
	m.HandleFunc("POST /dashboard/suppressions", h.auth(h.addSuppression))
	m.HandleFunc("POST /dashboard/suppressions/remove", h.auth(h.removeSuppression))
	m.HandleFunc("POST /dashboard/suppressions/import", h.auth(h.importSuppressions))
	m.HandleFunc("GET /dashboard/suppressions/import/{job}", h.auth(h.importPage)) // and {job}.json
	m.HandleFunc("GET /dashboard/suppressions/export.csv", h.auth(h.exportSuppressions))
	m.HandleFunc("GET /dashboard/live", h.auth(h.livePage))
	m.HandleFunc("GET /dashboard/live/stream", h.auth(h.liveStream))
	m.HandleFunc("GET /dashboard/connections", h.auth(h.connectionsPage))
	m.HandleFunc("POST /dashboard/connections", h.auth(h.createConnection))
	m.HandleFunc("POST /dashboard/connections/{conn}/rotate", h.auth(h.rotateConnection))
	m.HandleFunc("POST /dashboard/connections/{conn}/disable", h.auth(h.disableConnection))
	m.HandleFunc("POST /dashboard/connections/{conn}/enable", h.auth(h.enableConnection))
	m.HandleFunc("GET /dashboard/segments", h.auth(h.segmentsPage))
	m.HandleFunc("POST /dashboard/segments", h.auth(h.previewSegment))
	m.HandleFunc("POST /dashboard/segments/save", h.auth(h.saveSegment))
	m.HandleFunc("POST /dashboard/segments/delete", h.auth(h.deleteSegment))
	m.HandleFunc("GET /dashboard/segments/export.csv", h.auth(h.exportSegment))
	m.HandleFunc("GET /dashboard/assets/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=300")
		fileServer.ServeHTTP(w, r)
	})
	m.HandleFunc("/dashboard/", func(w http.ResponseWriter, r *http.Request) {
		h.errorPage(w, r, nil, http.StatusNotFound, "There is no such page.")
	})
	h.mux = m
	return h
}

// Close stops the suppression imports running in the background and waits for them to
// return (their committed batches stay stored; their pages say they stopped); later
// imports answer 503. Call it before closing the store.
func (h *Handler) Close() {
	h.imports.close()
}

// ServeHTTP sets the security headers of every answer, then routes.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
		"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "same-origin")
	hd.Set("Cache-Control", "no-store")
	h.mux.ServeHTTP(w, r)
}

// secure tells whether cookies must be Secure: the request came over TLS, or the service
// is published over https (a TLS proxy in front).
func (h *Handler) secure(r *http.Request) bool {
	return r.TLS != nil || strings.HasPrefix(strings.ToLower(h.opt.PublicURL), "https://")
}

func (h *Handler) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: cookiePath, MaxAge: maxAge,
		HttpOnly: true, Secure: h.secure(r), SameSite: http.SameSiteLaxMode})
}

type ctxKey int

const reqKey ctxKey = 1

// request is the signed-in context of a page.
type request struct {
	id  string // session id
	ss  *session
	org *mailtrail.Organization // nil for an admin who has not chosen one
}

func from(r *http.Request) *request {
	v, _ := r.Context().Value(reqKey).(*request)
	return v
}

// auth requires a session: pages without one redirect to sign in (back here after), other
// methods get 403. Every POST must carry the session's CSRF token (form field csrf or the
// X-CSRF-Token header), else 403.
func (h *Handler) auth(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var id string
		if c, err := r.Cookie(sessionCookie); err == nil {
			id = c.Value
		}
		ss, err := h.sessions.get(r.Context(), id)
		if err != nil {
			h.sessionsDown(w, r, err)
			return
		}
		if r.Method == http.MethodPost {
			if ss == nil {
				h.errorPage(w, r, nil, http.StatusForbidden, "This form has expired or did not come from this dashboard. Reload the page and try again.")
				return
			}
			limit := int64(maxForm)
			if r.URL.Path == importPath {
				limit = maxImport // a signed-in session's CSV upload
			}
			r.Body = http.MaxBytesReader(w, r.Body, limit)
			tok := r.Header.Get(csrfHeader)
			if tok == "" {
				var err error
				if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
					err = r.ParseMultipartForm(8 << 20) // larger files go to temporary files
				} else {
					err = r.ParseForm()
				}
				if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
					h.errorPage(w, r, nil, http.StatusRequestEntityTooLarge, "The form was too large.")
					return
				}
				tok = r.PostForm.Get("csrf")
			}
			if ss == nil || !tokenEqual(tok, ss.csrf) {
				h.errorPage(w, r, nil, http.StatusForbidden, "This form has expired or did not come from this dashboard. Reload the page and try again.")
				return
			}
		}
		if ss == nil {
			h.toSignin(w, r)
			return
		}
		rq := &request{id: id, ss: ss}
		if ss.orgID != "" {
			var org *mailtrail.Organization
			var err error
			if ss.key != "" {
				org, err = h.opt.Store.Authenticate(r.Context(), ss.key)
				if mailtrail.ErrorCode(err) == mailtrail.EUNAUTHORIZED || (err == nil && org.ID != ss.orgID) {
					// The key was revoked: the session ends with it.
					if err := h.sessions.delete(r.Context(), id); err != nil {
						h.log.WarnContext(r.Context(), "dashboard session of a revoked key not removed", slog.String("err", err.Error()))
					}
					h.setCookie(w, r, sessionCookie, "", -1)
					h.toSignin(w, r)
					return
				}
			} else {
				org, err = h.opt.Store.Org(r.Context(), ss.orgID)
			}
			if err != nil {
				h.fail(w, r, nil, err)
				return
			}
			rq.org = org
		}
		if rq.org != nil && rq.org.KeyScope == mailtrail.ScopeRead && r.Method == http.MethodPost &&
			r.URL.Path != "/dashboard/segments" && r.URL.Path != "/dashboard/signout" {
			h.errorPage(w, r, rq, http.StatusForbidden, "You signed in with a read-only API key: it can look, not change. Sign in with a key of scope all to do this.")
			return
		}
		if rq.org == nil && r.URL.Path != "/dashboard/orgs" && r.URL.Path != "/dashboard/signout" {
			http.Redirect(w, r, "/dashboard/orgs", http.StatusSeeOther)
			return
		}
		next(w, r.WithContext(context.WithValue(r.Context(), reqKey, rq)))
	}
}

// toSignin sends a request without a (live) session to sign in: pages redirect there and
// come back after; other methods get 403.
func (h *Handler) toSignin(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		h.errorPage(w, r, nil, http.StatusForbidden, "Sign in first.")
		return
	}
	http.Redirect(w, r, "/dashboard/signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
}

func (h *Handler) home(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, "/dashboard/campaigns", http.StatusSeeOther)
}

// safeNext keeps a post-sign-in destination inside the dashboard.
func safeNext(next string) string {
	if strings.HasPrefix(next, "/dashboard/") && !strings.HasPrefix(next, "//") && !strings.ContainsAny(next, "\\\r\n") {
		return next
	}
	return "/dashboard/campaigns"
}

type signinData struct {
	Next, Error string
}

func (h *Handler) signinPage(w http.ResponseWriter, r *http.Request) {
	h.renderSignin(w, r, http.StatusOK, signinData{Next: safeNext(r.URL.Query().Get("next"))})
}

// renderSignin shows the sign-in form with a fresh pre-session CSRF token, also set as a
// cookie (double submit: a cross-site page can post the form but not read the cookie).
func (h *Handler) renderSignin(w http.ResponseWriter, r *http.Request, status int, d signinData) {
	tok := randomToken()
	h.setCookie(w, r, preCookie, tok, 3600)
	h.render(w, r, status, "signin", page{Title: "Sign in", CSRF: tok, Data: d})
}

func (h *Handler) signin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		h.errorPage(w, r, nil, http.StatusRequestEntityTooLarge, "The form was too large.")
		return
	}
	c, err := r.Cookie(preCookie)
	if err != nil || !tokenEqual(r.PostForm.Get("csrf"), c.Value) {
		h.errorPage(w, r, nil, http.StatusForbidden, "This form has expired or did not come from this dashboard. Reload the page and try again.")
		return
	}
	next := safeNext(r.PostForm.Get("next"))
	key := strings.TrimSpace(r.PostForm.Get("key"))
	ip := h.clientIP(r)
	wait, err := h.throttle.wait(r.Context(), ip)
	if err != nil {
		h.fail(w, r, nil, err)
		return
	}
	if wait > 0 {
		mins := int(wait.Minutes()) + 1
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
		h.renderSignin(w, r, http.StatusTooManyRequests, signinData{Next: next,
			Error: fmt.Sprintf("Too many keys were refused from your address. Try again in %d minute%s.", mins, plural(mins))})
		return
	}
	var id string
	switch {
	case key == "":
		h.renderSignin(w, r, http.StatusUnauthorized, signinData{Next: next, Error: "Enter an API key."})
		return
	case h.opt.AdminToken != "" && tokenEqual(key, h.opt.AdminToken):
		if id, _, err = h.sessions.create(r.Context(), "", "", true); err != nil {
			h.sessionsDown(w, r, err)
			return
		}
		next = "/dashboard/orgs"
	default:
		org, err := h.opt.Store.Authenticate(r.Context(), key)
		if mailtrail.ErrorCode(err) == mailtrail.EUNAUTHORIZED {
			if err := h.throttle.fail(r.Context(), ip); err != nil {
				h.fail(w, r, nil, err)
				return
			}
			h.log.InfoContext(r.Context(), "dashboard sign-in refused") // never the key or the address
			h.renderSignin(w, r, http.StatusUnauthorized, signinData{Next: next, Error: "That key was not accepted. Check it, or ask for a new one."})
			return
		}
		if err != nil {
			h.fail(w, r, nil, err)
			return
		}
		if id, _, err = h.sessions.create(r.Context(), org.ID, key, false); err != nil {
			h.sessionsDown(w, r, err)
			return
		}
	}
	h.setCookie(w, r, preCookie, "", -1)
	h.setCookie(w, r, sessionCookie, id, int(h.opt.SessionTTL.Seconds()))
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// clientIP is the request's client address (Options.ClientIP, else the peer).
func (h *Handler) clientIP(r *http.Request) string {
	if h.opt.ClientIP != nil {
		return h.opt.ClientIP(r)
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func (h *Handler) signout(w http.ResponseWriter, r *http.Request) {
	if err := h.sessions.delete(r.Context(), from(r).id); err != nil {
		h.sessionsDown(w, r, err)
		return
	}
	h.setCookie(w, r, sessionCookie, "", -1)
	http.Redirect(w, r, "/dashboard/signin", http.StatusSeeOther)
}

func (h *Handler) orgsPage(w http.ResponseWriter, r *http.Request) {
	rq := from(r)
	if !rq.ss.admin {
		h.errorPage(w, r, rq, http.StatusNotFound, "There is no such page.")
		return
	}
	orgs, err := h.opt.Store.Orgs(r.Context())
	if err != nil {
		h.fail(w, r, rq, err)
		return
	}
	h.render(w, r, http.StatusOK, "orgs", h.page(rq, "Organizations", "orgs", orgs))
}

func (h *Handler) switchOrg(w http.ResponseWriter, r *http.Request) {
	rq := from(r)
	if !rq.ss.admin {
		h.errorPage(w, r, rq, http.StatusNotFound, "There is no such page.")
		return
	}
	org, err := h.opt.Store.Org(r.Context(), r.PostForm.Get("org"))
	if err != nil {
		h.fail(w, r, rq, err)
		return
	}
	if err := h.sessions.setOrg(r.Context(), rq.id, org.ID); err != nil {
		h.sessionsDown(w, r, err)
		return
	}
	http.Redirect(w, r, "/dashboard/campaigns", http.StatusSeeOther)
}

// sessionsDown answers 503 when the session store (Options.Sessions) failed.
func (h *Handler) sessionsDown(w http.ResponseWriter, r *http.Request, err error) {
	h.log.ErrorContext(r.Context(), "dashboard sessions unavailable", slog.String("err", err.Error()))
	w.Header().Set("Retry-After", "1")
	h.errorPage(w, r, nil, http.StatusServiceUnavailable, "The dashboard cannot reach its sessions right now. Try again in a moment.")
}

// fail shows an error: ENOTFOUND as 404, EINVALID as 400, the rest logged and 500.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, rq *request, err error) {
	switch mailtrail.ErrorCode(err) {
	case mailtrail.ENOTFOUND:
		h.errorPage(w, r, rq, http.StatusNotFound, "Not found.")
	case mailtrail.EINVALID:
		var e *mailtrail.Error
		msg := "Invalid request."
		if errors.As(err, &e) {
			msg = e.Message
		}
		h.errorPage(w, r, rq, http.StatusBadRequest, msg)
	default:
		h.log.ErrorContext(r.Context(), "dashboard request failed", slog.String("route", r.Pattern), slog.String("err", err.Error()))
		h.errorPage(w, r, rq, http.StatusInternalServerError, "Something went wrong on our side.")
	}
}

func (h *Handler) errorPage(w http.ResponseWriter, r *http.Request, rq *request, status int, msg string) {
	p := h.page(rq, http.StatusText(status), "", struct {
		Status int
		Text   string
	}{status, msg})
	h.render(w, r, status, "error", p)
}

// page is what every template gets.
type page struct {
	Title string
	Nav   string
	Org   *mailtrail.Organization
	Admin bool
	CSRF  string
	Data  any
	// Refresh reloads the page every second in browsers without JavaScript (a running
	// import); with JavaScript the page's script updates it instead.
	Refresh bool
}

func (h *Handler) page(rq *request, title, nav string, data any) page {
	p := page{Title: title, Nav: nav, Data: data}
	if rq != nil {
		p.Org, p.Admin, p.CSRF = rq.org, rq.ss.admin, rq.ss.csrf
	}
	return p
}

func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	t := h.pages[name]
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, "layout", p); err != nil {
		h.log.ErrorContext(r.Context(), "dashboard template", slog.String("page", name), slog.String("err", err.Error()))
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(b.String()))
}

// atoi reads a positive int, or def.
func atoi(s string, def int) int {
	if n, err := strconv.Atoi(s); err == nil && n > 0 {
		return n
	}
	return def
}
