package eventlog_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/store/eventlog"
	"github.com/mailtrail/mailtrail/internal/storekit"
)

// A Sink on a log of three partitions puts every event in its message's partition
// (storekit.Partition: all of one message's events in one), and a Reader of one
// partition reads that partition's messages only, at the stream's sequences, across the
// holes the others leave; its head is its partition's last message; it stops with
// every message of its own after a purge of the others' before it.
func TestPartitionedSinkAndReader(t *testing.T) {
	ctx := context.Background()
	const parts = 3
	dir := t.TempDir()
	l := open(t, dir, eventlog.Options{Listen: "127.0.0.1:0", Partitions: parts})
	sink := eventlog.NewSink(l, eventlog.SinkOptions{})
	msgOf := map[string]string{} // event id → message id
	for i := range 12 {
		var batch []*mailtrail.Event
		for j := range 8 {
			e := event(100*i + j)
			e.MessageID = fmt.Sprintf("msg%013d", (i*8+j)%10) // 10 messages, several events each
			msgOf[e.ID] = e.MessageID
			batch = append(batch, e)
		}
		if _, err := sink.Write(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[int]int{} // events read per partition
	partOf := map[string]int{}
	var lastOf [parts]uint64
	for p := range parts {
		r, err := eventlog.OpenReader(ctx, eventlog.ReaderOptions{URL: l.ClientURL(), Partitioned: true, Partition: p, HeadEvery: 1})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		recs, err := r.Read(ctx, 1, 1000)
		if err != nil {
			t.Fatalf("partition %d: %v", p, err)
		}
		for _, rec := range recs {
			lastOf[p] = rec.Pos
			for _, e := range rec.Events {
				seen[p]++
				if want := storekit.Partition(e, parts); want != p {
					t.Fatalf("event of message %s in partition %d, its partition is %d", e.MessageID, p, want)
				}
				if q, ok := partOf[e.MessageID]; ok && q != p {
					t.Fatalf("message %s in partitions %d and %d", e.MessageID, q, p)
				}
				partOf[e.MessageID] = p
			}
		}
		if h, err := r.Head(ctx); err != nil || h != lastOf[p] {
			t.Fatalf("partition %d: head %d, %v; want its last message %d", p, h, err, lastOf[p])
		}
		if next, ok, err := l.NextInPartition(ctx, p, lastOf[p]+1); err != nil || ok {
			t.Fatalf("partition %d: a message after its last: %d %v %v", p, next, ok, err)
		}
		if len(recs) > 0 {
			if next, ok, err := l.NextInPartition(ctx, p, 1); err != nil || !ok || next != recs[0].Pos {
				t.Fatalf("partition %d: first message %d %v %v, want %d", p, next, ok, err, recs[0].Pos)
			}
		}
	}
	total := 0
	for p := range parts {
		if seen[p] == 0 {
			t.Fatalf("partition %d holds nothing: %v", p, seen)
		}
		total += seen[p]
	}
	if total != len(msgOf) {
		t.Fatalf("%d events read over the partitions, %d written", total, len(msgOf))
	}

	// A purge up to partition 0's first message takes none of its messages: its reader
	// reads them all.
	r0, err := eventlog.OpenReader(ctx, eventlog.ReaderOptions{URL: l.ClientURL(), Partitioned: true, Partition: 0})
	if err != nil {
		t.Fatal(err)
	}
	defer r0.Close()
	first, _, err := l.NextInPartition(ctx, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.PurgeBefore(ctx, first); err != nil {
		t.Fatal(err)
	}
	if recs, err := r0.Read(ctx, 1, 1000); err != nil || len(recs) == 0 || recs[0].Pos != first || recs[len(recs)-1].Pos != lastOf[0] {
		t.Fatalf("partition 0 after a purge of others' messages: %d records, %v", len(recs), err)
	}

	// The stream knows its partitions: a reader of one it does not have, and the log
	// opened again with another number of them, are refused.
	if _, err := eventlog.OpenReader(ctx, eventlog.ReaderOptions{URL: l.ClientURL(), Partitioned: true, Partition: parts}); !errors.Is(err, eventlog.ErrPartitions) {
		t.Fatalf("a reader of partition %d of %d: %v", parts, parts, err)
	}
	if n := r0.Partitions(); n != parts {
		t.Fatalf("the reader sees %d partitions, want %d", n, parts)
	}
	r0.Close()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if l2, err := eventlog.Open(ctx, dir, eventlog.Options{Partitions: 1}); !errors.Is(err, eventlog.ErrPartitions) {
		if err == nil {
			l2.Close()
		}
		t.Fatalf("the log opened again with 1 partition: %v, want ErrPartitions", err)
	}
	l3 := open(t, dir, eventlog.Options{Partitions: parts})
	if recs := readAll(t, l3, 100); len(recs) == 0 {
		t.Fatal("the log opened again with its partitions reads nothing")
	}
}
