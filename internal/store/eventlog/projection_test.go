package eventlog_test

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"

	"github.com/mailtrail/mailtrail/internal/projector"
	"github.com/mailtrail/mailtrail/internal/store/eventlog"
)

// The projector's view of the log: one record per stored message at its stream sequence,
// holding the message's events as they were appended, decoded afresh at every Read; Read
// from any record on, up to max; nothing past the end.
func TestProjectionReadsOneRecordPerMessage(t *testing.T) {
	ctx := context.Background()
	l := open(t, t.TempDir(), eventlog.Options{Partitions: 2})
	p := l.Projection()
	if h, err := p.Head(ctx); err != nil || h != 0 {
		t.Fatalf("Head of an empty log = %d, %v", h, err)
	}
	for _, from := range []uint64{0, 1} {
		if recs, err := p.Read(ctx, from, 10); err != nil || len(recs) != 0 {
			t.Fatalf("Read(%d) of an empty log = %v, %v", from, recs, err)
		}
	}

	var apps []appended
	n := 0
	for i := range 6 {
		evs := events(n, 1+i*3)
		n += len(evs)
		r, err := l.Append(ctx, i%2, "", evs)
		if err != nil {
			t.Fatal(err)
		}
		if r.Pos.Index != 0 || (i > 0 && r.Pos.Seq <= apps[i-1].rcpt.Pos.Seq) {
			t.Fatalf("append %d at %v: not the first record of a new message", i, r.Pos)
		}
		apps = append(apps, appended{part: i % 2, rcpt: r, events: evs})
	}
	last := apps[len(apps)-1].rcpt.Pos.Seq
	if h, err := p.Head(ctx); err != nil || h != last {
		t.Fatalf("Head = %d, %v; want %d", h, err, last)
	}
	recs, err := p.Read(ctx, 1, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(apps) {
		t.Fatalf("Read returned %d records for %d messages", len(recs), len(apps))
	}
	for i, r := range recs {
		if r.Pos != apps[i].rcpt.Pos.Seq {
			t.Fatalf("record %d at %d, want the message's sequence %d", i, r.Pos, apps[i].rcpt.Pos.Seq)
		}
		if !reflect.DeepEqual(r.Events, apps[i].events) {
			t.Fatalf("record %d: events differ from the append's:\n got %+v\nwant %+v", i, r.Events, apps[i].events)
		}
	}
	if again, err := p.Read(ctx, 0, 100); err != nil || !reflect.DeepEqual(again, recs) {
		t.Fatalf("Read(0) = %d records, %v; want the same as Read(1)", len(again), err)
	}
	for _, c := range []struct{ from, max int }{{2, 2}, {3, 100}, {4, 1}, {5, 1}} {
		got, err := p.Read(ctx, recs[c.from].Pos, c.max)
		want := recs[c.from:min(c.from+c.max, len(recs))]
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("Read(%d, %d) = %d records, %v; want records %d…%d", recs[c.from].Pos, c.max, len(got), err, c.from, c.from+len(want)-1)
		}
	}
	if got, err := p.Read(ctx, last+1, 10); err != nil || len(got) != 0 {
		t.Fatalf("Read past the end = %v, %v; want nothing", got, err)
	}

	// Events of their own at every Read: a projection store changes the events it writes.
	recs[0].Events[0].ID = "changed"
	recs[0].Events[0].Reasons = append(recs[0].Events[0].Reasons, "changed")
	again, err := p.Read(ctx, recs[0].Pos, 1)
	if err != nil || len(again) != 1 || !reflect.DeepEqual(again[0].Events, apps[0].events) {
		t.Fatalf("Read after changing an earlier answer's events: %+v, %v", again, err)
	}
}

// Appends that share a message (a group commit) are one record: the message's events in
// append order, each append's at its receipt's index.
func TestProjectionRecordHoldsTheGroup(t *testing.T) {
	ctx := context.Background()
	l := open(t, t.TempDir(), eventlog.Options{})
	const writers = 24
	apps := make([]appended, writers)
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			evs := events(w*10, 1+w%5)
			r, err := l.Append(ctx, 0, "", evs)
			if err != nil {
				errs <- err
				return
			}
			apps[w] = appended{rcpt: r, events: evs}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	recs, err := l.Projection().Read(ctx, 1, 1000)
	if err != nil {
		t.Fatal(err)
	}
	bySeq := map[uint64]projector.Record{}
	for i, r := range recs {
		if i > 0 && r.Pos <= recs[i-1].Pos {
			t.Fatalf("record %d at %d after %d", i, r.Pos, recs[i-1].Pos)
		}
		bySeq[r.Pos] = r
	}
	total := 0
	for w, a := range apps {
		r, ok := bySeq[a.rcpt.Pos.Seq]
		if !ok {
			t.Fatalf("append %d in message %d: no record", w, a.rcpt.Pos.Seq)
		}
		at := a.rcpt.Pos.Index
		if at+len(a.events) > len(r.Events) || !reflect.DeepEqual(r.Events[at:at+len(a.events)], a.events) {
			t.Fatalf("append %d at %v: the record of message %d does not hold its events there", w, a.rcpt.Pos, r.Pos)
		}
		total += len(a.events)
	}
	n := 0
	for _, r := range recs {
		n += len(r.Events)
	}
	if n != total {
		t.Fatalf("records hold %d events, %d were appended", n, total)
	}
}

// Head is the last message's sequence: after appends, and after a reopen (read from the
// stream at Open) before anything is appended. A closed log answers ErrClosed.
func TestProjectionHeadAfterReopen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	l := open(t, dir, eventlog.Options{})
	var last uint64
	for i := range 4 {
		r, err := l.Append(ctx, 0, "", events(i*3, 3))
		if err != nil {
			t.Fatal(err)
		}
		last = r.Pos.Seq
	}
	before, err := l.Projection().Read(ctx, 1, 100)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Projection().Head(ctx); !errors.Is(err, eventlog.ErrClosed) {
		t.Fatalf("Head after Close: %v, want ErrClosed", err)
	}
	if _, err := l.Projection().Read(ctx, 1, 1); !errors.Is(err, eventlog.ErrClosed) {
		t.Fatalf("Read after Close: %v, want ErrClosed", err)
	}

	l = open(t, dir, eventlog.Options{})
	p := l.Projection()
	if h, err := p.Head(ctx); err != nil || h != last {
		t.Fatalf("Head after reopen = %d, %v; want %d", h, err, last)
	}
	after, err := p.Read(ctx, 1, 100)
	if err != nil || !reflect.DeepEqual(after, before) {
		t.Fatalf("Read after reopen: %d records, %v; want the %d of before", len(after), err, len(before))
	}
	r, err := l.Append(ctx, 0, "", events(100, 1))
	if err != nil {
		t.Fatal(err)
	}
	if r.Pos.Seq <= last {
		t.Fatalf("append after reopen at %d, not after %d", r.Pos.Seq, last)
	}
	if h, err := p.Head(ctx); err != nil || h != r.Pos.Seq {
		t.Fatalf("Head after an append = %d, %v; want %d", h, err, r.Pos.Seq)
	}
}

// Wait returns at once when the log holds a message past after, with its context's error
// when that ends first, and returns nil once an append lands past after.
func TestProjectionWait(t *testing.T) {
	ctx := context.Background()
	l := open(t, t.TempDir(), eventlog.Options{})
	p := l.Projection()
	r, err := l.Append(ctx, 0, "", events(0, 2))
	if err != nil {
		t.Fatal(err)
	}
	head := r.Pos.Seq
	if err := p.Wait(ctx, head-1); err != nil {
		t.Fatalf("Wait(%d) with %d stored: %v", head-1, head, err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := p.Wait(cancelled, head); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait(%d) at the head with a cancelled context: %v, want context.Canceled", head, err)
	}

	for round := range 3 {
		waited := make(chan error, 1)
		go func() { waited <- p.Wait(ctx, head) }()
		r, err := l.Append(ctx, 0, "", events(10+round, 1))
		if err != nil {
			t.Fatal(err)
		}
		if err := <-waited; err != nil {
			t.Fatalf("round %d: Wait(%d): %v", round, head, err)
		}
		h, err := p.Head(ctx)
		if err != nil || h <= head || h != r.Pos.Seq {
			t.Fatalf("round %d: Head after the append = %d, %v; want %d", round, h, err, r.Pos.Seq)
		}
		head = h
	}
}
