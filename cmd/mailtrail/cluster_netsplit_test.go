package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/internal/store/eventlog/natstest"
	"github.com/nats-io/nuid"
)

// One node cut off from the others by a real network partition: serve runs beside
// JetStream server 3, whose link to servers 1 and 2 goes down (network namespaces, see
// natstest.NetCluster) while serve and its clients still reach it. Cut off, serve cannot
// make an event durable on a majority: it accepts no new event (an answer is a 503, a
// timeout the client retries, or a 200 for a batch whose events were all durable
// already: duplicates of an acknowledged one), and once the link is back it accepts
// again, having lost nothing. Then serve is SIGKILLed, and the crash harness checks that every event it
// acknowledged, before, during and after the partition, is stored exactly once and that
// the report equals a recount.
func TestClusterNodeCutOffStopsAcknowledging(t *testing.T) {
	nc := natstest.StartNetCluster(t)
	stream := "P" + nuid.Next()
	var during, failed int64
	runCrashTest(t, crashPlan{args: []string{"--event-log-url", nc.ClientURL(), "--event-log-stream", stream, "--event-log-replicas", "3",
		"--commit-wait", "2s"},
		cycles: 1, early: true, end: func(c *crashCycle) string {
			q := c.loadFor(time.Second, 2*time.Second)
			leader := "unknown"
			if info, err := natstest.Info(nc.ClusterURL(), stream); err == nil && info.Cluster != nil {
				leader = info.Cluster.Leader
			}
			nc.Cut(3)
			c.t.Logf("cut at %s", time.Now().Format("15:04:05.000"))
			time.Sleep(4 * time.Second) // answers to what was on its way before the cut
			a0, f0 := c.h.acceptedReqs.Load(), c.h.failedReqs.Load()
			cut := 4*time.Second + c.loadFor(5*time.Second, 7*time.Second)
			a1, f1 := c.h.acceptedReqs.Load(), c.h.failedReqs.Load()
			during, failed = a1-a0, f1-f0
			nc.Heal(3)
			c.t.Logf("healed at %s", time.Now().Format("15:04:05.000"))
			for deadline := time.Now().Add(90 * time.Second); c.h.acceptedReqs.Load() == a1; time.Sleep(100 * time.Millisecond) {
				if time.Now().After(deadline) {
					c.t.Fatalf("serve acknowledged nothing in the 90 s after its server rejoined the cluster")
				}
			}
			// Killed soon after it rejoined, serve starts again while its server may still
			// be catching up with the others: its reads (direct gets, which that replica
			// answers) may not reach the stream's head yet.
			u := c.loadFor(100*time.Millisecond, time.Second)
			c.d.kill(c.t)
			return fmt.Sprintf("server 3 (serve's; the stream's leader was %s) cut off after %s of load, for %s; serve SIGKILLed %s after it rejoined",
				leader, q.Round(time.Millisecond), cut.Round(time.Millisecond), u.Round(time.Millisecond))
		}})
	if t.Failed() {
		return
	}
	if during != 0 {
		t.Fatalf("serve accepted new events in %d requests while its JetStream server was cut off from the majority", during)
	}
	if failed == 0 {
		t.Fatal("no request failed while the node was cut off: the partition did not reach serve")
	}
	t.Logf("cut off: no new event accepted, %d requests answered 503 or timed out", failed)
}
