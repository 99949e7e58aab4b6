package main

import (
	"context"
	"fmt"
	mrand "math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/internal/store/clickhouse"
	"github.com/mailtrail/mailtrail/internal/store/eventlog/natstest"
	"github.com/mailtrail/mailtrail/internal/store/postgres"
	"github.com/mailtrail/mailtrail/internal/store/storetest"
)

// clusterLeaderKills is how many times TestClusterPipelineLeaderKilledUnderLoad kills the
// stream's leader.
const clusterLeaderKills = 3

// The whole cluster pipeline through kills of the JetStream stream leader: serve
// (--event-log-url on a three-replica stream, --postgres-dsn, --clickhouse-url) under the
// crash harness's load, and mailtrail worker (the binary) applying the same stream to
// PostgreSQL and shipping it to ClickHouse all along. Each cycle kills the server that
// leads the stream with SIGKILL under load, lets the load run through the election,
// starts the server again, then kills serve with SIGKILL too (the harness restarts it).
// Afterwards: every acknowledged event is in serve's store exactly once and its figures
// equal a recount (the harness's oracle); the worker, never restarted, reaches the
// store's position, and the campaign in PostgreSQL is identical to the store's;
// ClickHouse holds each event of the log once. (Jepsen found acknowledged writes lost in
// some JetStream leader failures: this counts them end to end.)
func TestClusterPipelineLeaderKilledUnderLoad(t *testing.T) {
	url, dir := natstest.URL(t), natstest.Dir(t)
	dsn := testPostgresDSN(t)
	chURL := testClickHouseURL(t)
	stream := natstest.Stream(t, url)
	schema := testPGSchema(t, dsn)
	chDB := fmt.Sprintf("mt_leader_%016x", mrand.Uint64())
	ctx := context.Background()
	ch, err := clickhouse.New(chURL, chDB)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ch.DropDatabase(context.Background()) })
	bin := buildBinary(t)

	var logs syncBuffer
	worker := startWorker(t, bin, []string{"MAILTRAIL_EVENT_LOG_URL=" + url, "MAILTRAIL_EVENT_LOG_STREAM=" + stream, "MAILTRAIL_POSTGRES_DSN=" + dsn,
		"MAILTRAIL_POSTGRES_SCHEMA=" + schema, "MAILTRAIL_CLICKHOUSE_URL=" + chURL, "MAILTRAIL_CLICKHOUSE_DATABASE=" + chDB, "MAILTRAIL_LOG_FORMAT=text"},
		nil, &logs, "--progress", "1s")
	res := runCrashTest(t, crashPlan{bin: bin, args: []string{"--event-log-url", url, "--event-log-stream", stream, "--event-log-replicas", "3",
		"--postgres-dsn", dsn, "--postgres-schema", schema, "--clickhouse-url", chURL, "--clickhouse-database", chDB},
		cycles: clusterLeaderKills, early: true,
		end: func(c *crashCycle) string {
			p := c.loadFor(300*time.Millisecond, time.Second)
			info, err := natstest.Info(url, stream)
			if err != nil || info.Cluster == nil || info.Cluster.Leader == "" {
				c.t.Fatalf("the stream's leader: %+v, %v", info, err)
			}
			leader := info.Cluster.Leader
			num := natstest.KillServer(c.t, dir, leader)
			q := c.loadFor(2*time.Second, 4*time.Second) // through the election
			natstest.RestartServer(c.t, dir, num)
			r := c.loadFor(time.Second, 2*time.Second)
			c.d.kill(c.t)
			return fmt.Sprintf("leader %s SIGKILLed after %s of load, restarted %s later; serve SIGKILLed %s after that",
				leader, p.Round(time.Millisecond), q.Round(time.Millisecond), r.Round(time.Millisecond))
		}})
	if t.Failed() {
		return
	}
	natstest.WaitCurrent(t, url, stream, 3)

	cfg := baseCfg(res.dataDir)
	cfg.EventLogURL, cfg.EventLogStream = url, stream
	st, err := openStore(ctx, &cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	orgs, err := st.Orgs(ctx)
	if err != nil || len(orgs) != 1 {
		t.Fatalf("organizations: %v, %v", orgs, err)
	}
	applied, err := st.Position(ctx, positionName(&cfg))
	if err != nil || applied == 0 {
		t.Fatalf("the store's position in the stream: %d, %v", applied, err)
	}
	pg, err := postgres.Open(ctx, dsn, postgres.Options{Schema: schema, MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
		pos, perr := pg.Position(ctx, positionName(&cfg))
		shipped, serr := ch.ShippedPosition(ctx, positionName(&cfg))
		if perr == nil && serr == nil && pos >= applied && shipped >= applied {
			break
		}
		if time.Now().After(deadline) || worker.ProcessState != nil {
			t.Fatalf("the worker is at %d (%v), shipped %d (%v), want %d; its log:\n%s", pos, perr, shipped, serr, applied, logs.tail(4000))
		}
	}
	want := storetest.Figures(t, st, orgs[0].ID, "crash")
	if got := storetest.Figures(t, pg, orgs[0].ID, "crash"); got != want {
		t.Fatalf("the crash campaign in PostgreSQL differs from serve's store:\n%s", storetest.DiffLines(want, got))
	}
	checkShipped(t, ch, url, stream, orgs[0].ID, "crash")
	t.Logf("the worker through %d leader kills: %d warnings (errors it retried)", clusterLeaderKills, strings.Count(logs.tail(1<<20), "level=WARN"))
}
