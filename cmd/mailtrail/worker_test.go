package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	neturl "net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/query"
	"github.com/mailtrail/mailtrail/internal/store/clickhouse"
	"github.com/mailtrail/mailtrail/internal/store/eventlog"
	"github.com/mailtrail/mailtrail/internal/store/eventlog/natstest"
	"github.com/mailtrail/mailtrail/internal/store/postgres"
	"github.com/mailtrail/mailtrail/internal/store/postgres/pgtest"
	"github.com/mailtrail/mailtrail/internal/store/storetest"
)

// testPGSchema returns a fresh schema name on dsn, dropped with its tables when the test
// ends.
func testPGSchema(t *testing.T, dsn string) string { return pgtest.Schema(t, dsn, "w_") }

// workerEvents returns batch b of the worker test's events: sends and deliveries with
// idempotency keys, opens without one (each arrival counts), and for some customers a
// hard or soft bounce, a complaint or an unsubscribe, keyed.
func workerEvents(b, size int) []map[string]any {
	r := mrand.New(mrand.NewPCG(uint64(b), 7))
	base := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	out := make([]map[string]any, 0, size)
	for i := range size {
		c := r.IntN(2000)
		cust := fmt.Sprintf("c%d", c)
		e := map[string]any{"campaign_id": fmt.Sprintf("w%d", c%3), "customer_id": cust, "customer_email": cust + "@example.com",
			"occurred_at": base.Add(time.Duration(b*size+i) * time.Second).Format(time.RFC3339)}
		switch k := r.IntN(20); {
		case k < 6:
			e["event_type"], e["idempotency_key"] = "sent", "s-"+cust
		case k < 10:
			e["event_type"], e["idempotency_key"] = "delivered", "d-"+cust
		case k < 16:
			e["event_type"] = "opened"
		case k < 17:
			e["event_type"], e["idempotency_key"], e["metadata"] = "bounced", "bh-"+cust, map[string]any{"bounce_type": "hard", "smtp_code": "550"}
		case k < 18:
			e["event_type"], e["idempotency_key"], e["metadata"] = "bounced", fmt.Sprintf("bs-%s-%d", cust, b), map[string]any{"bounce_type": "soft"}
		case k < 19:
			e["event_type"], e["idempotency_key"] = "complained", "cp-"+cust
		default:
			e["event_type"], e["idempotency_key"] = "unsubscribed", "u-"+cust
		}
		out = append(out, e)
	}
	return out
}

// startWorker runs `mailtrail worker` (the binary) with env and args; its stdout goes to
// stdout (nil: discarded) and its stderr is kept in logs.
func startWorker(t *testing.T, bin string, env []string, stdout io.Writer, logs *syncBuffer, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"worker"}, args...)...)
	cmd.Env, cmd.Stdout, cmd.Stderr = onlyEnv(env), stdout, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return cmd
}

// `mailtrail worker` projects the event log that serve --event-log-url acknowledges on
// into PostgreSQL, and ships its raw events to ClickHouse. Killed with SIGKILL in the middle of its backlog three times, then run
// to the end, it leaves every campaign's figures (report, raw events, suppressions)
// exactly as serve's own SQLite projection of the same stream holds them, each equal to a
// recount of its raw events, and ClickHouse holding each event of the log once: nothing
// lost, nothing counted twice. Its organizations come
// from `mailtrail cluster copy-orgs`; before they are there it retries and says why.
func TestWorkerProjectsTheLogIntoPostgres(t *testing.T) {
	url := natstest.URL(t)
	dsn := testPostgresDSN(t)
	chURL := testClickHouseURL(t)
	stream := natstest.Stream(t, url)
	schema := testPGSchema(t, dsn)
	bin := buildBinary(t)
	ctx := context.Background()

	cfg := baseCfg(t.TempDir())
	cfg.EventLogURL, cfg.EventLogStream, cfg.EventLogReplicas = url, stream, 3
	h, project := startHeld(t, cfg)
	project()
	org, key := h.org("acme")
	const batches, size = 24, 500
	var last uint64
	for b := range batches {
		_, last = h.postEventsAt(key, workerEvents(b, size)...)
	}
	if again, _ := h.postEventsAt(key, workerEvents(3, size)...); again.Accepted != 0 {
		// keyless opens are new events at every arrival; the rest are duplicates
		t.Logf("a retried batch: %d accepted (opens), %d duplicates", again.Accepted, again.Duplicates)
	}
	h.reportAfter(key, "w0", last, 100)

	chDB := fmt.Sprintf("mt_worker_%016x", mrand.Uint64())
	ch, err := clickhouse.New(chURL, chDB)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ch.DropDatabase(context.Background()) })
	env := []string{"MAILTRAIL_EVENT_LOG_URL=" + url, "MAILTRAIL_EVENT_LOG_STREAM=" + stream, "MAILTRAIL_POSTGRES_DSN=" + dsn,
		"MAILTRAIL_POSTGRES_SCHEMA=" + schema, "MAILTRAIL_CLICKHOUSE_URL=" + chURL, "MAILTRAIL_CLICKHOUSE_DATABASE=" + chDB, "MAILTRAIL_LOG_FORMAT=text"}
	pg, err := postgres.Open(ctx, dsn, postgres.Options{Schema: schema, MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	position := func() uint64 {
		p, err := pg.Position(ctx, "events@"+stream)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	info, err := natstest.Info(url, stream)
	if err != nil {
		t.Fatal(err)
	}
	head := info.State.LastSeq

	// Without the organization in PostgreSQL the worker applies nothing, and says why.
	var logs syncBuffer
	w := startWorker(t, bin, env, nil, &logs, "--max-events", "1500", "--progress", "0")
	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(logs.tail(4000), "copy it there (mailtrail cluster copy-orgs)") {
		if time.Now().After(deadline) {
			t.Fatalf("no word of the unknown organization; worker's log:\n%s", logs.tail(4000))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if p := position(); p != 0 {
		t.Fatalf("position %d with an unknown organization", p)
	}
	w.Process.Kill()
	w.Wait()

	h.stop() // copy-orgs is an offline verb: the data directory is free meanwhile
	out, err := exec.Command(bin, "cluster", "copy-orgs", "--data-dir", cfg.DataDir, "--postgres-dsn", dsn, "--postgres-schema", schema).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "copied 1 organizations") {
		t.Fatalf("copy-orgs: %v\n%s", err, out)
	}
	h, project = startHeld(t, cfg)
	project()

	kills := 0
	for round := 0; round < 3; round++ {
		w = startWorker(t, bin, env, nil, &logs, "--max-events", "1500", "--progress", "0")
		from := position()
		for {
			p := position()
			if p >= head {
				break
			}
			if p > from { // a transaction committed and more are to come: kill it mid-backlog
				w.Process.Signal(syscall.SIGKILL)
				kills++
				break
			}
			time.Sleep(2 * time.Millisecond)
		}
		w.Wait()
	}
	if kills == 0 {
		t.Fatal("the worker applied the whole backlog before any kill; make the backlog larger")
	}

	addr := &addrWriter{addr: make(chan string, 1)}
	w = startWorker(t, bin, env, addr, &logs, "--metrics-addr", "127.0.0.1:0", "--progress", "50ms")
	shipped := func() uint64 {
		p, err := ch.ShippedPosition(ctx, "events@"+stream)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	deadline = time.Now().Add(2 * time.Minute)
	for position() < head || shipped() < head {
		if time.Now().After(deadline) {
			t.Fatalf("the worker stopped at %d of %d; its log:\n%s", position(), head, logs.tail(4000))
		}
		time.Sleep(20 * time.Millisecond)
	}
	var base string
	select {
	case base = <-addr.addr:
	case <-time.After(30 * time.Second):
		t.Fatal("the worker did not print its address")
	}
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := fmt.Sprintf("mailtrail_worker_applied_position %d", head); !strings.Contains(string(body), want) {
		t.Errorf("/metrics lacks %q:\n%s", want, body)
	}
	w.Process.Signal(syscall.SIGTERM)
	if err := w.Wait(); err != nil {
		t.Errorf("worker after SIGTERM: %v; its log:\n%s", err, logs.tail(2000))
	}
	if !strings.Contains(logs.tail(100000), "worker progress") {
		t.Errorf("no progress line in the worker's log:\n%s", logs.tail(2000))
	}
	if strings.Contains(logs.tail(1<<20), "@example.com") {
		t.Error("the worker's log names an address")
	}

	for _, camp := range []string{"w0", "w1", "w2"} {
		want := storetest.Figures(t, h.app.db, org, camp)
		got := storetest.Figures(t, pg, org, camp)
		if got != want {
			t.Fatalf("campaign %s in PostgreSQL after %d kills differs from serve's projection:\n%s", camp, kills, storetest.DiffLines(want, got))
		}
	}
	checkShipped(t, ch, url, stream, org, "w0", "w1", "w2")
	t.Logf("%d events in %d log messages, the worker killed %d times mid-backlog", batches*size, head, kills)
}

// serve --event-log-url with the workers' engines configured (--postgres-dsn,
// --clickhouse-url) removes from the log, at an erasure or at its retention, only what
// the workers have applied to PostgreSQL and shipped to ClickHouse too: a worker behind
// serve never finds a message it has not applied gone. Until it has run, nothing goes.
// Serve also keeps the organizations there as its store holds them.
func TestLogPurgesWaitForTheWorker(t *testing.T) {
	url := natstest.URL(t)
	dsn := testPostgresDSN(t)
	chURL := testClickHouseURL(t)
	stream := natstest.Stream(t, url)
	ctx := context.Background()

	cfg := baseCfg(t.TempDir())
	cfg.EventLogURL, cfg.EventLogStream, cfg.EventLogReplicas = url, stream, 3
	cfg.PostgresDSN, cfg.PostgresSchema = dsn, testPGSchema(t, dsn)
	cfg.ClickHouseURL, cfg.ClickHouseDB = chURL, fmt.Sprintf("mt_worker_%016x", mrand.Uint64())
	ch, err := clickhouse.New(chURL, cfg.ClickHouseDB)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ch.DropDatabase(context.Background()) })
	h, project := startHeld(t, cfg)
	project()
	org, key := h.org("acme")
	pg, err := postgres.Open(ctx, dsn, postgres.Options{Schema: cfg.PostgresSchema, MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	// serve copies its organizations to the workers' PostgreSQL, and their settings when
	// they change.
	orgMirrorInterval = 20 * time.Millisecond
	t.Cleanup(func() { orgMirrorInterval = 5 * time.Second })
	mctx, stopMirror := context.WithCancel(ctx)
	mirrored := make(chan struct{})
	go func() {
		h.app.logged.readers.mirrorOrgs(mctx, h.app.db, slog.New(slog.DiscardHandler))
		close(mirrored)
	}()
	defer func() { stopMirror(); <-mirrored }()
	settings := func(want int) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			s, err := pg.OrgSettings(ctx, org)
			if err == nil && s.SoftBounceLimit == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("organization in the workers' PostgreSQL: %+v, %v; want a soft bounce limit of %d", s, err, want)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	s, err := h.app.db.OrgSettings(ctx, org)
	if err != nil {
		t.Fatal(err)
	}
	settings(s.SoftBounceLimit)
	s.SoftBounceLimit = 2
	if err := h.app.db.UpdateOrgSettings(ctx, org, *s); err != nil {
		t.Fatal(err)
	}
	settings(2)
	post := func(from, n int) uint64 {
		var last uint64
		for b := from; b < from+n; b++ {
			_, last = h.postEventsAt(key, workerEvents(b, 50)...)
		}
		h.reportAfter(key, "w0", last, 100) // serve's store has applied it
		return last
	}
	firstSeq := func() uint64 {
		info, err := natstest.Info(url, stream)
		if err != nil {
			t.Fatal(err)
		}
		return info.State.FirstSeq
	}
	work := func(upTo uint64) { t.Helper(); runWorkerTo(t, &cfg, upTo) }

	first := post(0, 3)
	if err := h.app.logged.forget(ctx); err == nil {
		t.Fatal("the log was purged while ClickHouse's position is unknown (the worker never ran)")
	}
	if f := firstSeq(); f != 1 {
		t.Fatalf("first message %d before the worker ran, want 1", f)
	}
	work(first)
	second := post(3, 3)
	if err := h.app.logged.forget(ctx); err != nil {
		t.Fatal(err)
	}
	if f := firstSeq(); f != first+1 {
		t.Fatalf("first message %d after a purge with the worker at %d (serve at %d), want %d", f, first, second, first+1)
	}
	work(second)
	if err := h.app.logged.purge(ctx, second); err != nil {
		t.Fatal(err)
	}
	if f := firstSeq(); f != second+1 {
		t.Fatalf("first message %d once the worker applied %d, want %d", f, second, second+1)
	}
}

// flakyProxy forwards TCP connections to target. down closes its listener and every
// connection through it, as an engine that stops does; up listens again on the same
// address.
type flakyProxy struct {
	t      *testing.T
	target string
	tls    *tls.Config // when set, the proxy's side speaks TLS with it
	addr   string

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]bool
}

func newFlakyProxy(t *testing.T, target string) *flakyProxy { return newProxy(t, target, nil) }

// newProxy starts a proxy to target, speaking TLS with tc on its side when tc is set.
func newProxy(t *testing.T, target string, tc *tls.Config) *flakyProxy {
	t.Helper()
	p := &flakyProxy{t: t, target: target, tls: tc, conns: map[net.Conn]bool{}}
	p.up()
	t.Cleanup(p.down)
	return p
}

func (p *flakyProxy) up() {
	p.t.Helper()
	addr := p.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		p.t.Fatal(err)
	}
	if p.tls != nil {
		ln = tls.NewListener(ln, p.tls)
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns[c], p.conns[u] = true, true
			p.mu.Unlock()
			go func() { io.Copy(u, c); u.Close() }()
			go func() { io.Copy(c, u); c.Close() }()
		}
	}()
}

func (p *flakyProxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

// withHost returns rawURL with its host:port replaced by addr.
func withHost(t *testing.T, rawURL, addr string) (string, string) {
	t.Helper()
	u, err := neturl.Parse(rawURL)
	if err != nil || u.Host == "" {
		t.Skipf("%q is not a URL with a host: the outage test needs one", rawURL)
	}
	host := u.Host
	u.Host = addr
	return u.String(), host
}

// A worker rides out PostgreSQL and ClickHouse going away (every connection cut, new ones
// refused) while serve goes on acknowledging: it retries (errors counted by stage,
// /healthz 503 naming PostgreSQL), and once they are back it catches up, with every
// figure as serve's own projection holds it and ClickHouse holding each event of the
// log once.
func TestWorkerRidesOutEngineOutages(t *testing.T) {
	url := natstest.URL(t)
	dsn := testPostgresDSN(t)
	chURL := testClickHouseURL(t)
	stream := natstest.Stream(t, url)
	ctx := context.Background()
	_, pgHost := withHost(t, dsn, "x:1")
	_, chHost := withHost(t, chURL, "x:1")
	pgProxy, chProxy := newFlakyProxy(t, pgHost), newFlakyProxy(t, chHost)

	cfg := baseCfg(t.TempDir())
	cfg.EventLogURL, cfg.EventLogStream, cfg.EventLogReplicas = url, stream, 3
	h, project := startHeld(t, cfg)
	project()
	org, key := h.org("acme")
	schema := testPGSchema(t, dsn)
	pg, err := postgres.Open(ctx, dsn, postgres.Options{Schema: schema, MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	adoptOrg(t, h, pg, org)
	chDB := fmt.Sprintf("mt_worker_%016x", mrand.Uint64())
	ch, err := clickhouse.New(chURL, chDB)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ch.DropDatabase(context.Background()) })

	wcfg := cfg
	wcfg.PostgresDSN, _ = withHost(t, dsn, pgProxy.addr)
	wcfg.PostgresSchema = schema
	wcfg.ClickHouseURL, _ = withHost(t, chURL, chProxy.addr)
	wcfg.ClickHouseDB = chDB
	w, err := openWorker(ctx, &wcfg, 50_000, slog.New(slog.DiscardHandler), "")
	if err != nil {
		t.Fatal(err)
	}
	defer w.close()
	wctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- w.run(wctx, 0, time.Hour) }()
	caughtUp := func(pos uint64, within time.Duration) {
		t.Helper()
		deadline := time.Now().Add(within)
		for w.position() < pos || w.ship.Position() < pos {
			if time.Now().After(deadline) {
				t.Fatalf("worker at %d, shipped %d, want %d", w.position(), w.ship.Position(), pos)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	var last uint64
	for b := range 4 {
		_, last = h.postEventsAt(key, workerEvents(b, 200)...)
	}
	caughtUp(last, time.Minute)

	pgProxy.down()
	chProxy.down()
	for b := 4; b < 12; b++ { // acknowledged on the log while both are away
		_, last = h.postEventsAt(key, workerEvents(b, 200)...)
	}
	deadline := time.Now().Add(time.Minute)
	for w.errs.Value("project") == 0 || w.errs.Value("ship") == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("errors while the engines are away: project %d, ship %d", w.errs.Value("project"), w.errs.Value("ship"))
		}
		time.Sleep(10 * time.Millisecond)
	}
	rec := httptest.NewRecorder()
	w.handler().ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), `"postgres"`) {
		t.Errorf("/healthz while PostgreSQL is away: %d %s", rec.Code, rec.Body)
	}
	if w.position() >= last || w.ship.Position() >= last {
		t.Fatalf("applied %d / shipped %d of %d while the engines were away", w.position(), w.ship.Position(), last)
	}
	time.Sleep(2 * time.Second) // away for a while: the retries back off
	pgProxy.up()
	chProxy.up()
	caughtUp(last, 2*time.Minute)
	rec = httptest.NewRecorder()
	w.handler().ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
	if rec.Code != http.StatusOK {
		t.Errorf("/healthz once they are back: %d %s", rec.Code, rec.Body)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	h.reportAfter(key, "w0", last, 100)
	for _, camp := range []string{"w0", "w1", "w2"} {
		want := storetest.Figures(t, h.app.db, org, camp)
		if got := storetest.Figures(t, pg, org, camp); got != want {
			t.Fatalf("campaign %s in PostgreSQL after the outage differs from serve's projection:\n%s", camp, storetest.DiffLines(want, got))
		}
	}
	checkShipped(t, ch, url, stream, org, "w0", "w1", "w2")
}

// checkShipped fails t unless ClickHouse holds each event of the stream once, counted by
// campaign and type as the log holds them.
func checkShipped(t *testing.T, ch *clickhouse.DB, url, stream, org string, campaigns ...string) {
	t.Helper()
	ctx := context.Background()
	r, err := eventlog.OpenReader(ctx, eventlog.ReaderOptions{URL: url, Stream: stream, SubjectPrefix: strings.ToLower(stream)})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	inLog := map[string]map[mailtrail.EventType]map[string]bool{}
	for from := uint64(1); ; {
		recs, err := r.Read(ctx, from, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) == 0 {
			break
		}
		for _, rec := range recs {
			for _, e := range rec.Events {
				if inLog[e.CampaignID] == nil {
					inLog[e.CampaignID] = map[mailtrail.EventType]map[string]bool{}
				}
				if inLog[e.CampaignID][e.Type] == nil {
					inLog[e.CampaignID][e.Type] = map[string]bool{}
				}
				inLog[e.CampaignID][e.Type][e.ID] = true
			}
		}
		from = recs[len(recs)-1].Pos + 1
	}
	for _, camp := range campaigns {
		got, err := ch.CountsByType(ctx, org, camp)
		if err != nil {
			t.Fatal(err)
		}
		for typ, ids := range inLog[camp] {
			if got[typ] != int64(len(ids)) {
				t.Errorf("campaign %s, %s: %d events in ClickHouse, %d in the log", camp, typ, got[typ], len(ids))
			}
		}
		if len(got) != len(inLog[camp]) {
			t.Errorf("campaign %s: types in ClickHouse %v, in the log %d", camp, got, len(inLog[camp]))
		}
	}
}

// ClickHouse behind TLS with a private authority (here a TLS proxy in front of the test
// server): with --clickhouse-ca the worker's connection creates its tables and cluster
// check passes; without it the certificate is refused; a CA file that holds no
// certificate stops the start.
func TestClickHouseOverTLS(t *testing.T) {
	chURL := testClickHouseURL(t)
	_, chHost := withHost(t, chURL, "x:1")
	certs := natstest.NewCerts(t)
	cert, err := tls.LoadX509KeyPair(certs.ServerCert, certs.ServerKey)
	if err != nil {
		t.Fatal(err)
	}
	proxy := newProxy(t, chHost, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	httpsURL := "https://" + proxy.addr
	ctx := context.Background()
	name := fmt.Sprintf("mt_tls_%016x", mrand.Uint64())

	cfg := baseCfg(t.TempDir())
	cfg.ClickHouseURL, cfg.ClickHouseCA, cfg.ClickHouseDB = httpsURL, certs.CA, name
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}
	db, err := clickhouse.Open(ctx, cfg.ClickHouseURL, cfg.ClickHouseDB, cfg.clickhouseOptions()...)
	if err != nil {
		t.Fatalf("ClickHouse over TLS with the authority: %v", err)
	}
	t.Cleanup(func() { db.DropDatabase(context.Background()) })
	if _, err := db.ShippedPosition(ctx, "events"); err != nil {
		t.Fatalf("a read over TLS: %v", err)
	}
	if _, err := clickhouse.Open(ctx, httpsURL, name); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("ClickHouse over TLS without the authority: %v, want a certificate error", err)
	}
	expectCheck(t, checkCluster(ctx, &cfg, 5*time.Second), "version", checkOK)
	plain := cfg
	plain.ClickHouseCA = ""
	expectCheck(t, checkCluster(ctx, &plain, 5*time.Second), "connect", checkFail)

	junk := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(junk, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := baseCfg(t.TempDir())
	bad.ClickHouseCA = junk
	if err := bad.validate(); err == nil || !strings.Contains(err.Error(), "--clickhouse-ca") {
		t.Fatalf("a CA file without a certificate: %v", err)
	}
}

// clusterLogCrashKills is how many times TestClusterLogCrashKill9UnderLoad kills serve.
const clusterLogCrashKills = 6

// The crash test of serve on the cluster's log (--event-log-url, a stream with three
// replicas, and --postgres-dsn for the workers): the binary under load is killed with
// SIGKILL at random points (as TestEventLogCrashKill9UnderLoad draws them) six times,
// stopped under load, killed once more and started cleanly. Every acknowledged event is
// then in its store exactly once, a retry is never stored twice, and the figures equal
// a recount (the crash harness's oracle). Then mailtrail worker projects the same stream
// into PostgreSQL, and the campaign's figures there are identical to the store's.
func TestClusterLogCrashKill9UnderLoad(t *testing.T) {
	url := natstest.URL(t)
	dsn := testPostgresDSN(t)
	stream := natstest.Stream(t, url)
	schema := testPGSchema(t, dsn)
	points := map[string]int{}
	res := runCrashTest(t, crashPlan{args: []string{"--event-log-url", url, "--event-log-stream", stream, "--event-log-replicas", "3",
		"--postgres-dsn", dsn, "--postgres-schema", schema},
		cycles: clusterLogCrashKills, killAfterLoad: true, early: true,
		end: func(c *crashCycle) string { return eventLogKill(c, points) }})
	if t.Failed() {
		return
	}
	t.Logf("kill points %v", points)

	cfg := baseCfg(res.dataDir)
	cfg.EventLogURL, cfg.EventLogStream = url, stream
	cfg.PostgresDSN, cfg.PostgresSchema = dsn, schema
	after := openCrashStores(t, &cfg)
	runWorkerTo(t, &cfg, after.applied)
	after.samePostgres(t)
}

// crashStores are the stores a cluster crash test checks once serve has stopped: serve's
// store in its data directory, the workers' PostgreSQL, the crash campaign's organization
// and the store's position in the stream.
type crashStores struct {
	st      *ownedStore
	pg      *postgres.DB
	org     string
	applied uint64
}

// openCrashStores opens the stores of cfg (closed when the test ends).
func openCrashStores(t *testing.T, cfg *Config) crashStores {
	t.Helper()
	ctx := context.Background()
	st, err := openStore(ctx, cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	pg, err := postgres.Open(ctx, cfg.PostgresDSN, postgres.Options{Schema: cfg.PostgresSchema, MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pg.Close() })
	orgs, err := st.Orgs(ctx)
	if err != nil || len(orgs) != 1 {
		t.Fatalf("organizations: %v, %v", orgs, err)
	}
	applied, err := st.Position(ctx, positionName(cfg))
	if err != nil || applied == 0 {
		t.Fatalf("the store's position in the stream: %d, %v", applied, err)
	}
	return crashStores{st: st, pg: pg, org: orgs[0].ID, applied: applied}
}

// samePostgres fails t unless the crash campaign in PostgreSQL is identical to serve's
// store (report, raw events, suppressions), each equal to a recount.
func (c crashStores) samePostgres(t *testing.T) {
	t.Helper()
	want := storetest.Figures(t, c.st, c.org, "crash")
	if got := storetest.Figures(t, c.pg, c.org, "crash"); got != want {
		t.Fatalf("the crash campaign in PostgreSQL differs from serve's store:\n%s", storetest.DiffLines(want, got))
	}
}

// serve --event-log-url with --postgres-dsn records the messages it instruments in the
// workers' PostgreSQL too, before it answers: the events that name them (pixel opens,
// clicks, a webhook bounce, API events with a message_id) then count there as in serve's
// own store, figure for figure.
func TestWorkerCountsInstrumentedMessages(t *testing.T) {
	ctx := context.Background()
	h, cfg := startOnCluster(t)
	dsn := cfg.PostgresDSN
	org, key := h.org("acme") // not copied yet: the first messages copy it
	path := h.postmarkConn(key)
	var last uint64
	for i := range 6 {
		m := h.instrument(key, "news", fmt.Sprintf("m%d", i))
		h.track(m.Tracking.OpenURL)
		if i%2 == 0 {
			h.track(m.Tracking.ClickURLs[0])
		}
		if i == 3 {
			last = h.hardBounce(path, m.MessageID, "m3@example.com", i)
		}
		_, last = h.postEventsAt(key, map[string]any{"event_type": "delivered", "message_id": m.MessageID, "idempotency_key": "d-" + m.MessageID})
	}
	h.reportAfter(key, "news", last, 100)

	pg, err := postgres.Open(ctx, dsn, postgres.Options{Schema: cfg.PostgresSchema, MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	runWorkerTo(t, &cfg, last)
	want := storetest.Figures(t, h.app.db, org, "news")
	if got := storetest.Figures(t, pg, org, "news"); got != want {
		t.Fatalf("the campaign in PostgreSQL differs from serve's store:\n%s", storetest.DiffLines(want, got))
	}
	rep := h.report(key, "news")
	if rep.Counts.OpensTotal == 0 || rep.Counts.ClicksTotal == 0 || rep.Counts.BouncedHard != 1 || rep.Counts.Delivered != 6 {
		t.Fatalf("the scene did not happen as planned: %+v", rep.Counts)
	}
}

// runWorkerTo runs a worker of cfg in this process until it has applied position pos to
// PostgreSQL (and shipped it to ClickHouse when cfg has one), then stops it.
func runWorkerTo(t *testing.T, cfg *Config, pos uint64) {
	t.Helper()
	ctx := context.Background()
	w, err := openWorker(ctx, cfg, 50_000, slog.New(slog.DiscardHandler), "")
	if err != nil {
		t.Fatal(err)
	}
	defer w.close()
	wctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- w.run(wctx, 0, time.Hour) }()
	deadline := time.Now().Add(2 * time.Minute)
	for w.position() < pos || (w.ship != nil && w.ship.Position() < pos) {
		if time.Now().After(deadline) {
			stop()
			<-done
			t.Fatalf("worker at %d, want %d", w.position(), pos)
		}
		time.Sleep(10 * time.Millisecond)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// Moving to the cluster mode with emails already sent: `cluster copy-orgs --messages`
// copies the messages a one-binary store instrumented (ids, recipients, links, creation
// times) into PostgreSQL, so that their opens and clicks after the move count there.
// Copying again adds nothing. Without the copy the worker would skip those events (it
// skips an event of a message it does not know).
func TestCopyMessagesCountsEarlierEmails(t *testing.T) {
	url := natstest.URL(t)
	dsn := testPostgresDSN(t)
	stream := natstest.Stream(t, url)
	schema := testPGSchema(t, dsn)
	ctx := context.Background()

	// Before: the one-binary mode, on its embedded log.
	cfg := baseCfg(t.TempDir())
	cfg.EventLog = true
	h, project := startHeld(t, cfg)
	project()
	org, key := h.org("acme")
	var msgs []instrumented
	var want []*mailtrail.Message
	for i := range 4 {
		m := h.instrument(key, "spring", fmt.Sprintf("c%d", i))
		msgs = append(msgs, m)
		sm, err := h.app.db.Message(ctx, org, m.MessageID)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, sm)
	}
	h.track(msgs[0].Tracking.OpenURL) // counted before the move, in the one-binary store only
	cfg = h.app.cfg
	h.stop()

	copyOrgs := func() string {
		var out bytes.Buffer
		if err := runCopyOrgs(ctx, []string{"--data-dir", cfg.DataDir, "--postgres-dsn", dsn, "--postgres-schema", schema, "--messages"}, &out); err != nil {
			t.Fatalf("copy-orgs --messages: %v\n%s", err, out.String())
		}
		return out.String()
	}
	if out := copyOrgs(); !strings.Contains(out, "copied 4 messages to PostgreSQL (0 were there already)") {
		t.Fatalf("copy-orgs --messages said:\n%s", out)
	}
	if out := copyOrgs(); !strings.Contains(out, "copied 0 messages to PostgreSQL (4 were there already)") {
		t.Fatalf("copy-orgs --messages, again, said:\n%s", out)
	}
	pg, err := postgres.Open(ctx, dsn, postgres.Options{Schema: schema, MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	for _, w := range want {
		got, err := pg.Message(ctx, org, w.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.CampaignID != w.CampaignID || got.CustomerID != w.CustomerID || got.CustomerEmail != w.CustomerEmail ||
			!slices.Equal(got.Links, w.Links) || got.TrackOpens != w.TrackOpens || got.TrackClicks != w.TrackClicks ||
			got.Topic != w.Topic || !got.CreatedAt.Equal(w.CreatedAt) {
			t.Fatalf("message %s in PostgreSQL:\n%+v\nin the store:\n%+v", w.ID, got, w)
		}
	}

	// After: the cluster's log, and a worker.
	cfg.EventLog = false
	cfg.EventLogURL, cfg.EventLogStream, cfg.EventLogReplicas = url, stream, 3
	cfg.PostgresDSN, cfg.PostgresSchema = dsn, schema
	h, project = startHeld(t, cfg)
	project()
	for _, m := range msgs[1:] {
		h.track(m.Tracking.OpenURL)
	}
	h.track(msgs[1].Tracking.ClickURLs[0])
	last := h.app.logged.Written()
	h.reportAfter(key, "spring", last, 100)
	runWorkerTo(t, &cfg, last)
	rep, err := (&query.Service{R: pg}).Report(ctx, org, "spring", "UTC")
	if err != nil {
		t.Fatal(err)
	}
	if rep.Counts.OpensUnique != 3 || rep.Counts.ClicksTotal != 1 {
		t.Fatalf("PostgreSQL counts %d unique opens and %d clicks of the emails sent before the move, want 3 and 1", rep.Counts.OpensUnique, rep.Counts.ClicksTotal)
	}
}

// The campaign list from the cluster's PostgreSQL equals serve's store's, for every sort
// in both directions, pages, a search and a send-date filter: six campaigns with other
// sends, deliveries, opens, clicks, bounces, names and send times go through serve on the
// cluster's log and a worker, then both stores list them.
func TestCampaignListsAgree(t *testing.T) {
	ctx := context.Background()
	h, cfg := startOnCluster(t)
	dsn := cfg.PostgresDSN
	org, key := h.org("acme")
	base := time.Now().UTC().Add(-30 * 24 * time.Hour).Truncate(time.Hour)
	var last uint64
	for c := range 6 {
		camp := fmt.Sprintf("camp-%d", c)
		var evs []map[string]any
		for i := range 3 + c*2 {
			cust := fmt.Sprintf("%s-u%d", camp, i)
			at := base.Add(time.Duration(c*50+i) * time.Hour).Format(time.RFC3339)
			evs = append(evs, map[string]any{"event_type": "sent", "campaign_id": camp, "customer_id": cust, "customer_email": cust + "@example.com",
				"occurred_at": at, "idempotency_key": "s-" + cust})
			switch {
			case (i+c)%5 == 0:
				evs = append(evs, map[string]any{"event_type": "bounced", "campaign_id": camp, "customer_id": cust, "occurred_at": at,
					"idempotency_key": "b-" + cust, "metadata": map[string]any{"bounce_type": "hard"}})
			default:
				evs = append(evs, map[string]any{"event_type": "delivered", "campaign_id": camp, "customer_id": cust, "occurred_at": at, "idempotency_key": "d-" + cust})
				if (i*c)%3 != 1 {
					evs = append(evs, map[string]any{"event_type": "opened", "campaign_id": camp, "customer_id": cust, "occurred_at": at})
				}
				if (i+2*c)%4 == 0 {
					evs = append(evs, map[string]any{"event_type": "clicked", "campaign_id": camp, "customer_id": cust, "occurred_at": at,
						"metadata": map[string]any{"link_url": "https://shop.example.com/" + camp}})
				}
			}
		}
		_, last = h.postEventsAt(key, evs...)
	}
	h.reportAfter(key, "camp-5", last, 100) // serve's store has applied them all
	name := "Zebra (FR)"
	if _, err := h.app.db.UpdateCampaign(ctx, org, "camp-2", mailtrail.CampaignUpdate{Name: &name}); err != nil {
		t.Fatal(err)
	}
	pg, err := postgres.Open(ctx, dsn, postgres.Options{Schema: cfg.PostgresSchema, MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	adoptOrg(t, h, pg, org) // serve's mirror of organizations does not run in this harness
	runWorkerTo(t, &cfg, last)
	if _, err := pg.UpdateCampaign(ctx, org, "camp-2", mailtrail.CampaignUpdate{Name: &name}); err != nil {
		t.Fatal(err)
	}
	filters := []mailtrail.CampaignFilter{{Search: "(fr)"}, {Search: "CAMP-1"}, {Limit: 2, Offset: 2},
		{SentFrom: base.Add(60 * time.Hour), SentTo: base.Add(210 * time.Hour)}}
	for _, sort := range mailtrail.CampaignSorts {
		filters = append(filters, mailtrail.CampaignFilter{Sort: sort}, mailtrail.CampaignFilter{Sort: sort, Asc: true})
	}
	for _, f := range filters {
		want, err := h.app.db.Campaigns(ctx, org, f)
		if err != nil {
			t.Fatal(err)
		}
		got, err := pg.Campaigns(ctx, org, f)
		if err != nil {
			t.Fatalf("%+v: %v", f, err)
		}
		w, _ := json.Marshal(want)
		g, _ := json.Marshal(got)
		if string(w) != string(g) {
			t.Fatalf("campaigns %+v:\nserve's store %s\nPostgreSQL    %s", f, w, g)
		}
	}
	if p, err := h.app.db.Campaigns(ctx, org, mailtrail.CampaignFilter{}); err != nil || p.Total != 6 {
		t.Fatalf("the scene: %+v, %v", p, err)
	}
}

// adoptOrg copies an organization of the harness's store, with its settings, into pg, as
// serve's mirror does (which the harness does not run).
func adoptOrg(t *testing.T, h *harness, pg *postgres.DB, org string) {
	t.Helper()
	ctx := context.Background()
	o, err := h.app.db.Org(ctx, org)
	if err != nil {
		t.Fatal(err)
	}
	s, err := h.app.db.OrgSettings(ctx, org)
	if err != nil {
		t.Fatal(err)
	}
	if err := pg.AdoptOrg(ctx, *o, *s); err != nil {
		t.Fatal(err)
	}
}

// startOnCluster starts serve in this process, its projector running, on a stream of its
// own of the test JetStream cluster (three replicas) and with a PostgreSQL schema of its
// own for the workers (cfg.PostgresDSN, cfg.PostgresSchema); mut changes the
// configuration first. It returns the harness and the configuration.
func startOnCluster(t *testing.T, mut ...func(*Config)) (*harness, Config) {
	t.Helper()
	url := natstest.URL(t)
	dsn := testPostgresDSN(t)
	cfg := baseCfg(t.TempDir())
	cfg.EventLogURL, cfg.EventLogStream, cfg.EventLogReplicas = url, natstest.Stream(t, url), 3
	cfg.PostgresDSN, cfg.PostgresSchema = dsn, testPGSchema(t, dsn)
	for _, m := range mut {
		m(&cfg)
	}
	h, project := startHeld(t, cfg)
	project()
	return h, cfg
}

// A worker stopped (SIGTERM) while it still waits for the event log's stream stops
// cleanly, exit 0: it applied nothing. (A rolling restart does this: a JetStream server
// just restarted may answer for a moment that the stream does not exist.)
func TestWorkerStoppedWhileWaitingStopsCleanly(t *testing.T) {
	url := natstest.URL(t)
	dsn := testPostgresDSN(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- runWorker(ctx, []string{"--event-log-url", url, "--event-log-stream", natstest.Stream(t, url), "--postgres-dsn", dsn,
			"--log-format", "text"}, io.Discard, &logs)
	}()
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(logs.tail(4096), "waiting for the event log's stream"); time.Sleep(20 * time.Millisecond) {
		select {
		case err := <-done:
			t.Fatalf("the worker ended before waiting for the stream: %v\n%s", err, logs.tail(4096))
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the worker never said it waits for the stream:\n%s", logs.tail(4096))
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("a worker stopped while it waited for the stream: %v, want a clean stop\n%s", err, logs.tail(4096))
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the worker did not stop")
	}
}
