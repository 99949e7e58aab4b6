package eventlog_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/ingest"
	"github.com/mailtrail/mailtrail/internal/projector"
	"github.com/mailtrail/mailtrail/internal/store/eventlog"
	"github.com/mailtrail/mailtrail/internal/store/sqlite"
	"github.com/mailtrail/mailtrail/internal/store/storetest"
)

// sinkMsgs is how many messages (storetest.Seed's, campaign "camp") each organization
// of these tests has.
const sinkMsgs = 8

var sinkT0 = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

// mk is an event of message msg of org with id, dedupe key key ("api:…" an idempotency
// key, "" none), at sinkT0+at, normalized as the pipeline does before a Write.
func mk(org, id string, msg int, typ mailtrail.EventType, at time.Duration, key string) *mailtrail.Event {
	e := &mailtrail.Event{ID: id, OrgID: org, MessageID: fmt.Sprintf("msg%013d", msg), Type: typ, OccurredAt: sinkT0.Add(at),
		Source: mailtrail.SourceWebhook, DedupeKey: key}
	switch {
	case typ == mailtrail.EventOpened:
		e.Source = mailtrail.SourceTracking
	case typ == mailtrail.EventClicked:
		e.Source = mailtrail.SourceTracking
		e.Metadata.LinkURL = fmt.Sprintf("https://x.example/%d", msg%3)
	case strings.HasPrefix(key, ingest.IdempotencyPrefix):
		e.Source = mailtrail.SourceAPI
	}
	ingest.Normalize(e, sinkT0.Add(1000*time.Hour))
	return e
}

// newStore opens a SQLite store in a directory of its own with two organizations, each
// with sinkMsgs messages (storetest.Seed's in the first, the same numbered from other in
// the second).
func newStore(t *testing.T) (db *sqlite.DB, org, org2 string) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "store.db"), sqlite.Options{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	var orgs [2]string
	for i, name := range []string{"acme", "other"} {
		o, _, err := db.CreateOrg(ctx, name, "UTC")
		if err != nil {
			t.Fatal(err)
		}
		orgs[i] = o.ID
	}
	storetest.Seed(t, db, orgs[0], sinkMsgs)
	// Message ids are unique across organizations: the other's are numbered from 100.
	var msgs []*mailtrail.Message
	for i := range sinkMsgs {
		msgs = append(msgs, &mailtrail.Message{ID: fmt.Sprintf("msg%013d", other+i), CampaignID: "camp", CustomerID: fmt.Sprintf("u%d", i),
			CustomerEmail: fmt.Sprintf("u%d@example.com", i), TrackOpens: true, TrackClicks: true})
	}
	if err := db.CreateMessages(ctx, orgs[1], msgs); err != nil {
		t.Fatal(err)
	}
	return db, orgs[0], orgs[1]
}

// other is added to a message number to name the second organization's message.
const other = 100

// sinkEnv is the write path of serve --event-log: a Sink appending to a log, a projector
// applying the log to a store (run by apply only, so between two applies what the Sink
// appended is pending), and, as the oracle, a second store written directly with Write.
type sinkEnv struct {
	log  *eventlog.Log
	db   *sqlite.DB
	proj *projector.Projector
	sink *eventlog.Sink
	org  string // of db
	org2 string

	oracle           *sqlite.DB
	oracleOrg, oOrg2 string

	mu    sync.Mutex
	asked map[string]bool // ids of the events the Sink asked the store about (Seen)
}

func newSinkEnv(t *testing.T, opts eventlog.Options) *sinkEnv {
	t.Helper()
	return newSinkEnvWith(t, opts, nil)
}

// newSinkEnvWith is newSinkEnv with the Sink's options changed by sinkOpts (when not nil).
func newSinkEnvWith(t *testing.T, opts eventlog.Options, sinkOpts func(e *sinkEnv, o *eventlog.SinkOptions)) *sinkEnv {
	t.Helper()
	e := &sinkEnv{asked: map[string]bool{}}
	e.db, e.org, e.org2 = newStore(t)
	e.oracle, e.oracleOrg, e.oOrg2 = newStore(t)
	e.log = open(t, t.TempDir(), opts)
	e.proj = projector.New(e.log.Projection(), e.db, projector.Options{})
	so := eventlog.SinkOptions{
		Seen: func(ctx context.Context, evs []*mailtrail.Event) ([]string, error) {
			e.mu.Lock()
			for _, ev := range evs {
				e.asked[ev.ID] = true
			}
			e.mu.Unlock()
			return e.db.Seen(ctx, evs)
		},
		Applied: e.proj.Position,
	}
	if sinkOpts != nil {
		sinkOpts(e, &so)
	}
	e.sink = eventlog.NewSink(e.log, so)
	return e
}

// wasAsked reports whether the Sink asked the store about the event with this id.
func (e *sinkEnv) wasAsked(id string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.asked[id]
}

// apply runs the projector until the store holds everything the Sink appended, then
// stops it. The bound only keeps a broken projector from hanging the run.
func (e *sinkEnv) apply(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.proj.Run(ctx) }()
	wctx, wcancel := context.WithTimeout(context.Background(), 2*time.Minute)
	err := e.proj.WaitFor(wctx, e.sink.Last())
	wcancel()
	cancel()
	if rerr := <-done; rerr != nil {
		t.Fatalf("projector: %v", rerr)
	}
	if err != nil {
		t.Fatalf("the projection did not reach %d: %v", e.sink.Last(), err)
	}
	if p, err := e.db.Position(context.Background(), "events"); err != nil || p < e.sink.Last() {
		t.Fatalf("store position %d, %v after applying up to %d", p, err, e.sink.Last())
	}
}

// answers is a change-set's answer for its batch, one "new id" or "dup id" per event.
func answers(cs ingest.ChangeSet, batch []*mailtrail.Event) []string {
	out := make([]string, len(batch))
	for i, ev := range batch {
		kind := "new"
		if i < len(cs.Duplicate) && cs.Duplicate[i] {
			kind = "dup"
		}
		out[i] = kind + " " + ev.ID
	}
	return out
}

func ids(evs []*mailtrail.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.ID
	}
	return out
}

// write writes the batch gen makes through the Sink and, made again for the oracle's
// organizations, directly into the oracle with Write; it fails t unless both answer the
// same, and returns the Sink's change-set and batch (ids answered).
func (e *sinkEnv) write(t *testing.T, gen func(org, org2 string) []*mailtrail.Event) (ingest.ChangeSet, []*mailtrail.Event) {
	t.Helper()
	ctx := context.Background()
	batch := gen(e.org, e.org2)
	before := e.sink.Last()
	cs, err := e.sink.Write(ctx, batch)
	if err != nil {
		t.Fatalf("Sink.Write: %v", err)
	}
	if len(cs.Duplicate) != len(batch) {
		t.Fatalf("Sink.Write answered %d duplicate flags for %d events", len(cs.Duplicate), len(batch))
	}
	var kept []string
	for i, ev := range batch {
		if !cs.Duplicate[i] {
			kept = append(kept, ev.ID)
		}
	}
	if got := ids(cs.Events); !reflect.DeepEqual(got, kept) && len(kept)+len(got) > 0 {
		t.Fatalf("change-set events %v, want the batch's new ones in order %v", got, kept)
	}
	if cs.Position != e.sink.Last() || cs.Position < before || (len(kept) > 0 && cs.Position == before) {
		t.Fatalf("change-set at position %d; the Sink's last append was %d before, %d after", cs.Position, before, e.sink.Last())
	}
	if h, err := e.log.Projection().Head(ctx); err != nil || h != cs.Position {
		t.Fatalf("log head %d, %v; the change-set says %d", h, err, cs.Position)
	}
	ob := gen(e.oracleOrg, e.oOrg2)
	ocs, err := e.oracle.Write(ctx, ob)
	if err != nil {
		t.Fatalf("oracle Write: %v", err)
	}
	if got, want := answers(cs, batch), answers(ocs, ob); !reflect.DeepEqual(got, want) {
		t.Fatalf("the Sink answers\n%v\nthe store's Write answers\n%v", got, want)
	}
	return cs, batch
}

// wantAnswers fails t unless the batch's answers are want.
func wantAnswers(t *testing.T, what string, cs ingest.ChangeSet, batch []*mailtrail.Event, want ...string) {
	t.Helper()
	if got := answers(cs, batch); !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: answers\n%v\nwant\n%v", what, got, want)
	}
}

// logIDs returns the ids of the events the log holds, record by record.
func logIDs(t *testing.T, l *eventlog.Log) [][]string {
	t.Helper()
	recs, err := l.Projection().Read(context.Background(), 1, 1000)
	if err != nil {
		t.Fatal(err)
	}
	out := make([][]string, len(recs))
	for i, r := range recs {
		out[i] = ids(r.Events)
	}
	return out
}

// wantFigures fails t unless the projection store's figures equal the oracle's.
func (e *sinkEnv) wantFigures(t *testing.T) {
	t.Helper()
	got := storetest.Figures(t, e.db, e.org, "camp")
	if want := storetest.Figures(t, e.oracle, e.oracleOrg, "camp"); got != want {
		t.Fatalf("the projection's figures differ from the store written directly:\n%s", storetest.DiffLines(want, got))
	}
}

// A retry is answered as the store's Write answers it, with the id of the event it
// repeats: while what it repeats is appended but not applied (the Sink's index answers,
// not the store), and after it was applied (the index is pruned, the store answers).
// Dedupe keys are per type and time (a "once:" key at any time); an idempotency key is
// per organization whatever the content. Duplicates are not appended.
func TestSinkAnswersRetries(t *testing.T) {
	ctx := context.Background()
	e := newSinkEnv(t, eventlog.Options{})
	api := ingest.IdempotencyPrefix
	cs, b := e.write(t, func(org, org2 string) []*mailtrail.Event {
		return []*mailtrail.Event{
			mk(org, "a1", 0, mailtrail.EventSent, 0, "sent-0"),
			mk(org, "a2", 1, mailtrail.EventDelivered, 0, api+"k1"),
			mk(org, "a3", 2, mailtrail.EventOpened, time.Minute, ""),
			mk(org, "a4", 3, mailtrail.EventUnsubscribed, 0, ingest.OncePrefix+"unsub-3"),
		}
	})
	wantAnswers(t, "first batch", cs, b, "new a1", "new a2", "new a3", "new a4")
	if n := e.sink.Pending(); n != 4 {
		t.Fatalf("Pending = %d, want 4 (a1's dedupe key, a2's idempotency and dedupe keys, a4's dedupe key)", n)
	}

	retry := func(p string) func(org, org2 string) []*mailtrail.Event {
		return func(org, org2 string) []*mailtrail.Event {
			return []*mailtrail.Event{
				mk(org, p+"1", 0, mailtrail.EventSent, 0, "sent-0"),                                      // a1 again
				mk(org, p+"2", 1, mailtrail.EventSent, 2*time.Hour, api+"k1"),                            // a2's key, other content
				mk(org, p+"3", 2, mailtrail.EventOpened, time.Minute, ""),                                // like a3, without a key
				mk(org, p+"4", 3, mailtrail.EventUnsubscribed, 3*time.Hour, ingest.OncePrefix+"unsub-3"), // a4's once key, later
				mk(org, p+"5", 0, mailtrail.EventSent, time.Hour, "sent-0"),                              // a1's key at another time
				mk(org2, p+"6", other+1, mailtrail.EventDelivered, 0, api+"k1"),                          // a2's key in another organization
			}
		}
	}
	// Pending: nothing applied, the store knows nothing.
	if p, _ := e.db.Position(ctx, "events"); p != 0 {
		t.Fatalf("the store is at %d before any projection", p)
	}
	cs, b = e.write(t, retry("b"))
	wantAnswers(t, "retry while pending", cs, b, "dup a1", "dup a2", "new b3", "dup a4", "new b5", "new b6")
	for _, id := range []string{"b1", "b2", "b4"} {
		if e.wasAsked(id) {
			t.Errorf("the store was asked about %s: the index holds what it repeats", id)
		}
	}
	if n := e.sink.Pending(); n != 7 {
		t.Fatalf("Pending = %d, want 7 (b5's dedupe key and b6's two keys added)", n)
	}

	// Applied: the index is pruned at the next Write and the store answers.
	e.apply(t)
	cs, b = e.write(t, retry("c"))
	wantAnswers(t, "retry after the projection", cs, b, "dup a1", "dup a2", "new c3", "dup a4", "dup b5", "dup b6")
	for _, id := range []string{"c1", "c2", "c4", "c5", "c6"} {
		if !e.wasAsked(id) {
			t.Errorf("the store was not asked about %s after the index was pruned", id)
		}
	}
	if n := e.sink.Pending(); n != 0 {
		t.Fatalf("Pending = %d after the projection applied every key, want 0", n)
	}

	// Every event a duplicate: nothing appended, the position is the last append's.
	last := e.sink.Last()
	cs, b = e.write(t, func(org, org2 string) []*mailtrail.Event {
		return []*mailtrail.Event{mk(org, "d1", 0, mailtrail.EventSent, 0, "sent-0"), mk(org2, "d2", other+1, mailtrail.EventBounced, 0, api+"k1")}
	})
	wantAnswers(t, "duplicates only", cs, b, "dup a1", "dup b6")
	if len(cs.Events) != 0 || cs.Position != last || e.sink.Last() != last {
		t.Fatalf("duplicates only: %d events at position %d (last append %d, was %d)", len(cs.Events), cs.Position, e.sink.Last(), last)
	}

	if got, want := logIDs(t, e.log), [][]string{{"a1", "a2", "a3", "a4"}, {"b3", "b5", "b6"}, {"c3"}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("the log holds %v, want %v", got, want)
	}
	e.apply(t)
	e.wantFigures(t)
}

// Within one batch the first event holding a key is the one appended; the others are its
// duplicates, with its id, whichever key they share with it (an idempotency key whatever
// the content, a dedupe key of the same type and time), as the store's Write answers.
// Events without a key are never duplicates: each arrival is appended and counted.
func TestSinkDuplicatesWithinABatch(t *testing.T) {
	e := newSinkEnv(t, eventlog.Options{})
	api := ingest.IdempotencyPrefix
	gen := func(p string) func(org, org2 string) []*mailtrail.Event {
		return func(org, org2 string) []*mailtrail.Event {
			return []*mailtrail.Event{
				mk(org, p+"1", 0, mailtrail.EventSent, 0, "sent-0"),
				mk(org, p+"2", 0, mailtrail.EventSent, 0, "sent-0"),               // p1 again
				mk(org, p+"3", 1, mailtrail.EventDelivered, 0, api+"k9"),          // an idempotency key
				mk(org, p+"4", 1, mailtrail.EventComplained, time.Hour, api+"k9"), // the same key, other content
				mk(org, p+"5", 2, mailtrail.EventOpened, 0, ""),                   // a pixel open
				mk(org, p+"6", 2, mailtrail.EventOpened, 0, ""),                   // the same hit again: counted again
				mk(org2, p+"7", other+1, mailtrail.EventDelivered, 0, api+"k9"),   // the key in another organization
				mk(org, p+"8", 3, mailtrail.EventUnsubscribed, 0, ingest.OncePrefix+"u3"),
				mk(org, p+"9", 3, mailtrail.EventUnsubscribed, time.Hour, ingest.OncePrefix+"u3"), // p8's once key, later
				mk(org, p+"10", 0, mailtrail.EventSent, time.Minute, "sent-0"),                    // p1's key at another time
				mk(org, p+"11", 0, mailtrail.EventDelivered, 0, "sent-0"),                         // p1's key, another type
				mk(org, p+"12", 2, mailtrail.EventClicked, 0, ""),                                 // a click, twice
				mk(org, p+"13", 2, mailtrail.EventClicked, 0, ""),
			}
		}
	}
	cs, b := e.write(t, gen("x"))
	wantAnswers(t, "one batch", cs, b, "new x1", "dup x1", "new x3", "dup x3", "new x5", "new x6", "new x7", "new x8", "dup x8",
		"new x10", "new x11", "new x12", "new x13")
	want := [][]string{{"x1", "x3", "x5", "x6", "x7", "x8", "x10", "x11", "x12", "x13"}}
	if got := logIDs(t, e.log); !reflect.DeepEqual(got, want) {
		t.Fatalf("the log holds %v, want %v", got, want)
	}
	// The same batch again, pending then applied: the keyed events repeat the first
	// batch's, the hits without a key are new arrivals each time.
	cs, b = e.write(t, gen("y"))
	wantAnswers(t, "the batch again, pending", cs, b, "dup x1", "dup x1", "dup x3", "dup x3", "new y5", "new y6", "dup x7", "dup x8", "dup x8",
		"dup x10", "dup x11", "new y12", "new y13")
	e.apply(t)
	cs, b = e.write(t, gen("z"))
	wantAnswers(t, "the batch again, applied", cs, b, "dup x1", "dup x1", "dup x3", "dup x3", "new z5", "new z6", "dup x7", "dup x8", "dup x8",
		"dup x10", "dup x11", "new z12", "new z13")
	want = append(want, []string{"y5", "y6", "y12", "y13"}, []string{"z5", "z6", "z12", "z13"})
	if got := logIDs(t, e.log); !reflect.DeepEqual(got, want) {
		t.Fatalf("the log holds %v, want %v", got, want)
	}
	e.apply(t)
	e.wantFigures(t)
	if figs := storetest.Figures(t, e.db, e.org, "camp"); strings.Count(figs, " opened ") != 6 || strings.Count(figs, " clicked ") != 6 {
		t.Fatalf("the store has %d opens and %d clicks, want 6 of each (every arrival):\n%s", strings.Count(figs, " opened "), strings.Count(figs, " clicked "), figs)
	}
}

// A batch that does not fit in one message of the log is appended in parts, in order:
// every new event once, none of its duplicates, the change-set at the last part's
// message; its keys answer a retry like a batch of one message.
func TestSinkSplitsABatchTooLargeForOneMessage(t *testing.T) {
	ctx := context.Background()
	e := newSinkEnv(t, eventlog.Options{MaxMessageBytes: 4096})
	gen := func(p string) func(org, org2 string) []*mailtrail.Event {
		return func(org, org2 string) []*mailtrail.Event {
			var out []*mailtrail.Event
			for i := range 90 {
				id := fmt.Sprintf("%s%02d", p, i)
				msg := i % sinkMsgs
				switch i % 5 {
				case 0, 1:
					out = append(out, mk(org, id, msg, mailtrail.EventOpened, time.Duration(i)*time.Second, ""))
				case 2:
					out = append(out, mk(org, id, msg, mailtrail.EventClicked, time.Duration(i)*time.Second, ""))
				case 3: // a delivery per message; the later ones repeat the first (same time)
					out = append(out, mk(org, id, msg, mailtrail.EventDelivered, time.Duration(msg)*time.Minute, fmt.Sprintf("dlv-%d", msg)))
				case 4:
					out = append(out, mk(org, id, msg, mailtrail.EventSent, time.Duration(i)*time.Minute, fmt.Sprintf("%ssent-%d", ingest.IdempotencyPrefix, i/10)))
				}
			}
			return out
		}
	}
	// The events do not fit in one message.
	probe := open(t, t.TempDir(), eventlog.Options{MaxMessageBytes: 4096})
	if _, err := probe.Append(ctx, 0, "", gen("q")(e.org, e.org2)); !errors.Is(err, eventlog.ErrTooLarge) {
		t.Fatal("the test batch fits in one message: it proves nothing about a split")
	}

	cs, b := e.write(t, gen("s"))
	var kept []string
	for i, ev := range b {
		if !cs.Duplicate[i] {
			kept = append(kept, ev.ID)
		}
	}
	if len(kept) == len(b) || len(kept) < 60 {
		t.Fatalf("%d of %d events new: the batch should hold some duplicates and many new events", len(kept), len(b))
	}
	recs, err := e.log.Projection().Read(ctx, 1, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) < 2 {
		t.Fatalf("the batch is in %d message(s): not split", len(recs))
	}
	var inLog []*mailtrail.Event
	for _, r := range recs {
		inLog = append(inLog, r.Events...)
	}
	if got := ids(inLog); !reflect.DeepEqual(got, kept) {
		t.Fatalf("the log holds\n%v\nwant the batch's new events once, in order\n%v", got, kept)
	}
	if !reflect.DeepEqual(inLog, cs.Events) {
		t.Fatal("the events in the log differ from the change-set's")
	}
	if last := recs[len(recs)-1].Pos; cs.Position != last {
		t.Fatalf("change-set at %d, the last part is at %d", cs.Position, last)
	}

	// A retry, pending and then applied: the keyed events repeat the first ones.
	for _, p := range []string{"r", "t"} {
		cs, b := e.write(t, gen(p))
		for i, ev := range b {
			keyed := ev.DedupeKey != ""
			if cs.Duplicate[i] != keyed {
				t.Fatalf("retry %s, event %d (key %q): duplicate = %v", p, i, ev.DedupeKey, cs.Duplicate[i])
			}
		}
		e.apply(t)
	}
	e.wantFigures(t)
}

// Through the Sink and the projection, a log of mixed batches (storetest.MixedLog, with
// duplicates) and retries of whole batches, some with idempotency keys, gives the answers
// and the figures of the same batches written directly into a store, while the projector
// runs behind the Sink (answers that depend on how far it got would differ).
func TestSinkProjectionEqualsDirectWrite(t *testing.T) {
	ctx := context.Background()
	e := newSinkEnv(t, eventlog.Options{})
	const records = 60
	mixed := func(org, retry string) [][]*mailtrail.Event {
		log := storetest.MixedLog(77, org, sinkMsgs, records, ingest.Normalize)
		for i, b := range log {
			for j, ev := range b {
				if j%4 == 3 && ev.DedupeKey != "" { // some keyed events carry an idempotency key
					ev.DedupeKey = ingest.IdempotencyPrefix + ev.DedupeKey
					ev.Source = mailtrail.SourceAPI
				}
				ev.ID = fmt.Sprintf("%s%03d-%02d", retry, i, j)
			}
		}
		return log
	}
	var gens []func(org, org2 string) []*mailtrail.Event
	for i := range records {
		gens = append(gens, func(org, _ string) []*mailtrail.Event { return mixed(org, "e")[i] })
		if i%7 == 6 { // a client retries an earlier batch, with new ids
			gens = append(gens, func(org, _ string) []*mailtrail.Event { return mixed(org, fmt.Sprintf("r%d-", i))[i-3] })
		}
	}

	// The projector runs throughout; every fifth batch waits for it, so some retries find
	// what they repeat applied and some pending.
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- e.proj.Run(rctx) }()
	dups := 0
	for i, gen := range gens {
		cs, _ := e.write(t, gen)
		for _, d := range cs.Duplicate {
			if d {
				dups++
			}
		}
		if i%5 == 4 {
			wctx, wcancel := context.WithTimeout(ctx, 2*time.Minute)
			err := e.proj.WaitFor(wctx, e.sink.Last())
			wcancel()
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	wctx, wcancel := context.WithTimeout(ctx, 2*time.Minute)
	err := e.proj.WaitFor(wctx, e.sink.Last())
	wcancel()
	cancel()
	if rerr := <-done; rerr != nil {
		t.Fatal(rerr)
	}
	if err != nil {
		t.Fatal(err)
	}
	if dups < 20 {
		t.Fatalf("%d duplicates in the whole log: too few to prove anything", dups)
	}
	// Everything applied: the next Write forgets every key.
	if _, err := e.sink.Write(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if n := e.sink.Pending(); n != 0 {
		t.Fatalf("Pending = %d with everything applied", n)
	}
	e.wantFigures(t)
}

// The dedupe index is bounded: while it holds MaxPending keys (the store far behind), a
// batch with keys is refused with EUNAVAILABLE and appends nothing; events without keys
// (pixel hits) are still taken; once the store applied the backlog, keyed batches are
// taken again.
func TestSinkRefusesWhenItsIndexIsFull(t *testing.T) {
	ctx := context.Background()
	e := newSinkEnvWith(t, eventlog.Options{}, func(_ *sinkEnv, o *eventlog.SinkOptions) { o.MaxPending = 4 })
	keyed := func(p string, n int) func(org, org2 string) []*mailtrail.Event {
		return func(org, org2 string) []*mailtrail.Event {
			var evs []*mailtrail.Event
			for i := range n {
				evs = append(evs, mk(org, fmt.Sprintf("%s%d", p, i), i%sinkMsgs, mailtrail.EventSent, time.Duration(i)*time.Second, p+fmt.Sprint(i)))
			}
			return evs
		}
	}
	e.write(t, keyed("a", 4))
	if n := e.sink.Pending(); n != 4 {
		t.Fatalf("Pending = %d, want 4", n)
	}
	head := e.sink.Last()
	_, err := e.sink.Write(ctx, keyed("b", 1)(e.org, e.org2))
	if mailtrail.ErrorCode(err) != mailtrail.EUNAVAILABLE {
		t.Fatalf("a keyed batch with the index full: %v, want EUNAVAILABLE", err)
	}
	if h, _ := e.log.Projection().Head(ctx); h != head || e.sink.Pending() != 4 {
		t.Fatalf("the refused batch changed the log (head %d, was %d) or the index (%d keys)", h, head, e.sink.Pending())
	}
	cs, b := e.write(t, func(org, org2 string) []*mailtrail.Event {
		return []*mailtrail.Event{mk(org, "o1", 1, mailtrail.EventOpened, time.Minute, "")}
	})
	wantAnswers(t, "a pixel hit with the index full", cs, b, "new o1")
	e.apply(t)
	cs, b = e.write(t, keyed("b", 1))
	wantAnswers(t, "a keyed batch once the store caught up", cs, b, "new b0")
	e.apply(t)
	e.wantFigures(t)
}
