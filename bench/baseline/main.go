// Command baseline is the comparison server of mailtrail's benchmarks: the
// least a reasonable Go service must do to track opens and clicks durably.
//
// It serves the same routes and responses as mailtrail's tracking endpoints
// and event ingest, appends one line per event to a file and answers only
// after a group-committed fdatasync of that file. It keeps no index, no
// derived state and validates nothing, so mailtrail's throughput divided by
// the baseline's is the price of everything mailtrail does beyond that.
//
// Usage:
//
//	baseline -addr 127.0.0.1:8081 -file events.log [-sendgrid-key BASE64DER]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/mailtrail/mailtrail/bench/journal"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "baseline:", err)
		os.Exit(1)
	}
}

func run() error {
	addr := flag.String("addr", "127.0.0.1:8081", "listen address")
	file := flag.String("file", "baseline-events.log", "events file (appended to)")
	sgKey := flag.String("sendgrid-key", "", "SendGrid verification key (base64 DER) for POST /webhooks/v2/sendgrid/{id}")
	flag.Parse()

	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	j, err := journal.Open(*file)
	if err != nil {
		return err
	}
	s := &server{journal: j, log: log}
	if *sgKey != "" {
		if s.sendgridKey, err = parseSendGridKey(*sgKey); err != nil {
			j.Close()
			return err
		}
	}
	srv := &http.Server{
		Handler:           s.routes(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		j.Close()
		return fmt.Errorf("listen: %w", err)
	}
	log.Info("listening", "addr", ln.Addr().String(), "file", *file)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	select {
	case err := <-serveErr:
		j.Close()
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Error("shutdown", "err", err)
	}
	return j.Close()
}
