package eventlog_test

import (
	"context"
	"testing"

	"github.com/mailtrail/mailtrail/internal/projector"
	"github.com/mailtrail/mailtrail/internal/store/eventlog"
)

// TestPurgeBeforeKeepsTheSequence: purged messages are gone from reads, the rest stay,
// and the stream's sequence survives the purge and a reopen, so a store's position never
// points past the log's end and later appends continue after it.
func TestPurgeBeforeKeepsTheSequence(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	l, err := eventlog.Open(ctx, dir, eventlog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var seqs []uint64
	for i := range 5 {
		rc, err := l.Append(ctx, 0, "", events(i*10, 3))
		if err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, rc.Pos.Seq)
	}
	if err := l.PurgeBefore(ctx, seqs[3]); err != nil {
		t.Fatal(err)
	}
	recs, err := l.Projection().Read(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[0].Pos != seqs[3] || recs[1].Pos != seqs[4] {
		t.Fatalf("after PurgeBefore(%d): records %v, want the messages %d and %d", seqs[3], positions(recs), seqs[3], seqs[4])
	}
	if first, err := l.FirstSeq(ctx); err != nil || first != seqs[3] {
		t.Fatalf("FirstSeq = %d, %v; want %d", first, err, seqs[3])
	}
	// Everything purged: the sequence stays, across a reopen.
	if err := l.PurgeBefore(ctx, seqs[4]+1); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = open(t, dir, eventlog.Options{})
	head, err := l.Projection().Head(ctx)
	if err != nil || head != seqs[4] {
		t.Fatalf("Head after purging everything and reopening = %d, %v; want %d", head, err, seqs[4])
	}
	rc, err := l.Append(ctx, 0, "", events(100, 1))
	if err != nil {
		t.Fatal(err)
	}
	if rc.Pos.Seq != seqs[4]+1 {
		t.Fatalf("append after the purge at %d, want %d", rc.Pos.Seq, seqs[4]+1)
	}
	recs, err = l.Projection().Read(ctx, 0, 100)
	if err != nil || len(recs) != 1 || recs[0].Pos != seqs[4]+1 || recs[0].Events[0].ID != event(100).ID {
		t.Fatalf("read after the purge: %v, %v", positions(recs), err)
	}
}

// positions returns the positions of records, for messages.
func positions(recs []projector.Record) []uint64 {
	out := make([]uint64, len(recs))
	for i, r := range recs {
		out[i] = r.Pos
	}
	return out
}
