package eventlog_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/ingest"
	"github.com/mailtrail/mailtrail/internal/projector"
	"github.com/mailtrail/mailtrail/internal/store/eventlog"
	"github.com/mailtrail/mailtrail/internal/store/sqlite"
	"github.com/mailtrail/mailtrail/internal/store/storetest"
)

// commitLog is the SQLite store recording the log positions of the writes it committed.
type commitLog struct {
	*sqlite.DB
	mu     sync.Mutex
	writes [][2]uint64 // after, pos
}

func (s *commitLog) WriteAt(ctx context.Context, stream string, after, pos uint64, batch []*mailtrail.Event) (ingest.ChangeSet, error) {
	cs, err := s.DB.WriteAt(ctx, stream, after, pos, batch)
	if err == nil {
		s.mu.Lock()
		s.writes = append(s.writes, [2]uint64{after, pos})
		s.mu.Unlock()
	}
	return cs, err
}

// A backlog of many small messages (the Sink's appends of 1 to 3 events, idempotency keys
// and retries among them) is applied in transactions that each merge more messages than
// one Read returns; stopped after its first transaction and started again, the projector
// goes on from the store's position. The store ends with the figures of the same batches
// written directly, the change-sets carry every event the Sink accepted once, in the
// order it appended them, and the transactions cover the log's positions without a gap
// or an overlap.
func TestProjectorMergesASinksBacklog(t *testing.T) {
	ctx := context.Background()
	e := newSinkEnv(t, eventlog.Options{})
	flat := func(org, prefix string) []*mailtrail.Event {
		var out []*mailtrail.Event
		for i, b := range storetest.MixedLog(91, org, sinkMsgs, 50, ingest.Normalize) {
			for j, ev := range b {
				if j%4 == 3 && ev.DedupeKey != "" {
					ev.DedupeKey = ingest.IdempotencyPrefix + ev.DedupeKey
					ev.Source = mailtrail.SourceAPI
				}
				ev.ID = fmt.Sprintf("%s%03d-%02d", prefix, i, j)
				out = append(out, ev)
			}
		}
		return out
	}
	// The batches: consecutive events of the flat log, 1 to 3 at a time, and now and then
	// a retry of an earlier batch with new ids.
	r := rand.New(rand.NewPCG(8, 9))
	type span struct{ from, to int }
	var spans []span
	for n := len(flat("x", "")); len(spans) == 0 || spans[len(spans)-1].to < n; {
		from := 0
		if len(spans) > 0 {
			from = spans[len(spans)-1].to
		}
		spans = append(spans, span{from, min(n, from+1+r.IntN(3))})
	}
	var accepted []string
	for i, s := range spans {
		cs, _ := e.write(t, func(org, _ string) []*mailtrail.Event { return flat(org, "e")[s.from:s.to] })
		accepted = append(accepted, ids(cs.Events)...)
		if i%9 == 8 {
			old := spans[i-4]
			cs, _ := e.write(t, func(org, _ string) []*mailtrail.Event { return flat(org, fmt.Sprintf("r%d-", i))[old.from:old.to] })
			accepted = append(accepted, ids(cs.Events)...)
		}
	}
	head := e.sink.Last()
	recs, err := e.log.Projection().Read(ctx, 1, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	const readMax = 64 // the projector's default
	if len(recs) < 3*readMax {
		t.Fatalf("%d messages in the log: too few to merge more than one Read's", len(recs))
	}

	store := &commitLog{DB: e.db}
	opt := projector.Options{MaxEvents: 200}
	var mu sync.Mutex
	var published []string
	record := func(cs ingest.ChangeSet) {
		mu.Lock()
		published = append(published, ids(cs.Events)...)
		mu.Unlock()
	}
	first := projector.New(e.log.Projection(), store, opt)
	rctx, cancel := context.WithCancel(ctx)
	first.Subscribe("test", func(cs ingest.ChangeSet) { record(cs); cancel() })
	if err := first.Run(rctx); err != nil {
		t.Fatal(err)
	}
	if len(store.writes) != 1 || store.writes[0][1] >= head {
		t.Fatalf("the first projector committed %v (head %d): want one transaction short of the head", store.writes, head)
	}
	second := projector.New(e.log.Projection(), store, opt)
	second.Subscribe("test", record)
	rctx, cancel = context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- second.Run(rctx) }()
	err = second.WaitFor(ctx, head)
	cancel()
	if rerr := <-done; rerr != nil || err != nil {
		t.Fatalf("second projector: %v, %v", rerr, err)
	}

	e.wantFigures(t)
	if got, want := strings.Join(published, " "), strings.Join(accepted, " "); got != want {
		t.Fatalf("published events\n%s\nthe Sink accepted, in order\n%s", got, want)
	}
	prev, most := uint64(0), 0
	for i, w := range store.writes {
		n := 0
		for _, r := range recs {
			if r.Pos > w[0] && r.Pos <= w[1] {
				n++
			}
		}
		if w[0] != prev || n == 0 {
			t.Fatalf("transaction %d moves %d → %d (%d messages); the previous ended at %d", i, w[0], w[1], n, prev)
		}
		prev, most = w[1], max(most, n)
	}
	if prev != head || most <= readMax {
		t.Fatalf("transactions end at %d (head %d), at most %d messages in one: want the head, and more than one Read's %d", prev, head, most, readMax)
	}
	t.Logf("%d messages, %d events, in %d transactions (at most %d messages in one)", len(recs), len(accepted), len(store.writes), most)
}
