package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/mailtrail/mailtrail/bench/load"
)

// offerer sends the event batches and the reads that wait for their positions.
type offerer struct {
	st     settings
	url    string
	header http.Header
	bodies func() []byte
	client *http.Client
	// -lag-by wait: the read that waits for a position, and its client.
	waitURL    string
	waitClient *http.Client
}

// batchResult is one request of a step.
type batchResult struct {
	at      time.Time // scheduled send
	ack     time.Time // answer read
	status  int
	errText string // the error message of a non-200 answer
	pos     uint64 // Mailtrail-Log-Position
	events  int
	err     error
	notSent bool // past -max-inflight
	// -lag-by wait: when the read waiting for pos answered and after how many 503s;
	// censored when -drain ended first.
	projected time.Time
	waits     int
	censored  bool
}

// send posts one batch (scheduled at at) and returns what came back.
func (o *offerer) send(ctx context.Context, at time.Time) batchResult {
	b := batchResult{at: at, events: o.st.batch}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, o.url, bytes.NewReader(o.bodies()))
	if err != nil {
		b.err = err
		return b
	}
	req.Header = o.header
	resp, err := o.client.Do(req)
	if err != nil {
		b.err = err
		return b
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	b.ack = time.Now()
	b.status = resp.StatusCode
	if err != nil {
		b.err = err
		return b
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		json.Unmarshal(body, &e)
		b.errText = e.Error.Message
		b.err = fmt.Errorf("status %d: %.200s", resp.StatusCode, body)
		return b
	}
	var out struct {
		Accepted int `json:"accepted"`
	}
	if json.Unmarshal(body, &out) != nil || out.Accepted != o.st.batch {
		b.err = fmt.Errorf("accepted %d of %d: %.200s", out.Accepted, o.st.batch, body)
	}
	b.pos, _ = strconv.ParseUint(resp.Header.Get("Mailtrail-Log-Position"), 10, 64)
	if b.pos == 0 && b.err == nil {
		b.err = errors.New("no Mailtrail-Log-Position in the answer")
	}
	return b
}

// waitProjected asks the server to answer once the projection holds pos (GET
// /api/v1/settings with Mailtrail-After: a read that waits up to --read-wait, then answers
// 503), again after each 503, and returns when the answer came and how many 503s came
// before it.
func (o *offerer) waitProjected(ctx context.Context, pos uint64) (time.Time, int, error) {
	header := http.Header{"Authorization": o.header["Authorization"], "Mailtrail-After": {strconv.FormatUint(pos, 10)}}
	for waits := 0; ; waits++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, o.waitURL, nil)
		if err != nil {
			return time.Time{}, waits, err
		}
		req.Header = header
		resp, err := o.waitClient.Do(req)
		if err != nil {
			return time.Time{}, waits, err
		}
		at := time.Now()
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusOK:
			return at, waits, nil
		case http.StatusServiceUnavailable:
			continue
		default:
			return time.Time{}, waits, fmt.Errorf("GET %s after %d: status %d", o.waitURL, pos, resp.StatusCode)
		}
	}
}

// sample is one reading of /metrics.
type sample struct {
	at        time.Time // middle of the request that read it
	log, proj uint64
}

// stepResult is what one rate measured in one round.
type stepResult struct {
	round                  int
	offered                int
	sent, acked, failed    int
	notSent                int
	statuses               map[string]int // failed requests by status (and error message)
	ackRate                float64        // events/s
	ackP50, ackP99         time.Duration
	lagP50, lagP99, lagMax time.Duration
	censored               int // batches not projected within -drain: their lag is a lower bound
	maxLagPositions        uint64
	eventsPerPosition      float64
	catchUp                time.Duration // from the step's end until the projection held every acknowledged batch
	serverCPU              float64       // cores used by the server from the step's start to its catch-up
	polls                  int           // /metrics reads
	readWaits              int           // -lag-by wait: 503s of reads that waited past --read-wait
	storeBefore            float64       // events the log had taken before the step (mailtrail_ingest_batch_events_sum)
	appended               float64       // events the log took during the step
	rejected               float64       // events refused during the step (mailtrail_ingest_rejected_events_total)
	othersCPU              float64       // CPUs other processes used from the step's start to its catch-up (-1: unknown)
}

// keptUp reports whether a step kept up: every batch acknowledged, at the offered rate
// (within 5 %), with a lag p99 under the goal.
func (r stepResult) keptUp(goal time.Duration) bool {
	return r.failed == 0 && r.censored == 0 && r.ackRate >= 0.95*float64(r.offered) && r.lagP99 < goal
}

// step offers rate events/s for st.duration to e and measures acknowledgements and lags.
func step(ctx context.Context, st settings, e *env, rate int) (stepResult, error) {
	res := stepResult{offered: rate, statuses: map[string]int{}}
	g0, err := e.m.read(ctx)
	if err != nil {
		return res, err
	}
	res.storeBefore = g0.appended
	pid := e.srv.cmd.Process.Pid
	cpu0, _ := load.ProcessCPU(pid)
	snap0 := load.SampleCPU(pid)
	byMetrics := st.lagBy == lagByMetrics

	// The sampler reads /metrics from before the first send until the step is measured:
	// every -poll with -lag-by metrics (the lag of each batch comes from it), else every
	// -sample (for the largest lag in positions only).
	every := st.sample
	if byMetrics {
		every = st.poll
	}
	var samples []sample
	pollCtx, stopPoll := context.WithCancel(ctx)
	defer stopPoll()
	pollDone := make(chan struct{})
	var wantMu sync.Mutex
	var want uint64
	reached := make(chan time.Time, 1)
	go func() {
		defer close(pollDone)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for pollCtx.Err() == nil {
			t0 := time.Now()
			g, err := e.m.read(pollCtx)
			t1 := time.Now()
			if err == nil {
				s := sample{at: t0.Add(t1.Sub(t0) / 2), log: g.log, proj: g.proj}
				samples = append(samples, s)
				wantMu.Lock()
				w := want
				wantMu.Unlock()
				if w > 0 && s.proj >= w {
					select {
					case reached <- t1:
					default:
					}
				}
			}
			select {
			case <-tick.C:
			case <-pollCtx.Done():
			}
		}
	}()

	// Open loop: batch i is sent at start + i·interval, whatever came back before. With
	// -lag-by wait, the batch's goroutine then asks the server to answer once its position
	// is projected.
	interval := time.Duration(float64(time.Second) * float64(st.batch) / float64(rate))
	n := max(1, int(st.duration/interval))
	start := time.Now().Add(20 * time.Millisecond)
	end := start.Add(time.Duration(n) * interval)
	deadline := end.Add(st.drain)
	waitCtx, cancelWaits := context.WithDeadline(ctx, deadline)
	defer cancelWaits()
	var mu sync.Mutex
	var batches []batchResult
	var wg sync.WaitGroup
	var waitErr error
	sem := make(chan struct{}, st.maxInflight)
	for i := range n {
		at := start.Add(time.Duration(i) * interval)
		if d := time.Until(at); d > 0 {
			select {
			case <-time.After(d):
			case <-ctx.Done():
				return res, ctx.Err()
			}
		}
		select {
		case sem <- struct{}{}:
		default:
			mu.Lock()
			batches = append(batches, batchResult{at: at, notSent: true})
			mu.Unlock()
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := e.o.send(ctx, at)
			<-sem
			if !byMetrics && b.err == nil {
				var err error
				b.projected, b.waits, err = e.o.waitProjected(waitCtx, b.pos)
				switch {
				case err != nil && waitCtx.Err() != nil && ctx.Err() == nil:
					b.censored = true
				case err != nil:
					mu.Lock()
					waitErr = fmt.Errorf("waiting for position %d: %w", b.pos, err)
					mu.Unlock()
				}
			}
			mu.Lock()
			batches = append(batches, b)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	if waitErr != nil {
		return res, fmt.Errorf("%w\n%s", waitErr, e.srv.logTail())
	}

	// When the projection held every acknowledged batch (or -drain ended).
	var last uint64
	var doneAt time.Time
	censored := false
	for _, b := range batches {
		last = max(last, b.pos)
		if b.projected.After(doneAt) {
			doneAt = b.projected
		}
		censored = censored || b.censored
	}
	if byMetrics {
		wantMu.Lock()
		want = last
		wantMu.Unlock()
		select {
		case doneAt = <-reached:
		case <-time.After(time.Until(deadline)):
			censored = true
		case <-e.srv.done:
			return res, fmt.Errorf("server exited\n%s", e.srv.logTail())
		case <-ctx.Done():
			return res, ctx.Err()
		}
	}
	if (censored || doneAt.IsZero()) && deadline.After(doneAt) {
		doneAt = deadline
	}
	stopPoll()
	<-pollDone
	select {
	case <-e.srv.done:
		return res, fmt.Errorf("server exited\n%s", e.srv.logTail())
	default:
	}
	cpu1, _ := load.ProcessCPU(pid)
	res.othersCPU = load.OthersCPU(snap0, load.SampleCPU(pid))
	res.serverCPU = (cpu1 - cpu0).Seconds() / doneAt.Sub(start).Seconds()
	res.catchUp = max(0, doneAt.Sub(end))
	res.polls = len(samples)
	g1, err := e.m.read(ctx)
	if err != nil {
		return res, err
	}
	res.appended, res.rejected = g1.appended-g0.appended, g1.rejected-g0.rejected

	// Acknowledgements and lags.
	var ackLat, lag load.Histogram
	var lastAck time.Time
	var events int
	for _, b := range batches {
		switch {
		case b.notSent:
			res.notSent++
			res.failed++
			res.statuses["not sent (-max-inflight)"]++
			continue
		case b.err != nil:
			res.sent++
			res.failed++
			key := "no answer"
			if b.status != 0 {
				key = strconv.Itoa(b.status)
				if b.errText != "" {
					key += " " + strconv.Quote(b.errText)
				}
			}
			res.statuses[key]++
			continue
		}
		res.sent++
		res.acked++
		events += b.events
		res.readWaits += b.waits
		ackLat.Record(b.ack.Sub(b.at))
		if b.ack.After(lastAck) {
			lastAck = b.ack
		}
		switch {
		case b.censored:
			res.censored++
			lag.Record(deadline.Sub(b.ack))
		case !byMetrics:
			lag.Record(max(0, b.projected.Sub(b.ack)))
		default:
			// The first sample at or past the batch's position.
			i, _ := slices.BinarySearchFunc(samples, b.pos, func(s sample, pos uint64) int {
				switch {
				case s.proj < pos:
					return -1
				case s.proj > pos:
					return 1
				}
				return 0
			})
			if i < len(samples) {
				lag.Record(max(0, samples[i].at.Sub(b.ack)))
			} else {
				res.censored++
				lag.Record(doneAt.Sub(b.ack))
			}
		}
	}
	if !lastAck.IsZero() {
		res.ackRate = float64(events) / max(lastAck.Sub(start), end.Sub(start)).Seconds()
	}
	res.ackP50, res.ackP99 = ackLat.Quantile(0.5), ackLat.Quantile(0.99)
	res.lagP50, res.lagP99, res.lagMax = lag.Quantile(0.5), lag.Quantile(0.99), lag.Max()
	for _, s := range samples {
		if s.log > s.proj {
			res.maxLagPositions = max(res.maxLagPositions, s.log-s.proj)
		}
	}
	if last > g0.log {
		res.eventsPerPosition = float64(events) / float64(last-g0.log)
	}

	// On a server that goes on to the next step, that step starts with the projection
	// caught up (not measured).
	if censored && !st.fresh {
		progress("waiting for the projection to catch up before the next step")
		for t := time.Now(); ; time.Sleep(100 * time.Millisecond) {
			g, err := e.m.read(ctx)
			if err == nil && g.proj >= g.log {
				break
			}
			if time.Since(t) > 10*time.Minute || ctx.Err() != nil {
				return res, fmt.Errorf("the projection did not catch up within 10 minutes (%v)\n%s", err, e.srv.logTail())
			}
		}
	}
	return res, nil
}

// lowerBound returns "≥ " when a step's lags are lower bounds (batches not projected
// within -drain), else "".
func lowerBound(r stepResult) string {
	if r.censored > 0 {
		return "≥ "
	}
	return ""
}
