package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/ingest"
	"github.com/mailtrail/mailtrail/internal/projector"
	"github.com/mailtrail/mailtrail/internal/query"
	"github.com/mailtrail/mailtrail/internal/store/postgres"
	"github.com/mailtrail/mailtrail/internal/store/storetest"
)

// fixedLog is a log of records at positions 3i+1 (gaps, as a real log may have); every
// Read returns copies, since a store changes the events it writes.
type fixedLog []projector.Record

func newFixedLog(batches [][]*mailtrail.Event) fixedLog {
	l := make(fixedLog, len(batches))
	for i, b := range batches {
		l[i] = projector.Record{Pos: uint64(3*i + 1), Events: b}
	}
	return l
}

func (l fixedLog) Read(_ context.Context, from uint64, max int) ([]projector.Record, error) {
	var out []projector.Record
	for _, r := range l {
		if r.Pos >= from && len(out) < max {
			out = append(out, projector.Record{Pos: r.Pos, Events: copyEvents(r.Events)})
		}
	}
	return out, nil
}

func (l fixedLog) last() uint64 { return l[len(l)-1].Pos }

func copyEvents(evs []*mailtrail.Event) []*mailtrail.Event {
	out := make([]*mailtrail.Event, len(evs))
	for i, e := range evs {
		c := *e
		c.Reasons = slices.Clone(e.Reasons)
		out[i] = &c
	}
	return out
}

const onceMsgs, onceRecords = 16, 120

// oracle returns the figures of a fresh store (a schema of its own) that wrote the log
// once, one Write per record.
func oracle(t *testing.T) string {
	t.Helper()
	db := openIn(t, newSchema(t))
	o, _, err := db.CreateOrg(context.Background(), "acme", "Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	storetest.Seed(t, db, o.ID, onceMsgs)
	for _, b := range storetest.MixedLog(5, o.ID, onceMsgs, onceRecords, ingest.Normalize) {
		if _, err := db.Write(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
	return storetest.Figures(t, db, o.ID, "camp")
}

// newTarget returns an empty store with the organization and messages of the log, and
// the log (the same events as the oracle's, for this organization).
func newTarget(t *testing.T) (*postgres.DB, string, fixedLog) {
	t.Helper()
	db := openIn(t, newSchema(t))
	o, _, err := db.CreateOrg(context.Background(), "acme", "Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	storetest.Seed(t, db, o.ID, onceMsgs)
	return db, o.ID, newFixedLog(storetest.MixedLog(5, o.ID, onceMsgs, onceRecords, ingest.Normalize))
}

// TestProjectorsAtOnce: three projectors apply one log to one store at the same time (as
// two nodes that both believe they own a partition would), merging records into
// transactions of different sizes, and are cancelled and started again at random
// moments. Every record is applied exactly once: the figures equal one application of
// the log (and a recount of the raw events), keyless opens and clicks included.
func TestProjectorsAtOnce(t *testing.T) {
	want := oracle(t)
	db, org, log := newTarget(t)
	store := &counting{DB: db}
	r := rand.New(rand.NewPCG(7, 7))
	var wg sync.WaitGroup
	for i, maxEvents := range []int{7, 25, 60} {
		cuts := []time.Duration{time.Duration(5+r.IntN(40)) * time.Millisecond, time.Duration(5+r.IntN(40)) * time.Millisecond}
		wg.Add(1)
		go func() {
			defer wg.Done()
			opts := projector.Options{MaxEvents: maxEvents, ReadMax: 1 + i*4, RetryMin: time.Millisecond, RetryMax: 20 * time.Millisecond}
			for _, cut := range cuts { // interrupted runs
				ctx, cancel := context.WithTimeout(context.Background(), cut)
				_ = projector.New(log, store, opts).Run(ctx)
				cancel()
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			p := projector.New(log, store, opts)
			go func() { _ = p.Run(ctx) }()
			if err := p.WaitFor(ctx, log.last()); err != nil {
				t.Errorf("projector %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	if pos, err := db.Position(context.Background(), "events"); err != nil || pos != log.last() {
		t.Fatalf("position %d (%v), want %d", pos, err, log.last())
	}
	store.mu.Lock()
	t.Logf("writes: %d applied, %d refused as applied, %d refused as moved", store.ok, store.applied, store.moved)
	if store.applied+store.moved == 0 {
		t.Error("no write was refused: the projectors never raced, the test proves nothing")
	}
	store.mu.Unlock()
	if got := storetest.Figures(t, db, org, "camp"); got != want {
		t.Fatalf("figures after concurrent projectors differ from one application:\n%s", storetest.DiffLines(want, got))
	}
}

// TestWriteAtAllOrNothing: a WriteAt that fails after its position was claimed (here an
// event of an organization that does not exist, which the store refuses) leaves neither
// the position nor any event of the batch; the same records applied again are written
// once, and a replay of them is ErrApplied.
func TestWriteAtAllOrNothing(t *testing.T) {
	ctx := context.Background()
	db, org, log := newTarget(t)
	bad := copyEvents(log[0].Events)
	bad = append(bad, &mailtrail.Event{OrgID: "org_missing", CampaignID: "c", CustomerID: "x", Type: mailtrail.EventSent,
		OccurredAt: time.Unix(1, 0).UTC(), ReceivedAt: time.Unix(1, 0).UTC()})
	if _, err := db.WriteAt(ctx, "events", 0, log[0].Pos, bad); mailtrail.ErrorCode(err) != mailtrail.ENOTFOUND {
		t.Fatalf("a batch with an unknown organization: %v", err)
	}
	if pos, err := db.Position(ctx, "events"); err != nil || pos != 0 {
		t.Fatalf("position after a failed write: %d %v", pos, err)
	}
	if page, err := (&query.Service{R: db}).Events(ctx, org, mailtrail.EventFilter{}); err != nil || len(page.Events) != 0 {
		t.Fatalf("events after a failed write: %v %+v", err, page)
	}
	if cs, err := db.WriteAt(ctx, "events", 0, log[0].Pos, copyEvents(log[0].Events)); err != nil || len(cs.Events) == 0 {
		t.Fatalf("the record after the failure: %v, %d events", err, len(cs.Events))
	}
	if _, err := db.WriteAt(ctx, "events", 0, log[0].Pos, copyEvents(log[0].Events)); !errors.Is(err, ingest.ErrApplied) {
		t.Fatalf("the record again: %v", err)
	}
}

// counting is a store that counts the answers of WriteAt.
type counting struct {
	*postgres.DB
	mu                 sync.Mutex
	ok, applied, moved int
}

func (c *counting) WriteAt(ctx context.Context, stream string, after, pos uint64, batch []*mailtrail.Event) (ingest.ChangeSet, error) {
	cs, err := c.DB.WriteAt(ctx, stream, after, pos, batch)
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case err == nil:
		c.ok++
	case errors.Is(err, ingest.ErrApplied):
		c.applied++
	case errors.Is(err, ingest.ErrPositionMoved):
		c.moved++
	}
	return cs, err
}

// TestLargeBatch: a batch large enough to be sent with COPY stores what one write per
// record stores (the figures of TestProjectorsAtOnce's oracle), and the organization's
// events list in the batch's order.
func TestLargeBatch(t *testing.T) {
	ctx := context.Background()
	want := oracle(t)
	db, org, log := newTarget(t)
	var all []*mailtrail.Event
	for _, r := range log {
		all = append(all, copyEvents(r.Events)...)
	}
	if len(all) < 2*256 {
		t.Fatalf("%d events: too few for COPY", len(all))
	}
	cs, err := db.Write(ctx, all)
	if err != nil {
		t.Fatal(err)
	}
	if got := storetest.Figures(t, db, org, "camp"); got != want {
		t.Fatalf("one large batch differs from one write per record:\n%s", storetest.DiffLines(want, got))
	}
	var listed []string
	f := mailtrail.EventFilter{Limit: 1000}
	for {
		page, err := (&query.Service{R: db}).Events(ctx, org, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Events {
			listed = append(listed, e.ID)
		}
		if page.NextCursor == "" {
			break
		}
		f.Cursor = page.NextCursor
	}
	var stored []string
	for _, e := range cs.Events {
		stored = append(stored, e.ID)
	}
	if !slices.Equal(listed, stored) {
		t.Fatalf("the organization's events are not listed in the batch's order:\n%v\n%v", listed, stored)
	}
}

// TestConcurrentWrites: four writers (as several API nodes' pipelines would) write the
// log's records at the same time with Write, each a share of them in a shuffled order.
// The schema's write lock serializes them: the figures equal one application of the log
// (and a recount).
func TestConcurrentWrites(t *testing.T) {
	want := oracle(t)
	db, org, log := newTarget(t)
	const writers = 4
	r := rand.New(rand.NewPCG(3, 9))
	order := r.Perm(len(log))
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := w; k < len(order); k += writers {
				if _, err := db.Write(context.Background(), copyEvents(log[order[k]].Events)); err != nil {
					t.Errorf("writer %d: %v", w, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	// Another order stores another copy of an event sent twice (the log has such pairs,
	// with ids of their own): the figures are compared without event ids.
	if got, want := withoutIDs(storetest.Figures(t, db, org, "camp")), withoutIDs(want); got != want {
		t.Fatalf("figures after concurrent writers differ from one application:\n%s", storetest.DiffLines(want, got))
	}
}

// withoutIDs returns storetest.Figures' text without the event ids of its raw event lines
// and suppression lines, sorted.
func withoutIDs(figs string) string {
	lines := strings.Split(figs, "\n")
	for i, l := range lines {
		f := strings.Fields(l)
		switch {
		case len(f) > 1 && strings.HasPrefix(f[0], "ev"):
			lines[i] = strings.Join(f[1:], " ")
		case len(f) > 4 && f[0] == "suppressed":
			lines[i] = strings.Join(append(f[:4:4], f[5:]...), " ")
		}
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// TestWritersOnASmallPool: writers that wait for the write lock hold their connections;
// the writer that holds it must need no other (here: organizations looked up for events
// that name no message, by stores that have not cached them yet).
func TestWritersOnASmallPool(t *testing.T) {
	schema := newSchema(t)
	first := openIn(t, schema)
	o, _, err := first.CreateOrg(context.Background(), "acme", "UTC")
	if err != nil {
		t.Fatal(err)
	}
	for round := range 3 {
		db, err := postgres.Open(context.Background(), dsn(t), postgres.Options{Schema: schema, MaxConns: 2})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				e := &mailtrail.Event{OrgID: o.ID, CampaignID: fmt.Sprintf("c%d", round), CustomerID: fmt.Sprintf("u%d", w), Type: mailtrail.EventSent,
					OccurredAt: time.Unix(1_700_000_000, 0).UTC(), Source: mailtrail.SourceAPI}
				ingest.Normalize(e, time.Now())
				if _, err := db.Write(ctx, []*mailtrail.Event{e}); err != nil {
					t.Errorf("round %d, writer %d: %v", round, w, err)
				}
			}()
		}
		wg.Wait()
		cancel()
		db.Close()
	}
}
