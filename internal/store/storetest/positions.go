package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/ingest"
	"github.com/mailtrail/mailtrail/internal/query"
)

// Reopen closes s and opens the same store again (the embedded store: the same file), as
// a restart does. The Positions area checks with it that a projection's position lasts.
type Reopen func(t *testing.T, s Projection) Projection

// testPositions: a projection store writes a log's records with their positions
// (WriteAt). A record at a position the store already holds changes nothing, events
// without a dedupe key (pixel opens, clicks) included, and so does a write that does not
// start at the stored position; the position lasts across a
// restart and is kept per stream; and a store that applied the log, with replays of
// records it held, has the figures of a store that wrote the log once with Write, equal
// to a recount of its raw events.
func testPositions(t *testing.T, open func(t *testing.T) Projection, reopen Reopen, norm Normalizer) {
	const stream, msgs, records = "events", 12, 40
	s := open(t)
	o, _ := newOrg(t, s, "acme")
	Seed(t, s, o.ID, msgs)
	log := MixedLog(9, o.ID, msgs, records, norm)
	if p := must[uint64](t)(s.Position(ctx, stream)); p != 0 {
		t.Fatalf("position of a new store: %d", p)
	}
	for _, bad := range []struct {
		stream     string
		after, pos uint64
	}{{"", 0, 1}, {stream, 0, 0}, {stream, 2, 1}, {stream, 0, 1 << 63}} {
		_, err := s.WriteAt(ctx, bad.stream, bad.after, bad.pos, clone(log[0]))
		wantCode(t, fmt.Sprintf("WriteAt(%q, %d, %d)", bad.stream, bad.after, bad.pos), err, mailtrail.EINVALID)
	}
	if p, n := must[uint64](t)(s.Position(ctx, stream)), len(stored(t, s, o.ID, "camp")); p != 0 || n != 0 {
		t.Fatalf("a refused WriteAt wrote: position %d, %d events", p, n)
	}

	// Positions are the log's: from 1, increasing, with gaps (pos(i) = 3i+1; pos(-1) = 0,
	// where a store starts).
	pos := func(i int) uint64 {
		if i < 0 {
			return 0
		}
		return uint64(3*i + 1)
	}
	half := records / 2
	for i := 0; i < half; i++ {
		cs, err := s.WriteAt(ctx, stream, pos(i-1), pos(i), clone(log[i]))
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if len(cs.Duplicate) != len(log[i]) {
			t.Fatalf("record %d: %d outcomes for %d events", i, len(cs.Duplicate), len(log[i]))
		}
	}
	if p := must[uint64](t)(s.Position(ctx, stream)); p != pos(half-1) {
		t.Fatalf("position %d, want %d", p, pos(half-1))
	}
	before := Figures(t, s, o.ID, "camp")
	if !strings.Contains(before, " opened ") || !strings.Contains(before, " clicked ") {
		t.Fatalf("the log has no opens or clicks without a key: the replays prove nothing\n%s", before)
	}
	// Every record again, alone and several in one write: nothing is written. A write that
	// overlaps the stored position (its first records applied, its last not) or starts past
	// it (records before it not applied) writes nothing either.
	replay := func(s Projection, upTo int) {
		t.Helper()
		for i := 0; i < upTo; i++ {
			cs, err := s.WriteAt(ctx, stream, pos(i-1), pos(i), clone(log[i]))
			if !errors.Is(err, ingest.ErrApplied) || !cs.Empty() {
				t.Fatalf("record %d again: %v, %d events stored", i, err, len(cs.Events))
			}
		}
		var all []*mailtrail.Event
		for i := 0; i < upTo; i++ {
			all = append(all, clone(log[i])...)
		}
		if _, err := s.WriteAt(ctx, stream, 0, pos(upTo-1), all); !errors.Is(err, ingest.ErrApplied) {
			t.Fatalf("records 0…%d again in one write: %v", upTo-1, err)
		}
		overlap := append(clone(log[upTo-2]), clone(log[upTo-1])...)
		overlap = append(overlap, clone(log[upTo])...)
		if cs, err := s.WriteAt(ctx, stream, pos(upTo-3), pos(upTo), overlap); !errors.Is(err, ingest.ErrPositionMoved) || !cs.Empty() {
			t.Fatalf("records %d…%d, two of them applied: %v", upTo-2, upTo, err)
		}
		if cs, err := s.WriteAt(ctx, stream, pos(upTo), pos(upTo+1), clone(log[upTo+1])); !errors.Is(err, ingest.ErrPositionMoved) || !cs.Empty() {
			t.Fatalf("record %d, record %d not applied: %v", upTo+1, upTo, err)
		}
	}
	replay(s, half)
	if got := Figures(t, s, o.ID, "camp"); got != before {
		t.Fatalf("replayed records changed the store:\n%s", DiffLines(before, got))
	}
	// Positions are per stream.
	if p := must[uint64](t)(s.Position(ctx, "other")); p != 0 {
		t.Fatalf("another stream's position: %d", p)
	}

	// A restart keeps the position, and replays still write nothing.
	s = reopen(t, s)
	if p := must[uint64](t)(s.Position(ctx, stream)); p != pos(half-1) {
		t.Fatalf("position after a restart %d, want %d", p, pos(half-1))
	}
	replay(s, half)
	if got := Figures(t, s, o.ID, "camp"); got != before {
		t.Fatalf("replays after a restart changed the store:\n%s", DiffLines(before, got))
	}

	// The rest, three records per write at the last one's position, each write replayed.
	for i := half; i < records; i += 3 {
		j := min(i+3, records)
		var batch []*mailtrail.Event
		for k := i; k < j; k++ {
			batch = append(batch, log[k]...)
		}
		if _, err := s.WriteAt(ctx, stream, pos(i-1), pos(j-1), clone(batch)); err != nil {
			t.Fatalf("records %d…%d: %v", i, j-1, err)
		}
		if _, err := s.WriteAt(ctx, stream, pos(i-1), pos(j-1), clone(batch)); !errors.Is(err, ingest.ErrApplied) {
			t.Fatalf("records %d…%d again: %v", i, j-1, err)
		}
	}
	if p := must[uint64](t)(s.Position(ctx, stream)); p != pos(records-1) {
		t.Fatalf("position %d, want %d", p, pos(records-1))
	}
	got := Figures(t, s, o.ID, "camp")

	// The oracle: a fresh store writes the same log once, with Write.
	fresh := open(t)
	fo, _ := newOrg(t, fresh, "acme")
	Seed(t, fresh, fo.ID, msgs)
	for _, batch := range MixedLog(9, fo.ID, msgs, records, norm) {
		if _, err := fresh.Write(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	if want := Figures(t, fresh, fo.ID, "camp"); got != want {
		t.Fatalf("figures after the replays differ from one application of the log:\n%s", DiffLines(want, got))
	}
}

// Seed creates n messages of campaign "camp" in org, message i to customer "u<i>".
func Seed(t *testing.T, s Projection, org string, n int) { seedMessages(t, s, org, n) }

// MixedLog returns a log of records (batches of 1 to 20 events) over n messages of
// Seed's, the same for the same seed and organization: sends, deliveries, bounces (soft
// and hard), complaints and unsubscribes with dedupe keys, some of them sent twice;
// pixel opens (some by machines) and clicks on three links without one, so every arrival
// of them counts. Events are normalized with norm at a fixed time and carry fixed ids, as
// a log holds them.
func MixedLog(seed uint64, org string, n, records int, norm Normalizer) [][]*mailtrail.Event {
	r := rand.New(rand.NewPCG(seed, 16))
	keyed := []mailtrail.EventType{mailtrail.EventSent, mailtrail.EventDelivered, mailtrail.EventBounced, mailtrail.EventComplained, mailtrail.EventUnsubscribed}
	log := make([][]*mailtrail.Event, records)
	id := 0
	for i := range log {
		for range 1 + r.IntN(20) {
			msg := r.IntN(n)
			at := time.Duration(r.IntN(48*4)) * 15 * time.Minute
			var e *mailtrail.Event
			switch k := r.IntN(10); {
			case k < 4:
				e = ev(org, msg, mailtrail.EventOpened, at, "")
			case k < 7:
				e = ev(org, msg, mailtrail.EventClicked, at, "")
			default:
				typ := keyed[r.IntN(len(keyed))]
				key := fmt.Sprintf("%s-%d", typ, msg)
				if typ == mailtrail.EventSent || typ == mailtrail.EventDelivered {
					at = time.Duration(msg) * time.Minute // a retry carries the same time
				}
				e = ev(org, msg, typ, at, key)
			}
			id++
			e.ID = fmt.Sprintf("ev%020d", id)
			norm(e, base.Add(1000*time.Hour))
			log[i] = append(log[i], e)
		}
	}
	return log
}

// Figures returns a campaign's figures in s as text to compare between stores: its
// report in UTC, its raw events as stored (id, type, time, label, before_send) and the
// organization's suppressions. It fails t when the report's counts differ from a recount
// of the raw events.
func Figures(t *testing.T, s Projection, org, camp string) string {
	t.Helper()
	rep, err := (&query.Service{R: s}).Report(ctx, org, camp, "UTC")
	if err != nil {
		t.Fatal(err)
	}
	raw := stored(t, s, org, camp)
	if want := recount(raw); rep.Counts != want {
		t.Fatalf("report differs from a recount of the raw events:\n got %+v\nwant %+v", rep.Counts, want)
	}
	var b strings.Builder
	j, _ := json.MarshalIndent(rep, "", " ")
	b.Write(j)
	b.WriteString("\n")
	lines := make([]string, 0, len(raw))
	for _, e := range raw {
		lines = append(lines, fmt.Sprintf("%s %s %s %d %s %v %v", e.ID, e.MessageID, e.Type, e.OccurredAt.UnixMilli(), e.Classification, e.Reasons, e.BeforeSend))
	}
	sort.Strings(lines)
	b.WriteString(strings.Join(lines, "\n"))
	b.WriteString("\n")
	f := mailtrail.SuppressionFilter{Limit: 1000}
	for {
		p := must[*mailtrail.SuppressionPage](t)(s.Suppressions(ctx, org, f))
		for _, x := range p.Suppressions {
			fmt.Fprintf(&b, "suppressed %s %s %s %s %d\n", x.Email, x.Reason, x.Source, x.EventID, x.SuppressedAt.UnixMilli())
		}
		if p.NextCursor == "" {
			break
		}
		f.Cursor = p.NextCursor
	}
	return b.String()
}

// DiffLines lists the lines of want missing from got (-) and of got missing from want (+).
func DiffLines(want, got string) string {
	count := func(s string) map[string]int {
		m := map[string]int{}
		for _, l := range strings.Split(s, "\n") {
			m[l]++
		}
		return m
	}
	w, g := count(want), count(got)
	if reflect.DeepEqual(w, g) {
		return "(same lines, another order)"
	}
	var out []string
	for l, n := range w {
		for range n - g[l] {
			out = append(out, "- "+l)
		}
	}
	for l, n := range g {
		for range n - w[l] {
			out = append(out, "+ "+l)
		}
	}
	sort.Strings(out)
	if len(out) > 40 {
		out = append(out[:40], fmt.Sprintf("… %d more", len(out)-40))
	}
	return strings.Join(out, "\n")
}
