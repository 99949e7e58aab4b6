// Package derive is the planner of the write path: given a batch of stored events and the
// state they touch (message states, customer activity, clicks within reach, soft-bounce
// runs, suppressions, organization settings), it decides everything that follows from
// them and returns it as a Plan: row-level deltas for every counter and state row, the
// clicks to relabel, the suppression changes with their history entries, and the facts to
// publish. It does no I/O. A store loads the state by key, runs the planner and applies
// the plan; it decides nothing.
//
// Planning a batch is three steps, because what the later ones need to know depends on
// the earlier ones:
//
//  1. Add each stored event (in batch order): message state, campaign buckets, breakdowns,
//     customer activity, link clicks, suppressions; it collects the spans of each message's
//     clicks whose labels the batch may have changed.
//  2. For each span (Windows), the store reads the message's clicks in its reach and
//     Relabel runs the click rules over them.
//  3. The store reads the current per-message link counts of LinkClickKeys and Finish
//     returns the plan.
//
// Every figure is a function of the set of events, not of their order; the conformance
// suite (internal/store/storetest) recounts raw events after random permutations and
// duplications to prove it, and this package's tests do the same without a store.
package derive

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/rules"
)

// Message is one message's derived state. The int64 ids are the store's keys, opaque to
// the planner; the strings are the client's names, for published facts.
type Message struct {
	ID, Org, Campaign, Customer          int64
	OrgPublic, CampaignName, CustomerExt string
	Email, ESPMessageID                  string
	TrackOpens, TrackClicks              bool
	State                                rules.MessageState
	DeliveredAt                          int64 // earliest counted delivered event, unix ms (0: none)
}

// Org is what the planner needs of an organization's settings.
type Org struct {
	KeepFullIP      bool
	SoftBounceLimit int
}

// Prepare decides what is stored of a new event of message m: whether it counts, and its
// client address, truncated unless the organization keeps full addresses. The store calls
// it before storing the event, duplicates included.
func Prepare(ev *mailtrail.Event, m *Message, o Org) {
	ev.Counted = rules.Counted(ev, m.TrackOpens, m.TrackClicks)
	if ev.Metadata.IP != "" && !o.KeepFullIP {
		ev.Metadata.IP = mailtrail.TruncateIP(ev.Metadata.IP)
	}
}

// StatKey is one quarter-hour bucket of a campaign.
type StatKey struct{ Campaign, Bucket int64 }

// StatRow is the changes to one bucket: the unique counters (rules.Field) then the totals
// (rules.Total).
type StatRow [int(rules.NumFields) + int(rules.NumTotals)]int64

// Breakdown dimensions.
const (
	DimClient = iota
	DimDevice
	DimCountry
	DimCity
	NumDims
)

// DimNames are the API names of the dimensions, by Dim.
var DimNames = [NumDims]string{"client", "device", "country", "city"}

// DimKey is one breakdown counter: a campaign's opens or clicks by one dimension's value.
type DimKey struct {
	Campaign int64
	Kind     mailtrail.EventType // opened or clicked
	Dim      int
	Value    string
}

// DimRow is the change to a breakdown counter.
type DimRow struct{ Total, Human int64 }

// DimValues are an open's or click's values of the dimensions, by Dim.
func DimValues(md *mailtrail.Metadata) [NumDims]string {
	city := md.City
	if city != "" && md.Country != "" {
		city = md.Country + "/" + city // "Paris" alone is ambiguous (France, Texas)
	}
	return [NumDims]string{md.Client, md.Device, md.Country, city}
}

// LinkClickKey is one message's clicks of one link of its campaign.
type LinkClickKey struct {
	Org      int64 // the campaign's
	Campaign int64
	URL      string
	Message  int64
}

// LinkClicks is a message's click count of a link: all, and by people.
type LinkClicks struct{ Clicks, Human int64 }

// LinkKey is one link of a campaign.
type LinkKey struct {
	Org      int64 // the campaign's
	Campaign int64
	URL      string
}

// LinkRow is the change to a link's counters: clicks, human clicks, and the recipients who
// clicked it (uniq), and by people.
type LinkRow struct{ Total, Human, Uniq, HumanUniq int64 }

// Addr is an organization's normalized address.
type Addr struct {
	Org   int64
	Email string
}

// TopicAddr is an address within one topic.
type TopicAddr struct {
	Addr
	Topic string
}

// Suppression is an address's current suppression row (Found false: none).
type Suppression struct {
	S          rules.Suppress
	CustomerID string
	Found      bool
}

// SuppressionWrite moves an address from Cur to Next (Next.Reason "" lifts it) and records
// it in the history. Topic "" is the organization-wide suppression; a topic write carries
// its history Action.
type SuppressionWrite struct {
	Addr
	Topic      string
	Display    string // the spelling of a new row ("" = the key)
	CustomerID string // the event's customer
	At         int64  // when the change is recorded (the event's received_at), unix ms
	Cur        Suppression
	Next       rules.Suppress
	Action     string // topic writes: added or replaced
}

// Click is one stored counted click of a message, as the click rules read it.
type Click struct {
	Row       int64 // the store's key of the event
	At        int64
	Class     mailtrail.Classification
	Reasons   string
	RawMeta   string // the event's metadata as JSON; decoded only when its label changes
	LinkURL   string
	LinkIndex int // -1: none
}

// Relabel rewrites a stored click's label.
type Relabel struct {
	Row     int64
	Class   mailtrail.Classification
	Reasons string
}

// ClickRelabel is a fact to publish: a stored click whose human label the click rules
// changed (a burst, the honeypot, timing against a later delivery).
type ClickRelabel = mailtrail.ClickRelabel

// Window is a span of one message's clicks whose labels the batch may have changed. The
// store reads the message's counted clicks with From <= At <= To (ordered by time, then
// row; at most rules.MaxClicksClassified+1), and the time of its first human click outside
// that range.
type Window struct {
	Msg      *Message
	lo, hi   int64 // the clicks relabelled, inclusive
	From, To int64
}

// State is what a batch's events touch, loaded by the store before Add. The planner
// changes it as it goes (later events of the batch see earlier ones' effects).
type State struct {
	Orgs      map[int64]Org
	Customers map[int64]rules.CustomerActivity // by Message.Customer
	// Suppressions, SoftBounces, Topics and Resubscribes hold the rows of the keys that
	// SuppressionNeeds names; a key loaded and absent is a zero entry (Found false, "",
	// 0) present in the map.
	Suppressions map[Addr]Suppression
	SoftBounces  map[Addr]string // the soft-bounce run as stored (JSON; "" none)
	Topics       map[TopicAddr]Suppression
	Resubscribes map[TopicAddr]int64
}

// NewState returns an empty state.
func NewState() *State {
	return &State{Orgs: map[int64]Org{}, Customers: map[int64]rules.CustomerActivity{},
		Suppressions: map[Addr]Suppression{}, SoftBounces: map[Addr]string{},
		Topics: map[TopicAddr]Suppression{}, Resubscribes: map[TopicAddr]int64{}}
}

// Plan is what a batch changes. Deltas add to what is stored; Messages and Customers are
// the new values of the rows that changed.
type Plan struct {
	Messages   []*Message // in id order
	Customers  map[int64]rules.CustomerActivity
	Stats      map[StatKey]*StatRow
	Dims       map[DimKey]*DimRow
	LinkClicks map[LinkClickKey]*LinkClicks
	Links      map[LinkKey]*LinkRow // filled by Finish
	Relabels   []Relabel
	// Suppressions in the order they happen; SoftBounces are the runs' new values.
	Suppressions []SuppressionWrite
	SoftBounces  map[Addr]string
	// Facts to publish after the commit.
	ClickRelabels []ClickRelabel
}

// Planner plans one batch.
type Planner struct {
	st        *State
	plan      Plan
	dirtyMsgs map[int64]*Message
	dirtyCust map[int64]bool
	windows   map[int64]*Window
	changes   []rules.Change
}

// New returns a planner over st.
func New(st *State) *Planner {
	return &Planner{st: st, dirtyMsgs: map[int64]*Message{}, dirtyCust: map[int64]bool{}, windows: map[int64]*Window{},
		plan: Plan{Customers: map[int64]rules.CustomerActivity{}, Stats: map[StatKey]*StatRow{}, Dims: map[DimKey]*DimRow{},
			LinkClicks: map[LinkClickKey]*LinkClicks{}, Links: map[LinkKey]*LinkRow{}, SoftBounces: map[Addr]string{}}}
}

// SuppressionNeed is the suppression state one event reads.
type SuppressionNeed struct {
	Addr
	Topic string // a scoped unsubscribe: Topics and Resubscribes of (Addr, Topic)
	// Soft: the soft-bounce run. Suppression: the organization-wide row, always for
	// Immediate and soft bounces, for a reset only when the address has a run (then
	// SuppressionIfRun is set instead and the store loads the row when the run exists or
	// another event of the batch needs it).
	Soft, Suppression, SuppressionIfRun bool
}

// suppressionAddr is the address an event's suppression is about, and its spelling.
func suppressionAddr(ev *mailtrail.Event, m *Message) (email, spelling string) {
	spelling = ev.CustomerEmail
	if spelling == "" {
		spelling = m.Email
	}
	email = mailtrail.NormalizeEmail(spelling)
	// Shown as the CRM spelled it when the event is about the message's address (SparkPost
	// reports it lower-cased), else as the event spelled it.
	if email != "" && mailtrail.NormalizeEmail(m.Email) == email {
		spelling = m.Email
	}
	return email, spelling
}

// SuppressionNeeds says which suppression state a stored event of message m reads; ok is
// false when it reads none.
func SuppressionNeeds(ev *mailtrail.Event, m *Message) (n SuppressionNeed, ok bool) {
	sig := rules.SuppressionSignal(ev)
	if sig == rules.SignalNone {
		return n, false
	}
	email, _ := suppressionAddr(ev, m)
	if email == "" {
		return n, false
	}
	n.Addr = Addr{m.Org, email}
	if ev.Type == mailtrail.EventUnsubscribed && ev.Metadata.Topic != "" {
		n.Topic = ev.Metadata.Topic
		return n, true
	}
	switch sig {
	case rules.SignalImmediate:
		n.Suppression = true
	case rules.SignalSoftBounce:
		n.Soft, n.Suppression = true, true
	default:
		n.Soft, n.SuppressionIfRun = true, true
	}
	return n, true
}

// Add folds one stored event of message m into the plan. m is changed in place (the plan
// lists it when it changed). Events must be added in the order they were stored.
func (p *Planner) Add(ev *mailtrail.Event, m *Message) error {
	in := rules.Input{Type: ev.Type, OccurredAt: ev.OccurredAt.UnixMilli(), Human: ev.IsHuman(),
		Hard: ev.Metadata.BounceType == mailtrail.BounceHard, Counted: ev.Counted}
	before := m.State
	m.State, p.changes = rules.Apply(m.State, in, p.changes[:0])
	if m.State != before {
		p.dirtyMsgs[m.ID] = m
	}
	for _, c := range p.changes {
		row := p.stat(m.Campaign, c.Bucket)
		if c.IsTotal {
			row[int(rules.NumFields)+int(c.Total)] += c.Delta
		} else {
			row[c.Field] += c.Delta
		}
	}
	// The clicks whose labels this event may change (see rules.ClassifyClicks): those near
	// a new click, or up to a moved delivery (or send) reference.
	near := rules.NearDelivery.Milliseconds()
	switch {
	case ev.Type == mailtrail.EventDelivered && ev.Counted && (m.DeliveredAt == 0 || in.OccurredAt < m.DeliveredAt):
		ref := max(m.DeliveredAt, m.State[rules.FSent], in.OccurredAt)
		m.DeliveredAt = in.OccurredAt
		p.dirtyMsgs[m.ID] = m
		if m.State.Set(rules.FClick) {
			p.relabel(m, math.MinInt64, ref+near)
		}
	case ev.Type == mailtrail.EventSent && m.DeliveredAt == 0 && m.State != before && m.State.Set(rules.FClick):
		p.relabel(m, math.MinInt64, max(before[rules.FSent], m.State[rules.FSent])+near)
	case ev.Type == mailtrail.EventClicked && ev.Counted:
		reach := rules.ClickReach.Milliseconds()
		p.relabel(m, in.OccurredAt-reach, in.OccurredAt+reach)
	}
	if ev.Counted && (ev.Type == mailtrail.EventOpened || ev.Type == mailtrail.EventClicked) {
		p.addDims(m.Campaign, ev.Type, &ev.Metadata, 1, b2i(ev.IsHuman()))
	}
	if ev.ESPMessageID != "" && m.ESPMessageID == "" {
		m.ESPMessageID = ev.ESPMessageID
		p.dirtyMsgs[m.ID] = m
	}
	if ev.Counted {
		a, ok := p.st.Customers[m.Customer]
		if !ok {
			return fmt.Errorf("derive: activity of customer %d not loaded", m.Customer)
		}
		if n := rules.ApplyCustomer(a, in); n != a {
			p.st.Customers[m.Customer] = n
			p.dirtyCust[m.Customer] = true
		}
		if ev.Type == mailtrail.EventClicked && ev.Metadata.LinkURL != "" {
			p.addLinkClick(m, ev.Metadata.LinkURL, 1, b2i(ev.IsHuman()))
		}
	}
	return p.suppress(ev, m)
}

// suppress applies the suppression rules to one event: hard bounces, complaints and
// unsubscribes suppress at once, soft bounces and resets update the address's soft-bounce
// run, which may suppress it or lift a soft-bounce suppression.
func (p *Planner) suppress(ev *mailtrail.Event, m *Message) error {
	n, ok := SuppressionNeeds(ev, m)
	if !ok {
		return nil
	}
	se := rules.SuppressionEventOf(ev)
	_, spelling := suppressionAddr(ev, m)
	w := SuppressionWrite{Addr: n.Addr, Topic: n.Topic, Display: spelling, CustomerID: m.CustomerExt, At: ev.ReceivedAt.UnixMilli()}
	if n.Topic != "" {
		return p.suppressTopic(w, se)
	}
	var soft, nsoft rules.SoftBounceState
	var raw string
	limit := 0
	if se.Signal != rules.SignalImmediate {
		var ok bool
		if raw, ok = p.st.SoftBounces[n.Addr]; !ok {
			return fmt.Errorf("derive: soft-bounce run of an address not loaded")
		}
		if raw == "" {
			if se.Signal == rules.SignalReset {
				return nil // nothing to reset
			}
		} else if err := json.Unmarshal([]byte(raw), &soft); err != nil {
			return fmt.Errorf("derive: soft-bounce run of organization %d: %w", n.Org, err)
		}
		limit = p.st.Orgs[n.Org].SoftBounceLimit
	}
	cur, ok := p.st.Suppressions[n.Addr]
	if !ok {
		return fmt.Errorf("derive: suppression of an address not loaded")
	}
	next, nsoft := rules.ApplySuppression(cur.S, soft, se, limit)
	if se.Signal != rules.SignalImmediate {
		b, _ := json.Marshal(nsoft)
		if string(b) != raw {
			p.st.SoftBounces[n.Addr] = string(b)
			p.plan.SoftBounces[n.Addr] = string(b)
		}
	}
	if next == cur.S {
		return nil
	}
	w.Cur, w.Next = cur, next
	p.plan.Suppressions = append(p.plan.Suppressions, w)
	after := Suppression{}
	if next.Reason != "" {
		after = Suppression{S: next, CustomerID: cmpOr(w.CustomerID, cur.CustomerID), Found: true}
	}
	p.st.Suppressions[n.Addr] = after
	return nil
}

// suppressTopic applies a scoped unsubscribe. A topic can be left and joined again, so
// its state is the latest unsubscribe U and the latest resubscribe R: the address is
// suppressed for the topic while U > R, and the row keeps U as its cause. Both are maxima
// of the events seen, so the outcome does not depend on arrival order.
func (p *Planner) suppressTopic(w SuppressionWrite, se rules.SuppressionEvent) error {
	k := TopicAddr{w.Addr, w.Topic}
	cur, ok := p.st.Topics[k]
	if !ok {
		return fmt.Errorf("derive: topic suppression of an address not loaded")
	}
	next := rules.Suppress{Reason: se.Reason, Source: se.Source, EventID: se.EventID, Detail: se.Detail, At: se.At}
	if cur.Found && (cur.S.At > next.At || (cur.S.At == next.At && cur.S.EventID >= next.EventID)) {
		return nil // a later unsubscribe is the cause already
	}
	if next.At <= p.st.Resubscribes[k] {
		return nil // joined again since
	}
	w.Cur, w.Next, w.Action = cur, next, mailtrail.ActionAdded
	if cur.Found {
		w.Action = mailtrail.ActionReplaced
	}
	p.plan.Suppressions = append(p.plan.Suppressions, w)
	p.st.Topics[k] = Suppression{S: next, CustomerID: cmpOr(w.CustomerID, cur.CustomerID), Found: true}
	return nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// relabel asks for the labels of message m's clicks in [lo, hi] to be decided again.
func (p *Planner) relabel(m *Message, lo, hi int64) {
	if w := p.windows[m.ID]; w != nil {
		w.lo, w.hi = min(w.lo, lo), max(w.hi, hi)
		return
	}
	p.windows[m.ID] = &Window{Msg: m, lo: lo, hi: hi}
}

// Windows returns the spans of clicks to read for Relabel, in message id order.
//
// A click's label depends only on the message's delivery and send times and on its clicks
// within rules.ClickReach, so reading the clicks within ClickReach of the span gives the
// same labels as reading them all; the cost stays bounded when a message has many clicks.
func (p *Planner) Windows() []*Window {
	out := make([]*Window, 0, len(p.windows))
	reach := rules.ClickReach.Milliseconds()
	for _, w := range p.windows {
		w.From, w.To = w.lo, w.hi+reach
		if w.From > math.MinInt64+reach {
			w.From -= reach
		}
		out = append(out, w)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Msg.ID < out[j].Msg.ID })
	return out
}

// Relabel runs the click rules over the clicks of one window (clicks: the message's
// counted clicks in [w.From, w.To] as stored, including this batch's, ordered by time then
// row; firstHumanOutside looks up the earliest human click outside that range, 0 if none,
// and is called only when the first human click is relabelled a bot's). Each
// click whose label changes is rewritten and moved between the human and the non-human
// figures: campaign totals, the first human click, link and per-recipient link counters,
// breakdowns.
func (p *Planner) Relabel(w *Window, clicks []Click, firstHumanOutside func() (int64, error)) error {
	if len(clicks) > rules.MaxClicksClassified {
		return nil // labelled by their requests alone; see rules.MaxClicksClassified
	}
	m := w.Msg
	in := make([]rules.Click, len(clicks))
	for i, c := range clicks {
		link := c.LinkURL
		if link == "" && c.LinkIndex >= 0 {
			link = "#" + strconv.Itoa(c.LinkIndex)
		}
		in[i] = rules.Click{At: c.At, Link: link,
			Honeypot:   c.LinkIndex == mailtrail.HoneypotLink && c.LinkURL == "",
			RequestBot: len(requestReasons(c.Reasons)) > 0 && c.Class != mailtrail.Human && c.Class != ""}
	}
	verdicts := rules.ClassifyClicks(m.DeliveredAt, m.State[rules.FSent], in)
	first := m.State[rules.FHumanClick]
	lostFirst := false
	final := make([]bool, len(clicks)) // human, after relabelling
	for i, c := range clicks {
		final[i] = isHuman(c.Class)
		if c.At < w.lo || c.At > w.hi {
			continue // context only: its own neighbours were not all read
		}
		v := verdicts[i]
		class := mailtrail.Human
		switch {
		case in[i].RequestBot:
			class = c.Class
		case v.Bot:
			class = mailtrail.Bot
		}
		reasons := strings.Join(append(requestReasons(c.Reasons), v.Reasons...), ",")
		if class == mailtrail.Human && reasons == "" && c.Class == "" {
			class = "" // stored as it came: empty means human
		}
		if class == c.Class && reasons == c.Reasons {
			continue
		}
		p.plan.Relabels = append(p.plan.Relabels, Relabel{Row: c.Row, Class: class, Reasons: reasons})
		wasHuman, nowHuman := isHuman(c.Class), isHuman(class)
		final[i] = nowHuman
		if wasHuman == nowHuman {
			continue
		}
		p.plan.ClickRelabels = append(p.plan.ClickRelabels, ClickRelabel{OrgID: m.OrgPublic, CampaignID: m.CampaignName,
			CustomerID: m.CustomerExt, LinkURL: c.LinkURL, At: c.At, Human: nowHuman})
		d := int64(1)
		if nowHuman {
			if first == 0 || c.At < first {
				first = c.At
			}
		} else {
			d = -1
			lostFirst = lostFirst || c.At == first
		}
		p.stat(m.Campaign, rules.Bucket(c.At))[int(rules.NumFields)+int(rules.THumanClicks)] += d
		var md mailtrail.Metadata
		if err := json.Unmarshal([]byte(c.RawMeta), &md); err != nil {
			return fmt.Errorf("derive: click metadata: %w", err)
		}
		p.addDims(m.Campaign, mailtrail.EventClicked, &md, 0, d)
		if c.LinkURL != "" {
			p.addLinkClick(m, c.LinkURL, 0, d)
		}
	}
	if lostFirst {
		// The first human click is a bot's now: the next human click, as relabelled.
		var err error
		if first, err = firstHumanOutside(); err != nil {
			return err
		}
		for i, c := range clicks {
			if final[i] && (first == 0 || c.At < first) {
				first = c.At
			}
		}
	}
	if old := m.State[rules.FHumanClick]; old != first {
		if old != 0 {
			p.stat(m.Campaign, rules.Bucket(old))[rules.FHumanClick]--
		}
		if first != 0 {
			p.stat(m.Campaign, rules.Bucket(first))[rules.FHumanClick]++
		}
		m.State[rules.FHumanClick] = first
		p.dirtyMsgs[m.ID] = m
	}
	return nil
}

func isHuman(c mailtrail.Classification) bool { return c == "" || c == mailtrail.Human }

// requestReasons returns the reasons of a stored click that came from the request itself
// (not from the click rules).
func requestReasons(reasons string) []string {
	var out []string
	for _, r := range strings.Split(reasons, ",") {
		if r != "" && !rules.IsClickRuleReason(r) {
			out = append(out, r)
		}
	}
	return out
}

// LinkClickKeys are the per-message link counts Finish needs, in a stable order.
func (p *Planner) LinkClickKeys() []LinkClickKey {
	out := make([]LinkClickKey, 0, len(p.plan.LinkClicks))
	for k := range p.plan.LinkClicks {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Campaign != b.Campaign {
			return a.Campaign < b.Campaign
		}
		if a.URL != b.URL {
			return a.URL < b.URL
		}
		return a.Message < b.Message
	})
	return out
}

// LinkClickDelta is the clicks the batch adds to one key of LinkClickKeys.
func (p *Planner) LinkClickDelta(k LinkClickKey) LinkClicks {
	if d := p.plan.LinkClicks[k]; d != nil {
		return *d
	}
	return LinkClicks{}
}

// Finish returns the plan, given the stored per-message link counts of LinkClickKeys
// (absent: zero). A link's unique counts move when a message's counts cross zero.
func (p *Planner) Finish(stored map[LinkClickKey]LinkClicks) *Plan {
	for k, d := range p.plan.LinkClicks {
		old := stored[k]
		row := rowOf(p.plan.Links, LinkKey{k.Org, k.Campaign, k.URL})
		row.Total += d.Clicks
		row.Human += d.Human
		row.Uniq += crossing(old.Clicks, old.Clicks+d.Clicks)
		row.HumanUniq += crossing(old.Human, old.Human+d.Human)
	}
	ids := make([]int64, 0, len(p.dirtyMsgs))
	for id := range p.dirtyMsgs {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		p.plan.Messages = append(p.plan.Messages, p.dirtyMsgs[id])
	}
	for id := range p.dirtyCust {
		p.plan.Customers[id] = p.st.Customers[id]
	}
	return &p.plan
}

func (p *Planner) stat(campaign, bucket int64) *StatRow {
	return rowOf(p.plan.Stats, StatKey{campaign, bucket})
}

func (p *Planner) addDims(campaign int64, kind mailtrail.EventType, md *mailtrail.Metadata, total, human int64) {
	for d, v := range DimValues(md) {
		row := rowOf(p.plan.Dims, DimKey{campaign, kind, d, v})
		row.Total += total
		row.Human += human
	}
}

func (p *Planner) addLinkClick(m *Message, url string, clicks, human int64) {
	d := rowOf(p.plan.LinkClicks, LinkClickKey{m.Org, m.Campaign, url, m.ID})
	d.Clicks += clicks
	d.Human += human
}

// rowOf returns m[k], adding a zero row first when there is none.
func rowOf[K comparable, V any](m map[K]*V, k K) *V {
	r := m[k]
	if r == nil {
		r = new(V)
		m[k] = r
	}
	return r
}

// crossing is +1 when a count goes from zero to positive, -1 back, else 0.
func crossing(old, now int64) int64 {
	switch {
	case old <= 0 && now > 0:
		return 1
	case old > 0 && now <= 0:
		return -1
	}
	return 0
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
