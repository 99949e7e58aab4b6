package main

import (
	"context"
	"fmt"
	"math"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/store/eventlog"
	"github.com/mailtrail/mailtrail/internal/store/eventlog/natstest"
	"github.com/mailtrail/mailtrail/internal/store/postgres"
)

// The stream in three partitions (serve --event-log-partitions 3), applied by three
// worker processes at once: A owns partitions 0 and 1, B owns partition 2, and C, started
// once they hold theirs, owns all three and waits as a standby. Under the crash harness's
// load A is SIGKILLed (C takes 0 and 1 over) and started again (it waits), then B (C
// takes 2), then C (A and B take theirs back), serve SIGKILLed after each. At the end
// PostgreSQL holds exactly serve's figures (report, raw events, suppressions), each equal
// to a recount, and ClickHouse each event of the log once: no partition's event lost or
// applied twice through the takeovers.
func TestClusterPartitionsWorkersKilledUnderLoad(t *testing.T) {
	e := newClusterEngines(t, "mt_parts_")
	url, dsn, chURL, stream, schema, chDB, ch := e.url, e.dsn, e.chURL, e.stream, e.schema, e.chDB, e.ch
	ctx := context.Background()
	bin := buildBinary(t)
	env := e.env()
	own := map[string]string{"A": "0,1", "B": "2", "C": ""}
	logs := map[string]*syncBuffer{"A": {}, "B": {}, "C": {}}
	workers := map[string]*exec.Cmd{}
	start := func(name string) {
		workers[name] = startWorker(t, bin, env, nil, logs[name], "--progress", "1s", "--own-partitions", own[name])
	}
	// holds waits until worker name's log says it took each of the partitions want, n
	// times each in all (its log goes on across its restarts).
	holds := func(tt *testing.T, name string, n int, want ...int) {
		tt.Helper()
		for deadline := time.Now().Add(time.Minute); ; time.Sleep(50 * time.Millisecond) {
			all := true
			for _, p := range want {
				all = all && strings.Count(logs[name].tail(1<<20), fmt.Sprintf("worker holds partition %d of", p)) >= n
			}
			if all {
				return
			}
			if time.Now().After(deadline) {
				tt.Fatalf("worker %s did not take partitions %v (%d times); its log:\n%s", name, want, n, logs[name].tail(4000))
			}
		}
	}
	cycle := 0
	res := runCrashTest(t, crashPlan{bin: bin, args: []string{"--event-log-url", url, "--event-log-stream", stream, "--event-log-replicas", "3",
		"--event-log-partitions", "3", "--postgres-dsn", dsn, "--postgres-schema", schema, "--clickhouse-url", chURL, "--clickhouse-database", chDB},
		cycles: 3, early: true, end: func(c *crashCycle) string {
			if cycle == 0 {
				// serve has created the stream with its partitions: A and B take theirs,
				// then C waits for them.
				start("A")
				start("B")
				holds(c.t, "A", 1, 0, 1)
				holds(c.t, "B", 1, 2)
				start("C")
			}
			victim := []string{"A", "B", "C"}[cycle]
			cycle++
			q := c.loadFor(500*time.Millisecond, 1500*time.Millisecond)
			if victim == "A" && strings.Contains(logs["C"].tail(1<<20), "worker holds partition") {
				c.t.Fatalf("the standby took a partition A and B hold:\n%s", logs["C"].tail(3000))
			}
			w := workers[victim]
			w.Process.Kill()
			w.Wait()
			switch victim {
			case "A":
				holds(c.t, "C", 1, 0, 1)
			case "B":
				holds(c.t, "C", 1, 2)
			case "C":
				holds(c.t, "A", 2, 0, 1)
				holds(c.t, "B", 2, 2)
			}
			r := c.loadFor(300*time.Millisecond, time.Second)
			start(victim)
			u := c.loadFor(300*time.Millisecond, time.Second)
			c.d.kill(c.t)
			return fmt.Sprintf("worker %s SIGKILLed after %s of load, its partitions taken over, started again %s later; serve SIGKILLed %s after that",
				victim, q.Round(time.Millisecond), r.Round(time.Millisecond), u.Round(time.Millisecond))
		}})
	if t.Failed() {
		return
	}
	natstest.WaitCurrent(t, url, stream, 3)

	cfg := baseCfg(res.dataDir)
	cfg.EventLogURL, cfg.EventLogStream, cfg.EventLogPartitions = url, stream, 3
	cfg.PostgresDSN, cfg.PostgresSchema = dsn, schema
	after := openCrashStores(t, &cfg)
	r, err := eventlog.OpenReader(ctx, eventlog.ReaderOptions{URL: url, Stream: stream, SubjectPrefix: strings.ToLower(stream)})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if n := r.Partitions(); n != 3 {
		t.Fatalf("the stream has %d partitions, want 3", n)
	}
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
		floor, ferr := appliedFloor(ctx, after.pg, r, &cfg)
		shipped, serr := ch.ShippedPosition(ctx, positionName(&cfg))
		if ferr == nil && serr == nil && floor >= after.applied && shipped >= after.applied {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the workers applied every partition up to %d (%v), shipped %d (%v), want %d; their logs:\nA:\n%s\nB:\n%s\nC:\n%s", floor, ferr, shipped, serr, after.applied,
				logs["A"].tail(3000), logs["B"].tail(3000), logs["C"].tail(3000))
		}
	}
	for p := range 3 {
		if pos, err := after.pg.Position(ctx, partitionPosition(&cfg, p)); err != nil || pos == 0 {
			t.Fatalf("partition %d's position in PostgreSQL: %d, %v", p, pos, err)
		}
	}
	after.samePostgres(t)
	checkShipped(t, ch, url, stream, after.org, "crash")
	warns := 0
	for _, l := range logs {
		warns += strings.Count(l.tail(1<<20), "level=WARN")
	}
	t.Logf("%d warnings in the workers' logs (errors they retried)", warns)
}

// The floor serve's purges and erasures wait for, with a log of three partitions: for each
// partition the sequence just before its next message the workers have not applied
// (after its position in PostgreSQL), the lowest of them; a partition with nothing left
// does not hold it back, and one with nothing applied holds it before its first message.
func TestAppliedFloorOfPartitions(t *testing.T) {
	ctx := context.Background()
	dsn := testPostgresDSN(t)
	l, err := eventlog.Open(ctx, t.TempDir(), eventlog.Options{Partitions: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	// Messages of partitions 0, 1, 2, 0, 1, 2 at sequences 1–6.
	for i := range 6 {
		if _, err := l.Append(ctx, i%3, "", []*mailtrail.Event{{ID: fmt.Sprintf("e%d", i), OrgID: "o", Type: mailtrail.EventSent, OccurredAt: time.Now()}}); err != nil {
			t.Fatal(err)
		}
	}
	cfg := baseCfg(t.TempDir())
	cfg.EventLogURL, cfg.EventLogStream, cfg.EventLogPartitions = "nats://127.0.0.1:1", "EVENTS", 3
	pg, err := postgres.Open(ctx, dsn, postgres.Options{Schema: testPGSchema(t, dsn), MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	set := func(p int, after, pos uint64) {
		t.Helper()
		if _, err := pg.WriteAt(ctx, partitionPosition(&cfg, p), after, pos, nil); err != nil {
			t.Fatal(err)
		}
	}
	floor := func() uint64 {
		t.Helper()
		f, err := appliedFloor(ctx, pg, l, &cfg)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	if f := floor(); f != 0 {
		t.Fatalf("nothing applied: floor %d, want 0 (before sequence 1, partition 0's first)", f)
	}
	set(0, 0, 4) // partition 0 applied through its last message (4)
	if f := floor(); f != 1 {
		t.Fatalf("partition 0 applied: floor %d, want 1 (before partition 1's first, 2)", f)
	}
	set(1, 0, 2)
	set(2, 0, 3)
	if f := floor(); f != 4 {
		t.Fatalf("partitions 1 and 2 at their first: floor %d, want 4 (before partition 1's next, 5)", f)
	}
	set(1, 2, 5)
	if f := floor(); f != 5 {
		t.Fatalf("floor %d, want 5 (before partition 2's next, 6)", f)
	}
	set(2, 3, 6)
	if f := floor(); f != math.MaxUint64 {
		t.Fatalf("every partition applied: floor %d, want none", f)
	}
	if name := partitionPosition(&cfg, 2); name != "events@EVENTS/2" {
		t.Fatalf("partition 2's position name %q", name)
	}
	cfg.EventLogPartitions = 1
	if name := partitionPosition(&cfg, 0); name != positionName(&cfg) {
		t.Fatalf("one partition's position name %q, want %q", name, positionName(&cfg))
	}
}

// Workers started without --own-partitions share a stream's partitions: three of them on
// three partitions hold one each, whichever started first (it took all three alone,
// then gave up what went beyond its share as the others joined); when one is SIGKILLed
// the other two hold its partition between them, and when it starts again each holds
// one again. Events posted through an API node between the steps are all applied, each
// once: the report equals what was sent.
func TestWorkersShareThePartitions(t *testing.T) {
	e := newClusterEngines(t, "mt_share_")
	bin := buildBinary(t)
	node := startNode(t, bin, e, strings.Repeat("s3cr3t-", 6), "--event-log-partitions", "3")
	node.name = "node"
	org := node.createOrg("Acme")
	sent := 0
	var pos uint64
	send := func(n int) {
		t.Helper()
		var evs []map[string]any
		for range n {
			c := fmt.Sprintf("c%03d", sent)
			sent++
			evs = append(evs, map[string]any{"event_type": "sent", "campaign_id": "launch", "customer_id": c, "customer_email": c + "@example.com",
				"idempotency_key": "sent-" + c})
		}
		var ans postAnswer
		pos = max(pos, logPosition(t, node.json("POST", "/api/v1/events", org.APIKey, map[string]any{"events": evs}, nil, 200, &ans)))
	}
	report := func() {
		t.Helper()
		var rep mailtrail.Report
		node.json("GET", "/api/v1/campaigns/launch/report", org.APIKey, nil, after(pos), 200, &rep)
		if rep.Counts.Sent != int64(sent) {
			t.Fatalf("the report counts %d sends, want %d", rep.Counts.Sent, sent)
		}
	}
	logs := map[string]*syncBuffer{}
	workers := map[string]*exec.Cmd{}
	start := func(name string) {
		logs[name] = &syncBuffer{}
		workers[name] = startWorker(t, bin, e.env(), nil, logs[name], "--progress", "1s")
	}
	took := regexp.MustCompile(`msg="worker (holds|gives up) partition (\d) of`)
	// holding is what each running worker's log says it holds now.
	holding := func() map[string][]int {
		out := map[string][]int{}
		for name, l := range logs {
			if workers[name] == nil {
				continue
			}
			held := map[int]bool{}
			for _, m := range took.FindAllStringSubmatch(l.tail(1<<20), -1) {
				p, _ := strconv.Atoi(m[2])
				held[p] = m[1] == "holds"
			}
			for p, h := range held {
				if h {
					out[name] = append(out[name], p)
				}
			}
			slices.Sort(out[name])
		}
		return out
	}
	// shares waits until the running workers hold the three partitions, each one once,
	// as many each as counts says (in any order: which worker holds more is not decided).
	shares := func(what string, counts ...int) {
		t.Helper()
		slices.Sort(counts)
		for deadline := time.Now().Add(45 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			h := holding()
			var all []int
			var got []int
			for name := range workers {
				if workers[name] != nil {
					got = append(got, len(h[name]))
					all = append(all, h[name]...)
				}
			}
			slices.Sort(all)
			slices.Sort(got)
			if slices.Equal(got, counts) && slices.Equal(all, []int{0, 1, 2}) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: the workers hold %v, want %v partitions each of 0, 1, 2 between them", what, h, counts)
			}
		}
	}

	send(30)
	start("A")
	shares("A alone", 3)
	start("B")
	start("C")
	shares("three workers", 1, 1, 1)
	send(30)
	report()

	workers["C"].Process.Kill()
	workers["C"].Wait()
	workers["C"] = nil
	shares("C killed", 1, 2)
	send(30)
	report()

	start("C")
	shares("C started again", 1, 1, 1)
	send(30)
	report()
}
