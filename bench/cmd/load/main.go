// Command load sends requests to one loopback URL from N keep-alive
// connections for a while and prints throughput and latency quantiles.
//
// Usage:
//
//	go run ./bench/cmd/load -url http://127.0.0.1:8081/api/track/open/x -c 64 -d 10s
//	go run ./bench/cmd/load -method POST -body batch.json -events 1000 \
//	    -H 'Content-Type: application/json' -url http://127.0.0.1:8081/api/v1/events
package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/mailtrail/mailtrail/bench/load"
)

// headerFlags collects repeated -H "Name: value" flags.
type headerFlags http.Header

func (h headerFlags) String() string { return fmt.Sprint(http.Header(h)) }

func (h headerFlags) Set(s string) error {
	name, value, ok := strings.Cut(s, ":")
	if !ok {
		return fmt.Errorf("header %q: want \"Name: value\"", s)
	}
	http.Header(h).Add(strings.TrimSpace(name), strings.TrimSpace(value))
	return nil
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

func run() error {
	header := headerFlags{}
	target := flag.String("url", "", "loopback URL to load (required)")
	method := flag.String("method", http.MethodGet, "request method")
	bodyFile := flag.String("body", "", "file whose content is sent as the body")
	events := flag.Int("events", 0, "events per request (to report events/s)")
	conns := flag.Int("c", 64, "concurrent connections")
	duration := flag.Duration("d", 10*time.Second, "measured duration")
	warmup := flag.Duration("warmup", time.Second, "unmeasured warm-up")
	flag.Var(header, "H", "request header \"Name: value\" (repeatable)")
	flag.Parse()
	if *target == "" {
		return fmt.Errorf("-url is required")
	}
	rq := load.Request{Method: *method, URL: *target, Header: http.Header(header), Events: *events}
	if *bodyFile != "" {
		b, err := os.ReadFile(*bodyFile)
		if err != nil {
			return err
		}
		rq.Body = b
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	res, err := load.Run(ctx, load.Config{
		Conns:    *conns,
		Duration: *duration,
		Warmup:   *warmup,
		Next:     load.RoundRobin([]load.Request{rq}),
	})
	if err != nil {
		return err
	}
	fmt.Printf("requests %d in %v: %.0f req/s", res.OK, res.Elapsed.Round(time.Millisecond), res.RPS())
	if *events > 0 {
		fmt.Printf(", %.0f events/s", res.EventsPerSec())
	}
	fmt.Printf("\nlatency p50 %v  p99 %v  p99.9 %v  max %v\n",
		res.Latency.Quantile(0.5), res.Latency.Quantile(0.99), res.Latency.Quantile(0.999), res.Latency.Max())
	fmt.Printf("status %v  errors %d\n", res.Status, res.Errors)
	return nil
}
