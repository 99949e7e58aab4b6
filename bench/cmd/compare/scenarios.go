package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/mailtrail/mailtrail/bench/load"
)

// Scenario kinds.
const (
	kindOpen    = "open"
	kindClick   = "click"
	kindIngest  = "ingest"
	kindWebhook = "webhook"
)

// userAgents are sent in turn with tracking hits, as mail clients and image
// proxies would.
var userAgents = []string{
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
	"Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17328; Pro)",
}

// scenario is one load shape measured on both servers.
type scenario struct {
	kind  string
	conns int
	batch int // events per request of the webhook scenario
}

// String returns the scenario's label in the report.
func (s scenario) String() string {
	switch s.kind {
	case kindOpen:
		return "open pixel"
	case kindClick:
		return "click redirect"
	case kindWebhook:
		return fmt.Sprintf("sendgrid webhook ×%d", s.batch)
	default:
		return "events ingest"
	}
}

// target is one server under test and the requests prepared for it.
type target struct {
	name   string
	mode   string // mailtrail's write path; "" for the baseline
	srv    *server
	apiKey string
	batch  int
	opens  []load.Request
	clicks []load.Request
	bodies func() []byte
	// webhook scenario: the connection's path, the signer and a body stream per size
	webhookPath string
	signer      *sgSigner
	sgBodies    map[int]func() []byte
}

// newTarget prepares the tracking requests (the same paths on every
// target) and a stream of ingest bodies for srv.
func newTarget(name string, srv *server, apiKey string, paths trackingPaths, bodies *load.Bodies) *target {
	headers := make([]http.Header, len(userAgents))
	for i, ua := range userAgents {
		headers[i] = http.Header{"User-Agent": {ua}}
	}
	get := func(paths []string) []load.Request {
		reqs := make([]load.Request, len(paths))
		for i, p := range paths {
			reqs[i] = load.Request{Method: http.MethodGet, URL: srv.base + p, Header: headers[i%len(headers)]}
		}
		return reqs
	}
	return &target{
		name:   name,
		srv:    srv,
		apiKey: apiKey,
		batch:  bodies.Size(),
		opens:  get(paths.opens),
		clicks: get(paths.clicks),
		bodies: bodies.Stream(),
	}
}

// source returns the request source of sc on t.
func (t *target) source(sc scenario) func(uint64) load.Request {
	if sc.kind == kindWebhook {
		return t.webhookNext(sc.batch)
	}
	return t.next(sc.kind)
}

// next returns the request source of scenario kind on t.
func (t *target) next(kind string) func(uint64) load.Request {
	switch kind {
	case kindOpen:
		return load.RoundRobin(t.opens)
	case kindClick:
		return load.RoundRobin(t.clicks)
	}
	header := http.Header{
		"Content-Type":  {"application/json"},
		"Authorization": {"Bearer " + t.apiKey},
	}
	url := t.srv.base + "/api/v1/events"
	return func(uint64) load.Request {
		return load.Request{Method: http.MethodPost, URL: url, Header: header, Body: t.bodies(), Events: t.batch}
	}
}

// check sends one request of each kind and returns an error unless the
// answers have the shape the benchmark relies on, so that a round never
// measures error pages.
func (t *target) check(ctx context.Context) error {
	client := &http.Client{
		Timeout:       time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	do := func(rq load.Request) (*http.Response, []byte, error) {
		var body io.Reader
		if rq.Body != nil {
			body = bytes.NewReader(rq.Body)
		}
		req, err := http.NewRequestWithContext(ctx, rq.Method, rq.URL, body)
		if err != nil {
			return nil, nil, err
		}
		req.Header = rq.Header
		resp, err := client.Do(req)
		if err != nil {
			return nil, nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp, b, err
	}

	resp, b, err := do(t.opens[0])
	if err != nil {
		return fmt.Errorf("%s: open: %w", t.name, err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/gif" || len(b) != 43 ||
		!strings.Contains(resp.Header.Get("Cache-Control"), "no-store") {
		return fmt.Errorf("%s: open: got %d %q, %d bytes, Cache-Control %q; want 200 image/gif, 43 bytes, no-store",
			t.name, resp.StatusCode, resp.Header.Get("Content-Type"), len(b), resp.Header.Get("Cache-Control"))
	}

	resp, _, err = do(t.clicks[0])
	if err != nil {
		return fmt.Errorf("%s: click: %w", t.name, err)
	}
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") == "" {
		return fmt.Errorf("%s: click: got %d, Location %q; want 302 with a Location",
			t.name, resp.StatusCode, resp.Header.Get("Location"))
	}

	resp, b, err = do(t.next(kindIngest)(0))
	if err != nil {
		return fmt.Errorf("%s: ingest: %w", t.name, err)
	}
	var out struct {
		Accepted int `json:"accepted"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &out) != nil || out.Accepted != t.batch {
		return fmt.Errorf("%s: ingest: got %d %.300s; want 200 with accepted %d", t.name, resp.StatusCode, b, t.batch)
	}
	return nil
}
