package segment_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/segment"
	"github.com/mailtrail/mailtrail/internal/store/sqlite"
)

// The tests build the index from a real SQLite store filled through its Write, and compare
// every answer with a recount straight from the raw events table: two ways of computing.

var now = time.Date(2026, 11, 28, 13, 37, 21, 123e6, time.UTC)

// tcond and tnode are the test's own rule tree: marshalled for Parse, evaluated by recount.
type twindow struct {
	Value int    `json:"value"`
	Unit  string `json:"unit"`
}

type tbetween struct {
	From string `json:"from"`
	To   string `json:"to"`
}

type tcond struct {
	Event    string    `json:"event"`
	Campaign string    `json:"campaign_id,omitempty"`
	Link     string    `json:"link_url,omitempty"`
	Human    bool      `json:"human_only,omitempty"`
	AtLeast  int       `json:"at_least,omitempty"`
	Within   *twindow  `json:"within,omitempty"`
	Since    string    `json:"since,omitempty"`
	Between  *tbetween `json:"between,omitempty"`
}

type tnode struct {
	And     []*tnode `json:"and,omitempty"`
	Or      []*tnode `json:"or,omitempty"`
	Not     *tnode   `json:"not,omitempty"`
	Done    *tcond   `json:"has_done,omitempty"`
	NotDone *tcond   `json:"has_not_done,omitempty"`
}

type rawEv struct {
	org, cust, camp, link string
	typ                   mailtrail.EventType
	at                    int64
	human                 bool
}

func (c *tcond) rangeAt(now time.Time) (from, to int64) {
	from, to = -1<<62, 1<<62
	if w := c.Within; w != nil {
		var s time.Time
		switch w.Unit {
		case "MINUTE":
			s = now.Add(-time.Duration(w.Value) * time.Minute)
		case "HOUR":
			s = now.Add(-time.Duration(w.Value) * time.Hour)
		case "DAY":
			s = now.Add(-time.Duration(w.Value) * 24 * time.Hour)
		case "WEEK":
			s = now.AddDate(0, 0, -7*w.Value) // UTC: the same instant as 7×24 h
		case "MONTH":
			s = now.AddDate(0, -w.Value, 0)
		case "YEAR":
			s = now.AddDate(-w.Value, 0, 0)
		}
		return s.UnixMilli(), to
	}
	if c.Since != "" {
		t, _ := time.Parse(time.RFC3339Nano, c.Since)
		from = t.UnixMilli()
	}
	if c.Between != nil {
		f, _ := time.Parse(time.RFC3339Nano, c.Between.From)
		t, _ := time.Parse(time.RFC3339Nano, c.Between.To)
		from, to = f.UnixMilli(), t.UnixMilli()
	}
	return from, to
}

func (c *tcond) done(evs []rawEv, now time.Time) bool {
	from, to := c.rangeAt(now)
	n := 0
	for _, e := range evs {
		if e.typ.String() == c.Event && e.at >= from && e.at < to && (c.Campaign == "" || c.Campaign == e.camp) &&
			(c.Link == "" || c.Link == e.link) && (!c.Human || e.human) {
			n++
		}
	}
	return n >= max(c.AtLeast, 1)
}

func (n *tnode) holds(evs []rawEv, now time.Time) bool {
	switch {
	case n.Done != nil:
		return n.Done.done(evs, now)
	case n.NotDone != nil:
		return !n.NotDone.done(evs, now)
	case n.Not != nil:
		return !n.Not.holds(evs, now)
	case n.And != nil:
		for _, k := range n.And {
			if !k.holds(evs, now) {
				return false
			}
		}
		return true
	}
	for _, k := range n.Or {
		if k.holds(evs, now) {
			return true
		}
	}
	return false
}

var (
	camps = []string{"spring", "summer", "autumn", "winter", "journey:welcome/1", "flash"}
	links = []string{"https://shop.example/a", "https://shop.example/b", "https://shop.example/c?x=1", "https://blog.example/"}
	types = []mailtrail.EventType{mailtrail.EventSent, mailtrail.EventSent, mailtrail.EventDelivered, mailtrail.EventDelivered,
		mailtrail.EventOpened, mailtrail.EventOpened, mailtrail.EventOpened, mailtrail.EventClicked, mailtrail.EventClicked,
		mailtrail.EventBounced, mailtrail.EventComplained, mailtrail.EventUnsubscribed}
	classes = []mailtrail.Classification{"", mailtrail.Human, mailtrail.Machine, mailtrail.Bot}
)

// genEvents returns n random events of an organization's customers c0..c{customers-1}.
// Times spread over three years before now, with a cluster in the last two hours and some
// right at day boundaries, so every window unit has edges with events on both sides.
func genEvents(r *rand.Rand, org string, customers, n int) []*mailtrail.Event {
	out := make([]*mailtrail.Event, 0, n)
	for range n {
		t := types[r.IntN(len(types))]
		var at time.Time
		switch r.IntN(6) {
		case 0:
			at = now.Add(-time.Duration(r.Int64N(int64(2 * time.Hour))))
		case 1:
			d := now.Truncate(24*time.Hour).AddDate(0, 0, -r.IntN(60))
			at = d.Add(time.Duration(r.IntN(3)-1) * time.Millisecond)
		default:
			at = now.Add(-time.Duration(r.Int64N(int64(3 * 365 * 24 * time.Hour))))
		}
		ev := &mailtrail.Event{OrgID: org, CampaignID: camps[r.IntN(len(camps))], CustomerID: fmt.Sprintf("c%d", r.IntN(customers)),
			Type: t, OccurredAt: at, ReceivedAt: now, Source: mailtrail.SourceAPI}
		if t == mailtrail.EventOpened || t == mailtrail.EventClicked {
			ev.Classification = classes[r.IntN(len(classes))]
			if ev.Classification == mailtrail.Bot || ev.Classification == mailtrail.Machine {
				ev.Reasons = []string{"request"}
			}
		}
		if t == mailtrail.EventClicked {
			ev.Metadata.LinkURL = links[r.IntN(len(links))]
		}
		out = append(out, ev)
	}
	return out
}

type fixture struct {
	db      *sqlite.DB
	raw     *sql.DB
	orgs    []string
	idx     *segment.Index
	nCust   int
	relabel int                           // clicks the store relabelled after committing them
	evsByID map[string]map[string][]rawEv // org → customer → events
}

// openStore opens a new SQLite store with the clock now (nil: time.Now), and a second
// handle on its file for the recount; both are closed when the test ends.
func openStore(t *testing.T, now func() time.Time) (*sqlite.DB, *sql.DB) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "m.db")
	db, err := sqlite.Open(context.Background(), path, sqlite.Options{Synchronous: "OFF", Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	return db, raw
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	db, raw := openStore(t, nil)
	f := &fixture{db: db, raw: raw, nCust: 250}
	// As the app does: the index observes every commit from the start, built or not.
	f.idx = segment.New(db, nil)
	r := rand.New(rand.NewPCG(7, 11))
	for i := range 2 {
		org, _, err := db.CreateOrg(ctx, fmt.Sprintf("org%d", i), "UTC")
		if err != nil {
			t.Fatal(err)
		}
		f.orgs = append(f.orgs, org.ID)
		evs := genEvents(r, org.ID, f.nCust, 6000)
		for len(evs) > 0 {
			n := min(len(evs), 1000)
			f.write(t, evs[:n])
			evs = evs[n:]
		}
	}
	if err := f.idx.Build(ctx, 777); err != nil {
		t.Fatal(err)
	}
	f.recount(t)
	return f
}

// write stores a batch as the pipeline does: Write, then its change-set (the committed
// events and the clicks relabelled) to Observe.
func (f *fixture) write(t *testing.T, evs []*mailtrail.Event) {
	t.Helper()
	cs, err := f.db.Write(context.Background(), evs)
	if err != nil {
		t.Fatal(err)
	}
	f.relabel += len(cs.Relabels)
	f.idx.Observe(cs.Events, cs.Relabels)
}

// recount reads every counted raw event back from SQLite.
func (f *fixture) recount(t *testing.T) { f.recountWhere(t, nil) }

// recountWhere reads back every counted raw event for which keep (nil: any) holds, given
// its received_at and its organization's retention_days and segment_floor.
func (f *fixture) recountWhere(t *testing.T, keep func(e rawEv, received, days, floor int64) bool) {
	t.Helper()
	rows, err := f.raw.Query(`SELECT o.public_id, o.retention_days, o.segment_floor, c.ext_id, cp.name,
		coalesce(json_extract(e.meta, '$.link_url'), ''), e.type, e.occurred_at, e.received_at, e.class
		FROM events e JOIN orgs o ON o.id = e.org_id JOIN customers c ON c.id = e.customer_id JOIN campaigns cp ON cp.id = e.campaign_id
		WHERE e.counted = 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	f.evsByID = map[string]map[string][]rawEv{}
	for rows.Next() {
		var e rawEv
		var days, floor, recv int64
		var class string
		if err := rows.Scan(&e.org, &days, &floor, &e.cust, &e.camp, &e.link, &e.typ, &e.at, &recv, &class); err != nil {
			t.Fatal(err)
		}
		if keep != nil && !keep(e, recv, days, floor) {
			continue
		}
		e.human = class == "" || class == "human"
		if e.typ != mailtrail.EventClicked {
			e.link = ""
		}
		if f.evsByID[e.org] == nil {
			f.evsByID[e.org] = map[string][]rawEv{}
		}
		f.evsByID[e.org][e.cust] = append(f.evsByID[e.org][e.cust], e)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
}

// expect returns the recount's answer over the universe (nil: customers with any counted
// event).
func (f *fixture) expect(org string, n *tnode, candidates []string) []string {
	var out []string
	if candidates == nil {
		for cust, evs := range f.evsByID[org] {
			if len(evs) > 0 && n.holds(evs, now) {
				out = append(out, cust)
			}
		}
	} else {
		seen := map[string]bool{}
		for _, c := range candidates {
			if !seen[c] && n.holds(f.evsByID[org][c], now) {
				out = append(out, c)
			}
			seen[c] = true
		}
	}
	sort.Strings(out)
	return out
}

func (f *fixture) answer(t *testing.T, org string, n *tnode, candidates []string) ([]string, *segment.Rule) {
	t.Helper()
	b, _ := json.Marshal(n)
	rule, err := segment.Parse(b)
	if err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	res, err := f.idx.Evaluate(org, rule, now, candidates)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	if _, err := res.Page("", 0, func(id string) error { got = append(got, id); return nil }); err != nil {
		t.Fatal(err)
	}
	if res.Count() != len(got) {
		t.Fatalf("%s: count %d, %d ids", b, res.Count(), len(got))
	}
	sort.Strings(got)
	return got, rule
}

// conds returns a condition of every shape: each event type, each window unit with
// values that put edges inside days and around the boundary cluster, since and between,
// campaign, link, human only, at least N.
func conds() []*tcond {
	var out []*tcond
	for _, ev := range []string{"sent", "delivered", "opened", "clicked", "bounced", "complained", "unsubscribed"} {
		out = append(out, &tcond{Event: ev}, &tcond{Event: ev, Within: &twindow{30, "DAY"}}, &tcond{Event: ev, Campaign: "summer", Within: &twindow{200, "DAY"}})
	}
	for _, w := range []twindow{{1, "MINUTE"}, {17, "MINUTE"}, {90, "MINUTE"}, {1, "HOUR"}, {5, "HOUR"}, {49, "HOUR"}, {1, "DAY"}, {7, "DAY"},
		{90, "DAY"}, {1, "WEEK"}, {3, "WEEK"}, {1, "MONTH"}, {6, "MONTH"}, {13, "MONTH"}, {1, "YEAR"}, {2, "YEAR"}, {5, "YEAR"}} {
		out = append(out, &tcond{Event: "opened", Within: &w}, &tcond{Event: "clicked", Within: &w, Human: true})
	}
	day := now.Truncate(24 * time.Hour)
	out = append(out,
		&tcond{Event: "opened", Since: day.AddDate(0, 0, -20).Format(time.RFC3339Nano)},
		&tcond{Event: "opened", Since: day.AddDate(0, 0, -20).Add(-time.Millisecond).Format(time.RFC3339Nano)},
		&tcond{Event: "sent", Since: "2025-03-04T05:06:07.891Z"},
		&tcond{Event: "clicked", Between: &tbetween{day.AddDate(0, 0, -40).Format(time.RFC3339Nano), day.AddDate(0, 0, -3).Format(time.RFC3339Nano)}},
		&tcond{Event: "opened", Between: &tbetween{"2025-01-01T10:00:00.5Z", "2025-01-03T09:00:00Z"}},
		&tcond{Event: "opened", Between: &tbetween{"2026-11-27T23:59:59.999Z", "2026-11-28T00:00:00.001Z"}},
		&tcond{Event: "clicked", Link: links[0]},
		&tcond{Event: "clicked", Link: links[2], Campaign: "autumn", Within: &twindow{2, "YEAR"}},
		&tcond{Event: "clicked", Link: links[1], Human: true, Within: &twindow{400, "DAY"}},
		&tcond{Event: "clicked", Link: "https://never.example/"},
		&tcond{Event: "opened", Campaign: "no-such-campaign"},
		&tcond{Event: "opened", Human: true, Campaign: "winter"},
		&tcond{Event: "opened", AtLeast: 2, Within: &twindow{1, "YEAR"}},
		&tcond{Event: "opened", AtLeast: 3},
		&tcond{Event: "sent", AtLeast: 4, Campaign: "spring"},
		&tcond{Event: "clicked", AtLeast: 2, Human: true, Within: &twindow{18, "MONTH"}},
		&tcond{Event: "delivered", AtLeast: 2, Between: &tbetween{"2024-06-01T12:00:00Z", "2026-06-01T12:00:00Z"}},
	)
	return out
}

func candidates(r *rand.Rand, n int) []string {
	out := []string{"never-seen-1", "never-seen-2", "never-seen-1"}
	for range 120 {
		out = append(out, fmt.Sprintf("c%d", r.IntN(n)))
	}
	return out
}

func TestConditionsMatchRecount(t *testing.T) {
	f := newFixture(t)
	r := rand.New(rand.NewPCG(1, 2))
	cands := candidates(r, f.nCust)
	nonEmpty := 0
	for _, c := range conds() {
		for _, n := range []*tnode{{Done: c}, {NotDone: c}, {Not: &tnode{Done: c}}} {
			for _, org := range f.orgs {
				for _, u := range [][]string{nil, cands} {
					want := f.expect(org, n, u)
					got, _ := f.answer(t, org, n, u)
					if !slices.Equal(got, want) {
						b, _ := json.Marshal(n)
						t.Fatalf("%s (candidates %v): index %d ids, recount %d\nindex   %v\nrecount %v", b, u != nil, len(got), len(want), got, want)
					}
					if len(want) > 0 && len(want) < f.nCust {
						nonEmpty++
					}
				}
			}
		}
	}
	if nonEmpty < 200 {
		t.Fatalf("only %d non-trivial answers: the data does not exercise the conditions", nonEmpty)
	}
}

// randomTree returns a rule of the given depth over random conditions.
func randomTree(r *rand.Rand, cs []*tcond, depth int) *tnode {
	if depth == 0 {
		c := cs[r.IntN(len(cs))]
		if r.IntN(3) == 0 {
			return &tnode{NotDone: c}
		}
		return &tnode{Done: c}
	}
	switch r.IntN(5) {
	case 0:
		return &tnode{Not: randomTree(r, cs, depth-1)}
	case 1, 2:
		return &tnode{And: []*tnode{randomTree(r, cs, depth-1), randomTree(r, cs, r.IntN(depth)), randomTree(r, cs, depth-1)}}
	}
	return &tnode{Or: []*tnode{randomTree(r, cs, depth-1), randomTree(r, cs, r.IntN(depth))}}
}

func TestNestedRulesMatchRecount(t *testing.T) {
	f := newFixture(t)
	r := rand.New(rand.NewPCG(3, 4))
	cs := conds()
	cands := candidates(r, f.nCust)
	for i := range 150 {
		n := randomTree(r, cs, 3+i%3)
		org := f.orgs[i%2]
		var u []string
		if i%3 == 0 {
			u = cands
		}
		want := f.expect(org, n, u)
		got, rule := f.answer(t, org, n, u)
		if !slices.Equal(got, want) {
			b, _ := json.Marshal(n)
			t.Fatalf("%s: index %v, recount %v", b, got, want)
		}
		// The single-customer check agrees with the recount for every customer.
		if i%10 == 0 {
			for c := range f.nCust + 1 {
				id := fmt.Sprintf("c%d", c)
				ok, err := f.idx.Match(org, rule, now, id)
				if err != nil {
					t.Fatal(err)
				}
				if want := n.holds(f.evsByID[org][id], now); ok != want {
					b, _ := json.Marshal(n)
					t.Fatalf("%s: Match(%s) = %v, recount %v", b, id, ok, want)
				}
			}
		}
	}
}

func TestSingleCustomerMatchesRecount(t *testing.T) {
	f := newFixture(t)
	for _, c := range conds() {
		for _, n := range []*tnode{{Done: c}, {NotDone: c}} {
			b, _ := json.Marshal(n)
			rule, err := segment.Parse(b)
			if err != nil {
				t.Fatal(err)
			}
			for i := range f.nCust + 2 {
				id := fmt.Sprintf("c%d", i)
				got, err := f.idx.Match(f.orgs[0], rule, now, id)
				if err != nil {
					t.Fatal(err)
				}
				if want := n.holds(f.evsByID[f.orgs[0]][id], now); got != want {
					t.Fatalf("%s: Match(%s) = %v, recount %v", b, id, got, want)
				}
			}
		}
	}
}

func TestLiveEventsShowUp(t *testing.T) {
	f := newFixture(t)
	r := rand.New(rand.NewPCG(9, 9))
	f.relabel = 0
	// New customers, existing ones, a new campaign and the same times as before; clicks
	// that the click rules relabel (bursts, clicks before a later delivery).
	for range 5 {
		evs := genEvents(r, f.orgs[0], f.nCust+40, 500)
		for _, ev := range evs[:50] {
			ev.CampaignID = "brand-new"
		}
		f.write(t, evs)
	}
	if f.relabel == 0 {
		t.Fatal("no click was relabelled after its commit: the test does not exercise relabels")
	}
	f.recount(t)
	cs := append(conds(), &tcond{Event: "sent", Campaign: "brand-new"}, &tcond{Event: "opened", Campaign: "brand-new", AtLeast: 2})
	for _, c := range cs {
		for _, n := range []*tnode{{Done: c}, {NotDone: c}} {
			want := f.expect(f.orgs[0], n, nil)
			got, _ := f.answer(t, f.orgs[0], n, nil)
			if !slices.Equal(got, want) {
				b, _ := json.Marshal(n)
				t.Fatalf("%s: index %v, recount %v", b, got, want)
			}
		}
	}
}

func TestTenantsAreIsolated(t *testing.T) {
	f := newFixture(t)
	// Both organizations have customers c0…; each answer names only its own events.
	n := &tnode{Done: &tcond{Event: "opened", Within: &twindow{60, "DAY"}}}
	a, _ := f.answer(t, f.orgs[0], n, nil)
	b, _ := f.answer(t, f.orgs[1], n, nil)
	if slices.Equal(a, b) {
		t.Fatal("two organizations gave the same answer: the generator or the index mixes them")
	}
	other, _ := f.answer(t, "org_unknown", n, nil)
	if len(other) != 0 {
		t.Fatalf("an organization without events has %d customers", len(other))
	}
}

func TestPagesCoverTheResult(t *testing.T) {
	f := newFixture(t)
	rule, err := segment.Parse([]byte(`{"or":[{"has_done":{"event":"opened"}},{"has_not_done":{"event":"clicked"}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	cands := candidates(rand.New(rand.NewPCG(5, 5)), f.nCust)
	res, err := f.idx.Evaluate(f.orgs[0], rule, now, cands)
	if err != nil {
		t.Fatal(err)
	}
	var all, paged []string
	res.Page("", 0, func(id string) error { all = append(all, id); return nil })
	cur := segment.Cursor("")
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatal("pages never end")
		}
		next, err := res.Page(cur, 7, func(id string) error { paged = append(paged, id); return nil })
		if err != nil {
			t.Fatal(err)
		}
		if next == "" {
			break
		}
		cur = next
	}
	if !slices.Equal(all, paged) || len(all) != res.Count() {
		t.Fatalf("pages %d ids, whole %d, count %d", len(paged), len(all), res.Count())
	}
	if !slices.Contains(all, "never-seen-2") {
		t.Fatal("a candidate the index never saw is missing from has_not_done")
	}
}
