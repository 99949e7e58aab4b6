// Package load is a small closed-loop HTTP load generator for mailtrail's
// benchmarks: a fixed number of keep-alive connections, each sending its next
// request as soon as the previous answer is read, for a fixed duration.
//
// It only targets loopback addresses, and every run is bounded in time,
// connections and request count.
package load

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

// Limits that bound every run.
const (
	MaxConns    = 4096
	MaxDuration = 10 * time.Minute
)

// Request is one request to send. Header and Body are shared by concurrent
// senders and must not be modified once the run has started.
type Request struct {
	Method string
	URL    string
	Header http.Header
	Body   []byte
	// Events is how many events the request carries (a batch); a successful
	// response adds it to Result.Events.
	Events int
}

// Config describes a run.
type Config struct {
	// Conns is the number of concurrent connections (and senders).
	Conns int
	// Duration is how long the measured part of the run lasts.
	Duration time.Duration
	// Warmup precedes the measurement; its requests are sent but not counted.
	Warmup time.Duration
	// Next returns the request with sequence number n (0, 1, 2, … over the
	// whole run, across connections). It is called concurrently. See
	// RoundRobin for a fixed list.
	Next func(n uint64) Request
	// MaxRequests stops the run after that many requests; 0 means no limit.
	MaxRequests uint64
	// Timeout bounds one request; 0 means 30 s.
	Timeout time.Duration
}

// Result is what a run measured: the answers that completed within the
// measured window, after the warm-up and before the end. Requests still in
// flight at the end are cancelled and not counted.
type Result struct {
	// Requests counts the answered requests, whatever their status.
	Requests uint64
	// OK counts answers with status 200–399.
	OK uint64
	// Errors counts requests that got no answer (connection or timeout).
	Errors uint64
	// Events sums Request.Events over the OK answers.
	Events uint64
	// Status counts answers by status code.
	Status map[int]uint64
	// Latency holds the time from sending each OK request to reading the
	// end of its answer.
	Latency *Histogram
	// Elapsed is the measured duration.
	Elapsed time.Duration
}

// RPS returns OK answers per second.
func (r Result) RPS() float64 { return perSecond(r.OK, r.Elapsed) }

// EventsPerSec returns events carried by OK answers per second.
func (r Result) EventsPerSec() float64 { return perSecond(r.Events, r.Elapsed) }

// Failed returns the requests that got no answer or a status of 400 or more.
func (r Result) Failed() uint64 { return r.Errors + r.Requests - r.OK }

func perSecond(n uint64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// RoundRobin returns a Config.Next that cycles through reqs.
func RoundRobin(reqs []Request) func(uint64) Request {
	return func(n uint64) Request { return reqs[n%uint64(len(reqs))] }
}

// CheckLoopback returns an error unless rawURL is an http URL whose host is
// a loopback IP address or "localhost".
func CheckLoopback(rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return fmt.Errorf("load: %w", err)
	}
	if u.Scheme != "http" {
		return fmt.Errorf("load: %q: only http URLs are supported", rawURL)
	}
	if !isLoopback(u.Hostname()) {
		return fmt.Errorf("load: %q: %w", rawURL, errNotLoopback)
	}
	return nil
}

// errNotLoopback reports a target outside the loopback interface.
var errNotLoopback = errors.New("only loopback targets are allowed")

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Run sends requests as described by cfg until its duration ends, its
// request limit is reached or ctx is done, and returns what it measured.
// It returns an error for an invalid configuration or a non-loopback URL;
// failed requests are counted, not returned.
func Run(ctx context.Context, cfg Config) (Result, error) {
	if err := cfg.validate(); err != nil {
		return Result{}, err
	}
	timeout := cfg.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConns:        cfg.Conns,
		MaxIdleConnsPerHost: cfg.Conns,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{
		Transport:     tr,
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}

	start := time.Now()
	end := start.Add(cfg.Warmup + cfg.Duration)
	// Requests still in flight at the end are cancelled, not waited for: a
	// server stalled on a slow disk sync must not stretch the run.
	runCtx, cancel := context.WithDeadline(ctx, end)
	defer cancel()
	r := &runner{
		cfg:     cfg,
		client:  client,
		ctx:     runCtx,
		measure: start.Add(cfg.Warmup),
		end:     end,
	}
	stats := make([]senderStats, cfg.Conns)
	var wg sync.WaitGroup
	for i := range stats {
		wg.Go(func() { r.send(&stats[i]) })
	}
	wg.Wait()

	res := Result{Status: map[int]uint64{}, Latency: &Histogram{}}
	res.Elapsed = min(time.Since(r.measure), cfg.Duration)
	for i := range stats {
		s := &stats[i]
		res.Requests += s.requests
		res.OK += s.ok
		res.Errors += s.errors
		res.Events += s.events
		for code, n := range s.status {
			res.Status[code] += n
		}
		res.Latency.Merge(&s.latency)
	}
	return res, ctx.Err()
}

func (c Config) validate() error {
	switch {
	case c.Conns < 1 || c.Conns > MaxConns:
		return fmt.Errorf("load: conns %d out of 1..%d", c.Conns, MaxConns)
	case c.Duration <= 0 || c.Warmup < 0 || c.Duration+c.Warmup > MaxDuration:
		return fmt.Errorf("load: duration %v + warm-up %v out of (0, %v]", c.Duration, c.Warmup, MaxDuration)
	case c.Next == nil:
		return errors.New("load: no requests (Next is nil)")
	}
	return CheckLoopback(c.Next(0).URL)
}

// runner is the state shared by a run's senders.
type runner struct {
	cfg     Config
	client  *http.Client
	ctx     context.Context
	measure time.Time // requests sent from here on are counted
	end     time.Time
	seq     atomic.Uint64
}

// senderStats is one sender's tally, merged when the run ends.
type senderStats struct {
	requests, ok, errors, events uint64
	status                       map[int]uint64
	latency                      Histogram
}

// send loops on one connection until the run ends.
func (r *runner) send(s *senderStats) {
	s.status = map[int]uint64{}
	for r.ctx.Err() == nil {
		n := r.seq.Add(1) - 1
		if r.cfg.MaxRequests > 0 && n >= r.cfg.MaxRequests {
			return
		}
		rq := r.cfg.Next(n)
		t0 := time.Now()
		status, err := r.do(rq)
		t1 := time.Now()
		switch {
		case errors.Is(err, errNotLoopback):
			s.errors++
			return
		case !t1.Before(r.end) || r.ctx.Err() != nil:
			return // the run is over; this answer is not counted
		case err != nil:
			// Back off a little so a dead server does not turn the run
			// into a busy loop.
			time.Sleep(10 * time.Millisecond)
		}
		if t1.Before(r.measure) {
			continue // completed during the warm-up: not counted
		}
		if err != nil {
			s.errors++
			continue
		}
		s.requests++
		s.status[status]++
		if status >= 200 && status < 400 {
			s.ok++
			s.events += uint64(rq.Events)
			s.latency.Record(t1.Sub(t0))
		}
	}
}

// do sends rq, reads the whole answer and returns its status code.
func (r *runner) do(rq Request) (int, error) {
	var body io.Reader
	if rq.Body != nil {
		body = bytes.NewReader(rq.Body)
	}
	req, err := http.NewRequestWithContext(r.ctx, rq.Method, rq.URL, body)
	if err != nil {
		return 0, err
	}
	if !isLoopback(req.URL.Hostname()) {
		return 0, errNotLoopback
	}
	if rq.Header != nil {
		req.Header = rq.Header
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return 0, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		return 0, err
	}
	return resp.StatusCode, nil
}
