package derive

import (
	"encoding/json"
	"fmt"
	"maps"
	"math/rand"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/rules"
)

// mem is the smallest store the planner can run against: maps for the rows, the three
// planning steps of the package comment, and the plan applied. It is the planner's test
// harness, not a model of SQL: the SQLite store runs the same steps over its tables and
// internal/store/storetest checks it against a recount of raw events.
type mem struct {
	org        Org
	msgs       map[int64]*Message
	acts       map[int64]rules.CustomerActivity
	clicks     map[int64][]*Click // by message
	rows       int64
	stats      map[StatKey]StatRow
	dims       map[DimKey]DimRow
	links      map[LinkKey]LinkRow
	linkClicks map[LinkClickKey]LinkClicks
	supp       map[Addr]Suppression
	soft       map[Addr]string
	topics     map[TopicAddr]Suppression
	resub      map[TopicAddr]int64
	history    []SuppressionWrite
	facts      []ClickRelabel
}

const (
	testOrg      = 1
	testCampaign = 10
)

func newMem(org Org) *mem {
	s := &mem{org: org, msgs: map[int64]*Message{}, acts: map[int64]rules.CustomerActivity{}, clicks: map[int64][]*Click{},
		stats: map[StatKey]StatRow{}, dims: map[DimKey]DimRow{}, links: map[LinkKey]LinkRow{}, linkClicks: map[LinkClickKey]LinkClicks{},
		supp: map[Addr]Suppression{}, soft: map[Addr]string{}, topics: map[TopicAddr]Suppression{}, resub: map[TopicAddr]int64{}}
	for id := int64(1); id <= 3; id++ {
		s.msgs[id] = &Message{ID: id, Org: testOrg, Campaign: testCampaign, Customer: 100 + id, OrgPublic: "org",
			CampaignName: "spring", CustomerExt: fmt.Sprint("c", id), Email: fmt.Sprintf("Person%d@Example.com", id),
			TrackOpens: true, TrackClicks: true}
	}
	return s
}

// write runs one batch through the planner; ev.MessageID is "1".."3".
func (s *mem) write(t testing.TB, batch []*mailtrail.Event) {
	t.Helper()
	st := NewState()
	st.Orgs[testOrg] = s.org
	msgs := map[int64]*Message{}
	msgOf := func(ev *mailtrail.Event) *Message {
		var id int64
		fmt.Sscan(ev.MessageID, &id)
		if m := msgs[id]; m != nil {
			return m
		}
		cp := *s.msgs[id]
		msgs[id] = &cp
		return &cp
	}
	for _, ev := range batch {
		m := msgOf(ev)
		Prepare(ev, m, s.org)
		if ev.Type == mailtrail.EventClicked && ev.Counted {
			s.rows++
			meta, _ := json.Marshal(ev.Metadata)
			idx := -1
			if ev.Metadata.LinkIndex != nil {
				idx = *ev.Metadata.LinkIndex
			}
			s.clicks[m.ID] = append(s.clicks[m.ID], &Click{Row: s.rows, At: ev.OccurredAt.UnixMilli(), Class: ev.Classification,
				Reasons: strings.Join(ev.Reasons, ","), RawMeta: string(meta), LinkURL: ev.Metadata.LinkURL, LinkIndex: idx})
		}
		if ev.Counted {
			st.Customers[m.Customer] = s.acts[m.Customer]
		}
		if n, ok := SuppressionNeeds(ev, m); ok {
			if n.Topic != "" {
				k := TopicAddr{n.Addr, n.Topic}
				st.Topics[k], st.Resubscribes[k] = s.topics[k], s.resub[k]
				continue
			}
			if n.Soft {
				st.SoftBounces[n.Addr] = s.soft[n.Addr]
			}
			if n.Suppression || (n.SuppressionIfRun && s.soft[n.Addr] != "") {
				st.Suppressions[n.Addr] = s.supp[n.Addr]
			}
		}
	}
	// A reset whose run another event of the batch started reads the row too.
	for a := range st.SoftBounces {
		if _, ok := st.Suppressions[a]; !ok {
			st.Suppressions[a] = s.supp[a]
		}
	}
	p := New(st)
	for _, ev := range batch {
		if err := p.Add(ev, msgOf(ev)); err != nil {
			t.Fatal(err)
		}
	}
	for _, w := range p.Windows() {
		var in []Click
		all := append([]*Click(nil), s.clicks[w.Msg.ID]...)
		sort.Slice(all, func(i, j int) bool {
			if all[i].At != all[j].At {
				return all[i].At < all[j].At
			}
			return all[i].Row < all[j].Row
		})
		for _, c := range all {
			if c.At >= w.From && c.At <= w.To && len(in) <= rules.MaxClicksClassified {
				in = append(in, *c)
			}
		}
		outside := func() (int64, error) {
			var first int64
			for _, c := range all {
				if (c.At < w.From || c.At > w.To) && isHuman(c.Class) && (first == 0 || c.At < first) {
					first = c.At
				}
			}
			return first, nil
		}
		if err := p.Relabel(w, in, outside); err != nil {
			t.Fatal(err)
		}
	}
	before := map[LinkClickKey]LinkClicks{}
	for _, k := range p.LinkClickKeys() {
		before[k] = s.linkClicks[k]
		d := p.LinkClickDelta(k)
		s.linkClicks[k] = LinkClicks{before[k].Clicks + d.Clicks, before[k].Human + d.Human}
	}
	plan := p.Finish(before)
	for _, r := range plan.Relabels {
		for _, cs := range s.clicks {
			for _, c := range cs {
				if c.Row == r.Row {
					c.Class, c.Reasons = r.Class, r.Reasons
				}
			}
		}
	}
	for id, m := range msgs {
		s.msgs[id] = m
	}
	for k, d := range plan.Stats {
		row := s.stats[k]
		for i := range row {
			row[i] += d[i]
		}
		s.stats[k] = row
	}
	for k, d := range plan.Dims {
		r := s.dims[k]
		s.dims[k] = DimRow{r.Total + d.Total, r.Human + d.Human}
	}
	for k, d := range plan.Links {
		r := s.links[k]
		s.links[k] = LinkRow{r.Total + d.Total, r.Human + d.Human, r.Uniq + d.Uniq, r.HumanUniq + d.HumanUniq}
	}
	for id, a := range plan.Customers {
		s.acts[id] = a
	}
	for _, w := range plan.Suppressions {
		s.history = append(s.history, w)
		after := Suppression{}
		if w.Next.Reason != "" {
			after = Suppression{S: w.Next, CustomerID: cmpOr(w.CustomerID, w.Cur.CustomerID), Found: true}
		}
		if w.Topic != "" {
			s.topics[TopicAddr{w.Addr, w.Topic}] = after
		} else {
			s.supp[w.Addr] = after
		}
	}
	for a, v := range plan.SoftBounces {
		s.soft[a] = v
	}
	s.facts = append(s.facts, plan.ClickRelabels...)
}

// figures are what the reports read, without zero rows.
type figures struct {
	Stats map[StatKey]StatRow
	Dims  map[DimKey]DimRow
	Links map[LinkKey]LinkRow
	Msgs  map[int64]Message
	Acts  map[int64]rules.CustomerActivity
	Class map[string]string // click labels by (message, time, link)
	Supp  map[Addr]Suppression
	Topic map[TopicAddr]Suppression
}

func (s *mem) figures() figures {
	f := figures{Stats: map[StatKey]StatRow{}, Dims: map[DimKey]DimRow{}, Links: map[LinkKey]LinkRow{}, Msgs: map[int64]Message{},
		Acts: s.acts, Class: map[string]string{}, Supp: map[Addr]Suppression{}, Topic: map[TopicAddr]Suppression{}}
	for k, v := range s.stats {
		if v != (StatRow{}) {
			f.Stats[k] = v
		}
	}
	for k, v := range s.dims {
		if v != (DimRow{}) {
			f.Dims[k] = v
		}
	}
	for k, v := range s.links {
		if v != (LinkRow{}) {
			f.Links[k] = v
		}
	}
	for id, m := range s.msgs {
		f.Msgs[id] = *m
	}
	for id, cs := range s.clicks {
		for _, c := range cs {
			f.Class[fmt.Sprint(id, c.At, c.LinkURL, c.LinkIndex)] = fmt.Sprint(isHuman(c.Class), c.Reasons)
		}
	}
	for k, v := range s.supp {
		if v.Found {
			f.Supp[k] = v
		}
	}
	for k, v := range s.topics {
		if v.Found {
			f.Topic[k] = v
		}
	}
	return f
}

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

func event(msg int, typ mailtrail.EventType, sec int, opts ...func(*mailtrail.Event)) *mailtrail.Event {
	ev := &mailtrail.Event{ID: fmt.Sprintf("e-%d-%d-%d-%d", msg, typ, sec, len(opts)), MessageID: fmt.Sprint(msg), Type: typ,
		OccurredAt: t0.Add(time.Duration(sec) * time.Second), ReceivedAt: t0.Add(time.Hour), Source: mailtrail.SourceTracking}
	for _, o := range opts {
		o(ev)
	}
	return ev
}

func link(u string) func(*mailtrail.Event) {
	return func(ev *mailtrail.Event) { ev.Metadata.LinkURL = u; ev.ID += u }
}

func bot(ev *mailtrail.Event) {
	ev.Classification = mailtrail.Bot
	ev.Reasons = []string{"scanner_agent"}
	ev.ID += "bot"
}

func webhook(ev *mailtrail.Event) { ev.Source = mailtrail.SourceWebhook }

func soft(ev *mailtrail.Event) {
	ev.Metadata.BounceType = mailtrail.BounceSoft
	ev.Source = mailtrail.SourceWebhook
}

func hard(ev *mailtrail.Event) {
	ev.Metadata.BounceType = mailtrail.BounceHard
	ev.Source = mailtrail.SourceWebhook
}

func topic(name string) func(*mailtrail.Event) {
	return func(ev *mailtrail.Event) { ev.Metadata.Topic = name; ev.ID += name }
}

func withIP(ip string) func(*mailtrail.Event) {
	return func(ev *mailtrail.Event) { ev.Metadata.IP = ip }
}

// history is a varied campaign: sends, deliveries, machine and human opens, human clicks,
// a scanner's burst before delivery, the honeypot, bounces, complaints, unsubscribes.
func history() []*mailtrail.Event {
	return []*mailtrail.Event{
		event(1, mailtrail.EventSent, 0, webhook), event(1, mailtrail.EventDelivered, 30, webhook),
		event(1, mailtrail.EventOpened, 40), event(1, mailtrail.EventClicked, 35, link("https://a.example/x")),
		event(1, mailtrail.EventClicked, 36, link("https://b.example/y")), event(1, mailtrail.EventClicked, 36, link("https://c.example/z")),
		event(1, mailtrail.EventClicked, 900, link("https://a.example/x")), event(1, mailtrail.EventClicked, 4000, link("https://a.example/x")),
		event(1, mailtrail.EventClicked, 4001, link("https://b.example/y"), bot),
		event(2, mailtrail.EventSent, 0, webhook), event(2, mailtrail.EventBounced, 60, soft), event(2, mailtrail.EventBounced, 86400, soft),
		event(2, mailtrail.EventBounced, 2*86400, soft), event(2, mailtrail.EventDelivered, 3*86400, webhook),
		event(2, mailtrail.EventBounced, 4*86400, soft), event(2, mailtrail.EventUnsubscribed, 5*86400, topic("news")),
		event(3, mailtrail.EventSent, 0, webhook), event(3, mailtrail.EventDelivered, 20, webhook),
		event(3, mailtrail.EventClicked, 10, link("https://a.example/x")), event(3, mailtrail.EventClicked, 7200, link("https://b.example/y")),
		event(3, mailtrail.EventOpened, 7100, withIP("203.0.113.77")), event(3, mailtrail.EventComplained, 9000, webhook),
		event(3, mailtrail.EventBounced, 9500, hard),
	}
}

func clone(evs []*mailtrail.Event) []*mailtrail.Event {
	out := make([]*mailtrail.Event, len(evs))
	for i, ev := range evs {
		cp := *ev
		cp.Reasons = append([]string(nil), ev.Reasons...)
		out[i] = &cp
	}
	return out
}

// run writes evs in batches of random sizes.
func run(t testing.TB, rng *rand.Rand, evs []*mailtrail.Event) *mem {
	s := newMem(Org{SoftBounceLimit: 3})
	for len(evs) > 0 {
		n := 1 + rng.Intn(len(evs))
		s.write(t, evs[:n])
		evs = evs[n:]
	}
	return s
}

// resetFirst reports whether an address's reset (a delivery) is stored before any of its
// soft bounces. The store keeps no soft-bounce run for an address that never bounced, so
// such a reset is not remembered and bounces that occurred before it but arrive after it
// still count toward the run (a known limit of today's rules, kept by this refactor).
func resetFirst(evs []*mailtrail.Event) bool {
	for _, ev := range evs {
		if ev.MessageID == "2" {
			switch ev.Type {
			case mailtrail.EventDelivered:
				return true
			case mailtrail.EventBounced:
				return false
			}
		}
	}
	return false
}

// orderFree is f without what depends on the order in the case resetFirst names.
func orderFree(f figures, evs []*mailtrail.Event) figures {
	if resetFirst(evs) {
		f.Supp = maps.Clone(f.Supp)
		delete(f.Supp, Addr{testOrg, "person2@example.com"})
	}
	return f
}

func TestPlanOrderIndependent(t *testing.T) {
	evs := clone(history())
	want := orderFree(run(t, rand.New(rand.NewSource(1)), evs).figures(), evs)
	for seed := int64(2); seed < 200; seed++ {
		rng := rand.New(rand.NewSource(seed))
		evs := clone(history())
		rng.Shuffle(len(evs), func(i, j int) { evs[i], evs[j] = evs[j], evs[i] })
		got := orderFree(run(t, rng, clone(evs)).figures(), evs)
		if !reflect.DeepEqual(got, orderFree(want, evs)) {
			t.Fatalf("seed %d: figures differ with the order\ngot  %+v\nwant %+v", seed, got, want)
		}
	}
}

func FuzzPlanOrderIndependent(f *testing.F) {
	f.Add(int64(7))
	evs := clone(history())
	want := orderFree(run(f, rand.New(rand.NewSource(1)), evs).figures(), evs)
	f.Fuzz(func(t *testing.T, seed int64) {
		rng := rand.New(rand.NewSource(seed))
		evs := clone(history())
		rng.Shuffle(len(evs), func(i, j int) { evs[i], evs[j] = evs[j], evs[i] })
		if got := orderFree(run(t, rng, clone(evs)).figures(), evs); !reflect.DeepEqual(got, orderFree(want, evs)) {
			t.Fatalf("figures differ with the order\ngot  %+v\nwant %+v", got, want)
		}
	})
}

func total(s *mem, tot rules.Total) int64 {
	var n int64
	for _, r := range s.stats {
		n += r[int(rules.NumFields)+int(tot)]
	}
	return n
}

func unique(s *mem, f rules.Field) int64 {
	var n int64
	for _, r := range s.stats {
		n += r[f]
	}
	return n
}

func honeypot(ev *mailtrail.Event) {
	i := mailtrail.HoneypotLink
	ev.Metadata.LinkIndex = &i
	ev.ID += "honeypot"
}

// Clicks within a minute of a click on the honeypot link are bots whichever order they
// arrive in, one per batch: a click stored before the honeypot's is relabelled by it, one
// stored after finds it among its neighbours. Clicks further away stay human.
func TestPlanNearTheHoneypotInAnyOrder(t *testing.T) {
	evs := []*mailtrail.Event{
		event(1, mailtrail.EventSent, 0, webhook), event(1, mailtrail.EventDelivered, 30, webhook),
		event(1, mailtrail.EventClicked, 100, link("https://a.example/x")), event(1, mailtrail.EventClicked, 150, honeypot),
		event(1, mailtrail.EventClicked, 205, link("https://b.example/y")), event(1, mailtrail.EventClicked, 212, link("https://c.example/z")),
		event(1, mailtrail.EventClicked, 400, link("https://a.example/x")), event(1, mailtrail.EventClicked, 420, link("https://b.example/y")),
	}
	want := map[int]string{100: "false near_honeypot", 150: "false honeypot", 205: "false near_honeypot",
		212: "true ", 400: "true ", 420: "true "}
	for seed := int64(1); seed < 300; seed++ {
		rng := rand.New(rand.NewSource(seed))
		evs := clone(evs)
		rng.Shuffle(len(evs), func(i, j int) { evs[i], evs[j] = evs[j], evs[i] })
		s := newMem(Org{})
		for _, ev := range evs {
			s.write(t, []*mailtrail.Event{ev})
		}
		if len(s.clicks[1]) != len(want) {
			t.Fatalf("seed %d: %d clicks stored, want %d", seed, len(s.clicks[1]), len(want))
		}
		for _, c := range s.clicks[1] {
			sec := int((c.At - t0.UnixMilli()) / 1000)
			if got := fmt.Sprintf("%v %s", isHuman(c.Class), c.Reasons); got != want[sec] {
				t.Fatalf("seed %d: click at %d s: human %s, want %s", seed, sec, got, want[sec])
			}
		}
	}
}

func TestPlanFigures(t *testing.T) {
	s := run(t, rand.New(rand.NewSource(3)), clone(history()))
	a := "https://a.example/x"
	cases := []struct {
		name      string
		got, want int64
	}{
		{"sent", unique(s, rules.FSent), 3},
		{"delivered (an open or click implies it)", unique(s, rules.FDelivered), 3},
		{"clicked", unique(s, rules.FClick), 2},
		// Message 1's clicks at 35–36 s are a burst 5 s after delivery: bots. Its click at
		// 900 s is the first human one; message 3's click at 10 s came before delivery.
		{"human clickers", unique(s, rules.FHumanClick), 2},
		{"first human click of message 1", s.msgs[1].State[rules.FHumanClick], t0.Add(900 * time.Second).UnixMilli()},
		{"human clicks", total(s, rules.THumanClicks), 3},
		{"link a: clicks", s.links[LinkKey{testOrg, testCampaign, a}].Total, 4},
		{"link a: human clicks", s.links[LinkKey{testOrg, testCampaign, a}].Human, 2},
		{"link a: human clickers", s.links[LinkKey{testOrg, testCampaign, a}].HumanUniq, 1},
		{"link a: clickers", s.links[LinkKey{testOrg, testCampaign, a}].Uniq, 2},
		{"hard bounced", unique(s, rules.FHardBounce), 1},
		{"complained", unique(s, rules.FComplaint), 1},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("%s: %d, want %d", c.name, c.got, c.want)
		}
	}
	// Suppressions: message 3's complaint outranks nothing before it, the later hard
	// bounce does not replace it; message 2's fourth soft bounce (after a delivery reset
	// the run) does not reach the limit of 3; its topic unsubscribe is scoped.
	if got := s.supp[Addr{testOrg, "person3@example.com"}]; !got.Found || got.S.Reason != mailtrail.ReasonComplaint {
		t.Errorf("person3: %+v, want a complaint suppression", got)
	}
	if got := s.supp[Addr{testOrg, "person2@example.com"}]; got.Found {
		t.Errorf("person2 suppressed organization-wide: %+v", got)
	}
	if got := s.topics[TopicAddr{Addr{testOrg, "person2@example.com"}, "news"}]; !got.Found || got.S.Reason != mailtrail.ReasonUnsubscribed {
		t.Errorf("person2 for news: %+v, want unsubscribed", got)
	}
	// The facts published: every click relabelled after it was stored, and no more.
	for _, f := range s.facts {
		if f.OrgID != "org" || f.CampaignID != "spring" {
			t.Errorf("fact %+v names the wrong organization or campaign", f)
		}
	}
}

func TestPlanSoftBounceRun(t *testing.T) {
	s := newMem(Org{SoftBounceLimit: 3})
	addr := Addr{testOrg, "person2@example.com"}
	for i := 0; i < 3; i++ {
		s.write(t, []*mailtrail.Event{event(2, mailtrail.EventBounced, i*86400, soft)})
	}
	if got := s.supp[addr]; !got.Found || got.S.Reason != mailtrail.ReasonSoftBounce {
		t.Fatalf("after 3 soft bounces at limit 3: %+v, want a soft-bounce suppression", got)
	}
	// A delivery after the run lifts it, and the history says so.
	s.write(t, []*mailtrail.Event{event(2, mailtrail.EventDelivered, 4*86400, webhook)})
	if got := s.supp[addr]; got.Found {
		t.Fatalf("after a delivery: %+v, want lifted", got)
	}
	if h := s.history; len(h) != 2 || h[0].Next.Reason != mailtrail.ReasonSoftBounce || h[1].Next.Reason != "" {
		t.Fatalf("history %+v, want added then lifted", h)
	}
}

func TestPrepare(t *testing.T) {
	m := &Message{TrackOpens: true, TrackClicks: true}
	ev := event(1, mailtrail.EventOpened, 0, webhook, withIP("203.0.113.77"))
	Prepare(ev, m, Org{})
	if ev.Counted {
		t.Error("an ESP open of a message whose opens we track counted")
	}
	if ev.Metadata.IP == "203.0.113.77" {
		t.Error("the client address kept whole for an organization that does not keep full addresses")
	}
	ev = event(1, mailtrail.EventOpened, 0, withIP("203.0.113.77"))
	Prepare(ev, m, Org{KeepFullIP: true})
	if !ev.Counted || ev.Metadata.IP != "203.0.113.77" {
		t.Errorf("our own open: counted %v, ip %q; want counted with the full address kept", ev.Counted, ev.Metadata.IP)
	}
}

func TestAddNeedsLoadedState(t *testing.T) {
	m := &Message{ID: 1, Org: testOrg, Customer: 5, Email: "a@example.com"}
	ev := event(1, mailtrail.EventDelivered, 0, webhook)
	Prepare(ev, m, Org{})
	if err := New(NewState()).Add(ev, m); err == nil {
		t.Fatal("Add with the customer's activity not loaded: no error")
	}
}
