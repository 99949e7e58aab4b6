package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

type readyAnswer struct {
	Status string            `json:"status"`
	Checks map[string]string `json:"checks"`
}

// TestReadyzWaitsForEveryPart: /readyz is 503 naming each part that is not ready (the
// segment index still loading, background parts not running), and 200 once all are;
// /healthz is 200 throughout. With --event-log the projector is one more such part.
func TestReadyzWaitsForEveryPart(t *testing.T) {
	// The harness runs the pipeline (and with the event log the projector), but not
	// through serve's parts, nor the index.
	h := newHarness(t)
	parts := []string{"pipeline", "outbound", "mailbox"}
	if testEventLog() {
		parts = append(parts, "projector")
	}
	get := func() (int, readyAnswer) {
		var out readyAnswer
		resp := h.do("GET", "/readyz", "", nil, &out)
		if resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") == "" {
			t.Fatal("503 /readyz without Retry-After")
		}
		return resp.StatusCode, out
	}
	code, out := get()
	want := map[string]string{"store": "ok", "segment_index": "loading"}
	for _, p := range parts {
		want[p] = "not running"
	}
	if code != http.StatusServiceUnavailable || out.Status != "not ready" || !equalMaps(out.Checks, want) {
		t.Fatalf("/readyz = %d %+v, want 503 with %v", code, out, want)
	}
	if r := h.do("GET", "/healthz", "", nil, nil); r.StatusCode != http.StatusOK {
		t.Fatalf("/healthz = %d while not ready, want 200 (liveness only)", r.StatusCode)
	}
	if err := h.app.segments.Build(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
	for i, part := range parts {
		h.app.parts.set(part, true)
		code, out = get()
		if last := i == len(parts)-1; last != (code == http.StatusOK) {
			t.Fatalf("with %v running: /readyz = %d %+v", parts[:i+1], code, out)
		}
	}
	if out.Status != "ready" || out.Checks["segment_index"] != "ok" {
		t.Fatalf("ready answer %+v", out)
	}
	for _, p := range parts {
		if m := h.metric(`mailtrail_component_ready{component="` + p + `"}`); !strings.HasSuffix(m, " 1") {
			t.Fatalf("component gauge %q, want 1", m)
		}
	}
	h.app.parts.set("outbound", false) // a part that stops makes the service unready again
	if code, out = get(); code != http.StatusServiceUnavailable || out.Checks["outbound"] != "not running" {
		t.Fatalf("after the dispatcher stopped: /readyz = %d %+v", code, out)
	}
	if m := h.metric(`mailtrail_component_ready{component="outbound"}`); !strings.HasSuffix(m, " 0") {
		t.Fatalf("component gauge %q, want 0", m)
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// opsDaemon is a mailtrail process started with stdout read line by line (for the
// metrics listener's address).
type opsDaemon struct {
	*daemon
	metrics string // http://host:port/metrics
}

// startOpsDaemon starts `mailtrail serve` with extra flags and waits for /readyz 200.
func startOpsDaemon(t *testing.T, bin string, extra ...string) *opsDaemon {
	t.Helper()
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--admin-token", testAdmin,
		"--public-url", "http://127.0.0.1"}, extra...)
	d := &opsDaemon{daemon: &daemon{logs: &syncBuffer{}, exited: make(chan struct{})}}
	d.cmd = exec.Command(bin, args...)
	d.cmd.Stderr = d.logs
	stdout, err := d.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 64) // serve prints two or three lines; the rest are dropped
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default: // nobody reads any more: drain
			}
		}
	}()
	go func() { d.err = d.cmd.Wait(); close(d.exited) }()
	t.Cleanup(func() {
		select {
		case <-d.exited:
		default:
			_ = d.cmd.Process.Kill()
			<-d.exited
		}
		if t.Failed() {
			t.Logf("stderr:\n%s", d.logs.tail(4000))
		}
	})
	deadline := time.After(20 * time.Second)
	for d.base == "" {
		select {
		case l := <-lines:
			if a, ok := strings.CutPrefix(l, "mailtrail metrics on "); ok {
				d.metrics = a
			}
			if a, ok := strings.CutPrefix(l, "mailtrail listening on "); ok {
				d.base = a
			}
		case <-d.exited:
			t.Fatalf("mailtrail exited at start: %v\n%s", d.err, d.logs.tail(4000))
		case <-deadline:
			t.Fatalf("no address within 20s\n%s", d.logs.tail(4000))
		}
	}
	for {
		resp, err := http.Get(d.base + "/readyz")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return d
			}
		}
		select {
		case <-deadline:
			t.Fatalf("not ready within 20s\n%s", d.logs.tail(4000))
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// TestServeOperations runs the real binary with --metrics-addr and --access-log: /readyz
// names every part ready, /metrics moves to its own listener (404 on the main one) with
// the route-group latencies, and the access log has a line per request holding no
// token, key, email address or full client address.
func TestServeOperations(t *testing.T) {
	bin := buildBinary(t)
	d := startOpsDaemon(t, bin, "--metrics-addr", "127.0.0.1:0", "--access-log", "--log-level", "warn",
		"--client-ip-header", "X-Forwarded-For")
	if d.metrics == "" {
		t.Fatal("no metrics address printed")
	}
	ctx := context.Background()
	c := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	const clientIP = "198.51.100.77"
	// get sends one request the way a recipient behind the proxy would.
	send := func(method, url, bearer, body string) (int, []byte) {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
		req.Header.Set("X-Forwarded-For", clientIP)
		req.Header.Set("User-Agent", desktopUA)
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}

	// Readiness: every part named and ok.
	code, b := send("GET", d.base+"/readyz", "", "")
	var ready readyAnswer
	_ = json.Unmarshal(b, &ready)
	for _, part := range []string{"store", "segment_index", "pipeline", "outbound", "mailbox"} {
		if ready.Checks[part] != "ok" {
			t.Errorf("/readyz %d: part %s = %q", code, part, ready.Checks[part])
		}
	}

	var org struct {
		APIKey string `json:"api_key"`
	}
	if _, err := doJSON(ctx, c, "POST", d.base+"/api/v1/admin/organizations", testAdmin, map[string]string{"name": "Ops", "timezone": "UTC"}, &org); err != nil {
		t.Fatal(err)
	}
	const email, customer = "ann.private@example.com", "crm-ann@example.org"
	var msg struct {
		Tracking struct {
			OpenURL        string   `json:"open_url"`
			ClickURLs      []string `json:"click_urls"`
			UnsubscribeURL string   `json:"unsubscribe_url"`
		} `json:"tracking"`
	}
	if _, err := doJSON(ctx, c, "POST", d.base+"/api/v1/messages", org.APIKey, map[string]string{"campaign_id": "ops", "customer_id": customer,
		"customer_email": email, "html": `<a href="https://shop.example.com/x">x</a> <a href="{{unsubscribe_url}}">u</a>`}, &msg); err != nil {
		t.Fatal(err)
	}
	local := func(u string) string { return d.base + strings.TrimPrefix(u, "http://127.0.0.1") }
	var secrets []string // what no log line may hold
	for _, u := range append([]string{msg.Tracking.OpenURL, msg.Tracking.UnsubscribeURL}, msg.Tracking.ClickURLs...) {
		_, tok, _ := strings.Cut(strings.TrimPrefix(u, "http://127.0.0.1/api/track/"), "/")
		if len(tok) < 16 {
			t.Fatalf("tracking URL %q has no token", u)
		}
		secrets = append(secrets, tok)
	}
	secrets = append(secrets, org.APIKey, testAdmin, email, customer, clientIP, "ann.private", "crm-ann")
	requests := []struct{ method, url, bearer, route string }{
		{"GET", local(msg.Tracking.OpenURL), "", "GET /api/track/open/{token...}"},
		{"GET", local(msg.Tracking.ClickURLs[0]), "", "GET /api/track/click/{token...}"},
		{"GET", local(msg.Tracking.UnsubscribeURL), "", "GET /api/track/unsubscribe/{token}"},
		{"GET", d.base + "/api/track/open/" + secrets[0] + "x", "", "GET /api/track/open/{token...}"},
		{"GET", d.base + "/api/v1/customers/" + customer + "/events", org.APIKey, "GET /api/v1/customers/{customer}/events"},
		{"GET", d.base + "/api/v1/suppressions/" + email + "/history", org.APIKey, "GET /api/v1/suppressions/{email}/history"},
		{"GET", d.base + "/api/v1/events?customer_id=" + customer, org.APIKey, "GET /api/v1/events"},
		{"GET", d.base + "/nowhere/" + email, "", "unmatched"},
		{"GET", d.base + "/metrics", "", "GET /metrics"},
	}
	for _, r := range requests {
		send(r.method, r.url, r.bearer, "")
	}
	if code, _ := send("GET", d.base+"/metrics", "", ""); code != http.StatusNotFound {
		t.Errorf("main listener /metrics = %d, want 404 with --metrics-addr", code)
	}
	code, b = send("GET", d.metrics, "", "")
	if code != http.StatusOK {
		t.Fatalf("metrics listener: %d", code)
	}
	for _, want := range []string{`mailtrail_http_request_duration_seconds_count{group="tracking"} 4`, "process_resident_memory_bytes ", "go_goroutines ",
		`mailtrail_segment_index_ready 1`, `mailtrail_component_ready{component="pipeline"} 1`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("metrics lack %q", want)
		}
	}

	if err := d.stop(20 * time.Second); err != nil {
		t.Fatal(err)
	}
	logs := d.logs.tail(1 << 20)
	routes := map[string]int{}
	// Through the proxy header: the client's /24; the harness's own requests: loopback's.
	clientRE := regexp.MustCompile(`^(198\.51\.100|127\.0\.0)\.0$`)
	for _, l := range strings.Split(logs, "\n") {
		for _, s := range secrets {
			if strings.Contains(l, s) {
				t.Errorf("log line holds %q: %s", s, l)
			}
		}
		var e struct {
			Msg, Method, Route, Group, Client string
			Status                            int
		}
		if json.Unmarshal([]byte(l), &e) != nil || e.Msg != "access" {
			continue
		}
		routes[e.Route]++
		if e.Status == 0 || e.Method == "" || e.Group == "" {
			t.Errorf("access line lacks fields: %s", l)
		}
		if !clientRE.MatchString(e.Client) || e.Group == "tracking" && e.Client != "198.51.100.0" {
			t.Errorf("access line's client %q, want the client truncated to its /24: %s", e.Client, l)
		}
	}
	want := map[string]int{"POST /api/v1/messages": 1, "POST /api/v1/admin/organizations": 1, "GET /metrics": 2, "GET /readyz": 1, "unmatched": 1}
	for _, r := range requests {
		if r.route != "GET /metrics" && r.route != "unmatched" {
			want[r.route]++
		}
	}
	for route, n := range want {
		if routes[route] < n {
			t.Errorf("access log: %d lines of %s, want %d (all: %v)", routes[route], route, n, routes)
		}
	}
}
