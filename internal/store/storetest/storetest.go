// Package storetest is the conformance suite every mailtrail store passes: the embedded
// SQLite store and the cluster's PostgreSQL store. Each store's tests call Run with a
// function that opens a fresh, empty store on the real engine, or the Run function of
// each part of the contract it answers: RunProjection (projection.go), RunOperational
// (operational.go), RunPrivacy, RunCatalog, RunOutbound and RunSegments, each running
// the areas that need no more than its part.
//
// The contract is Store (contract.go): the union of the interfaces the store's consumers
// declare. Every method of it is exercised, area by area (areas.go), with results checked
// against what was written or against a recount of the raw events as stored after the
// same history was written in random orders (OrderIndependence, Analytics).
package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/outbound"
	"github.com/mailtrail/mailtrail/internal/segment"
)

// Normalizer prepares events as the ingest pipeline does before they reach a store.
type Normalizer func(ev *mailtrail.Event, now time.Time)

// Run runs the whole suite. open returns a new empty store; reopen closes one and opens
// it again; norm is ingest.Normalize.
func Run(t *testing.T, open func(t *testing.T) Store, reopen Reopen, norm Normalizer) {
	proj := func(t *testing.T) Projection { return open(t) }
	runProjection(t, proj, reopen, norm)
	runOperational(t, func(t *testing.T) Operational { return open(t) }, norm)
	runPrivacy(t, func(t *testing.T) Privacy { return open(t) }, norm)
	runCatalog(t, func(t *testing.T) Catalog { return open(t) }, norm)
	runOutbound(t, func(t *testing.T) Outbound { return open(t) }, norm)
	runSegments(t, func(t *testing.T) Segments { return open(t) }, norm)
}

// Segments is the part of the contract the segment index is built from
// (segment.Source), with the organization lookup.
type Segments interface {
	Projection
	segment.Source // Orgs, SegmentCustomers, SegmentCampaigns, SegmentEvents, SegmentTail, LastEventID
	// httpd.Store.
	Org(ctx context.Context, id string) (*mailtrail.Organization, error)
}

// RunSegments runs the area of the suite that needs the Segments contract:
// SegmentSource (organizations, customers and campaigns by row, the counted events in
// pages and the tail after a position with the clicks to relabel). open returns a new
// empty store, norm is ingest.Normalize.
func RunSegments(t *testing.T, open func(t *testing.T) Segments, norm Normalizer) {
	runSegments(t, open, norm)
}

func runSegments(t *testing.T, open func(t *testing.T) Segments, norm Normalizer) {
	t.Run("SegmentSource", func(t *testing.T) { testSegmentSource(t, open(t), norm) })
}

// Outbound is the part of the contract about the event stream and outbound webhook
// subscriptions, which a cluster's API nodes share through the store: the stream's
// positions and reads, subscriptions, their deliveries and their sealed secrets.
type Outbound interface {
	Operational
	outbound.Store // ActiveSubscriptions, EventsAfter, RecordDelivery, AdvanceSubscription
	// httpd.StreamStore.
	StreamHead(ctx context.Context, orgID string) (int64, error)
	StreamRecent(ctx context.Context, orgID string, f mailtrail.StreamFilter, n int) (int64, error)
	StreamEnd(ctx context.Context) (int64, error)
	// httpd.SubscriptionStore.
	CreateSubscription(ctx context.Context, s *mailtrail.Subscription) error
	Subscriptions(ctx context.Context, orgID string) ([]mailtrail.Subscription, error)
	Subscription(ctx context.Context, orgID, id string) (*mailtrail.Subscription, error)
	DeleteSubscription(ctx context.Context, orgID, id string) error
	EnableSubscription(ctx context.Context, orgID, id string, skipBacklog bool) (*mailtrail.Subscription, error)
	SubscriptionDeliveries(ctx context.Context, orgID, id string, limit int) ([]mailtrail.Delivery, error)
	// cmd/mailtrail: `mailtrail reseal` (resealStore).
	ResealSubscriptions(ctx context.Context, f func(*mailtrail.Subscription) (bool, error)) (int, error)
}

// RunOutbound runs the area of the suite that needs the Outbound contract:
// Subscriptions (a subscription starts at the head, reads its organization's events past
// its position through its filter, records deliveries, is disabled, enabled, advanced,
// resealed and deleted). open returns a new empty store, norm is ingest.Normalize.
func RunOutbound(t *testing.T, open func(t *testing.T) Outbound, norm Normalizer) {
	runOutbound(t, open, norm)
}

func runOutbound(t *testing.T, open func(t *testing.T) Outbound, norm Normalizer) {
	t.Run("Subscriptions", func(t *testing.T) { testSubscriptions(t, open(t), norm) })
}

// Catalog is the part of the contract about campaigns and saved segments beyond the
// projection, which a cluster's API nodes share through the store: listing and naming
// campaigns, saving segments.
type Catalog interface {
	Operational
	// httpd.CampaignStore and dashboard.Store: Campaigns.
	Campaigns(ctx context.Context, orgID string, f mailtrail.CampaignFilter) (*mailtrail.CampaignPage, error)
	UpdateCampaign(ctx context.Context, orgID, campaign string, u mailtrail.CampaignUpdate) (*mailtrail.CampaignInfo, error)
	// httpd.SavedSegments and dashboard.SavedSegmentStore: SavedSegments.
	SaveSegment(ctx context.Context, orgID, name string, rule json.RawMessage) (*mailtrail.SavedSegment, bool, error)
	SavedSegments(ctx context.Context, orgID string) ([]mailtrail.SavedSegment, error)
	SavedSegment(ctx context.Context, orgID, name string) (*mailtrail.SavedSegment, error)
	DeleteSavedSegment(ctx context.Context, orgID, name string) error
}

// RunCatalog runs the areas of the suite that need the Catalog contract: Campaigns (a
// campaign's name and subject from its messages, updated field by field, searched) and
// SavedSegments. open returns a new empty store, norm is ingest.Normalize.
func RunCatalog(t *testing.T, open func(t *testing.T) Catalog, norm Normalizer) {
	runCatalog(t, open, norm)
}

func runCatalog(t *testing.T, open func(t *testing.T) Catalog, norm Normalizer) {
	t.Run("Campaigns", func(t *testing.T) { testCampaigns(t, open(t), norm) })
	t.Run("SavedSegments", func(t *testing.T) { testSavedSegments(t, open(t)) })
}

// Privacy is the part of the contract that erasures and retention need beyond
// Operational: what serve runs on its store and, in the cluster mode, on PostgreSQL.
type Privacy interface {
	Operational
	// httpd.CustomerStore: ErasureAndRetention.
	EraseCustomer(ctx context.Context, orgID, customerID string) (*mailtrail.EraseResult, error)
	// cmd/mailtrail: the retention and idempotency sweeps: ErasureAndRetention.
	DeleteExpiredEvents(ctx context.Context, now time.Time, chunk int) (int, error)
	// segment.Source: what the index forgets by retention: ErasureAndRetention.
	SegmentHorizons(ctx context.Context) (map[string]segment.Horizon, error)
	PruneIdempotencyKeys(ctx context.Context, cutoff time.Time, chunk int) (int, error)
	// The event log's sink (eventlog.SinkOptions.Seen, Keys): Seen, StoredKeys.
	Seen(ctx context.Context, events []*mailtrail.Event) ([]string, error)
	CountStoredKeys(ctx context.Context) (int, error)
	StoredKeys(ctx context.Context, fn func(org string, key []byte) error) error
}

// RunPrivacy runs the area of the suite that needs the Privacy contract:
// ErasureAndRetention (an erasure keeps every figure and the suppression under the
// address's hash; retention deletes raw events, not figures; pruned idempotency keys no
// longer deduplicate) and Seen (what the event log's sink asks before an append answers as
// Write would). open returns a new empty store, norm is ingest.Normalize.
func RunPrivacy(t *testing.T, open func(t *testing.T) Privacy, norm Normalizer) {
	runPrivacy(t, open, norm)
}

func runPrivacy(t *testing.T, open func(t *testing.T) Privacy, norm Normalizer) {
	t.Run("ErasureAndRetention", func(t *testing.T) { testErasure(t, open(t), norm) })
	t.Run("Seen", func(t *testing.T) { testSeen(t, open(t), norm) })
	t.Run("StoredKeys", func(t *testing.T) { StoredKeys(t, open(t), norm) })
}

// RunProjection runs the areas of the suite that need only the Projection contract
// (projection.go): DedupeAndDerived, ChangeSet, OrderIndependence, ListEvents,
// TenantIsolation, Positions, Partitions (a log's partitions applied at once), KeysAndTopics (idempotency keys, topic unsubscribes),
// UnnamedMessages (events that name a campaign and a customer, no message), Analytics
// (its campaign list only when the store has one), Journeys and Views, as Run runs them. open returns a new empty store, reopen closes one and opens it again, norm is
// ingest.Normalize.
func RunProjection(t *testing.T, open func(t *testing.T) Projection, reopen Reopen, norm Normalizer) {
	runProjection(t, open, reopen, norm)
}

func runProjection(t *testing.T, open func(t *testing.T) Projection, reopen Reopen, norm Normalizer) {
	t.Run("DedupeAndDerived", func(t *testing.T) { testDedupe(t, open(t), norm) })
	t.Run("ChangeSet", func(t *testing.T) { testChangeSet(t, open(t), norm) })
	t.Run("OrderIndependence", func(t *testing.T) { testOrder(t, open, norm) })
	t.Run("ListEvents", func(t *testing.T) { testList(t, open(t), norm) })
	t.Run("TenantIsolation", func(t *testing.T) { testTenants(t, open(t), norm) })
	t.Run("Positions", func(t *testing.T) { testPositions(t, open, reopen, norm) })
	t.Run("Partitions", func(t *testing.T) { testPartitions(t, open, norm) })
	t.Run("KeysAndTopics", func(t *testing.T) { testKeysAndTopics(t, open, norm) })
	t.Run("UnnamedMessages", func(t *testing.T) { testUnnamedMessages(t, open(t), norm) })
	t.Run("Analytics", func(t *testing.T) { testAnalytics(t, open, norm) })
	t.Run("Journeys", func(t *testing.T) { testJourneys(t, open(t), norm) })
	t.Run("Views", func(t *testing.T) { testViews(t, open(t), norm) })
}

var ctx = context.Background()

func must[T any](t *testing.T) func(v T, err error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func newOrg(t *testing.T, s Projection, name string) (*mailtrail.Organization, string) {
	t.Helper()
	o, key, err := s.CreateOrg(ctx, name, "Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	return o, key
}

func testOrgsAndKeys(t *testing.T, s Operational) {
	o, key := newOrg(t, s, "acme")
	got := must[*mailtrail.Organization](t)(s.Authenticate(ctx, key))
	if got.ID != o.ID || got.Timezone != "Europe/Paris" {
		t.Fatalf("authenticate: got %+v want %+v", got, o)
	}
	if _, err := s.Authenticate(ctx, key+"x"); mailtrail.ErrorCode(err) != mailtrail.EUNAUTHORIZED {
		t.Fatalf("wrong key: %v", err)
	}
	k, secret, err := s.CreateAPIKey(ctx, o.ID, "second", mailtrail.ScopeAll)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeAPIKey(ctx, o.ID, k.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, secret); mailtrail.ErrorCode(err) != mailtrail.EUNAUTHORIZED {
		t.Fatalf("revoked key still works: %v", err)
	}
	other, _ := newOrg(t, s, "other")
	if err := s.RevokeAPIKey(ctx, other.ID, k.ID); mailtrail.ErrorCode(err) != mailtrail.ENOTFOUND {
		t.Fatalf("revoke across orgs: %v", err)
	}
}

// ref makes a message id: 16 base64url characters.
func ref(i int) string { return fmt.Sprintf("msg%013d", i) }

func testMessages(t *testing.T, s Operational) {
	o, _ := newOrg(t, s, "acme")
	m := &mailtrail.Message{ID: ref(1), CampaignID: "c1", CustomerID: "u1", CustomerEmail: "u1@Example.COM", TrackOpens: true, TrackClicks: true,
		Links: []string{"https://a.example/x", "https://b.example/y?q=1", "https://a.example/x"}}
	if err := s.CreateMessages(ctx, o.ID, []*mailtrail.Message{m}); err != nil {
		t.Fatal(err)
	}
	got := must[*mailtrail.Message](t)(s.Message(ctx, o.ID, ref(1)))
	if !reflect.DeepEqual(got.Links, m.Links) || got.CampaignID != "c1" || got.CustomerID != "u1" || !got.TrackOpens {
		t.Fatalf("message: got %+v", got)
	}
	for range 2 { // a store may cache the answers: the second round may come from there
		for i, want := range m.Links {
			org, target, err := s.ClickTarget(ctx, ref(1), i)
			if err != nil || target != want || org != o.ID {
				t.Fatalf("click target %d: %q %q %v", i, org, target, err)
			}
		}
	}
	if _, _, err := s.ClickTarget(ctx, ref(1), 3); mailtrail.ErrorCode(err) != mailtrail.ENOTFOUND {
		t.Fatalf("index past the links: %v", err)
	}
	if err := s.CreateMessages(ctx, o.ID, []*mailtrail.Message{m}); mailtrail.ErrorCode(err) != mailtrail.ECONFLICT {
		t.Fatalf("duplicate message id: %v", err)
	}
	other, _ := newOrg(t, s, "other")
	if _, err := s.Message(ctx, other.ID, ref(1)); mailtrail.ErrorCode(err) != mailtrail.ENOTFOUND {
		t.Fatalf("message visible to another org: %v", err)
	}
}

var base = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

func ev(org string, msg int, typ mailtrail.EventType, at time.Duration, key string) *mailtrail.Event {
	e := &mailtrail.Event{OrgID: org, MessageID: ref(msg), Type: typ, OccurredAt: base.Add(at), Source: mailtrail.SourceWebhook, DedupeKey: key}
	switch typ {
	case mailtrail.EventBounced:
		e.Metadata.BounceType = mailtrail.BounceSoft
		if msg%2 == 0 {
			e.Metadata.BounceType = mailtrail.BounceHard
		}
	case mailtrail.EventClicked:
		e.Source = mailtrail.SourceTracking
		e.Metadata.LinkURL = fmt.Sprintf("https://x.example/%d", msg%3)
	case mailtrail.EventOpened:
		e.Source = mailtrail.SourceTracking
		if msg%4 == 3 {
			e.Classification = mailtrail.Machine
		}
	}
	return e
}

func seedMessages(t *testing.T, s Projection, org string, n int) {
	t.Helper()
	var msgs []*mailtrail.Message
	for i := 0; i < n; i++ {
		msgs = append(msgs, &mailtrail.Message{ID: ref(i), CampaignID: "camp", CustomerID: fmt.Sprintf("u%d", i),
			CustomerEmail: fmt.Sprintf("u%d@example.com", i), TrackOpens: true, TrackClicks: true})
	}
	if err := s.CreateMessages(ctx, org, msgs); err != nil {
		t.Fatal(err)
	}
}

func write(t *testing.T, s Projection, norm Normalizer, evs []*mailtrail.Event) []bool {
	t.Helper()
	for _, e := range evs {
		norm(e, base.Add(1000*time.Hour))
	}
	cs, err := s.Write(ctx, evs)
	if err != nil {
		t.Fatal(err)
	}
	return cs.Duplicate
}

func total(t *testing.T, s Projection, org, camp string) mailtrail.Counts {
	t.Helper()
	var c mailtrail.Counts
	for _, b := range must[[]mailtrail.CampaignBucket](t)(each(s).CampaignBuckets(ctx, org, camp)) {
		c.Add(b.Counts)
	}
	return c
}

func testDedupe(t *testing.T, s Projection, norm Normalizer) {
	o, _ := newOrg(t, s, "acme")
	seedMessages(t, s, o.ID, 3)
	dup := write(t, s, norm, []*mailtrail.Event{
		ev(o.ID, 0, mailtrail.EventSent, 0, "s0"), ev(o.ID, 0, mailtrail.EventSent, 0, "s0"), // duplicate within a batch
		ev(o.ID, 0, mailtrail.EventOpened, time.Hour, ""), ev(o.ID, 0, mailtrail.EventOpened, 2*time.Hour, ""),
	})
	if !reflect.DeepEqual(dup, []bool{false, true, false, false}) {
		t.Fatalf("duplicates: %v", dup)
	}
	dup = write(t, s, norm, []*mailtrail.Event{ev(o.ID, 0, mailtrail.EventSent, 0, "s0"), ev(o.ID, 1, mailtrail.EventBounced, time.Minute, "b1")})
	if !reflect.DeepEqual(dup, []bool{true, false}) {
		t.Fatalf("duplicates across batches: %v", dup)
	}
	c := total(t, s, o.ID, "camp")
	want := mailtrail.Counts{Sent: 1, Delivered: 1, OpensTotal: 2, OpensUnique: 1, HumanOpensTotal: 2, HumanOpensUnique: 1, Bounced: 1, BouncedSoft: 1}
	if c != want {
		t.Fatalf("counts:\n got %+v\nwant %+v", c, want)
	}
	// An event naming a message of no organization is never stored.
	bad := ev(o.ID, 99, mailtrail.EventOpened, 0, "")
	if dup := write(t, s, norm, []*mailtrail.Event{bad}); !dup[0] {
		t.Fatal("event for an unknown message was stored")
	}
}

// history returns a random history of events over n messages, with keys.
func history(r *rand.Rand, org string, n int) []*mailtrail.Event {
	var evs []*mailtrail.Event
	for i := 0; i < 400; i++ {
		msg := r.IntN(n)
		typ := mailtrail.EventTypes[r.IntN(len(mailtrail.EventTypes))]
		at := time.Duration(r.IntN(96*4)) * 15 * time.Minute
		evs = append(evs, ev(org, msg, typ, at, fmt.Sprintf("k%d", i)))
	}
	return evs
}

func clone(evs []*mailtrail.Event) []*mailtrail.Event {
	out := make([]*mailtrail.Event, len(evs))
	for i, e := range evs {
		c := *e
		out[i] = &c
	}
	return out
}

func testOrder(t *testing.T, open func(t *testing.T) Projection, norm Normalizer) {
	r := rand.New(rand.NewPCG(3, 4))
	var first []mailtrail.CampaignBucket
	var firstLinks []mailtrail.LinkStats
	var firstLabels []string
	for round := 0; round < 3; round++ {
		s := open(t)
		o, _ := newOrg(t, s, "acme")
		seedMessages(t, s, o.ID, 20)
		evs := history(rand.New(rand.NewPCG(1, 1)), o.ID, 20)
		// Permute, duplicate a third of them, and write in batches of random size.
		all := clone(evs)
		for _, e := range evs {
			if r.IntN(3) == 0 {
				c := *e
				all = append(all, &c)
			}
		}
		r.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
		for len(all) > 0 {
			n := min(len(all), 1+r.IntN(60))
			write(t, s, norm, all[:n])
			all = all[n:]
		}
		buckets := must[[]mailtrail.CampaignBucket](t)(each(s).CampaignBuckets(ctx, o.ID, "camp"))
		links := must[[]mailtrail.LinkStats](t)(each(s).CampaignLinks(ctx, o.ID, "camp", 100))
		for i := range links {
			links[i].ID = 0 // the store's own, numbered in the order the links came
		}
		var got mailtrail.Counts
		for _, b := range buckets {
			got.Add(b.Counts)
		}
		raw := stored(t, s, o.ID, "camp")
		if n := len(raw); n != len(evs) {
			t.Fatalf("round %d: %d events stored, want %d distinct", round, n, len(evs))
		}
		if want := recount(raw); got != want {
			t.Fatalf("round %d: figures differ from a recount of raw events:\n got %+v\nwant %+v", round, got, want)
		}
		if bad := beforeSendMismatches(raw); len(bad) > 0 {
			t.Fatalf("round %d: before_send differs from a recount of raw events:\n%v", round, bad)
		}
		labels := labelsOf(raw)
		if round == 0 && !strings.Contains(strings.Join(labels, "\n"), "delivery") {
			// The history clicks before and at delivery times: the click rules must label them.
			t.Fatalf("no click was labelled by the delivery-timing rules:\n%v", labels)
		}
		if round == 0 {
			first, firstLinks, firstLabels = buckets, links, labels
			continue
		}
		if !reflect.DeepEqual(labels, firstLabels) {
			t.Fatalf("round %d: classifications differ from round 0:\n%v\n%v", round, labels, firstLabels)
		}
		if !reflect.DeepEqual(buckets, first) {
			for i := range max(len(buckets), len(first)) {
				if i >= len(buckets) || i >= len(first) || buckets[i] != first[i] {
					t.Logf("bucket %d:\n %+v\n %+v", i, at(buckets, i), at(first, i))
				}
			}
			t.Fatalf("round %d: buckets differ from round 0", round)
		}
		if !reflect.DeepEqual(links, firstLinks) {
			t.Fatalf("round %d: links differ: %+v vs %+v", round, links, firstLinks)
		}
	}
}

func testList(t *testing.T, s Projection, norm Normalizer) {
	o, _ := newOrg(t, s, "acme")
	seedMessages(t, s, o.ID, 5)
	var evs []*mailtrail.Event
	for i := 0; i < 25; i++ {
		evs = append(evs, ev(o.ID, i%5, mailtrail.EventDelivered, time.Duration(i)*time.Minute, fmt.Sprintf("d%d", i)))
	}
	// Stores that build some indexes in the background must answer exactly with part of
	// the events indexed and part not.
	write(t, s, norm, evs[:12])
	if ix, ok := s.(interface {
		IndexCustomerEvents(context.Context) (int, error)
	}); ok {
		if n, err := ix.IndexCustomerEvents(ctx); err != nil || n != 12 {
			t.Fatalf("index: %d %v", n, err)
		}
	}
	write(t, s, norm, evs[12:])
	for _, f := range []mailtrail.EventFilter{{CampaignID: "camp"}, {CustomerID: "u2"}, {}} {
		f.Limit = 4
		var seen []string
		for {
			page := must[*mailtrail.EventPage](t)(each(s).ListEvents(ctx, o.ID, f))
			for _, e := range page.Events {
				seen = append(seen, e.ID)
				if e.OrgID != o.ID || e.CampaignID != "camp" {
					t.Fatalf("event %+v", e)
				}
			}
			if page.NextCursor == "" {
				break
			}
			f.Cursor = page.NextCursor
		}
		want := 25
		if f.CustomerID != "" {
			want = 5
		}
		if len(seen) != want {
			t.Fatalf("filter %+v: %d events, want %d", f, len(seen), want)
		}
		uniq := map[string]bool{}
		for _, id := range seen {
			uniq[id] = true
		}
		if len(uniq) != want {
			t.Fatalf("filter %+v: pages repeat events", f)
		}
	}
	page := must[*mailtrail.EventPage](t)(each(s).ListEvents(ctx, o.ID, mailtrail.EventFilter{CampaignID: "camp",
		Since: base.Add(10 * time.Minute), Until: base.Add(15 * time.Minute)}))
	if len(page.Events) != 5 {
		t.Fatalf("time range: %d events, want 5", len(page.Events))
	}
}

func testTenants(t *testing.T, s Projection, norm Normalizer) {
	a, _ := newOrg(t, s, "a")
	b, _ := newOrg(t, s, "b")
	seedMessages(t, s, a.ID, 2)
	// B posts an event naming A's message: never stored, A's figures unchanged.
	if dup := write(t, s, norm, []*mailtrail.Event{ev(b.ID, 0, mailtrail.EventComplained, 0, "x")}); !dup[0] {
		t.Fatal("event of org B reached org A's message")
	}
	if c := total(t, s, a.ID, "camp"); c != (mailtrail.Counts{}) {
		t.Fatalf("A's counts changed: %+v", c)
	}
	if _, err := each(s).CampaignBuckets(ctx, b.ID, "camp"); mailtrail.ErrorCode(err) != mailtrail.ENOTFOUND {
		t.Fatalf("B sees A's campaign: %v", err)
	}
	page := must[*mailtrail.EventPage](t)(each(s).ListEvents(ctx, b.ID, mailtrail.EventFilter{}))
	if len(page.Events) != 0 {
		t.Fatalf("B lists %d events", len(page.Events))
	}
	// A hard bounce suppresses the address in A only.
	write(t, s, norm, []*mailtrail.Event{ev(a.ID, 0, mailtrail.EventBounced, 0, "hb")})
	if sup := must[*mailtrail.Suppression](t)(s.Suppressed(ctx, a.ID, "u0@EXAMPLE.com")); sup == nil || sup.Reason != mailtrail.ReasonHardBounce {
		t.Fatalf("A suppression: %+v", sup)
	}
	if sup := must[*mailtrail.Suppression](t)(s.Suppressed(ctx, b.ID, "u0@example.com")); sup != nil {
		t.Fatalf("B sees A's suppression: %+v", sup)
	}
}

func at(b []mailtrail.CampaignBucket, i int) any {
	if i < len(b) {
		return b[i]
	}
	return nil
}

// stored returns every stored event of a campaign, page by page.
func stored(t *testing.T, s Projection, org, camp string) []*mailtrail.Event {
	t.Helper()
	var out []*mailtrail.Event
	f := mailtrail.EventFilter{CampaignID: camp, Limit: 1000}
	for {
		p := must[*mailtrail.EventPage](t)(each(s).ListEvents(ctx, org, f))
		for i := range p.Events {
			out = append(out, &p.Events[i])
		}
		if p.NextCursor == "" {
			return out
		}
		f.Cursor = p.NextCursor
	}
}

// beforeSendMismatches lists the events whose before_send flag differs from the one a
// recount gives: dated more than mailtrail.SendTolerance before the earliest sent event of
// their message among the raw events.
func beforeSendMismatches(evs []*mailtrail.Event) []string {
	sent := map[string]time.Time{}
	for _, e := range evs {
		if t, ok := sent[e.MessageID]; e.Type == mailtrail.EventSent && (!ok || e.OccurredAt.Before(t)) {
			sent[e.MessageID] = e.OccurredAt
		}
	}
	var bad []string
	flagged := 0
	for _, e := range evs {
		want := mailtrail.IsBeforeSend(e.OccurredAt, sent[e.MessageID])
		if want {
			flagged++
		}
		if e.BeforeSend != want {
			bad = append(bad, fmt.Sprintf("%s %s %v: before_send %v", e.MessageID, e.Type, e.OccurredAt, e.BeforeSend))
		}
	}
	if flagged == 0 {
		bad = append(bad, "the history has no event before its message's send: the check proves nothing")
	}
	return bad
}

// labelsOf lists the classification of every open and click, in an order that does not
// depend on the order of arrival.
func labelsOf(evs []*mailtrail.Event) []string {
	var out []string
	for _, e := range evs {
		if e.Type == mailtrail.EventOpened || e.Type == mailtrail.EventClicked {
			out = append(out, fmt.Sprintf("%s %s %d %s %s %v", e.MessageID, e.Type, e.OccurredAt.UnixMilli(), e.Metadata.LinkURL, e.Classification, e.Reasons))
		}
	}
	sort.Strings(out)
	return out
}

// recount computes a campaign's figures straight from distinct raw events as stored, with
// their stored classification (all of them counted: the suite's events are tracked or
// webhook events of kinds that always count).
func recount(evs []*mailtrail.Event) mailtrail.Counts {
	var c mailtrail.Counts
	has := map[string]map[string]bool{}
	mark := func(msg, what string) {
		if has[what] == nil {
			has[what] = map[string]bool{}
		}
		has[what][msg] = true
	}
	for _, e := range evs {
		human := e.Classification == "" || e.Classification == mailtrail.Human
		switch e.Type {
		case mailtrail.EventSent:
			mark(e.MessageID, "sent")
		case mailtrail.EventDelivered:
			mark(e.MessageID, "delivered")
		case mailtrail.EventOpened:
			c.OpensTotal++
			mark(e.MessageID, "delivered")
			mark(e.MessageID, "open")
			if human {
				c.HumanOpensTotal++
				mark(e.MessageID, "hopen")
			}
		case mailtrail.EventClicked:
			c.ClicksTotal++
			mark(e.MessageID, "delivered")
			mark(e.MessageID, "click")
			if human {
				c.HumanClicksTotal++
				mark(e.MessageID, "hclick")
			}
		case mailtrail.EventBounced:
			mark(e.MessageID, "bounce")
			if e.Metadata.BounceType == mailtrail.BounceHard {
				mark(e.MessageID, "hard")
			}
		case mailtrail.EventComplained:
			mark(e.MessageID, "complaint")
		case mailtrail.EventUnsubscribed:
			mark(e.MessageID, "unsub")
		}
	}
	n := func(what string) int64 { return int64(len(has[what])) }
	c.Sent, c.Delivered, c.OpensUnique, c.HumanOpensUnique = n("sent"), n("delivered"), n("open"), n("hopen")
	c.ClicksUnique, c.HumanClicksUnique, c.Bounced, c.BouncedHard = n("click"), n("hclick"), n("bounce"), n("hard")
	c.BouncedSoft, c.Complained, c.Unsubscribed = c.Bounced-c.BouncedHard, n("complaint"), n("unsub")
	return c
}
