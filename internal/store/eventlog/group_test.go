package eventlog

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
)

// gate makes the first publish of a Log wait: entered receives once the writer is in
// it, and the publish goes on when release is closed. Later publishes do not wait.
type gate struct {
	once    sync.Once
	entered chan struct{}
	release chan struct{}
}

func openGated(t *testing.T) (*Log, *gate) {
	t.Helper()
	l, err := Open(context.Background(), t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	g := &gate{entered: make(chan struct{}), release: make(chan struct{})}
	l.beforePublish = func() {
		g.once.Do(func() {
			close(g.entered)
			<-g.release
		})
	}
	return l, g
}

func ev(n int) []*mailtrail.Event {
	return []*mailtrail.Event{{ID: fmt.Sprintf("ev-%d", n), Type: mailtrail.EventOpened, OrgID: "o"}}
}

// waitQueued waits until n requests are queued for partition 0 (not a timing assertion:
// it waits for a state, however long that takes).
func waitQueued(l *Log, n int) {
	for len(l.parts[0].reqs) < n {
		runtime.Gosched()
		time.Sleep(time.Millisecond)
	}
}

func messages(t *testing.T, l *Log) uint64 {
	t.Helper()
	info, err := l.stream.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}

func TestGroupCommitMergesConcurrentAppends(t *testing.T) {
	l, g := openGated(t)
	ctx := context.Background()
	first := make(chan Receipt, 1)
	go func() {
		r, err := l.Append(ctx, 0, "", ev(0))
		if err != nil {
			t.Error(err)
		}
		first <- r
	}()
	<-g.entered // the first append's publish is running
	const n = 10
	receipts := make([]Receipt, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			r, err := l.Append(ctx, 0, fmt.Sprintf("id-%d", i), ev(i+1))
			if err != nil {
				t.Error(err)
			}
			receipts[i] = r
		})
	}
	waitQueued(l, n)
	close(g.release)
	wg.Wait()
	r0 := <-first
	if got := messages(t, l); got != 2 {
		t.Fatalf("%d messages for 11 appends, want 2 (one, then the 10 that queued behind it)", got)
	}
	seen := map[int]bool{}
	for i, r := range receipts {
		if r.Pos.Seq != r0.Pos.Seq+1 || r.Duplicate {
			t.Fatalf("append %d at %+v; want it in message %d", i, r, r0.Pos.Seq+1)
		}
		seen[r.Pos.Index] = true
	}
	if len(seen) != n {
		t.Fatalf("indexes %v; want %d distinct", seen, n)
	}
	recs, err := l.Read(ctx, Position{Seq: r0.Pos.Seq + 1}, 100)
	if err != nil || len(recs) != n {
		t.Fatalf("Read of the group = %d records, %v", len(recs), err)
	}
	for i, r := range receipts {
		if recs[r.Pos.Index].Event.ID != fmt.Sprintf("ev-%d", i+1) {
			t.Fatalf("append %d's record at %v is %s", i, r.Pos, recs[r.Pos.Index].Event.ID)
		}
	}
}

func TestWithdrawnAppendIsNotStored(t *testing.T) {
	l, g := openGated(t)
	ctx := context.Background()
	done := make(chan error, 1)
	go func() { _, err := l.Append(ctx, 0, "", ev(0)); done <- err }()
	<-g.entered
	cctx, cancel := context.WithCancel(ctx)
	withdrawn := make(chan error, 1)
	go func() { _, err := l.Append(cctx, 0, "gone", ev(1)); withdrawn <- err }()
	waitQueued(l, 1)
	cancel()
	if err := <-withdrawn; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled append: %v", err)
	}
	close(g.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// A later append (through the writer, after the withdrawn request) is stored; the
	// withdrawn one is not.
	if _, err := l.Append(ctx, 0, "", ev(2)); err != nil {
		t.Fatal(err)
	}
	recs, err := l.Read(ctx, Position{}, 100)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range recs {
		ids = append(ids, r.Event.ID)
	}
	if fmt.Sprint(ids) != "[ev-0 ev-2]" {
		t.Fatalf("log holds %v, want [ev-0 ev-2]", ids)
	}
	// Its id was released: a retry stores it.
	r, err := l.Append(ctx, 0, "gone", ev(1))
	if err != nil || r.Duplicate {
		t.Fatalf("retry of the withdrawn append = %+v, %v; want a new append", r, err)
	}
}

func TestRetryWhileTheFirstAttemptIsInFlight(t *testing.T) {
	l, g := openGated(t)
	ctx := context.Background()
	cctx, cancel := context.WithCancel(ctx)
	first := make(chan error, 1)
	go func() { _, err := l.Append(cctx, 0, "req", ev(0)); first <- err }()
	<-g.entered // taken into a message: cancelling no longer withdraws it
	cancel()
	if err := <-first; !errors.Is(err, context.Canceled) {
		t.Fatalf("first attempt: %v", err)
	}
	retry := make(chan Receipt, 1)
	go func() {
		r, err := l.Append(ctx, 0, "req", ev(0))
		if err != nil {
			t.Error(err)
		}
		retry <- r
	}()
	close(g.release)
	r := <-retry
	if !r.Duplicate || r.Pos != (Position{Seq: 1}) {
		t.Fatalf("retry = %+v; want a duplicate of the first attempt at 1:0", r)
	}
	if n := messages(t, l); n != 1 {
		t.Fatalf("%d messages, want 1", n)
	}
}

func TestRetriedPublishIsStoredOnce(t *testing.T) {
	l, err := Open(context.Background(), t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	data := appendGroupRecord(appendGroupHeader(nil, []groupAppend{{n: 1}}), mustEncode(t, ev(0)[0]))
	s1, err := l.publish("events.0", "writer.0.1", data)
	if err != nil {
		t.Fatal(err)
	}
	s2, err := l.publish("events.0", "writer.0.1", data)
	if err != nil {
		t.Fatal(err)
	}
	if s1 != s2 || messages(t, l) != 1 {
		t.Fatalf("publishes with one Nats-Msg-Id: sequences %d and %d, %d messages; want one message", s1, s2, messages(t, l))
	}
}

func TestServerSyncsEveryWrite(t *testing.T) {
	l, err := Open(context.Background(), t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if cfg := l.srv.JetStreamConfig(); cfg == nil || !cfg.SyncAlways {
		t.Fatalf("JetStream config %+v: want SyncAlways", cfg)
	}
	if l.ClientURL() != "" {
		t.Fatalf("a TCP listener without Options.Listen: %s", l.ClientURL())
	}
}

func mustEncode(t *testing.T, e *mailtrail.Event) []byte {
	t.Helper()
	b, err := EncodeEvent(e)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
