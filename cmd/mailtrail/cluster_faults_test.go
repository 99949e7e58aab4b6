package main

import (
	"context"
	"fmt"
	mrand "math/rand/v2"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/internal/store/clickhouse"
	"github.com/mailtrail/mailtrail/internal/store/eventlog/natstest"
	"github.com/mailtrail/mailtrail/internal/store/postgres"
	"github.com/mailtrail/mailtrail/internal/store/postgres/pgtest"
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
	runPipelineFaults(t, clusterLeaderKills, func(c *crashCycle, p *pipeline) string {
		q := c.loadFor(300*time.Millisecond, time.Second)
		leader := p.leader(c.t)
		num := natstest.KillServer(c.t, p.dir, leader)
		r := c.loadFor(2*time.Second, 4*time.Second) // through the election
		natstest.RestartServer(c.t, p.dir, num)
		u := c.loadFor(time.Second, 2*time.Second)
		c.d.kill(c.t)
		return fmt.Sprintf("leader %s SIGKILLed after %s of load, restarted %s later; serve SIGKILLed %s after that",
			leader, q.Round(time.Millisecond), r.Round(time.Millisecond), u.Round(time.Millisecond))
	})
}

// A rolling restart of every process of the pipeline while the load runs, as an upgrade
// does it: each of the three NATS servers stopped (SIGTERM) and started again in turn,
// waiting for the stream's replicas to be current before the next, then the worker, then
// serve (which the harness starts again). Twice. Afterwards the same checks as the
// leader kills: nothing acknowledged lost, nothing counted twice, PostgreSQL identical to
// serve's store, ClickHouse holding each event of the log once.
func TestClusterPipelineRollingRestartUnderLoad(t *testing.T) {
	runPipelineFaults(t, 2, func(c *crashCycle, p *pipeline) string {
		c.loadFor(300*time.Millisecond, time.Second)
		for num := 1; num <= 3; num++ {
			pid, _ := natstest.ServerPID(c.t, p.dir, fmt.Sprintf("mt-n%d", num))
			if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
				c.t.Fatal(err)
			}
			for deadline := time.Now().Add(30 * time.Second); syscall.Kill(pid, 0) == nil; time.Sleep(50 * time.Millisecond) {
				if time.Now().After(deadline) {
					c.t.Fatalf("nats server %d did not stop within 30 s of SIGTERM", num)
				}
			}
			c.loadFor(200*time.Millisecond, 500*time.Millisecond)
			natstest.RestartServer(c.t, p.dir, num)
			natstest.WaitCurrent(c.t, p.url, p.stream, 3)
		}
		p.restartWorker(c.t)
		c.loadFor(300*time.Millisecond, time.Second)
		if err := c.d.stop(30 * time.Second); err != nil {
			c.t.Errorf("serve's SIGTERM under load in the rolling restart: %v", err)
		}
		return "rolling restart: nats servers 1, 2, 3, the worker, serve"
	})
}

// clusterEngines are the engines of a cluster test, each in a namespace of the test's
// own: a stream on the JetStream cluster, a PostgreSQL schema and a ClickHouse database
// (dropped when the test ends).
type clusterEngines struct {
	url, dsn, chURL, stream, schema, chDB string
	ch                                    *clickhouse.DB
}

// newClusterEngines gives a test its stream, schema and ClickHouse database (named with
// chPrefix).
func newClusterEngines(t *testing.T, chPrefix string) clusterEngines {
	t.Helper()
	e := clusterEngines{url: natstest.URL(t), dsn: testPostgresDSN(t), chURL: testClickHouseURL(t)}
	e.stream, e.schema = natstest.Stream(t, e.url), testPGSchema(t, e.dsn)
	e.chDB = fmt.Sprintf("%s%016x", chPrefix, mrand.Uint64())
	var err error
	if e.ch, err = clickhouse.New(e.chURL, e.chDB); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.ch.DropDatabase(context.Background()) })
	return e
}

// env is a worker's environment on the engines.
func (e clusterEngines) env() []string {
	return []string{"MAILTRAIL_EVENT_LOG_URL=" + e.url, "MAILTRAIL_EVENT_LOG_STREAM=" + e.stream, "MAILTRAIL_POSTGRES_DSN=" + e.dsn,
		"MAILTRAIL_POSTGRES_SCHEMA=" + e.schema, "MAILTRAIL_CLICKHOUSE_URL=" + e.chURL, "MAILTRAIL_CLICKHOUSE_DATABASE=" + e.chDB, "MAILTRAIL_LOG_FORMAT=text"}
}

// pipeline is the cluster pipeline a fault test runs: the engines and the worker.
type pipeline struct {
	url, dir, stream string
	bin              string
	env              []string
	logs             *syncBuffer
	worker           *exec.Cmd
}

// leader returns the name of the server that leads the stream.
func (p *pipeline) leader(t *testing.T) string {
	t.Helper()
	info, err := natstest.Info(p.url, p.stream)
	if err != nil || info.Cluster == nil || info.Cluster.Leader == "" {
		t.Fatalf("the stream's leader: %+v, %v", info, err)
	}
	return info.Cluster.Leader
}

// startWorker starts the worker binary.
func (p *pipeline) startWorker(t *testing.T) {
	p.worker = startWorker(t, p.bin, p.env, nil, p.logs, "--progress", "1s")
}

// restartWorker stops the worker with SIGTERM (it must exit 0) and starts it again.
func (p *pipeline) restartWorker(t *testing.T) {
	t.Helper()
	if err := p.worker.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := p.worker.Wait(); err != nil {
		t.Errorf("the worker's SIGTERM: want exit 0, got %v; its log:\n%s", err, p.logs.tail(2000))
	}
	p.startWorker(t)
}

// runPipelineFaults runs the crash harness's load against serve on the cluster's log
// with a worker beside it, ending each of cycles cycles with fault (which must leave
// serve ended; the harness starts it again), then checks every store against serve's.
func runPipelineFaults(t *testing.T, cycles int, fault func(c *crashCycle, p *pipeline) string) {
	e := newClusterEngines(t, "mt_faults_")
	url, dsn, chURL, stream, schema, chDB, ch := e.url, e.dsn, e.chURL, e.stream, e.schema, e.chDB, e.ch
	ctx := context.Background()
	p := &pipeline{url: url, dir: natstest.Dir(t), stream: stream, bin: buildBinary(t), logs: &syncBuffer{}, env: e.env()}
	p.startWorker(t)
	res := runCrashTest(t, crashPlan{bin: p.bin, args: []string{"--event-log-url", url, "--event-log-stream", stream, "--event-log-replicas", "3",
		"--postgres-dsn", dsn, "--postgres-schema", schema, "--clickhouse-url", chURL, "--clickhouse-database", chDB},
		cycles: cycles, early: true, end: func(c *crashCycle) string { return fault(c, p) }})
	if t.Failed() {
		return
	}
	natstest.WaitCurrent(t, url, stream, 3)

	cfg := baseCfg(res.dataDir)
	cfg.EventLogURL, cfg.EventLogStream = url, stream
	cfg.PostgresDSN, cfg.PostgresSchema = dsn, schema
	after := openCrashStores(t, &cfg)
	applied, pg := after.applied, after.pg
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
		pos, perr := pg.Position(ctx, positionName(&cfg))
		shipped, serr := ch.ShippedPosition(ctx, positionName(&cfg))
		if perr == nil && serr == nil && pos >= applied && shipped >= applied {
			break
		}
		if time.Now().After(deadline) || p.worker.ProcessState != nil {
			t.Fatalf("the worker is at %d (%v), shipped %d (%v), want %d; its log:\n%s", pos, perr, shipped, serr, applied, p.logs.tail(4000))
		}
	}
	after.samePostgres(t)
	checkShipped(t, ch, url, stream, after.org, "crash")
	t.Logf("the worker: %d warnings (errors it retried)", strings.Count(p.logs.tail(1<<20), "level=WARN"))
}

// PostgreSQL itself killed under the worker: a server of the test's own (never the
// machine's) is killed with SIGKILL, every process of it at once, while the worker
// applies a backlog, three times, and started again each time (crash recovery). The
// worker (the binary, never restarted) retries through each outage, and at the end the
// figures in PostgreSQL are identical to serve's store: no batch lost, none applied
// twice, the position committed with each batch surviving the crashes.
func TestWorkerThroughPostgresKills(t *testing.T) {
	url := natstest.URL(t)
	stream := natstest.Stream(t, url)
	srv := pgtest.Private(t)
	dsn := srv.DSN()
	ctx := context.Background()
	bin := buildBinary(t)

	cfg := baseCfg(t.TempDir())
	cfg.EventLogURL, cfg.EventLogStream, cfg.EventLogReplicas = url, stream, 3
	h, project := startHeld(t, cfg)
	project()
	org, key := h.org("acme")
	var last uint64
	for b := range 40 {
		_, last = h.postEventsAt(key, workerEvents(b, 500)...)
	}
	h.reportAfter(key, "w0", last, 100)

	pg, err := postgres.Open(ctx, dsn, postgres.Options{MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	adoptOrg(t, h, pg, org)
	pg.Close()
	position := func() uint64 {
		for {
			pg, err := postgres.Open(ctx, dsn, postgres.Options{MaxConns: 1})
			if err == nil {
				p, err := pg.Position(ctx, "events@"+stream)
				pg.Close()
				if err == nil {
					return p
				}
			}
			time.Sleep(50 * time.Millisecond) // restarting
		}
	}

	var logs syncBuffer
	w := startWorker(t, bin, []string{"MAILTRAIL_EVENT_LOG_URL=" + url, "MAILTRAIL_EVENT_LOG_STREAM=" + stream, "MAILTRAIL_POSTGRES_DSN=" + dsn,
		"MAILTRAIL_LOG_FORMAT=text"}, nil, &logs, "--max-events", "1000", "--progress", "0")
	kills := 0
	for range 3 {
		from := position()
		for deadline := time.Now().Add(time.Minute); ; time.Sleep(2 * time.Millisecond) {
			p := position()
			if p >= last || time.Now().After(deadline) {
				break
			}
			if p > from { // a batch committed and more are to come: kill the server mid-backlog
				srv.Kill()
				kills++
				time.Sleep(time.Duration(200+100*kills) * time.Millisecond) // the worker meets the outage
				srv.Start()
				break
			}
		}
	}
	if kills == 0 {
		t.Fatal("the worker applied the whole backlog before any kill; make the backlog larger")
	}
	for deadline := time.Now().Add(2 * time.Minute); position() < last; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) || w.ProcessState != nil {
			t.Fatalf("the worker is at %d, want %d; its log:\n%s", position(), last, logs.tail(4000))
		}
	}
	pg, err = postgres.Open(ctx, dsn, postgres.Options{MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	for _, camp := range []string{"w0", "w1", "w2"} {
		want := storetest.Figures(t, h.app.db, org, camp)
		if got := storetest.Figures(t, pg, org, camp); got != want {
			t.Fatalf("campaign %s in PostgreSQL after %d kills of the server differs from serve's store:\n%s", camp, kills, storetest.DiffLines(want, got))
		}
	}
	t.Logf("PostgreSQL killed %d times under the worker; its warnings: %d", kills, strings.Count(logs.tail(1<<20), "level=WARN"))
}
