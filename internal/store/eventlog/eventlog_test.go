package eventlog_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/store/eventlog"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func open(t *testing.T, dir string, opts eventlog.Options) *eventlog.Log {
	t.Helper()
	l, err := eventlog.Open(context.Background(), dir, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// event returns a distinct event named by n.
func event(n int) *mailtrail.Event {
	at := time.UnixMilli(1_764_000_000_000 + int64(n)).UTC()
	return &mailtrail.Event{
		ID: fmt.Sprintf("ev-%d", n), OrgID: "org-1", CampaignID: "c-1", CustomerID: fmt.Sprintf("cu-%d", n%7),
		CustomerEmail: fmt.Sprintf("p%d@example.com", n%7), MessageID: fmt.Sprintf("m-%d", n%11),
		Type: mailtrail.EventTypes[n%len(mailtrail.EventTypes)], OccurredAt: at, ReceivedAt: at.Add(time.Second),
		Source: mailtrail.SourceAPI, Counted: true, DedupeKey: fmt.Sprintf("k-%d", n),
		Metadata: mailtrail.Metadata{UserAgent: "Mozilla/5.0", IP: "192.0.2.0"},
	}
}

func events(from, n int) []*mailtrail.Event {
	out := make([]*mailtrail.Event, n)
	for i := range out {
		out[i] = event(from + i)
	}
	return out
}

// readAll reads the whole log in pages of page records.
func readAll(t *testing.T, l *eventlog.Log, page int) []eventlog.Record {
	t.Helper()
	var all []eventlog.Record
	from := eventlog.Position{}
	for {
		recs, err := l.Read(context.Background(), from, page)
		if err != nil {
			t.Fatalf("Read(%v): %v", from, err)
		}
		if len(recs) == 0 {
			return all
		}
		if recs[0].Pos.Less(from) {
			t.Fatalf("Read(%v) began at %v, before it", from, recs[0].Pos)
		}
		all = append(all, recs...)
		from = recs[len(recs)-1].Pos.Next()
	}
}

// appended is what a test appended: the receipt and the events, to compare with a Read.
type appended struct {
	part   int
	rcpt   eventlog.Receipt
	events []*mailtrail.Event
}

// check asserts that recs hold exactly the appends' events, in log order, at the
// positions their receipts gave.
func check(t *testing.T, recs []eventlog.Record, apps []appended) {
	t.Helper()
	want := map[eventlog.Position]appended{}
	total := 0
	for _, a := range apps {
		for i, e := range a.events {
			want[eventlog.Position{Seq: a.rcpt.Pos.Seq, Index: a.rcpt.Pos.Index + i}] = appended{part: a.part, events: []*mailtrail.Event{e}}
			total++
		}
	}
	if len(recs) != total {
		t.Fatalf("read %d records, appended %d", len(recs), total)
	}
	for i, r := range recs {
		if i > 0 && !recs[i-1].Pos.Less(r.Pos) {
			t.Fatalf("record %d at %v after %v: not in order", i, r.Pos, recs[i-1].Pos)
		}
		w, ok := want[r.Pos]
		if !ok {
			t.Fatalf("record at %v was never appended", r.Pos)
		}
		if r.Partition != w.part || !reflect.DeepEqual(r.Event, w.events[0]) {
			t.Fatalf("record at %v: partition %d %+v, want partition %d %+v", r.Pos, r.Partition, r.Event, w.part, w.events[0])
		}
	}
}

func TestAppendReadOrder(t *testing.T) {
	ctx := context.Background()
	l := open(t, t.TempDir(), eventlog.Options{Partitions: 3})
	var apps []appended
	n := 0
	var last eventlog.Position
	for i := range 40 {
		size := 1 + (i*7)%23
		evs := events(n, size)
		n += size
		part := i % 3
		id := ""
		if i%2 == 0 {
			id = fmt.Sprintf("append-%d", i)
		}
		r, err := l.Append(ctx, part, id, evs)
		if err != nil {
			t.Fatal(err)
		}
		if r.Duplicate {
			t.Fatalf("append %d: duplicate", i)
		}
		if !last.Less(r.Pos) {
			t.Fatalf("append %d at %v, not after the previous one at %v", i, r.Pos, last)
		}
		last = eventlog.Position{Seq: r.Pos.Seq, Index: r.Pos.Index + size - 1}
		apps = append(apps, appended{part: part, rcpt: r, events: evs})
	}
	for _, page := range []int{1, 5, 1000} {
		check(t, readAll(t, l, page), apps)
	}
	got, err := l.Last(ctx)
	if err != nil || got != last {
		t.Fatalf("Last = %v, %v; want %v", got, err, last)
	}
}

func TestReadFromTheMiddle(t *testing.T) {
	ctx := context.Background()
	l := open(t, t.TempDir(), eventlog.Options{})
	var apps []appended
	for i := range 5 {
		evs := events(i*10, 10)
		r, err := l.Append(ctx, 0, "", evs)
		if err != nil {
			t.Fatal(err)
		}
		apps = append(apps, appended{rcpt: r, events: evs})
	}
	all := readAll(t, l, 100)
	check(t, all, apps)
	for _, start := range []int{0, 3, 9, 10, 11, 25, 49} {
		recs, err := l.Read(ctx, all[start].Pos, 7)
		if err != nil {
			t.Fatal(err)
		}
		want := all[start:min(start+7, len(all))]
		if !reflect.DeepEqual(recs, want) {
			t.Fatalf("Read from %v: got %d records from %v, want %d from %v", all[start].Pos, len(recs), recs[0].Pos, len(want), want[0].Pos)
		}
	}
	// Past a message's last record: the next message.
	past := eventlog.Position{Seq: apps[1].rcpt.Pos.Seq, Index: 10}
	recs, err := l.Read(ctx, past, 1)
	if err != nil || len(recs) != 1 || recs[0].Pos != apps[2].rcpt.Pos {
		t.Fatalf("Read from %v = %v, %v; want the record at %v", past, recs, err, apps[2].rcpt.Pos)
	}
	// Past the end: nothing.
	recs, err = l.Read(ctx, all[len(all)-1].Pos.Next(), 10)
	if err != nil || len(recs) != 0 {
		t.Fatalf("Read past the end = %v, %v; want nothing", recs, err)
	}
}

func TestLastOfAnEmptyLog(t *testing.T) {
	l := open(t, t.TempDir(), eventlog.Options{})
	p, err := l.Last(context.Background())
	if err != nil || p != (eventlog.Position{}) {
		t.Fatalf("Last of an empty log = %v, %v", p, err)
	}
	recs, err := l.Read(context.Background(), eventlog.Position{}, 10)
	if err != nil || len(recs) != 0 {
		t.Fatalf("Read of an empty log = %v, %v", recs, err)
	}
}

func TestRetriedAppendIsStoredOnce(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	l := open(t, dir, eventlog.Options{Partitions: 2})
	first, err := l.Append(ctx, 1, "req-1", events(0, 3))
	if err != nil {
		t.Fatal(err)
	}
	other, err := l.Append(ctx, 1, "req-2", events(3, 2))
	if err != nil {
		t.Fatal(err)
	}
	again, err := l.Append(ctx, 1, "req-1", events(0, 3))
	if err != nil {
		t.Fatal(err)
	}
	if !again.Duplicate || again.Pos != first.Pos {
		t.Fatalf("retry = %+v; want a duplicate at %v", again, first.Pos)
	}
	apps := []appended{{part: 1, rcpt: first, events: events(0, 3)}, {part: 1, rcpt: other, events: events(3, 2)}}
	check(t, readAll(t, l, 100), apps)

	// The ids of the window survive a restart.
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = open(t, dir, eventlog.Options{Partitions: 2})
	for _, a := range apps {
		id := "req-1"
		if a.rcpt.Pos != first.Pos {
			id = "req-2"
		}
		r, err := l.Append(ctx, 1, id, a.events)
		if err != nil {
			t.Fatal(err)
		}
		if !r.Duplicate || r.Pos != a.rcpt.Pos {
			t.Fatalf("retry of %s after a restart = %+v; want a duplicate at %v", id, r, a.rcpt.Pos)
		}
	}
	check(t, readAll(t, l, 100), apps)
}

func TestDedupeWindowExpires(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	opts := eventlog.Options{DedupeWindow: 100 * time.Millisecond}
	l := open(t, dir, opts)
	first, err := l.Append(ctx, 0, "req-1", events(0, 1))
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // past the window, so the id is forgotten
	r, err := l.Append(ctx, 0, "req-1", events(0, 1))
	if err != nil {
		t.Fatal(err)
	}
	if r.Duplicate || r.Pos == first.Pos {
		t.Fatalf("append after the window = %+v; want a new append", r)
	}
}

func TestReopenKeepsEverything(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	l := open(t, dir, eventlog.Options{Partitions: 2})
	var apps []appended
	for i := range 20 {
		evs := events(i*5, 5)
		r, err := l.Append(ctx, i%2, "", evs)
		if err != nil {
			t.Fatal(err)
		}
		apps = append(apps, appended{part: i % 2, rcpt: r, events: evs})
	}
	last, _ := l.Last(ctx)
	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := l.Append(ctx, 0, "", events(0, 1)); !errors.Is(err, eventlog.ErrClosed) {
		t.Fatalf("Append after Close: %v, want ErrClosed", err)
	}
	l = open(t, dir, eventlog.Options{Partitions: 2})
	check(t, readAll(t, l, 33), apps)
	if got, err := l.Last(ctx); err != nil || got != last {
		t.Fatalf("Last after reopen = %v, %v; want %v", got, err, last)
	}
	r, err := l.Append(ctx, 1, "", events(100, 1))
	if err != nil {
		t.Fatal(err)
	}
	if !last.Less(r.Pos) {
		t.Fatalf("append after reopen at %v, not after %v", r.Pos, last)
	}
}

func TestOneOwnerPerDirectory(t *testing.T) {
	dir := t.TempDir()
	l := open(t, dir, eventlog.Options{})
	if _, err := eventlog.Open(context.Background(), dir, eventlog.Options{}); !errors.Is(err, eventlog.ErrLocked) {
		t.Fatalf("second Open = %v, want ErrLocked", err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	open(t, dir, eventlog.Options{})
}

func TestBadDirectory(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{file, filepath.Join(file, "log")} {
		_, err := eventlog.Open(context.Background(), dir, eventlog.Options{})
		if err == nil || errors.Is(err, eventlog.ErrLocked) {
			t.Fatalf("Open(%s) = %v, want an error about the directory", dir, err)
		}
	}
}

func TestAppendRefusals(t *testing.T) {
	ctx := context.Background()
	l := open(t, t.TempDir(), eventlog.Options{Partitions: 2, MaxMessageBytes: 4096})
	for _, p := range []int{-1, 2} {
		if _, err := l.Append(ctx, p, "", events(0, 1)); err == nil {
			t.Fatalf("Append to partition %d: no error", p)
		}
	}
	if _, err := l.Append(ctx, 0, "", events(0, 100)); !errors.Is(err, eventlog.ErrTooLarge) {
		t.Fatalf("Append of 100 events into 4 KiB: %v, want ErrTooLarge", err)
	}
	// Appends that fit one by one but not together go into several messages.
	var apps []appended
	for i := range 10 {
		evs := events(i*10, 10)
		r, err := l.Append(ctx, 0, "", evs)
		if err != nil {
			t.Fatal(err)
		}
		apps = append(apps, appended{rcpt: r, events: evs})
	}
	check(t, readAll(t, l, 1000), apps)
}

// With Options.Listen the same stream is reachable over TCP (the cluster mode's path).
func TestListenServesOtherClients(t *testing.T) {
	ctx := context.Background()
	l := open(t, t.TempDir(), eventlog.Options{Listen: "127.0.0.1:0"})
	r, err := l.Append(ctx, 0, "", events(0, 2))
	if err != nil {
		t.Fatal(err)
	}
	url := l.ClientURL()
	if !strings.HasPrefix(url, "nats://127.0.0.1:") {
		t.Fatalf("ClientURL = %q", url)
	}
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	st, err := js.Stream(ctx, eventlog.DefaultStream)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := st.GetMsg(ctx, r.Pos.Seq)
	if err != nil || msg.Subject != "events.0" {
		t.Fatalf("message %d over TCP: %v, %v", r.Pos.Seq, msg, err)
	}
}

// OnCommit is told of every stored group message: its appends and records add up to what
// was appended, one call per message the receipts name, each with its size.
func TestOnCommitCountsEveryMessage(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	var commits []eventlog.Commit
	l := open(t, t.TempDir(), eventlog.Options{Partitions: 2, OnCommit: func(c eventlog.Commit) {
		mu.Lock()
		commits = append(commits, c)
		mu.Unlock()
	}})
	var wg sync.WaitGroup
	var rmu sync.Mutex
	seqs := map[uint64]bool{}
	const appends, size = 64, 5
	for i := range appends {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := l.Append(ctx, i%2, "", events(i*size, size))
			if err != nil {
				t.Error(err)
				return
			}
			rmu.Lock()
			seqs[r.Pos.Seq] = true
			rmu.Unlock()
		}()
	}
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	var nApp, nRec int
	for _, c := range commits {
		if c.Err != nil || c.Bytes <= 0 || c.Records != c.Appends*size || c.Took <= 0 {
			t.Errorf("commit %+v: want no error, a size, %d records per append and a duration", c, size)
		}
		nApp, nRec = nApp+c.Appends, nRec+c.Records
	}
	if len(commits) != len(seqs) || nApp != appends || nRec != appends*size {
		t.Errorf("%d commits of %d appends and %d records; want %d (the messages the receipts name), %d and %d",
			len(commits), nApp, nRec, len(seqs), appends, appends*size)
	}
}
