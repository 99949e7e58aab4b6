package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"net/url"
	"time"

	"github.com/mailtrail/mailtrail/internal/rungroup"
)

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer, demo bool) error {
	l := newLeaf("serve", "mailtrail serve [flags]", "Runs the service on the embedded store of --data-dir; with --cluster, as an API node of the cluster mode\n"+
		"(the event log of --event-log-url, the workers' PostgreSQL of --postgres-dsn; docs/cluster.md).", nil)
	if demo {
		l = newLeaf("demo", "mailtrail demo [flags]",
			"Runs the service with a demo organization and a generated history, and prints how to sign in. An admin\n"+
				"token is generated (and printed) unless --admin-token is given; a non-loopback --addr needs --public-url.", nil)
	}
	if err := l.parse(args, stdout); err != nil {
		return err
	}
	if err := noArgs(l); err != nil {
		return err
	}
	cfg := *l.cfg
	publicURLSet := cfg.PublicURL != ""
	if demo {
		if !publicURLSet && !loopbackAddr(cfg.Addr) {
			return fmt.Errorf("demo: --addr %s is not a loopback address: set --public-url to the URL others reach it at (the demo's links would point at localhost)", cfg.Addr)
		}
		if cfg.AdminToken == "" {
			cfg.AdminToken = randomToken()
		}
	}
	if err := cfg.validate(); err != nil {
		return err
	}
	// The port first: a start that cannot listen must not create, lock or migrate the
	// data directory.
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	var mln net.Listener
	if cfg.MetricsAddr != "" {
		if mln, err = net.Listen("tcp", cfg.MetricsAddr); err != nil {
			ln.Close()
			return fmt.Errorf("--metrics-addr: listen on %s: %w", cfg.MetricsAddr, err)
		}
	}
	a, err := newApp(ctx, cfg, stderr)
	if err != nil {
		ln.Close()
		if mln != nil {
			mln.Close()
		}
		return err
	}
	defer a.close()
	srv := &http.Server{
		Handler:           a.server,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    16 << 10,
	}
	srv.RegisterOnShutdown(a.hub.Close)      // event streams end at shutdown instead of holding it
	srv.RegisterOnShutdown(a.journeys.Close) // waits in progress answer 503 at once
	if a.cfg.DebugAddr != "" {
		go serveDebug(a.cfg.DebugAddr, a.log)
	}
	var g *rungroup.Group
	if a.node != nil {
		g = nodeParts(a, srv, ln, mln)
	} else {
		g = serveParts(a, srv, ln, mln)
	}
	if err := g.Start(ctx); err != nil {
		return err
	}
	if mln != nil {
		a.log.Info("metrics listening", "addr", mln.Addr().String())
	}
	startWarnings(ctx, a, publicURLSet)
	a.log.Info("mailtrail listening", "addr", ln.Addr().String(), "public_url", a.cfg.PublicURL, "data_dir", a.cfg.DataDir)
	if mln != nil { // before the "listening on" line, which tests wait for
		fmt.Fprintf(stdout, "mailtrail metrics on http://%s/metrics\n", mln.Addr().String())
	}
	fmt.Fprintf(stdout, "mailtrail listening on http://%s\n", ln.Addr().String())
	if demo {
		if err := runDemo(ctx, a, stdout); err != nil {
			a.log.Error("demo setup failed", "err", err.Error())
		}
	}
	select {
	case <-ctx.Done():
	case <-g.Failed():
	}
	a.log.Info("shutting down: draining requests and the ingest queue", "deadline", a.cfg.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownTimeout)
	defer cancel()
	stopErr := g.Stop(sctx)
	if err := g.Err(); err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	if stopErr != nil {
		return stopErr
	}
	a.log.Info("stopped cleanly")
	return nil
}

// serveParts returns the background parts of serve, in start order. They stop in the
// reverse order, each drained before the next (see rungroup): the HTTP server first (no
// new request; event streams and journey waits end), the metrics listener, the bounce
// mailboxes (a batch in progress is committed or read again at the next start), then the
// pipeline drains its queue into the store, and only then stop what reads the store: the
// segment index (which then writes its snapshot), the outbound dispatcher, retention and
// the customer indexer. The store itself closes after all of them (app.close).
func serveParts(a *app, srv *http.Server, ln, mln net.Listener) *rungroup.Group {
	var g rungroup.Group
	// The customer-timeline indexer.
	g.Add(rungroup.Part{Name: "indexer", Run: func(ctx context.Context) error {
		a.db.RunIndexer(ctx, time.Second, func(err error) { a.log.Error("customer indexer", "err", err.Error()) })
		return nil
	}})
	// Retention of raw events.
	g.Add(rungroup.Part{Name: "retention", Run: func(ctx context.Context) error {
		newRetentionJob(a).run(ctx, a.cfg.RetentionInterval)
		return nil
	}})
	// Outbound webhook deliveries.
	g.Add(rungroup.Part{Name: "outbound", Run: func(ctx context.Context) error {
		a.parts.run("outbound", func() { a.outbound.Run(ctx) })
		return nil
	}})
	// The segment index: built from the store in the background (segment requests answer
	// 503 until it is ready), then kept current by the pipeline's change-sets.
	// At start it is loaded from the snapshot instead when the store is where the snapshot
	// says (before the pipeline runs); stopped after the pipeline drained, it writes the
	// snapshot for the next start.
	snap := newSegmentSnapshot(a)
	g.Add(rungroup.Part{Name: "segments",
		Start: func(ctx context.Context) error {
			snap.start(ctx)
			return nil
		},
		Run: func(ctx context.Context) error {
			snap.run(ctx)
			return nil
		}})
	// With --event-log, the projector: it applies the log to the store behind the
	// acknowledgements; stopped after the pipeline drained into the log, it first applies
	// everything acknowledged (within the shutdown deadline; what it leaves is applied at
	// the next start).
	if l := a.logged; l != nil {
		g.Add(rungroup.Part{Name: "projector",
			Run: func(ctx context.Context) error {
				a.parts.run("projector", func() { l.run(ctx) })
				return nil
			},
			Stop: func(ctx context.Context) error {
				if l.stopCaughtUp(ctx) {
					snap.drained.Store(true)
				} else {
					a.log.Warn("shutdown: the store has not applied the whole event log; the next start applies the rest", "applied", l.Applied(), "written", l.Written())
				}
				return nil
			}})
	}
	// With --event-log, the log's retention: applied events leave it after
	// --event-log-retention.
	if l := a.logged; l != nil {
		g.Add(rungroup.Part{Name: "eventlog-retention", Run: func(ctx context.Context) error {
			retainEventLog(ctx, a, l)
			return nil
		}})
	}
	// With --event-log-url and --postgres-dsn, the workers' PostgreSQL gets the
	// organizations and their settings (mailtrail worker refuses events of one it does
	// not know).
	if l := a.logged; l != nil && l.readers != nil && a.cfg.PostgresDSN != "" {
		g.Add(rungroup.Part{Name: "org-mirror", Run: func(ctx context.Context) error {
			l.readers.mirrorOrgs(ctx, a.db, a.log)
			return nil
		}})
	}
	// The ingest pipeline: on stop, its queue drains into the store (with --event-log,
	// the log) within the shutdown deadline.
	g.Add(pipelinePart(a, func() {
		if a.logged == nil {
			snap.drained.Store(true)
		}
	}))
	// Bounce mailboxes (IMAP): polled while the pipeline runs, stopped before it drains.
	g.Add(mailboxPart(a, func(ctx context.Context) error {
		a.parts.run("mailbox", func() { a.mailbox.Run(ctx) })
		return nil
	}))
	if mln != nil {
		g.Add(metricsPart(a, mln))
	}
	g.Add(httpPart(a, srv, ln))
	return &g
}

// retainEventLog runs the log's retention (--event-log-retention, default 24 h) on l
// until ctx ends.
func retainEventLog(ctx context.Context, a *app, l logPurger) {
	keep := a.cfg.EventLogRetention
	if keep <= 0 {
		keep = 24 * time.Hour
	}
	retainLog(ctx, l, keep, min(time.Minute, max(keep/10, time.Second)), a.log)
}

// pipelinePart runs the ingest pipeline; on stop its queue drains into the store (or the
// log) within the shutdown deadline, then drained runs.
func pipelinePart(a *app, drained func()) rungroup.Part {
	return rungroup.Part{Name: "pipeline",
		Run: func(ctx context.Context) error {
			a.parts.run("pipeline", func() { a.pipeline.Run(ctx) })
			return nil
		},
		Stop: func(ctx context.Context) error {
			if err := a.pipeline.Close(ctx); err != nil {
				return fmt.Errorf("ingest drain: %w", err)
			}
			drained()
			return nil
		}}
}

// mailboxPart polls the bounce mailboxes with run; on stop a batch in progress gets
// mailboxDrain (at most the shutdown deadline) to finish.
func mailboxPart(a *app, run func(ctx context.Context) error) rungroup.Part {
	return rungroup.Part{Name: "mailbox", Run: run,
		Stop: func(context.Context) error {
			mctx, mcancel := context.WithTimeout(context.Background(), min(mailboxDrain, a.cfg.ShutdownTimeout))
			defer mcancel()
			if err := a.mailbox.Close(mctx); err != nil {
				a.log.Warn("bounce mailbox: batch in progress cancelled; it is read again at the next start", "err", err.Error())
			}
			return nil
		}}
}

// httpPart is the HTTP server; a listener that fails stops the service.
func httpPart(a *app, srv *http.Server, ln net.Listener) rungroup.Part {
	return rungroup.Part{Name: "http",
		Run: func(context.Context) error {
			if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		},
		Stop: func(ctx context.Context) error {
			if err := srv.Shutdown(ctx); err != nil {
				a.log.Error("http shutdown", "err", err.Error())
			}
			return nil
		}}
}

// serveDebug serves the Go profiler on its own listener, never on the public one.
func serveDebug(addr string, log *slog.Logger) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	if err := srv.ListenAndServe(); err != nil {
		log.Error("debug listener", "err", err.Error())
	}
}

// loopbackAddr reports whether the listen address addr (host:port) is on a loopback
// interface only: localhost, 127.0.0.0/8 or ::1. An empty host or 0.0.0.0 is every
// interface.
func loopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	return loopbackHost(host)
}

// loopbackHost reports whether host is localhost or a loopback address.
func loopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// randomToken returns 24 random bytes in hex: the demo's admin token when none is given.
func randomToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b) // crypto/rand.Read does not fail (Go 1.24+)
	return hex.EncodeToString(b)
}

// startWarnings logs what would make a start useless in production: tracking links that
// point at localhost while others can reach the server, and a store no one can use (no
// organization, and no admin token to create one).
func startWarnings(ctx context.Context, a *app, publicURLSet bool) {
	if !loopbackAddr(a.cfg.Addr) {
		if u, err := url.Parse(a.cfg.PublicURL); err == nil && loopbackHost(u.Hostname()) {
			a.log.Warn("tracking and unsubscribe links point at localhost although the server listens beyond loopback: recipients cannot reach them; set --public-url / MAILTRAIL_PUBLIC_URL",
				"addr", a.cfg.Addr, "public_url", a.cfg.PublicURL, "public_url_set", publicURLSet)
		}
	}
	if a.cfg.AdminToken == "" {
		if orgs, err := a.st.Orgs(ctx); err == nil && len(orgs) == 0 {
			a.log.Warn("no organization exists and the admin API is off (no --admin-token / MAILTRAIL_ADMIN_TOKEN): nothing can use this server; restart with an admin token, or stop it and run mailtrail org create")
		}
	}
}
