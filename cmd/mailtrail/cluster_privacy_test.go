package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/query"
	"github.com/mailtrail/mailtrail/internal/store/clickhouse"
	"github.com/mailtrail/mailtrail/internal/store/postgres"
	"github.com/mailtrail/mailtrail/internal/store/storetest"
	"github.com/mailtrail/mailtrail/internal/storekit"
)

// TestClusterErasureAndRetentionReachEveryStore: in the cluster mode an erasure (DELETE
// /api/v1/customers/{id}) reaches the workers' PostgreSQL and the raw events in
// ClickHouse, under the id serve's store gives the customer:
//   - while the workers have not applied the events acknowledged before it, it answers
//     503 and erases nothing anywhere;
//   - then it answers 200; PostgreSQL holds no address, IP or user agent of the customer,
//     the CRM's id finds nothing, the unsubscribe stays under the address's hash, and
//     every figure, the erased id included, equals serve's store's;
//   - the worker renames the customer in ClickHouse once it has shipped past the erasure;
//   - the worker's retention deletes raw events past the organization's retention from
//     both stores, and no figure changes.
func TestClusterErasureAndRetentionReachEveryStore(t *testing.T) {
	chURL := testClickHouseURL(t)
	ctx := context.Background()
	defer func(d time.Duration) { erasureInterval = d }(erasureInterval)
	erasureInterval = 20 * time.Millisecond

	chDB := fmt.Sprintf("mt_erase_%016x", mrand.Uint64())
	ch, err := clickhouse.Open(ctx, chURL, chDB)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ch.DropDatabase(context.Background()) })
	h, cfg := startOnCluster(t, func(c *Config) {
		c.ClickHouseURL, c.ClickHouseDB = chURL, chDB
		c.ReadWait = 300 * time.Millisecond
	})
	dsn := cfg.PostgresDSN
	org, key := h.org("acme")
	first, second := h.privacyScene(key) // cust-1 (unsubscribed) and cust-2
	// Events that name a campaign and a customer, no message: the raw events in
	// ClickHouse carry the CRM's id (those of instrumented messages name the message).
	at := time.Now().UTC().Add(-time.Hour).Format(time.RFC3339)
	for _, c := range []string{"cust-1", "cust-2"} {
		h.postEvents(key, map[string]any{"event_type": "sent", "campaign_id": "direct", "customer_id": c, "customer_email": c + "@example.com",
			"occurred_at": at, "idempotency_key": "direct-" + c},
			map[string]any{"event_type": "delivered", "campaign_id": "direct", "customer_id": c, "occurred_at": at, "idempotency_key": "direct-d-" + c})
	}
	mark := h.app.logged.Written()
	h.reportAfter(key, "promo", mark, 100) // serve's store has applied the scene
	pg, err := postgres.Open(ctx, dsn, postgres.Options{Schema: cfg.PostgresSchema, MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()

	// No worker has applied the scene: the erasure waits, then 503, and nothing changed.
	if r := h.do("DELETE", "/api/v1/customers/cust-1", key, nil, nil); r.StatusCode != http.StatusServiceUnavailable || errorCode(t, r.Body) != mailtrail.EUNAVAILABLE {
		t.Fatalf("erase before the workers caught up: %d, want 503", r.StatusCode)
	}
	if m, err := h.app.db.Message(ctx, org, first.MessageID); err != nil || m.CustomerID != "cust-1" {
		t.Fatalf("serve's store after the 503: %+v, %v", m, err)
	}

	runWorkerTo(t, &cfg, mark)
	wantFigures := storetest.Figures(t, h.app.db, org, "promo")
	if got := storetest.Figures(t, pg, org, "promo"); got != wantFigures {
		t.Fatalf("PostgreSQL before the erasure differs from serve's store:\n%s", storetest.DiffLines(wantFigures, got))
	}
	if n := chCount(t, chURL, cfg.ClickHouseDB, org, "cust-1"); n == 0 {
		t.Fatal("the events naming cust-1 are not in ClickHouse")
	}
	if r := h.do("DELETE", "/api/v1/customers/cust-1", key, nil, nil); r.StatusCode != http.StatusOK {
		t.Fatalf("erase: %d", r.StatusCode)
	}
	m, err := h.app.db.Message(ctx, org, first.MessageID)
	if err != nil {
		t.Fatal(err)
	}
	newID := m.CustomerID
	if !strings.HasPrefix(newID, storekit.ErasedCustomerPrefix) {
		t.Fatalf("serve's store calls the erased customer %q", newID)
	}

	// PostgreSQL: the same new id, no address, IP or user agent, the figures unchanged.
	pm, err := pg.Message(ctx, org, first.MessageID)
	if err != nil {
		t.Fatal(err)
	}
	if pm.CustomerID != newID || pm.CustomerEmail != "" {
		t.Fatalf("PostgreSQL's message: customer %q email %q, want %q and none", pm.CustomerID, pm.CustomerEmail, newID)
	}
	listed := func(cust string) []mailtrail.Event {
		p, err := query.Read(ctx, pg, func(sn query.Snapshot) (*mailtrail.EventPage, error) {
			return sn.ListEvents(ctx, org, mailtrail.EventFilter{CustomerID: cust})
		})
		if err != nil {
			t.Fatal(err)
		}
		return p.Events
	}
	if evs := listed("cust-1"); len(evs) != 0 {
		t.Fatalf("the CRM's id still finds %d events in PostgreSQL", len(evs))
	}
	evs := listed(newID)
	if len(evs) == 0 {
		t.Fatal("the erased customer's events are not in PostgreSQL under the new id")
	}
	for _, e := range evs {
		if e.CustomerEmail != "" || e.Metadata.IP != "" || e.Metadata.UserAgent != "" {
			t.Fatalf("an erased event in PostgreSQL keeps %q %q %q", e.CustomerEmail, e.Metadata.IP, e.Metadata.UserAgent)
		}
	}
	// Both stores tell the same after the erasure (the figures name the new id).
	for _, camp := range []string{"promo", "direct"} {
		want := storetest.Figures(t, h.app.db, org, camp)
		if got := storetest.Figures(t, pg, org, camp); got != want {
			t.Fatalf("campaign %s after the erasure, PostgreSQL differs from serve's store:\n%s", camp, storetest.DiffLines(want, got))
		}
	}
	if s, err := pg.Suppressed(ctx, org, "cust-1@example.com"); err != nil || s == nil || s.EmailHash != mailtrail.EmailHash("cust-1@example.com") {
		t.Fatalf("PostgreSQL's suppression of the erased address: %+v, %v", s, err)
	}
	if pm, err := pg.Message(ctx, org, second.MessageID); err != nil || pm.CustomerID != "cust-2" || pm.CustomerEmail == "" {
		t.Fatalf("the other customer changed in PostgreSQL: %+v, %v", pm, err)
	}

	// ClickHouse: renamed by the worker once it has shipped past the erasure.
	n := chCount(t, chURL, cfg.ClickHouseDB, org, "cust-1")
	w, err := openWorker(ctx, &cfg, 50_000, slog.New(slog.DiscardHandler), "")
	if err != nil {
		t.Fatal(err)
	}
	wctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- w.run(wctx, 0, time.Hour) }()
	deadline := time.Now().Add(time.Minute)
	for {
		left, renamed := chCount(t, chURL, cfg.ClickHouseDB, org, "cust-1"), chCount(t, chURL, cfg.ClickHouseDB, org, newID)
		if left == 0 && renamed == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ClickHouse: %d events still name cust-1, %d the new id (want 0 and %d)", left, renamed, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	defer w.close()
	if p, err := pg.PendingErasures(ctx, ^uint64(0), 10); err != nil || len(p) != 0 {
		t.Fatalf("erasures still queued: %+v, %v", p, err)
	}
	if got := chCount(t, chURL, cfg.ClickHouseDB, org, "cust-2"); got == 0 {
		t.Fatal("the other customer's events left ClickHouse")
	}

	// Retention: with a retention of 7 days, the worker's run 9 days on deletes the raw
	// events from PostgreSQL and ClickHouse, and no figure changes.
	set, err := pg.OrgSettings(ctx, org)
	if err != nil {
		t.Fatal(err)
	}
	set.RetentionDays = mailtrail.MinRetentionDays
	if err := pg.UpdateOrgSettings(ctx, org, *set); err != nil { // as serve's mirror copies it
		t.Fatal(err)
	}
	report := func(camp string) string {
		rep, err := (&query.Service{R: pg}).Report(ctx, org, camp, "UTC")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.MarshalIndent(rep, "", " ")
		return string(b)
	}
	before := map[string]string{}
	for _, camp := range []string{"promo", "direct"} {
		before[camp] = report(camp)
	}
	w.retainOnce(ctx, time.Now().Add(6*24*time.Hour))
	if evs := listed("cust-2"); len(evs) == 0 {
		t.Fatal("retention deleted events younger than the organization's retention")
	}
	w.retainOnce(ctx, time.Now().Add(9*24*time.Hour)) // ClickHouse deletes by whole days
	if evs := listed("cust-2"); len(evs) != 0 {
		t.Fatalf("%d raw events past retention left in PostgreSQL", len(evs))
	}
	if got := chQuery(t, chURL, fmt.Sprintf("SELECT count() FROM %s.events WHERE org = '%s'", cfg.ClickHouseDB, org)); strings.TrimSpace(got) != "0" {
		t.Fatalf("%s raw events past retention left in ClickHouse", got)
	}
	for _, camp := range []string{"promo", "direct"} {
		if got := report(camp); got != before[camp] {
			t.Fatalf("retention changed campaign %s in PostgreSQL:\n%s", camp, storetest.DiffLines(before[camp], got))
		}
	}
}

// chQuery returns ClickHouse's answer to q (TabSeparated).
func chQuery(t *testing.T, chURL, q string) string {
	t.Helper()
	resp, err := http.Get(chURL + "/?query=" + url.QueryEscape(q))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("clickhouse: %d %s", resp.StatusCode, b)
	}
	return string(b)
}

// chCount returns how many distinct events of an organization's customer ClickHouse
// holds, asked over its HTTP interface.
func chCount(t *testing.T, chURL, db, org, customer string) int {
	t.Helper()
	b := chQuery(t, chURL, fmt.Sprintf("SELECT uniqExact(id) FROM %s.events WHERE org = '%s' AND customer = '%s'", db, org, customer))
	var n int
	if _, err := fmt.Sscan(b, &n); err != nil {
		t.Fatalf("clickhouse answered %q", b)
	}
	return n
}

// A retried erasure (serve's own store failed after PostgreSQL's commit) gives serve's
// store the id PostgreSQL gave the customer, so both stores name the erased customer
// alike; a customer PostgreSQL never knew gets a new id and no error.
func TestRetriedErasureGetsPostgresID(t *testing.T) {
	dsn := testPostgresDSN(t)
	ctx := context.Background()
	cfg := &Config{EventLogURL: "nats://127.0.0.1:1", EventLogStream: "RETRY", EventLogPartitions: 1}
	pg, err := postgres.Open(ctx, dsn, postgres.Options{Schema: testPGSchema(t, dsn), MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pg.Close() })
	o, _, err := pg.CreateOrg(ctx, "acme", "UTC")
	if err != nil {
		t.Fatal(err)
	}
	storetest.Seed(t, pg, o.ID, 2)
	r := &logReaders{cfg: cfg, pg: pg}
	first, err := r.erase(ctx, 0, time.Second, o.ID, "u0")
	if err != nil || !strings.HasPrefix(first, "erased:") {
		t.Fatalf("erase: %q, %v", first, err)
	}
	again, err := r.erase(ctx, 0, time.Second, o.ID, "u0")
	if err != nil || again != first {
		t.Fatalf("the retry's id %q (%v), want PostgreSQL's %q", again, err, first)
	}
	other, err := r.erase(ctx, 0, time.Second, o.ID, "never-seen")
	if err != nil || !strings.HasPrefix(other, "erased:") || other == first {
		t.Fatalf("a customer PostgreSQL does not know: %q, %v", other, err)
	}
}
