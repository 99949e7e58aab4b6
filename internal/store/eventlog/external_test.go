package eventlog_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/mailtrail/mailtrail/internal/store/eventlog"
	"github.com/mailtrail/mailtrail/internal/store/eventlog/natstest"
)

// The event log on an external JetStream cluster (Options.URL): the same code path as the
// embedded server, against three nats-server processes that scripts/nats-cluster.sh
// builds from the pinned module and starts (./scripts/test.sh does it and sets
// MAILTRAIL_TEST_NATS_URL and MAILTRAIL_TEST_NATS_DIR). Without them the tests skip,
// unless MAILTRAIL_REQUIRE_SERVICES is set (CI), where they fail.

// external returns the cluster's URL and the directory the script ran it in.
func external(t *testing.T) (url, dir string) {
	t.Helper()
	url, dir = os.Getenv("MAILTRAIL_TEST_NATS_URL"), os.Getenv("MAILTRAIL_TEST_NATS_DIR")
	if url == "" || dir == "" {
		if os.Getenv("MAILTRAIL_REQUIRE_SERVICES") != "" {
			t.Fatal("MAILTRAIL_TEST_NATS_URL and MAILTRAIL_TEST_NATS_DIR are not set: start the cluster with scripts/nats-cluster.sh start DIR")
		}
		t.Skip("no external JetStream cluster (scripts/nats-cluster.sh start DIR, then set MAILTRAIL_TEST_NATS_URL and MAILTRAIL_TEST_NATS_DIR)")
	}
	return url, dir
}

// externalOpts returns options for a stream of its own on the cluster, with three
// replicas, removed when the test ends.
func externalOpts(t *testing.T, url string) eventlog.Options {
	t.Helper()
	name := natstest.Stream(t, url)
	return eventlog.Options{URL: url, Replicas: 3, Stream: name, SubjectPrefix: strings.ToLower(name), Partitions: 2,
		PublishTimeout: 2 * time.Second}
}

// streamInfo reads the stream's state and cluster placement from the cluster.
func streamInfo(t *testing.T, url, name string) *jetstream.StreamInfo {
	t.Helper()
	info, err := natstest.Info(url, name)
	if err != nil {
		t.Fatal(err)
	}
	return info
}

// Appends, reads, a retry after a reopen and a purge on a three-replica stream: what the
// embedded log does, the same code, with the stream replicated on three servers.
func TestExternalLog(t *testing.T) {
	url, _ := external(t)
	ctx := context.Background()
	opts := externalOpts(t, url)
	l := open(t, t.TempDir(), opts)
	var apps []appended
	for i := range 30 {
		evs := events(i*4, 1+i%4)
		r, err := l.Append(ctx, i%2, fmt.Sprintf("req-%d", i), evs)
		if err != nil {
			t.Fatal(err)
		}
		apps = append(apps, appended{part: i % 2, rcpt: r, events: evs})
	}
	check(t, readAll(t, l, 7), apps)
	info := streamInfo(t, url, opts.Stream)
	if info.Config.Replicas != 3 || info.Cluster == nil || info.Cluster.Leader == "" || len(info.Cluster.Replicas) != 2 {
		t.Fatalf("stream placement: replicas %d, cluster %+v; want a leader and 2 replicas", info.Config.Replicas, info.Cluster)
	}
	last, err := l.Last(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}

	// Another Log on the same stream (a restarted process): everything is there, a retry
	// within the dedupe window is a duplicate at its first position.
	l = open(t, t.TempDir(), opts)
	check(t, readAll(t, l, 100), apps)
	if got, err := l.Last(ctx); err != nil || got != last {
		t.Fatalf("Last after reopen = %v, %v; want %v", got, err, last)
	}
	again, err := l.Append(ctx, apps[3].part, "req-3", apps[3].events)
	if err != nil || !again.Duplicate || again.Pos != apps[3].rcpt.Pos {
		t.Fatalf("retry after reopen = %+v, %v; want a duplicate at %v", again, err, apps[3].rcpt.Pos)
	}
	if err := l.PurgeBefore(ctx, apps[10].rcpt.Pos.Seq); err != nil {
		t.Fatal(err)
	}
	first, err := l.FirstSeq(ctx)
	if err != nil || first != apps[10].rcpt.Pos.Seq {
		t.Fatalf("FirstSeq after the purge = %d, %v; want %d", first, err, apps[10].rcpt.Pos.Seq)
	}
}

// The stream leader's server is killed (SIGKILL) while appenders run: appends wait, fail
// or go on on the new leader, and every append the log acknowledged is in the stream
// afterwards, once, at the position its receipt named (Jepsen found acknowledged writes
// lost in some leader failures of JetStream: this counts them here). The server is
// started again and catches up.
func TestExternalLeaderKilledUnderLoad(t *testing.T) {
	url, dir := external(t)
	ctx := context.Background()
	opts := externalOpts(t, url)
	opts.PublishTimeout = time.Second
	l := open(t, t.TempDir(), opts)
	if _, err := l.Append(ctx, 0, "", events(0, 1)); err != nil { // the stream exists and has a leader
		t.Fatal(err)
	}
	leader := streamInfo(t, url, opts.Stream).Cluster.Leader

	var mu sync.Mutex
	var acked []appended
	var failed int
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				n := 1_000_000 + w*100_000 + i*3
				evs := events(n, 3)
				r, err := l.Append(ctx, w%2, fmt.Sprintf("w%d-%d", w, i), evs)
				mu.Lock()
				if err != nil {
					failed++
				} else {
					acked = append(acked, appended{part: w % 2, rcpt: r, events: evs})
				}
				mu.Unlock()
			}
		}()
	}
	time.Sleep(500 * time.Millisecond)
	num := natstest.KillServer(t, dir, leader)
	time.Sleep(3 * time.Second) // appends go on past the new leader's election
	natstest.RestartServer(t, dir, num)
	time.Sleep(time.Second)
	close(stop)
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	var recs []eventlog.Record
	deadline := time.Now().Add(30 * time.Second)
	for {
		var err error
		recs, err = readAllErr(l, 500)
		if err == nil || time.Now().After(deadline) {
			if err != nil {
				t.Fatalf("reading the stream back: %v", err)
			}
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	want := map[eventlog.Position]bool{}
	for _, a := range acked {
		for i := range a.events {
			want[eventlog.Position{Seq: a.rcpt.Pos.Seq, Index: a.rcpt.Pos.Index + i}] = true
		}
	}
	got := map[eventlog.Position]bool{}
	for _, r := range recs {
		got[r.Pos] = true
	}
	lost := 0
	for p := range want {
		if !got[p] {
			lost++
		}
	}
	t.Logf("leader %s killed: %d appends acknowledged, %d failed (answered as errors), %d records read back", leader, len(acked), failed, len(recs))
	if len(acked) == 0 {
		t.Fatal("no append was acknowledged")
	}
	if lost > 0 {
		t.Fatalf("%d acknowledged records are not in the stream after the leader was killed", lost)
	}
	// Each acknowledged append is there once, with its own events.
	check(t, onlyAcked(recs, want), acked)
	// The restarted server catches up: every replica is current again.
	natstest.WaitCurrent(t, url, opts.Stream, 3)
}

// readAllErr reads the whole log in pages, returning the first error.
func readAllErr(l *eventlog.Log, page int) ([]eventlog.Record, error) {
	var all []eventlog.Record
	from := eventlog.Position{}
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		recs, err := l.Read(ctx, from, page)
		cancel()
		if err != nil {
			return nil, err
		}
		if len(recs) == 0 {
			return all, nil
		}
		all = append(all, recs...)
		from = recs[len(recs)-1].Pos.Next()
	}
}

// onlyAcked returns the records at acknowledged positions (a failed append may still have
// been stored: its caller retries it, and the dedupe id makes the retry a duplicate).
func onlyAcked(recs []eventlog.Record, want map[eventlog.Position]bool) []eventlog.Record {
	var out []eventlog.Record
	for _, r := range recs {
		if want[r.Pos] {
			out = append(out, r)
		}
	}
	return out
}
