package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer, demo bool) error {
	name := "serve"
	if demo {
		name = "demo"
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg Config
	cfg.bind(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if demo && cfg.AdminToken == "" {
		cfg.AdminToken = "demo-admin-token-change-me"
	}
	a, err := newApp(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer a.close()
	ln, err := net.Listen("tcp", a.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", a.cfg.Addr, err)
	}
	metricsAddr, stopMetrics, err := listenMetrics(a)
	if err != nil {
		ln.Close()
		return err
	}
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
	// The customer-timeline indexer: owned here, stopped before the store closes.
	ixCtx, stopIndexer := context.WithCancel(context.WithoutCancel(ctx))
	ixDone := make(chan struct{})
	go func() {
		a.db.RunIndexer(ixCtx, time.Second, func(err error) { a.log.Error("customer indexer", "err", err.Error()) })
		close(ixDone)
	}()
	defer func() { stopIndexer(); <-ixDone }()
	// Retention of raw events: owned here too, stopped before the store closes.
	rtCtx, stopRetention := context.WithCancel(context.WithoutCancel(ctx))
	rtDone := make(chan struct{})
	go func() { newRetentionJob(a).run(rtCtx, a.cfg.RetentionInterval); close(rtDone) }()
	defer func() { stopRetention(); <-rtDone }()
	// Outbound webhook deliveries: owned here too, stopped before the store closes.
	obCtx, stopOutbound := context.WithCancel(context.WithoutCancel(ctx))
	obDone := make(chan struct{})
	go func() { a.parts.run("outbound", func() { a.outbound.Run(obCtx) }); close(obDone) }()
	defer func() { stopOutbound(); <-obDone }()
	// The segment index: built from the store in the background (segment requests answer
	// 503 until it is ready), then kept current by committed events.
	sgCtx, stopSegments := context.WithCancel(context.WithoutCancel(ctx))
	defer stopSegments()
	go runSegmentIndex(sgCtx, a.segments, a.log)
	pipeDone := make(chan struct{})
	go func() {
		a.parts.run("pipeline", func() { a.pipeline.Run(context.WithoutCancel(ctx)) })
		close(pipeDone)
	}()
	// Bounce mailboxes (IMAP): polled while the pipeline runs, stopped before it drains.
	go a.parts.run("mailbox", func() { a.mailbox.Run(context.WithoutCancel(ctx)) })
	srvErr := make(chan error, 1)
	go func() { srvErr <- srv.Serve(ln) }()
	a.log.Info("mailtrail listening", "addr", ln.Addr().String(), "public_url", a.cfg.PublicURL, "data_dir", a.cfg.DataDir)
	if metricsAddr != "" { // before the "listening on" line, which tests wait for
		fmt.Fprintf(stdout, "mailtrail metrics on http://%s/metrics\n", metricsAddr)
	}
	fmt.Fprintf(stdout, "mailtrail listening on http://%s\n", ln.Addr().String())
	if demo {
		if err := runDemo(ctx, a, stdout); err != nil {
			a.log.Error("demo setup failed", "err", err.Error())
		}
	}
	select {
	case <-ctx.Done():
	case err := <-srvErr:
		if !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve: %w", err)
		}
	}
	a.log.Info("shutting down: draining requests and the ingest queue", "deadline", a.cfg.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		a.log.Error("http shutdown", "err", err.Error())
	}
	stopMetrics(sctx)
	mctx, mcancel := context.WithTimeout(context.Background(), min(mailboxDrain, a.cfg.ShutdownTimeout))
	if err := a.mailbox.Close(mctx); err != nil {
		a.log.Warn("bounce mailbox: batch in progress cancelled; it is read again at the next start", "err", err.Error())
	}
	mcancel()
	if err := a.pipeline.Close(sctx); err != nil {
		return fmt.Errorf("ingest drain: %w", err)
	}
	<-pipeDone
	a.log.Info("stopped cleanly")
	return nil
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
