package storetest

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/ingest"
	"github.com/mailtrail/mailtrail/internal/projector"
	"github.com/mailtrail/mailtrail/internal/query"
)

// Projection is the part of the contract a projection store answers: what the write path
// (ingest.Sink, projector.Store) needs to have something to write to, and the reads that
// check what it wrote (the campaign report and event lists of query.Reader, the
// suppressions the rules decided). A store that is begun against this contract (the
// cluster's PostgreSQL store) runs RunProjection; every Store is a Projection.
type Projection interface {
	ingest.Sink     // Write: DedupeAndDerived, ChangeSet, OrderIndependence, ListEvents, TenantIsolation
	projector.Store // WriteAt, Position: Positions
	query.Reader    // View: every area (CampaignBuckets, CampaignLinks, ListEvents; the report in Positions)

	// CreateOrg and CreateMessages: every area's organizations and messages.
	CreateOrg(ctx context.Context, name, timezone string) (*mailtrail.Organization, string, error)
	CreateMessages(ctx context.Context, orgID string, msgs []*mailtrail.Message) error
	// Suppressed: TenantIsolation. Suppressions: Positions (Figures).
	Suppressed(ctx context.Context, orgID, email string) (*mailtrail.Suppression, error)
	Suppressions(ctx context.Context, orgID string, f mailtrail.SuppressionFilter) (*mailtrail.SuppressionPage, error)
}

var _ Projection = Store(nil)

// testKeysAndTopics: what the write path decides beyond the dedupe key. An API event's
// idempotency key identifies it whatever its type and time: a second event with the key,
// in the same batch or a later one, is a duplicate answered with the first one's id. An
// unsubscribe from a topic suppresses that topic only, and the latest unsubscribe is its
// cause whatever the order they arrive in.
func testKeysAndTopics(t *testing.T, open func(t *testing.T) Projection, norm Normalizer) {
	s := open(t)
	o, _ := newOrg(t, s, "acme")
	seedMessages(t, s, o.ID, 3)
	keyed := func(msg int, typ mailtrail.EventType, at time.Duration, key string) *mailtrail.Event {
		e := ev(o.ID, msg, typ, at, idempotencyKey(key))
		norm(e, base.Add(1000*time.Hour))
		return e
	}
	first := []*mailtrail.Event{keyed(0, mailtrail.EventDelivered, 0, "k1"), keyed(0, mailtrail.EventSent, time.Minute, "k1"),
		keyed(1, mailtrail.EventDelivered, 0, "k2")}
	cs := must[ingest.ChangeSet](t)(s.Write(ctx, first))
	if !reflect.DeepEqual(cs.Duplicate, []bool{false, true, false}) || first[1].ID != first[0].ID {
		t.Fatalf("a key twice in a batch: duplicates %v, ids %q %q", cs.Duplicate, first[0].ID, first[1].ID)
	}
	retry := keyed(0, mailtrail.EventOpened, time.Hour, "k1")
	if cs := must[ingest.ChangeSet](t)(s.Write(ctx, []*mailtrail.Event{retry})); !reflect.DeepEqual(cs.Duplicate, []bool{true}) || retry.ID != first[0].ID {
		t.Fatalf("a retry with another type and time: duplicates %v, id %q, want %q", cs.Duplicate, retry.ID, first[0].ID)
	}
	if n := len(stored(t, s, o.ID, "camp")); n != 2 {
		t.Fatalf("%d events stored, want 2", n)
	}

	unsub := func(org string, at time.Duration, key string) *mailtrail.Event {
		e := ev(org, 2, mailtrail.EventUnsubscribed, at, key)
		e.Metadata.Topic = "news"
		norm(e, base.Add(1000*time.Hour))
		return e
	}
	for _, order := range []string{"later first", "earlier first"} {
		org := o.ID
		if order == "earlier first" { // message ids are global: another store
			s = open(t)
			other, _ := newOrg(t, s, "acme")
			seedMessages(t, s, other.ID, 3)
			org = other.ID
		}
		early, late := unsub(org, time.Hour, "u-early"), unsub(org, 3*time.Hour, "u-late")
		batches := [][]*mailtrail.Event{{late}, {early}}
		if order == "earlier first" {
			batches[0], batches[1] = batches[1], batches[0]
		}
		for _, b := range batches {
			write(t, s, norm, b)
		}
		page := must[*mailtrail.SuppressionPage](t)(s.Suppressions(ctx, org, mailtrail.SuppressionFilter{}))
		if len(page.Suppressions) != 1 {
			t.Fatalf("%s: suppressions %+v, want one for the topic", order, page.Suppressions)
		}
		got := page.Suppressions[0]
		if got.Topic != "news" || got.Email != "u2@example.com" || got.Reason != mailtrail.ReasonUnsubscribed || got.EventID != late.ID {
			t.Fatalf("%s: suppression %+v, want topic news caused by event %s", order, got, late.ID)
		}
		if sup := must[*mailtrail.Suppression](t)(s.Suppressed(ctx, org, "u2@example.com")); sup != nil {
			t.Fatalf("%s: a topic unsubscribe suppressed the address everywhere: %+v", order, sup)
		}
	}
}

// testUnnamedMessages: events that name no message (the events API: a campaign and a
// customer) get the one message of that campaign to that customer, created by the first
// write that needs it and found by the next; another organization's events with the same
// names get a message of their own.
func testUnnamedMessages(t *testing.T, s Projection, norm Normalizer) {
	a, _ := newOrg(t, s, "a")
	b, _ := newOrg(t, s, "b")
	unnamed := func(org, camp, cust string, typ mailtrail.EventType, at time.Duration) *mailtrail.Event {
		return &mailtrail.Event{OrgID: org, CampaignID: camp, CustomerID: cust, CustomerEmail: cust + "@example.com",
			Type: typ, OccurredAt: base.Add(at), Source: mailtrail.SourceAPI, DedupeKey: fmt.Sprintf("%s-%s-%s-%d", camp, cust, typ, at)}
	}
	write(t, s, norm, []*mailtrail.Event{
		unnamed(a.ID, "launch", "u1", mailtrail.EventSent, 0), unnamed(a.ID, "launch", "u2", mailtrail.EventSent, 0),
		unnamed(a.ID, "launch", "u1", mailtrail.EventDelivered, time.Minute), unnamed(b.ID, "launch", "u1", mailtrail.EventSent, 0),
	})
	write(t, s, norm, []*mailtrail.Event{unnamed(a.ID, "launch", "u2", mailtrail.EventDelivered, time.Minute),
		unnamed(a.ID, "other", "u1", mailtrail.EventSent, 0)})
	if c := total(t, s, a.ID, "launch"); c.Sent != 2 || c.Delivered != 2 {
		t.Fatalf("a's campaign: %+v, want 2 sent and 2 delivered", c)
	}
	if c := total(t, s, b.ID, "launch"); c.Sent != 1 || c.Delivered != 0 {
		t.Fatalf("b's campaign: %+v, want 1 sent", c)
	}
	msgOf := map[string]string{} // customer → message, in a's campaign
	for _, e := range stored(t, s, a.ID, "launch") {
		if m, ok := msgOf[e.CustomerID]; ok && m != e.MessageID {
			t.Fatalf("customer %s's events are of two messages: %s %s", e.CustomerID, m, e.MessageID)
		}
		msgOf[e.CustomerID] = e.MessageID
	}
	others := append(stored(t, s, a.ID, "other"), stored(t, s, b.ID, "launch")...)
	if len(msgOf) != 2 || msgOf["u1"] == msgOf["u2"] || len(others) != 2 {
		t.Fatalf("messages %v, other events %d", msgOf, len(others))
	}
	for _, e := range others {
		if e.MessageID == msgOf["u1"] || e.MessageID == "" {
			t.Fatalf("event %+v shares a message of another campaign or organization", e)
		}
	}
}
