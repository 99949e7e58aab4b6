package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/httpd"
	"github.com/mailtrail/mailtrail/internal/store/eventlog"
	"github.com/mailtrail/mailtrail/internal/store/eventlog/natstest"
)

// nodeClient calls one API node.
type nodeClient struct {
	t    *testing.T
	name string
	base string
	c    *http.Client
}

// do sends a request (body as JSON when not nil, headers hdr) and returns the answer
// with its body.
func (n nodeClient) do(method, path, key string, body any, hdr http.Header) (*http.Response, []byte) {
	n.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			n.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, n.base+path, rd)
	if err != nil {
		n.t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := n.c.Do(req)
	if err != nil {
		n.t.Fatalf("node %s: %s %s: %v", n.name, method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// json sends a request that must answer want, and decodes the answer into out (when not
// nil); it returns the answer.
func (n nodeClient) json(method, path, key string, body any, hdr http.Header, want int, out any) *http.Response {
	n.t.Helper()
	resp, b := n.do(method, path, key, body, hdr)
	if resp.StatusCode != want {
		n.t.Fatalf("node %s: %s %s: %d %s, want %d", n.name, method, path, resp.StatusCode, b, want)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			n.t.Fatalf("node %s: %s %s: %v in %s", n.name, method, path, err, b)
		}
	}
	return resp
}

// orgCreated is an organization the admin created, with its first key.
type orgCreated struct {
	ID     string `json:"id"`
	APIKey string `json:"api_key"`
}

// createOrg creates an organization on n (time zone UTC).
func (n nodeClient) createOrg(name string) orgCreated {
	n.t.Helper()
	var org orgCreated
	n.json("POST", "/api/v1/admin/organizations", testAdmin, map[string]string{"name": name, "timezone": "UTC"}, nil, 201, &org)
	return org
}

// after is the header that makes a read wait until the workers applied pos.
func after(pos uint64) http.Header {
	return http.Header{httpd.HeaderAfter: []string{strconv.FormatUint(pos, 10)}}
}

// startNode starts `mailtrail serve --cluster` on the engines e with secret.
func startNode(t *testing.T, bin string, e clusterEngines, secret string, extra ...string) nodeClient {
	t.Helper()
	n, _ := startNodeIn(t, bin, e, secret, t.TempDir(), extra...)
	return n
}

// startNodeIn is startNode on the data directory dir; it returns the process too.
func startNodeIn(t *testing.T, bin string, e clusterEngines, secret, dir string, extra ...string) (nodeClient, *daemon) {
	t.Helper()
	args := append([]string{"--cluster", "--event-log-url", e.url, "--event-log-stream", e.stream, "--event-log-replicas", "3",
		"--postgres-dsn", e.dsn, "--postgres-schema", e.schema, "--clickhouse-url", e.chURL, "--clickhouse-database", e.chDB,
		"--secret-key", secret, "--read-wait", "10s"}, extra...)
	d := startDaemon(t, bin, dir, testAdmin, args...)
	return nodeClient{t: t, base: d.base, c: &http.Client{Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}, d
}

// An API node keeps its segment index across a clean restart: its stop writes
// <data-dir>/segments.snapshot, its next start loads it and follows what the workers
// applied meanwhile (sends posted through the other node), and answers as before plus
// those. An erasure on the other node removes the file (it names the former id) while
// the node renames the customer in place; the next clean stop writes it again, at the
// new generation, and the start after loads it.
func TestAPINodeSegmentSnapshot(t *testing.T) {
	e := newClusterEngines(t, "mt_nodesnap_")
	bin := buildBinary(t)
	startWorker(t, bin, e.env(), nil, &syncBuffer{}, "--progress", "1s")
	secret := strings.Repeat("s3cr3t-", 6)
	dir := t.TempDir()
	snap := dir + "/" + segmentSnapshotFile
	a, da := startNodeIn(t, bin, e, secret, dir)
	a.name = "A"
	b := startNode(t, bin, e, secret)
	b.name = "B"
	org := a.createOrg("Acme")
	sends := func(n nodeClient, from, to int) uint64 {
		t.Helper()
		var evs []map[string]any
		for i := from; i < to; i++ {
			c := fmt.Sprintf("c%02d", i)
			evs = append(evs, map[string]any{"event_type": "sent", "campaign_id": "launch", "customer_id": c, "customer_email": c + "@example.com",
				"idempotency_key": "sent-" + c, "occurred_at": "2026-12-01T10:00:00Z"})
		}
		var ans postAnswer
		return logPosition(t, n.json("POST", "/api/v1/events", org.APIKey, map[string]any{"events": evs}, nil, 200, &ans))
	}
	// recipients waits until n's segment of the launch's recipients is want.
	recipients := func(n nodeClient, want []string) {
		t.Helper()
		var got []string
		for deadline := time.Now().Add(30 * time.Second); ; {
			var ids struct {
				CustomerIDs []string `json:"customer_ids"`
			}
			resp, body := n.do("POST", "/api/v1/segments/evaluate", org.APIKey, json.RawMessage(`{"has_done":{"event":"sent","campaign_id":"launch"}}`), nil)
			if resp.StatusCode == 200 {
				if err := json.Unmarshal(body, &ids); err != nil {
					t.Fatal(err)
				}
				got = ids.CustomerIDs
				for i, c := range got {
					if strings.HasPrefix(c, "erased:") {
						got[i] = "erased:…" // an erased customer keeps her events under a new id
					}
				}
				slices.Sort(got)
				if slices.Equal(got, want) {
					return
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("node %s: the launch's recipients %v, want %v (last answer %d)", n.name, got, want, resp.StatusCode)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	ids := func(from, to int, erased ...string) []string {
		var out []string
		for i := from; i < to; i++ {
			if c := fmt.Sprintf("c%02d", i); !slices.Contains(erased, c) {
				out = append(out, c)
			}
		}
		for range erased {
			out = append(out, "erased:…")
		}
		slices.Sort(out)
		return out
	}
	loaded := func(n nodeClient) int {
		return metricValue(t, n.c, n.base, "mailtrail_segment_index_loaded_from_snapshot")
	}
	restart := func() {
		t.Helper()
		if err := da.stop(30 * time.Second); err != nil {
			t.Fatalf("node A's clean stop: %v", err)
		}
		if _, err := os.Stat(snap); err != nil {
			t.Fatalf("node A's clean stop wrote no segment snapshot: %v", err)
		}
		a, da = startNodeIn(t, bin, e, secret, dir)
		a.name = "A"
	}

	sends(a, 0, 20)
	recipients(a, ids(0, 20))
	if loaded(a) != 0 {
		t.Fatal("node A's first start loaded a segment snapshot")
	}
	restart()
	// Sends through B while A starts: A's index is loaded, then follows them.
	sends(b, 20, 30)
	recipients(a, ids(0, 30))
	if loaded(a) != 1 {
		t.Fatal("node A's second start did not load its segment snapshot")
	}
	// An erasure on B: A renames the customer and removes its snapshot, which names her.
	b.json("DELETE", "/api/v1/customers/c05", org.APIKey, nil, nil, 200, nil)
	recipients(a, ids(0, 30, "c05"))
	if _, err := os.Stat(snap); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("node A's segment snapshot after an erasure in the cluster: %v, want it removed", err)
	}
	restart()
	recipients(a, ids(0, 30, "c05"))
	if loaded(a) != 1 {
		t.Fatal("node A's start after the erasure did not load the snapshot its stop wrote")
	}
}

// Two API nodes (serve --cluster) and a worker on one cluster make one service: an
// organization and a key created on one node work on the other; a message instrumented
// on A is opened through B and clicked through A (the nodes share the signing secret);
// events posted to either are counted once in the report either answers; a retry of an
// idempotent batch sent to the other node is answered as duplicates; a bounce posted to
// A suppresses the address for B's check, which waits for the workers to apply it
// (Mailtrail-After); a suppression added by hand on B shows on A; an erasure on B
// removes the customer for A too. The nodes hold no store: everything they answer comes
// from the workers' PostgreSQL, which every figure is read back from.
func TestAPINodesShareOneCluster(t *testing.T) {
	e := newClusterEngines(t, "mt_nodes_")
	bin := buildBinary(t)
	logs := &syncBuffer{}
	startWorker(t, bin, e.env(), nil, logs, "--progress", "1s")
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("worker log:\n%s", logs.tail(4000))
		}
	})
	secret := strings.Repeat("s3cr3t-", 6)
	a := startNode(t, bin, e, secret)
	a.name = "A"
	b := startNode(t, bin, e, secret)
	b.name = "B"

	// The organization, created on A; a second key, created on B, works on A.
	org := a.createOrg("Acme")
	var key2 struct {
		APIKey string `json:"api_key"`
	}
	b.json("POST", "/api/v1/admin/organizations/"+org.ID+"/keys", testAdmin, map[string]string{"name": "second", "scope": "all"}, nil, 201, &key2)
	second := key2.APIKey
	a.json("GET", "/api/v1/suppressions", second, nil, nil, 200, nil)

	// A message instrumented on A, opened through B, clicked through A.
	var m instrumented
	a.json("POST", "/api/v1/messages", org.APIKey, map[string]any{"campaign_id": "launch", "customer_id": "ann",
		"customer_email": "ann@example.com", "html": emailHTML}, nil, 200, &m)
	if m.Tracking.OpenURL == "" || len(m.Tracking.ClickURLs) == 0 {
		t.Fatalf("the message has no tracking URLs: %+v", m.Tracking)
	}
	path := func(raw string) string {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		return u.Path
	}
	ua := http.Header{"User-Agent": []string{desktopUA}}
	if resp, _ := b.do("GET", path(m.Tracking.OpenURL), "", nil, ua); resp.StatusCode != 200 {
		t.Fatalf("node B: the open pixel of A's message: %d", resp.StatusCode)
	}
	resp, _ := a.do("GET", path(m.Tracking.ClickURLs[0]), "", nil, ua)
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), "https://shop.example.com/") {
		t.Fatalf("node A: the click: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}

	// Sends and deliveries of 40 customers, half through each node, with idempotency keys
	// (ann's open counts her message delivered: 41 delivered in all).
	batch := func(from, to int, typ string) []map[string]any {
		var evs []map[string]any
		for i := from; i < to; i++ {
			c := fmt.Sprintf("c%02d", i)
			evs = append(evs, map[string]any{"event_type": typ, "campaign_id": "launch", "customer_id": c, "customer_email": c + "@example.com",
				"idempotency_key": typ + "-" + c, "occurred_at": "2026-12-01T10:00:00Z"})
		}
		return evs
	}
	var ans postAnswer
	a.json("POST", "/api/v1/events", org.APIKey, map[string]any{"events": batch(0, 20, "sent")}, nil, 200, &ans)
	resp = b.json("POST", "/api/v1/events", org.APIKey, map[string]any{"events": batch(20, 40, "sent")}, nil, 200, &ans)
	posB := logPosition(t, resp)
	resp = a.json("POST", "/api/v1/events", org.APIKey, map[string]any{"events": batch(0, 40, "delivered")}, nil, 200, &ans)
	posA := logPosition(t, resp)
	if ans.Accepted != 40 || ans.Duplicates != 0 {
		t.Fatalf("node A: deliveries: %+v, want 40 accepted", ans)
	}

	// The report, from either node once the workers applied both nodes' writes.
	want := func(n nodeClient, sent, delivered, opened, clicked int64) {
		t.Helper()
		var rep mailtrail.Report
		n.json("GET", "/api/v1/campaigns/launch/report", org.APIKey, nil, after(max(posA, posB)), 200, &rep)
		got := [4]int64{rep.Counts.Sent, rep.Counts.Delivered, rep.Counts.OpensUnique, rep.Counts.ClicksUnique}
		if got != [4]int64{sent, delivered, opened, clicked} {
			t.Fatalf("node %s: report sent/delivered/unique opens/unique clicks = %v, want %v", n.name, got, [4]int64{sent, delivered, opened, clicked})
		}
	}
	want(a, 40, 41, 1, 1)
	want(b, 40, 41, 1, 1)

	// B's event stream, a journey wait on B and B's segment index see a click that A
	// acknowledges: B follows what the workers commit.
	stream := openSSE(t, b.base, nil, org.APIKey, "", "")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	waiting := startWaitAt(ctx, b.base, org.APIKey, "c30", "event=clicked&campaign_id=launch&timeout=20s")
	resp = a.json("POST", "/api/v1/events", org.APIKey, map[string]any{"events": []map[string]any{{"event_type": "clicked", "campaign_id": "launch",
		"customer_id": "c30", "customer_email": "c30@example.com", "idempotency_key": "click-c30", "occurred_at": "2026-12-01T11:00:00Z",
		"metadata": map[string]any{"link_url": "https://shop.example.com/a"}}}}, nil, 200, &ans)
	posA = logPosition(t, resp)
	if got := stream.next(1)[0].ev; got.CustomerID != "c30" || got.Type != mailtrail.EventClicked {
		t.Fatalf("node B's stream: %+v, want c30's click", got)
	}
	if res := <-waiting; res.err != nil || res.status != 200 || !res.body.Did.Did {
		t.Fatalf("node B's wait for c30's click: %d %+v %v", res.status, res.body, res.err)
	}
	var seg struct {
		Count int `json:"count"`
	}
	b.json("POST", "/api/v1/segments/evaluate?ids=none", org.APIKey, json.RawMessage(`{"has_done":{"event":"clicked","campaign_id":"launch"}}`),
		after(posA), 200, &seg)
	if seg.Count != 2 {
		t.Fatalf("node B's segment of the launch's clickers: %d, want 2 (ann, c30)", seg.Count)
	}

	// A retry of A's sends through B: all duplicates, nothing counted again.
	resp = b.json("POST", "/api/v1/events", org.APIKey, map[string]any{"events": batch(0, 20, "sent")}, nil, 200, &ans)
	if ans.Accepted != 0 || ans.Duplicates != 20 {
		t.Fatalf("node B: a retry of node A's sends: %+v, want 20 duplicates", ans)
	}
	posB = max(posB, logPosition(t, resp))
	want(a, 40, 41, 1, 2)

	// Once B's filter of PostgreSQL's keys is built, new keyed events are answered by it,
	// not looked up in PostgreSQL; the retry of applied ones still is, and is a duplicate.
	for deadline := time.Now().Add(20 * time.Second); metricValue(t, b.c, b.base, "mailtrail_eventlog_dedupe_filter_bytes") == 0; {
		if time.Now().After(deadline) {
			t.Fatal("node B: the filter of PostgreSQL's keys was not built")
		}
		time.Sleep(50 * time.Millisecond)
	}
	lookups := func() [2]int {
		return [2]int{metricValue(t, b.c, b.base, `mailtrail_eventlog_dedupe_lookups_total{answer="store"}`),
			metricValue(t, b.c, b.base, `mailtrail_eventlog_dedupe_lookups_total{answer="filter"}`)}
	}
	l0 := lookups()
	resp = b.json("POST", "/api/v1/events", org.APIKey, map[string]any{"events": batch(40, 50, "sent")}, nil, 200, &ans)
	if ans.Accepted != 10 {
		t.Fatalf("node B: 10 new sends: %+v", ans)
	}
	posB = max(posB, logPosition(t, resp))
	want(a, 50, 41, 1, 2)
	b.json("POST", "/api/v1/events", org.APIKey, map[string]any{"events": batch(0, 10, "delivered")}, nil, 200, &ans)
	if ans.Duplicates != 10 {
		t.Fatalf("node B: a retry of applied deliveries: %+v, want 10 duplicates", ans)
	}
	if l := lookups(); l[1]-l0[1] != 10 || l[0]-l0[0] != 10 {
		t.Fatalf("node B: lookups in PostgreSQL %d, answered by the filter %d; want 10 each (the retry, the new sends)", l[0]-l0[0], l[1]-l0[1])
	}

	// A hard bounce through A; B's check waits for it.
	resp = a.json("POST", "/api/v1/events", org.APIKey, map[string]any{"events": []map[string]any{{"event_type": "bounced", "campaign_id": "launch",
		"customer_id": "c07", "customer_email": "c07@example.com", "idempotency_key": "bounce-c07",
		"metadata": map[string]any{"bounce_type": "hard", "smtp_code": "550"}}}}, nil, 200, &ans)
	var check checkAnswer
	b.json("POST", "/api/v1/suppressions/check", org.APIKey, map[string]any{"emails": []string{"c07@example.com", "c08@example.com"}},
		after(logPosition(t, resp)), 200, &check)
	if len(check.Suppressed) != 1 || check.Suppressed[0].Email != "c07@example.com" || check.Suppressed[0].Reason != mailtrail.ReasonHardBounce {
		t.Fatalf("node B: check after node A's bounce: %+v", check)
	}

	// A suppression added by hand on B is seen by A.
	b.json("POST", "/api/v1/suppressions", org.APIKey, map[string]any{"email": "c09@example.com"}, nil, 200, nil)
	a.json("POST", "/api/v1/suppressions/check", org.APIKey, map[string]any{"emails": []string{"c09@example.com"}}, nil, 200, &check)
	if len(check.Suppressed) != 1 || check.Suppressed[0].Reason != mailtrail.ReasonManual {
		t.Fatalf("node A: check of the address node B suppressed by hand: %+v", check)
	}

	// An erasure on B: A no longer knows the customer.
	b.json("DELETE", "/api/v1/customers/c11", org.APIKey, nil, nil, 200, nil)
	if resp, body := a.do("DELETE", "/api/v1/customers/c11", org.APIKey, nil, nil); resp.StatusCode != 404 {
		t.Fatalf("node A: erasing the customer node B erased: %d %s, want 404", resp.StatusCode, body)
	}
	var page mailtrail.EventPage
	a.json("GET", "/api/v1/events?customer_id=c11", org.APIKey, nil, nil, 200, &page)
	if len(page.Events) != 0 {
		t.Fatalf("node A: the erased customer's events: %d", len(page.Events))
	}
	want(b, 50, 41, 1, 2) // the erasure keeps every figure
	// A's segment index, which held c11, is built again once A sees the erasure.
	for deadline := time.Now().Add(30 * time.Second); ; {
		var ids struct {
			Count       int      `json:"count"`
			CustomerIDs []string `json:"customer_ids"`
		}
		a.json("POST", "/api/v1/segments/evaluate", org.APIKey, json.RawMessage(`{"has_done":{"event":"sent","campaign_id":"launch"}}`), nil, 200, &ids)
		if ids.Count == 50 && !slices.Contains(ids.CustomerIDs, "c11") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("node A's segment of the launch's recipients still names the customer node B erased: %d ids, %v", ids.Count, ids.CustomerIDs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Both indexes renamed the customer in place (erasure_renames), neither was built again.
	for _, n := range []nodeClient{a, b} {
		for deadline := time.Now().Add(10 * time.Second); metricValue(t, n.c, n.base, `mailtrail_node_segment_erasures_total{how="renamed"}`) != 1; {
			if time.Now().After(deadline) {
				t.Fatalf("node %s: the erasure was not renamed in its segment index", n.name)
			}
			time.Sleep(50 * time.Millisecond)
		}
		if got := metricValue(t, n.c, n.base, `mailtrail_node_segment_erasures_total{how="rebuilt"}`); got != 0 {
			t.Fatalf("node %s built its segment index again for the erasure: %d", n.name, got)
		}
	}

	// A webhook refused on A (wrong credentials) shows in the connection's health on B.
	var conn mailtrail.Connection
	b.json("POST", "/api/v1/connections", org.APIKey, map[string]any{"vendor": "postmark", "name": "pm", "username": "u", "password": "very-secret-password"}, nil, 201, &conn)
	req, _ := http.NewRequest("POST", a.base+"/webhooks/v2/postmark/"+conn.ID, strings.NewReader(`[]`))
	req.SetBasicAuth("u", "wrong-password")
	if resp, err := a.c.Do(req); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("node A: a webhook with wrong credentials: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	for deadline := time.Now().Add(20 * time.Second); ; {
		var out struct {
			WebhookHealth mailtrail.ConnectionHealth `json:"webhook_health"`
		}
		b.json("GET", "/api/v1/connections/"+conn.ID, org.APIKey, nil, nil, 200, &out)
		if h := out.WebhookHealth; h.Counts.SignatureFailures == 1 {
			if len(h.RecentErrors) != 1 || h.RecentErrors[0].Kind != mailtrail.HealthSignature {
				t.Fatalf("node B: the connection's recent errors: %+v", h.RecentErrors)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("node B: the connection's health does not show node A's refused webhook: %+v", out.WebhookHealth)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// The dashboard: signed in on A, the session works on B (the cookie is the host's,
	// whatever the port, as behind one load balancer); signed out on B, it is gone for A.
	jar, _ := cookiejar.New(nil)
	br := &http.Client{Jar: jar, Timeout: 20 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	visit := func(n nodeClient, method, path string, form url.Values) (*http.Response, string) {
		t.Helper()
		var resp *http.Response
		var err error
		if method == "GET" {
			resp, err = br.Get(n.base + path)
		} else {
			resp, err = br.PostForm(n.base+path, form)
		}
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, string(body)
	}
	_, signin := visit(a, "GET", "/dashboard/signin", nil)
	if resp, _ := visit(a, "POST", "/dashboard/signin", url.Values{"csrf": {csrfOf(t, signin)}, "key": {org.APIKey}, "next": {"/dashboard/campaigns"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("node A: sign in: %d", resp.StatusCode)
	}
	var session *http.Cookie
	for _, c := range jar.Cookies(&url.URL{Scheme: "http", Host: "127.0.0.1", Path: "/dashboard/"}) {
		if c.Name == "mt_session" {
			session = c
		}
	}
	if session == nil {
		t.Fatal("node A set no session cookie")
	}
	resp, campaigns := visit(b, "GET", "/dashboard/campaigns", nil)
	if resp.StatusCode != 200 || !strings.Contains(campaigns, "launch") {
		t.Fatalf("node B: the campaigns page with node A's session: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	// A CSV import taken by A: its page answers on B, as A's import writes it.
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("csrf", csrfOf(t, campaigns))
	fw, _ := mw.CreateFormFile("file", "list.csv")
	for i := range 700 {
		fmt.Fprintf(fw, "list%d@example.com\n", i)
	}
	_ = mw.Close()
	resp, err := br.Post(a.base+"/dashboard/suppressions/import", mw.FormDataContentType(), &buf)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	job := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(job, "/dashboard/suppressions/import/") {
		t.Fatalf("node A: import: %d %q", resp.StatusCode, job)
	}
	for deadline := time.Now().Add(30 * time.Second); ; {
		resp, body := visit(b, "GET", job+".json", nil)
		var st struct {
			State string `json:"state"`
			Added int    `json:"added"`
		}
		if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &st) != nil {
			t.Fatalf("node B: the status of node A's import: %d %s", resp.StatusCode, body)
		}
		if st.State == "done" {
			if st.Added != 700 {
				t.Fatalf("node B: node A's import added %d addresses, want 700", st.Added)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("node B: node A's import still %s", st.State)
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.json("POST", "/api/v1/suppressions/check", org.APIKey, map[string]any{"emails": []string{"list699@example.com"}}, nil, 200, &check)
	if len(check.Suppressed) != 1 || check.Suppressed[0].Reason != mailtrail.ReasonListImport {
		t.Fatalf("node B: an address of node A's import: %+v", check)
	}

	if resp, _ := visit(b, "POST", "/dashboard/signout", url.Values{"csrf": {csrfOf(t, campaigns)}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("node B: sign out: %d", resp.StatusCode)
	}
	// The signed-out session's cookie, replayed on A, is refused.
	req, _ = http.NewRequest("GET", a.base+"/dashboard/campaigns", nil)
	req.AddCookie(session)
	resp, err = a.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/dashboard/signin") {
		t.Fatalf("node A: the session node B signed out: %d %q, want a redirect to sign in", resp.StatusCode, resp.Header.Get("Location"))
	}

	// Wrong keys are counted for the cluster: five refused on A and five on B, and the
	// right key then waits on both nodes (last: it shuts this address out of sign-in).
	signIn := func(n nodeClient, key string) *http.Response {
		t.Helper()
		_, page := visit(n, "GET", "/dashboard/signin", nil)
		resp, _ := visit(n, "POST", "/dashboard/signin", url.Values{"csrf": {csrfOf(t, page)}, "key": {key}})
		return resp
	}
	for i := range 10 {
		n := []nodeClient{a, b}[i%2]
		if resp := signIn(n, "mt_wrong-key"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("node %s: wrong key %d: %d", n.name, i+1, resp.StatusCode)
		}
	}
	for _, n := range []nodeClient{a, b} {
		if resp := signIn(n, org.APIKey); resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("node %s: the right key after 10 wrong ones on both nodes: %d, Retry-After %q, want 429", n.name, resp.StatusCode, resp.Header.Get("Retry-After"))
		}
	}
}

// Changing the partition count: the cluster moves to a new stream. Once the API nodes are
// stopped and the workers have applied and shipped the old stream to its end, the nodes
// and workers start on a new stream with more partitions. What the old stream carried
// stays counted once: a client's retry of a batch acknowledged there is answered as
// duplicates, with the ids it was answered with then (the keys are in PostgreSQL, which
// the new stream's nodes look them up in), and the report goes on from it.
func TestClusterMovesToAStreamWithMorePartitions(t *testing.T) {
	e := newClusterEngines(t, "mt_restream_")
	bin := buildBinary(t)
	secret := strings.Repeat("s3cr3t-", 6)
	worker := startWorker(t, bin, e.env(), nil, &syncBuffer{}, "--progress", "1s")
	old, dold := startNodeIn(t, bin, e, secret, t.TempDir())
	old.name = "old"
	org := old.createOrg("Acme")
	batch := func(from, to int) map[string]any {
		var evs []map[string]any
		for i := from; i < to; i++ {
			c := fmt.Sprintf("c%02d", i)
			evs = append(evs, map[string]any{"event_type": "sent", "campaign_id": "launch", "customer_id": c, "customer_email": c + "@example.com",
				"idempotency_key": "sent-" + c, "occurred_at": "2026-12-01T10:00:00Z"})
		}
		return map[string]any{"events": evs}
	}
	sent := func(n nodeClient, pos uint64, want int64) {
		t.Helper()
		var rep mailtrail.Report
		n.json("GET", "/api/v1/campaigns/launch/report", org.APIKey, nil, after(pos), 200, &rep)
		if rep.Counts.Sent != want {
			t.Fatalf("node %s: %d sent, want %d", n.name, rep.Counts.Sent, want)
		}
	}
	var first postAnswer
	pos := logPosition(t, old.json("POST", "/api/v1/events", org.APIKey, batch(0, 30), nil, 200, &first))
	if first.Accepted != 30 {
		t.Fatalf("the old stream's batch: %+v", first)
	}
	sent(old, pos, 30) // applied
	// Stop the node, then the worker once ClickHouse holds the old stream too.
	if err := dold.stop(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		if p, err := e.ch.ShippedPosition(context.Background(), "events@"+e.stream); err == nil && p >= pos {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the old stream was not shipped to ClickHouse")
		}
	}
	worker.Process.Signal(syscall.SIGTERM)
	if err := worker.Wait(); err != nil {
		t.Fatalf("the worker's stop: %v", err)
	}

	moved := e
	moved.stream = natstest.Stream(t, e.url)
	for range 2 {
		startWorker(t, bin, moved.env(), nil, &syncBuffer{}, "--progress", "1s")
	}
	n := startNode(t, bin, moved, secret, "--event-log-partitions", "2")
	n.name = "new"
	var retry postAnswer
	n.json("POST", "/api/v1/events", org.APIKey, batch(0, 30), nil, 200, &retry)
	if retry.Accepted != 0 || retry.Duplicates != 30 || !slices.Equal(retry.EventIDs, first.EventIDs) {
		t.Fatalf("a retry through the new stream of the old stream's batch: accepted %d, duplicates %d, ids equal: %v; want 30 duplicates with the ids answered then",
			retry.Accepted, retry.Duplicates, slices.Equal(retry.EventIDs, first.EventIDs))
	}
	var more postAnswer
	pos = logPosition(t, n.json("POST", "/api/v1/events", org.APIKey, batch(30, 60), nil, 200, &more))
	if more.Accepted != 30 {
		t.Fatalf("the new stream's batch: %+v", more)
	}
	sent(n, pos, 60)
	if s, err := natstest.Info(e.url, moved.stream); err != nil || eventlog.StreamPartitions(s) != 2 {
		t.Fatalf("the new stream: %v partitions (%v), want 2", eventlog.StreamPartitions(s), err)
	}
}
