package eventlog_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/mailtrail/mailtrail/internal/store/eventlog"
)

// A Reader on another process's log (here the embedded server's TCP listener) reads the
// same records at the same positions as the writer's own Projection, knows the head, and
// stops with ErrPurged at a message purged before it read it, instead of skipping it.
func TestReaderReadsWhatTheWriterAppended(t *testing.T) {
	ctx := context.Background()
	l := open(t, t.TempDir(), eventlog.Options{Listen: "127.0.0.1:0"})
	if _, err := eventlog.OpenReader(ctx, eventlog.ReaderOptions{URL: l.ClientURL(), Stream: "NOSUCH"}); !errors.Is(err, eventlog.ErrNoStream) || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("a reader of a missing stream: %v", err)
	}
	for i := range 5 {
		if _, err := l.Append(ctx, 0, "", events(10*i, 3)); err != nil {
			t.Fatal(err)
		}
	}
	r, err := eventlog.OpenReader(ctx, eventlog.ReaderOptions{URL: l.ClientURL(), HeadEvery: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	want, err := l.Projection().Read(ctx, 1, 100)
	if err != nil || len(want) != 5 {
		t.Fatalf("writer's read: %d records, %v", len(want), err)
	}
	got, err := r.Read(ctx, 0, 100)
	if err != nil || len(got) != len(want) {
		t.Fatalf("reader's read: %d records, %v", len(got), err)
	}
	for i := range want {
		if got[i].Pos != want[i].Pos || len(got[i].Events) != len(want[i].Events) {
			t.Fatalf("record %d: %d/%d events at %d, want %d/%d", i, len(got[i].Events), got[i].Pos, want[i].Pos, len(want[i].Events), want[i].Pos)
		}
		for j := range want[i].Events {
			if g, w := got[i].Events[j], want[i].Events[j]; g.ID != w.ID || g.CustomerEmail != w.CustomerEmail || g.Type != w.Type || !g.OccurredAt.Equal(w.OccurredAt) {
				t.Fatalf("record %d event %d: %+v, want %+v", i, j, g, w)
			}
		}
	}
	if _, err := l.Append(ctx, 0, "", events(100, 2)); err != nil {
		t.Fatal(err)
	}
	if h, err := r.Head(ctx); err != nil || h != want[4].Pos+1 {
		t.Fatalf("head %d, %v; want %d (a message appended by the writer)", h, err, want[4].Pos+1)
	}

	if err := l.PurgeBefore(ctx, want[3].Pos); err != nil {
		t.Fatal(err)
	}
	recs, err := r.Read(ctx, want[1].Pos, 100)
	if !errors.Is(err, eventlog.ErrPurged) || len(recs) != 0 {
		t.Fatalf("read from a purged message: %d records, %v; want none and ErrPurged", len(recs), err)
	}
	if recs, err := r.Read(ctx, want[3].Pos, 100); err != nil || len(recs) != 3 {
		t.Fatalf("read from the first message held: %d records, %v", len(recs), err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Read(ctx, 1, 1); !errors.Is(err, eventlog.ErrClosed) {
		t.Fatalf("read after Close: %v", err)
	}
}
