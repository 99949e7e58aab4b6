// Package httpd holds every inbound HTTP route of mailtrail in one table, their handlers,
// the error → status mapping and the middleware (authentication, limits, logging).
package httpd

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"path"
	"strings"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/connection"
	"github.com/mailtrail/mailtrail/internal/egress"
	"github.com/mailtrail/mailtrail/internal/esp"
	"github.com/mailtrail/mailtrail/internal/ingest"
	"github.com/mailtrail/mailtrail/internal/journey"
	"github.com/mailtrail/mailtrail/internal/message"
	"github.com/mailtrail/mailtrail/internal/metrics"
	"github.com/mailtrail/mailtrail/internal/query"
	"github.com/mailtrail/mailtrail/internal/realtime"
	"github.com/mailtrail/mailtrail/internal/secrets"
	"github.com/mailtrail/mailtrail/internal/suppression"
	"github.com/mailtrail/mailtrail/internal/token"
)

// Store is what the handlers need from the store.
type Store interface {
	CustomerStore
	Authenticate(ctx context.Context, secret string) (*mailtrail.Organization, error)
	CreateOrg(ctx context.Context, name, timezone string) (*mailtrail.Organization, string, error)
	Org(ctx context.Context, id string) (*mailtrail.Organization, error)
	Orgs(ctx context.Context) ([]mailtrail.Organization, error)
	CreateAPIKey(ctx context.Context, orgID, name, scope string) (*mailtrail.APIKey, string, error)
	APIKeys(ctx context.Context, orgID string) ([]mailtrail.APIKey, error)
	RevokeAPIKey(ctx context.Context, orgID, keyID string) error
	Message(ctx context.Context, orgID, id string) (*mailtrail.Message, error)
	ClickTarget(ctx context.Context, id string, idx int) (orgID, target string, err error)
	connection.Store // the default Options.Connections
	Ping(ctx context.Context) error
	SuppressionStore
	message.Store // CreateMessages (and OrgSettings)
	WebhookStore
	StreamStore
	SubscriptionStore
	CampaignStore
}

// Submitter is the ingest pipeline as the handlers use it.
type Submitter interface {
	Submit(ctx context.Context, events []*mailtrail.Event) (ingest.Result, error)
}

// Options configure the server. Zero values take the defaults noted.
type Options struct {
	PublicURL  string // base of tracking URLs, without trailing slash
	AdminToken string // bearer token of the admin API; empty disables it
	// ClientIPHeader, when set (e.g. "X-Forwarded-For"), is read for the client address of
	// requests that come from TrustedProxies; the right-most address not in TrustedProxies
	// is the client.
	ClientIPHeader string
	TrustedProxies []netip.Prefix
	// TrackingWait bounds how long the pixel and the click redirect wait for their event to
	// be committed before answering anyway (default 1s).
	TrackingWait time.Duration
	// TrackingBudget is how many opens of one message, or clicks of one link, are stored
	// per clock hour; hits past it are answered and counted, not stored. 0: no budget.
	TrackingBudget int
	// WebhookConcurrency bounds the webhook requests of one connection in progress at
	// once; past it the sender gets 503 with Retry-After. 0: no bound.
	WebhookConcurrency int
	// UnsubscribeMailto, when set (e.g. "unsubscribe@example.com"), adds a mailto: to the
	// List-Unsubscribe header.
	UnsubscribeMailto string
	MaxBody           int64 // JSON API bodies, default 16 MiB
	// BodyBudget bounds the bytes of events and messages bodies decoded at once (default
	// 2 × MaxBody); past it a request waits up to BodyWait (default 2 s), then gets 503.
	BodyBudget int64
	BodyWait   time.Duration
	// Secrets seals connection credentials and subscription secrets at rest under its
	// current key, and opens them under any of its keys (the retired secrets' too).
	Secrets secrets.Keyring
	// Vendors are the ESP webhook formats served at /webhooks/v2/{vendor}/{conn}.
	Vendors esp.Registry
	// Fetcher GETs subscription-confirmation URLs (SNS, OCI); nil refuses them with 503.
	Fetcher esp.Fetcher
	// Now is the clock of webhook checks (timestamp windows, rotation grace); default
	// time.Now. Tests move it.
	Now     func() time.Time
	Logger  *slog.Logger
	Metrics *metrics.Registry
	// MetricsElsewhere: /metrics is served on a separate listener (--metrics-addr), and
	// this server answers it 404.
	MetricsElsewhere bool
	// Ready are the parts /readyz checks besides the store (segment index, pipeline, …).
	Ready []ReadyCheck
	// AccessLog, when set, gets one line per request (see accessLog); nil: none.
	AccessLog *slog.Logger
	// Stream wakes the event streams (GET /api/v1/stream) after commits; nil answers 503.
	Stream *realtime.Hub
	// WebhooksAllowPrivate lets outbound subscriptions use http and private, loopback or
	// link-local addresses (local receivers, tests); off, only public https URLs.
	WebhooksAllowPrivate bool
	// IMAPEgress is the address policy of bounce mailboxes: an imap_url whose host is, or
	// resolves to, an address it refuses is refused at creation (the poller checks again
	// at every dial).
	IMAPEgress egress.Policy
	// Journeys is the registry of waits for an event (GET …/wait), fed with the committed
	// events by the caller; nil: an unfed one (waits end only by their timeout).
	Journeys *journey.Registry
	// Segments answers POST /api/v1/segments/evaluate; nil answers 503.
	Segments Segments
	// SavedSegments keeps named segment rules (/api/v1/segments…); nil answers 503.
	SavedSegments SavedSegments
	// Connections is the connections use case behind /api/v1/connections, whose record of
	// webhooks the webhook route writes to; nil: one over the store, built from Secrets,
	// Vendors, PublicURL, IMAPEgress and Now.
	Connections *connection.Service
	// Messages, when set, is where POST /api/v1/messages records instrumented messages;
	// nil: the store.
	Messages message.Store
	// Projection, when set, is the event log's projection: reads wait for the positions
	// they ask for (see fresh.go) and writes answer with theirs.
	Projection Projection
	// ReadWait bounds how long a read waits for the projection; default 2 s.
	ReadWait time.Duration
	// Dashboard, when set, serves the web dashboard under /dashboard/, and GET / redirects
	// there. Its routes are not API routes (not in Routes nor openapi.json).
	Dashboard http.Handler
}

// Server is the HTTP front of mailtrail.
type Server struct {
	store  Store
	ingest Submitter
	signer *token.Signer
	query  *query.Service
	opt    Options
	log    *slog.Logger
	m      *serverMetrics
	jm     *journeyMetrics
	// journeys is opt.Journeys: the waits in progress.
	journeys *journey.Registry
	mux      *http.ServeMux
	scrape   http.Handler // Options.Metrics in the Prometheus formats

	hooks  *webhooks            // ESP webhooks: the use case behind POST /webhooks/v2/…
	conns  *connection.Service  // connections: the use case behind /api/v1/connections
	sups   *suppression.Service // suppressions: the use case behind /api/v1/suppressions
	msgs   *message.Service     // instrumenting messages: the use case behind POST /api/v1/messages
	budget *trackBudget         // nil: no budget
	bodies *bodyGate
}

// Route is one entry of the route table: the method and pattern, who may call it (its
// access, checked once by the route's wrapper), and its handler.
type Route struct {
	Method, Pattern string
	access          access
	h               handlerFunc
}

// New builds the server and its route table.
func New(store Store, in Submitter, signer *token.Signer, q *query.Service, opt Options) *Server {
	if opt.TrackingWait <= 0 {
		opt.TrackingWait = time.Second
	}
	if opt.ReadWait <= 0 {
		opt.ReadWait = defaultReadWait
	}
	if opt.BodyWait <= 0 {
		opt.BodyWait = 2 * time.Second
	}
	if opt.MaxBody <= 0 {
		opt.MaxBody = 16 << 20
	}
	if opt.BodyBudget <= 0 {
		opt.BodyBudget = 2 * opt.MaxBody
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Metrics == nil {
		opt.Metrics = metrics.New()
	}
	if opt.Vendors == nil {
		opt.Vendors = esp.Registry{}
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Connections == nil {
		opt.Connections = connection.New(store, connection.Options{Keys: opt.Secrets, Vendors: opt.Vendors,
			PublicURL: opt.PublicURL, IMAPEgress: opt.IMAPEgress, Now: opt.Now})
	}
	s := &Server{store: store, ingest: in, signer: signer, query: q, opt: opt, log: opt.Logger,
		budget: newTrackBudget(opt.TrackingBudget, opt.Now), bodies: newBodyGate(opt.BodyBudget, opt.BodyWait),
		conns: opt.Connections, sups: suppression.NewService(store),
		msgs: message.New(messageStore(opt.Messages, store), signer, message.Options{PublicURL: opt.PublicURL, UnsubscribeMailto: opt.UnsubscribeMailto})}
	s.hooks = &webhooks{store: store, submit: in, vendors: opt.Vendors, keys: opt.Secrets, fetcher: opt.Fetcher,
		now: opt.Now, log: opt.Logger, m: newWebhookMetrics(opt.Metrics),
		replays: newReplayCache(), health: s.conns.HealthRecord(), slots: newHookSlots(opt.WebhookConcurrency),
		touched: map[string]time.Time{}}
	s.m = newServerMetrics(opt.Metrics)
	s.scrape = opt.Metrics.Handler()
	if opt.Journeys == nil {
		opt.Journeys = journey.NewRegistry(journey.Options{})
	}
	s.journeys = opt.Journeys
	s.jm = newJourneyMetrics(opt.Metrics, s.journeys)
	s.mux = http.NewServeMux()
	for _, rt := range s.Routes() {
		s.mux.Handle(rt.Method+" "+rt.Pattern, s.wrap(rt))
	}
	if opt.Dashboard != nil {
		s.mux.Handle("/dashboard/", opt.Dashboard)
		s.mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/dashboard/", http.StatusSeeOther)
		})
	}
	s.mux.Handle("/", s.handle(func(w http.ResponseWriter, r *http.Request) error {
		return mailtrail.Errorf(mailtrail.ENOTFOUND, "no such route")
	}))
	return s
}

// Routes is the route table: every inbound route, one per line, with its access: public,
// adminOnly (the admin token), keyRead (any API key, read-only ones included) or keyWrite
// (an API key of scope all). A read-only key may call the GETs and the POSTs that only
// read (segment evaluation, saved or not; suppression checks), nothing else.
func (s *Server) Routes() []Route {
	return []Route{
		{"GET", "/healthz", public, s.healthz},
		{"GET", "/readyz", public, s.readyz},
		{"GET", "/metrics", public, s.metrics},
		{"GET", "/openapi.json", public, s.openapi},

		{"POST", "/api/v1/admin/organizations", adminOnly, s.createOrg},
		{"GET", "/api/v1/admin/organizations", adminOnly, s.listOrgs},
		{"POST", "/api/v1/admin/organizations/{org}/keys", adminOnly, s.createKey},
		{"GET", "/api/v1/admin/organizations/{org}/keys", adminOnly, s.listKeys},
		{"DELETE", "/api/v1/admin/organizations/{org}/keys/{key}", adminOnly, s.revokeKey},

		{"POST", "/api/v1/messages", keyWrite, s.createMessages},
		{"POST", "/api/v1/events", keyWrite, s.postEvents},
		{"GET", "/api/v1/events", keyRead, s.listEvents},
		{"GET", "/api/v1/campaigns", keyRead, s.listCampaigns},
		{"GET", "/api/v1/campaigns/compare", keyRead, s.compareCampaigns},
		{"PATCH", "/api/v1/campaigns/{campaign}", keyWrite, s.patchCampaign},
		{"GET", "/api/v1/campaigns/{campaign}/report", keyRead, s.report},
		{"GET", "/api/v1/campaigns/{campaign}/recipients", keyRead, s.recipients},
		{"GET", "/api/v1/customers/{customer}/events", keyRead, s.customerEvents},

		{"POST", "/api/v1/connections", keyWrite, s.createConnection},
		{"GET", "/api/v1/connections", keyRead, s.listConnections},
		{"GET", "/api/v1/connections/{conn}", keyRead, s.getConnection},
		{"POST", "/api/v1/connections/{conn}/disable", keyWrite, s.disableConnection},
		{"POST", "/api/v1/connections/{conn}/enable", keyWrite, s.enableConnection},
		{"POST", "/api/v1/connections/{conn}/rotate", keyWrite, s.rotateConnection},

		{"GET", "/api/v1/stream", keyRead, s.stream},
		{"POST", "/api/v1/subscriptions", keyWrite, s.createSubscription},
		{"GET", "/api/v1/subscriptions", keyRead, s.listSubscriptions},
		{"GET", "/api/v1/subscriptions/{sub}", keyRead, s.getSubscription},
		{"DELETE", "/api/v1/subscriptions/{sub}", keyWrite, s.deleteSubscription},
		{"POST", "/api/v1/subscriptions/{sub}/enable", keyWrite, s.enableSubscription},
		{"GET", "/api/v1/subscriptions/{sub}/deliveries", keyRead, s.subscriptionDeliveries},

		{"GET", "/api/v1/suppressions", keyRead, s.listSuppressions},
		{"POST", "/api/v1/suppressions", keyWrite, s.addSuppressions},
		{"DELETE", "/api/v1/suppressions/{email}", keyWrite, s.removeSuppression},
		{"GET", "/api/v1/suppressions/{email}/history", keyRead, s.suppressionHistory},
		{"POST", "/api/v1/suppressions/check", keyRead, s.checkSuppressions},
		{"POST", "/api/v1/suppressions/import", keyWrite, s.importSuppressions},
		{"GET", "/api/v1/suppressions/export", keyRead, s.exportSuppressions},
		{"GET", "/api/v1/settings", keyRead, s.getSettings},
		{"PATCH", "/api/v1/settings", keyWrite, s.patchSettings},
		{"DELETE", "/api/v1/customers/{customer}", keyWrite, s.eraseCustomer},
		{"GET", "/api/v1/customers/{customer}/did", keyRead, s.did},
		{"GET", "/api/v1/customers/{customer}/wait", keyRead, s.wait},
		{"POST", "/api/v1/segments/evaluate", keyRead, s.evaluateSegment},
		{"POST", "/api/v1/segments", keyWrite, s.saveSegment},
		{"GET", "/api/v1/segments", keyRead, s.listSavedSegments},
		{"GET", "/api/v1/segments/{name}", keyRead, s.getSavedSegment},
		{"DELETE", "/api/v1/segments/{name}", keyWrite, s.deleteSavedSegment},
		{"POST", "/api/v1/segments/{name}/evaluate", keyRead, s.evaluateSavedSegment},

		{"POST", "/webhooks/v2/{vendor}/{conn}", public, s.webhook},

		{"GET", "/api/track/open/{token...}", public, answers(s.trackOpen)},
		{"GET", "/api/track/click/{token...}", public, answers(s.trackClick)},
		{"GET", "/api/track/unsubscribe/{token}", public, answers(s.unsubscribePage)},
		{"POST", "/api/track/unsubscribe/{token}", public, answers(s.unsubscribe)},
	}
}

// now returns the server's clock.
func (s *Server) now() time.Time { return s.opt.Now() }

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.logRequests(http.HandlerFunc(s.route)).ServeHTTP(w, r)
}

// route dispatches to the mux, except tracking paths that the mux would "clean" with a
// redirect (double slashes, dot segments): a tracking URL never redirects anywhere but to
// a recorded link, so those get the pixel (opens) or a 404 (everything else).
func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	if strings.HasPrefix(p, "/api/track/") {
		// Every tracking hit answered 404 is an invalid one, whichever step refused it
		// (token, unknown link, path shape, target): count them here, once.
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if sw.status == http.StatusNotFound {
				s.m.trackInvalid.Inc(trackKind(p))
			}
		}()
		w = sw
	}
	if strings.HasPrefix(p, "/api/track/") && path.Clean(p) != p && !(strings.HasSuffix(p, "/") && path.Clean(p)+"/" == p) {
		if strings.HasPrefix(p, "/api/track/open/") && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			s.servePixel(w, r)
			return
		}
		s.notFound(w, r)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// trackKind names a tracking path's kind for metrics: open, click, unsubscribe or other.
func trackKind(p string) string {
	k, _, _ := strings.Cut(strings.TrimPrefix(p, "/api/track/"), "/")
	switch k {
	case "open", "click", "unsubscribe":
		return k
	}
	return "other"
}

// messageStore returns where POST /api/v1/messages records messages: m when set, else the
// store.
func messageStore(m message.Store, store Store) message.Store {
	if m != nil {
		return m
	}
	return store
}
