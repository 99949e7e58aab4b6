package clickhouse_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/store/clickhouse"
)

// chReplicas returns two ClickHouse servers that share a ZooKeeper (scripts/test.sh
// starts them: scripts/zookeeper.sh, then scripts/clickhouse.sh with
// CLICKHOUSE_ZOOKEEPER), from MAILTRAIL_TEST_CLICKHOUSE_REPLICAS ("URL,URL"). Without it
// the test skips, unless MAILTRAIL_REQUIRE_SERVICES is set, where it fails.
func chReplicas(t *testing.T) (string, string) {
	t.Helper()
	a, b, ok := strings.Cut(os.Getenv("MAILTRAIL_TEST_CLICKHOUSE_REPLICAS"), ",")
	if !ok {
		if os.Getenv("MAILTRAIL_REQUIRE_SERVICES") != "" {
			t.Fatal("MAILTRAIL_TEST_CLICKHOUSE_REPLICAS is not set (two ClickHouse URLs on one ZooKeeper, as scripts/test.sh starts them)")
		}
		t.Skip("MAILTRAIL_TEST_CLICKHOUSE_REPLICAS is not set (two ClickHouse URLs on one ZooKeeper, as scripts/test.sh starts them)")
	}
	return a, b
}

// With Replicated tables (WithReplicated) on two replicas: the events and the positions
// are Replicated; a block copied three times (crashes after the copy, merges stopped) is
// stored once, the server dropping the copies (where the plain tables hold three copies
// and only the distinct counts are right, TestBlockCopiedTwiceCountsOnce); the other
// replica holds every event once and the shipped position, with the same counts; an
// erasure through the first replica reaches the second.
func TestReplicatedBlockCopiedAgainStoredOnce(t *testing.T) {
	url1, url2 := chReplicas(t)
	ctx := context.Background()
	name := fmt.Sprintf("mt_test_%016x", rand.Uint64())
	open := func(url string) *clickhouse.DB {
		db, err := clickhouse.Open(ctx, url, name, clickhouse.WithReplicated())
		if err != nil {
			t.Fatalf("Open %s: %v", url, err)
		}
		t.Cleanup(func() {
			if err := db.DropDatabase(context.Background()); err != nil {
				t.Errorf("drop %s on %s: %v", name, url, err)
			}
		})
		return db
	}
	db1, db2 := open(url1), open(url2)
	for _, table := range []string{"events", "ship_positions"} {
		engine, err := db1.Query(ctx, "SELECT engine FROM system.tables WHERE database = '"+name+"' AND name = '"+table+"' FORMAT TSVRaw")
		if err != nil || strings.TrimSpace(engine) != "ReplicatedReplacingMergeTree" {
			t.Fatalf("%s's engine: %q, %v", table, engine, err)
		}
	}
	l := openLog(t)
	want := map[key]map[mailtrail.EventType]int64{}
	appendEvents(t, l, 0, 1500, want)
	if err := db1.Exec(ctx, "SYSTEM STOP MERGES "+name+".events"); err != nil {
		t.Fatal(err)
	}
	s, crashes := crashingAfterCopy(db1, l, 2)
	last := head(t, l)
	shipAll(t, s, last)
	if *crashes != 2 {
		t.Fatalf("%d crashes after the copy, want 2", *crashes)
	}
	if rows, ids, err := db1.Rows(ctx); err != nil || ids != 1500 || rows != 1500 {
		t.Fatalf("replica 1: %d rows of %d events (%v), want each event stored once", rows, ids, err)
	}
	checkCounts(t, db1, want)
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		rows, ids, err := db2.Rows(ctx)
		pos, perr := db2.ShippedPosition(ctx, "events")
		if err == nil && perr == nil && rows == 1500 && ids == 1500 && pos == last {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica 2: %d rows of %d events (%v), shipped position %d (%v); want 1500 once each and %d", rows, ids, err, pos, perr, last)
		}
	}
	checkCounts(t, db2, want)

	// An erasure (a mutation) through replica 1 reaches replica 2.
	if err := db1.Exec(ctx, "SYSTEM START MERGES "+name+".events"); err != nil {
		t.Fatal(err)
	}
	left := "SELECT count() FROM " + name + ".events WHERE org = 'org-1' AND customer = 'cu-1' FORMAT TSVRaw"
	if n, err := db2.Query(ctx, left); err != nil || strings.TrimSpace(n) == "0" {
		t.Fatalf("replica 2 holds %q events of the customer to erase (%v), want some", n, err)
	}
	if err := db1.EraseCustomer(ctx, "org-1", "cu-1", "erased:1"); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		n1, err1 := db1.Query(ctx, left)
		n2, err2 := db2.Query(ctx, left)
		if err1 == nil && err2 == nil && strings.TrimSpace(n1) == "0" && strings.TrimSpace(n2) == "0" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the erased customer's events left: %q (%v) on replica 1, %q (%v) on replica 2", n1, err1, n2, err2)
		}
	}
	checkCounts(t, db2, want)
}
