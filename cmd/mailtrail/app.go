package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/attribute"
	"github.com/mailtrail/mailtrail/internal/classify"
	"github.com/mailtrail/mailtrail/internal/connection"
	"github.com/mailtrail/mailtrail/internal/dashboard"
	"github.com/mailtrail/mailtrail/internal/egress"
	"github.com/mailtrail/mailtrail/internal/enrich"
	"github.com/mailtrail/mailtrail/internal/esp"
	"github.com/mailtrail/mailtrail/internal/geo"
	"github.com/mailtrail/mailtrail/internal/httpd"
	"github.com/mailtrail/mailtrail/internal/ingest"
	"github.com/mailtrail/mailtrail/internal/journey"
	"github.com/mailtrail/mailtrail/internal/mailbox"
	"github.com/mailtrail/mailtrail/internal/message"
	"github.com/mailtrail/mailtrail/internal/metrics"
	"github.com/mailtrail/mailtrail/internal/outbound"
	"github.com/mailtrail/mailtrail/internal/query"
	"github.com/mailtrail/mailtrail/internal/realtime"
	"github.com/mailtrail/mailtrail/internal/secrets"
	"github.com/mailtrail/mailtrail/internal/segment"
	"github.com/mailtrail/mailtrail/internal/store/sqlite"
	"github.com/mailtrail/mailtrail/internal/suppression"
	"github.com/mailtrail/mailtrail/internal/token"
)

// app is the wired service: store, pipeline, signer, HTTP handler.
type app struct {
	cfg      Config
	log      *slog.Logger
	db       *sqlite.DB   // the data directory's store; nil on an API node (--cluster)
	st       serviceStore // what the handlers and background parts read and write: db, or the cluster's PostgreSQL
	store    *ownedStore  // db and the data directory's ownership, released by close; nil on an API node
	node     *apiNode     // --cluster: the event log, the workers' PostgreSQL and their progress; nil without
	pipeline *ingest.Pipeline
	server   *httpd.Server
	dash     *dashboard.Handler // its CSV imports run in the background until close
	metrics  *metrics.Registry
	mailbox  *mailbox.Poller // bounce mailboxes of connections, polled over IMAP
	geo      *geo.DB         // nil without --geoip-db
	segments *segment.Index  // built by serve in the background; fed by the pipeline's change-sets

	segmentsFromSnapshot atomic.Bool         // serve loaded the segment index from its snapshot
	segmentSnapshots     *metrics.CounterVec // snapshots written while serve runs and at its stop, by result

	hub      *realtime.Hub        // wakes the event streams (SSE) after commits
	outbound *outbound.Dispatcher // delivers to webhook subscriptions; Run by serve
	journeys *journey.Registry    // waits for an event (GET …/wait), woken by committed events
	conns    *connection.Service  // the connections use case (and their webhooks' health)
	parts    parts                // which background parts serve runs (for /readyz)

	logged *logged   // --event-log: the log the pipeline appends to and its projector; nil without
	pub    publisher // who publishes committed change-sets: the pipeline, or the projector
	// caughtUp, with an event log, waits until the store has applied every write
	// acknowledged so far, at most wait, else EUNAVAILABLE; nil without a log.
	caughtUp func(ctx context.Context, wait time.Duration, what string) error
}

// serviceStore is what the handlers and the background parts read and write: the data
// directory's SQLite store, or on an API node the cluster's PostgreSQL. Both pass the
// conformance suite (internal/store/storetest).
type serviceStore interface {
	httpd.Store
	query.Reader
	dashboard.Store
	dashboard.SavedSegmentStore
	segment.Source
	outbound.Store
	attribute.Lookup
	suppression.Store
	mailboxStore
}

// close releases what newApp opened: the dashboard's running imports (stopped: their
// committed batches stay), the geography database and the store.
func (a *app) close() error {
	if a.dash != nil {
		a.dash.Close()
	}
	if a.geo != nil {
		a.geo.Close()
	}
	var err error
	if a.store != nil {
		err = a.store.Close()
	}
	if a.node != nil {
		err = a.node.close()
	}
	if a.logged != nil {
		if lerr := a.logged.close(); err == nil {
			err = lerr
		}
	}
	return err
}

func newLogger(cfg *Config, w io.Writer) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: lvl}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// ownedStore is the store of a data directory and the directory's ownership (see
// lockDataDir); Close closes the store, then gives the ownership up.
type ownedStore struct {
	*sqlite.DB
	lock *dirLock
}

// Close closes the store and releases the data directory.
func (s *ownedStore) Close() error {
	err := s.DB.Close()
	s.lock.release()
	return err
}

// openStore validates the configuration, takes the data directory's ownership and opens
// its store. hint says what to do instead while another process owns the directory (for
// example the API route of the same action); it is appended to that error.
func openStore(ctx context.Context, cfg *Config, hint string) (*ownedStore, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	lock, err := lockDataDir(cfg.DataDir, hint)
	if err != nil {
		return nil, err
	}
	db, err := sqlite.Open(ctx, filepath.Join(cfg.DataDir, "mailtrail.db"), sqlite.Options{Synchronous: cfg.Synchronous})
	if err != nil {
		lock.release()
		return nil, err
	}
	return &ownedStore{DB: db, lock: lock}, nil
}

// openOffline opens the data directory's store for a command that runs without the
// server (verb names it in errors and in the hint while a server owns the directory).
// What an earlier `serve --event-log` acknowledged but did not apply is applied first,
// so the command reads every acknowledged event and its changes order after them (an
// erasure then also covers the customer's events that were still in the log).
func openOffline(ctx context.Context, cfg *Config, verb string) (*ownedStore, error) {
	st, err := openStore(ctx, cfg, apiHint(verb))
	if err != nil {
		return nil, err
	}
	progress := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := drainEventLog(ctx, cfg.DataDir, st.DB, progress, ""); err != nil {
		st.Close()
		return nil, fmt.Errorf("%s: %w", verb, err)
	}
	return st, nil
}

// appDeps are what newApp takes from outside the configuration: the outbound fetcher of
// the webhook vendors and the webhook clock. Tests replace them through appOptions.
type appDeps struct {
	fetcher esp.Fetcher
	now     func() time.Time
}

// appOption changes a dependency of newApp.
type appOption func(*appDeps)

// vendors returns the registry of every ESP webhook vendor, with f for outbound GETs.
func vendors(f esp.Fetcher) esp.Registry {
	r := esp.Registry{}
	esp.RegisterA(r)
	esp.RegisterB(r, f)
	return r
}

// newApp wires everything from cfg: the data directory's store, or with --cluster an API
// node on the cluster's engines (newNodeApp).
func newApp(ctx context.Context, cfg Config, logOut io.Writer, opts ...appOption) (*app, error) {
	deps := appDeps{fetcher: newHTTPFetcher(), now: time.Now}
	for _, o := range opts {
		o(&deps)
	}
	if cfg.ReadWait <= 0 {
		cfg.ReadWait = 2 * time.Second
	}
	if cfg.Cluster {
		return newNodeApp(ctx, cfg, logOut, deps)
	}
	st, err := openStore(ctx, &cfg, "")
	if err != nil {
		return nil, err
	}
	db := st.DB
	a := &app{cfg: cfg, db: db, st: db, store: st, log: newLogger(&cfg, logOut), metrics: metrics.New()}
	signer, keys, err := a.signing()
	if err != nil {
		st.Close()
		return nil, err
	}
	if err := resealSecrets(ctx, db, keys, a.log); err != nil {
		st.Close()
		return nil, err
	}
	storeUnavailable := a.metrics.NewCounter("mailtrail_store_unavailable_total", "Writes that failed because the disk is full or failing (answered 503 with Retry-After).")
	db.OnWriteUnavailable(func() { storeUnavailable.Inc() })
	enricher, err := a.enricher()
	if err != nil {
		st.Close()
		return nil, err
	}
	var sink ingest.Sink = db
	if cfg.EventLog {
		if a.logged, err = newLogged(ctx, &cfg, db, a.log, a.metrics); err != nil {
			st.Close()
			return nil, err
		}
		sink = a.logged.sink
		a.pub = a.logged.proj
	} else if err := drainEventLog(ctx, cfg.DataDir, db, a.log, ""); err != nil {
		st.Close()
		return nil, err
	}
	w := wiring{handlers: func() httpd.Store { return a.erasing() }, sink: sink, signer: signer, keys: keys, enrich: enricher, deps: deps, logOut: logOut}
	if a.logged != nil {
		w.proj = a.logged
		w.caughtUp = a.logged.caughtUp
		if a.logged.readers != nil && cfg.PostgresDSN != "" {
			w.messages = mirroredMessages{db: db, r: a.logged.readers, log: a.log}
		}
	}
	a.wire(w)
	return a, nil
}

// signing returns the tracking ids' signer and the keyring that seals stored secrets,
// from the service secret and the retired keys.
func (a *app) signing() (*token.Signer, secrets.Keyring, error) {
	secret, err := a.cfg.secret()
	if err != nil {
		return nil, secrets.Keyring{}, err
	}
	old, _ := a.cfg.oldKeys()
	signer, err := token.NewSigner(token.KeyFromSecret(uint8(a.cfg.SecretKeyID), secret), old...)
	if err != nil {
		return nil, secrets.Keyring{}, fmt.Errorf("signing keys: %w", err)
	}
	keys, _ := a.cfg.keyring(secret) // validated by cfg.validate
	return signer, keys, nil
}

// enricher returns what classifies opens and clicks and, with --geoip-db, places them
// (a.geo is then open, closed by close).
func (a *app) enricher() (*enrich.Enricher, error) {
	classifier, err := classify.New()
	if err != nil {
		return nil, fmt.Errorf("classification data: %w", err)
	}
	enricher := &enrich.Enricher{Classifier: classifier}
	if a.geo, err = a.cfg.geoDB(); err != nil {
		return nil, err
	}
	if a.geo != nil {
		enricher.Geo = a.geo
		a.log.Info("geography database", "database", a.geo.Info())
	}
	return enricher, nil
}

// wiring is what wire builds the service from besides a.st: where events go and how the
// handlers see the store.
type wiring struct {
	handlers func() httpd.Store // the store the handlers use (a.st, with erasures published), made once a.pub is set
	sink     ingest.Sink        // where the pipeline commits events: the store, or the event log
	messages message.Store      // where POST /api/v1/messages records messages; nil: handlers
	proj     httpd.Projection
	// caughtUp, with an event log, waits until the store has applied every write
	// acknowledged so far (orderedWrites); nil without a log.
	caughtUp func(ctx context.Context, wait time.Duration, what string) error
	signer   *token.Signer
	keys     secrets.Keyring
	enrich   *enrich.Enricher
	deps     appDeps
	logOut   io.Writer // the access log's
	// sessions keeps the dashboard's sessions where every API node finds them; nil: in
	// memory.
	sessions dashboard.SessionStore
	// imports keeps the dashboard's import statuses where every API node finds them;
	// nil: in memory.
	imports dashboard.ImportStore
	// health keeps the connections' webhook health where every API node adds to it and
	// reads it; nil: each process its own.
	health connection.HealthStore
	// throttle counts the dashboard's refused sign-ins for every API node, under digests
	// keyed by throttleKey; nil: each process its own, in memory.
	throttle    dashboard.ThrottleStore
	throttleKey []byte
}

// wire builds the pipeline, the background parts and the handlers over a.st.
func (a *app) wire(w wiring) {
	cfg, st, deps := a.cfg, a.st, w.deps
	obs := newIngestMetrics(a.metrics)
	obs.log = a.log
	a.pipeline = ingest.New(w.sink, ingest.Options{MaxBatch: cfg.MaxBatch, MaxQueue: cfg.MaxQueue, MaxWait: cfg.QueueWait, CommitWait: cfg.CommitWait,
		Observer: obs, Enrich: w.enrich.Event})
	if a.pub == nil {
		a.pub = a.pipeline
	}
	a.segments = segment.New(st, a.log)
	a.segments.SetClock(deps.now) // the API's clock: what the index forgets, by retention, at the now its answers use
	a.metrics.NewGauge("mailtrail_ingest_queue_depth", "Events waiting to be committed.", func() float64 { return float64(a.pipeline.QueueDepth()) })
	a.hub = realtime.New()
	a.metrics.NewGauge("mailtrail_stream_clients", "Event streams (SSE) connected.", func() float64 { return float64(a.hub.Len()) })
	a.outbound = outbound.New(st, outbound.Options{Secrets: w.keys, AllowPrivate: cfg.WebhooksAllowPrivate,
		RetryFor: cfg.WebhooksRetryFor, Logger: a.log, Metrics: a.metrics})
	a.journeys = journey.NewRegistry(journey.Options{})
	a.caughtUp = w.caughtUp
	a.subscribe(obs)
	proxies, _ := cfg.proxies()
	q := &query.Service{R: st}
	conns := connection.New(st, connection.Options{Keys: w.keys, Vendors: vendors(deps.fetcher), PublicURL: cfg.PublicURL,
		IMAPEgress: egress.Policy{AllowPrivate: cfg.IMAPAllowPrivate}, Now: deps.now, HealthStore: w.health})
	a.conns = conns
	dash := dashboard.New(dashboard.Options{Store: st, Query: q, PublicURL: cfg.PublicURL, AdminToken: cfg.AdminToken, Logger: a.log,
		Recipients: func(w http.ResponseWriter, r *http.Request, org *mailtrail.Organization) {
			a.server.ServeRecipients(w, r, org)
		},
		Suppressions:  suppression.NewService(st),
		Connections:   conns,
		Segments:      a.segments,
		SavedSegments: st,
		SegmentExport: func(w http.ResponseWriter, r *http.Request, org *mailtrail.Organization, name string) {
			a.server.ServeSavedSegment(w, r, org, name)
		},
		Now: deps.now, // the API's clock: segment windows end at the same now
		SuppressionExport: func(w http.ResponseWriter, r *http.Request, org *mailtrail.Organization) {
			a.server.ServeSuppressionExport(w, r, org)
		},
		Stream: func(w http.ResponseWriter, r *http.Request, org *mailtrail.Organization) {
			a.server.ServeStream(w, r, org)
		},
		ClientIP:    func(r *http.Request) string { return a.server.ClientIP(r) },
		Sessions:    w.sessions,
		Imports:     w.imports,
		Throttle:    w.throttle,
		ThrottleKey: w.throttleKey,
	})
	a.dash = dash
	a.server = httpd.New(w.handlers(), a.pipeline, w.signer, q, httpd.Options{
		Messages:   w.messages,
		Projection: w.proj, ReadWait: cfg.ReadWait,
		PublicURL: cfg.PublicURL, AdminToken: cfg.AdminToken, ClientIPHeader: cfg.ClientIPHeader, TrustedProxies: proxies,
		TrackingWait: cfg.TrackingWait, TrackingBudget: cfg.TrackingBudget,
		WebhookConcurrency: cfg.HookSlots, UnsubscribeMailto: cfg.UnsubscribeMailto, Logger: a.log, Metrics: a.metrics,
		Secrets: w.keys, Vendors: vendors(deps.fetcher), Fetcher: deps.fetcher, Now: deps.now,
		Stream: a.hub, WebhooksAllowPrivate: cfg.WebhooksAllowPrivate,
		IMAPEgress:       egress.Policy{AllowPrivate: cfg.IMAPAllowPrivate},
		Journeys:         a.journeys,
		Connections:      conns,
		Segments:         a.segments,
		Dashboard:        a.orderedWrites(dash),
		MetricsElsewhere: cfg.MetricsAddr != "", Ready: a.readyChecks(), AccessLog: newAccessLogger(&cfg, w.logOut),
		SavedSegments: st,
	})
	a.registerOpsMetrics()
	onMsg, onIgnored := mailboxMetrics(a.metrics)
	a.mailbox = mailbox.New(mailboxSource{db: st, keys: w.keys, log: a.log}, ingest.ESP{Lookup: st, Submitter: a.pipeline},
		mailbox.Options{Logger: a.log, OnMessage: onMsg, OnIgnored: onIgnored,
			Egress: egress.Policy{AllowPrivate: cfg.IMAPAllowPrivate}, AllowInsecure: cfg.IMAPAllowInsecure})
}

// ingestMetrics records the pipeline's measurements.
type ingestMetrics struct {
	batch    *metrics.Histogram
	commit   *metrics.Histogram
	events   *metrics.CounterVec
	dups     *metrics.CounterVec
	failed   *metrics.CounterVec
	rejected *metrics.CounterVec
	log      *slog.Logger
}

func newIngestMetrics(r *metrics.Registry) *ingestMetrics {
	m := &ingestMetrics{
		batch:    r.NewHistogram("mailtrail_ingest_batch_events", "Events per committed batch.", 1, 10, 100, 500, 1000, 2000, 5000, 10000),
		commit:   r.NewHistogram("mailtrail_ingest_commit_seconds", "Time to write and commit one batch.", .001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5),
		events:   r.NewCounter("mailtrail_events_total", "Events stored, by type.", "type"),
		dups:     r.NewCounter("mailtrail_events_duplicate_total", "Events received again and not stored twice."),
		failed:   r.NewCounter("mailtrail_ingest_failed_events_total", "Events whose batch failed to commit (answered 503)."),
		rejected: r.NewCounter("mailtrail_ingest_rejected_events_total", "Events refused because the queue stayed full (answered 503)."),
	}
	for _, t := range mailtrail.EventTypes {
		m.events.Init(t.String()) // every type from 0, so rate() sees the first event
	}
	return m
}

func (m *ingestMetrics) Committed(events, duplicates int, took time.Duration) {
	m.batch.Observe(float64(events))
	m.commit.Observe(took.Seconds())
	m.dups.Add(int64(duplicates))
}

func (m *ingestMetrics) Failed(events int, err error) {
	m.failed.Add(int64(events))
	if m.log != nil {
		m.log.Error("ingest batch failed", "events", events, "err", err.Error())
	}
}

func (m *ingestMetrics) Rejected(events int) { m.rejected.Add(int64(events)) }

func (m *ingestMetrics) committed(evs []*mailtrail.Event) {
	for _, ev := range evs {
		m.events.Inc(ev.Type.String())
	}
}
