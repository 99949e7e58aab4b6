package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/segment"
)

func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if mailtrail.ErrorCode(err) != code {
		t.Fatalf("%s: got %v, want %s", what, err, code)
	}
}

func check(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// testSubscriptions: a subscription starts at its organization's head, reads only the
// events past its position that pass its filter, records attempts, is disabled and enabled
// again (with or without its backlog), never moves back, and is gone once deleted.
func testSubscriptions(t *testing.T, s Outbound, norm Normalizer) {
	o, _ := newOrg(t, s, "acme")
	other, _ := newOrg(t, s, "other")
	seedMessages(t, s, o.ID, 3)
	write(t, s, norm, []*mailtrail.Event{ev(o.ID, 0, mailtrail.EventSent, 0, "s0"), ev(o.ID, 1, mailtrail.EventSent, 0, "s1")})
	head := must[int64](t)(s.StreamHead(ctx, o.ID))
	if head == 0 {
		t.Fatal("stream head 0 after two events")
	}
	sub := &mailtrail.Subscription{ID: "sub_1", OrgID: o.ID, URL: "https://hooks.example/in", EventTypes: []mailtrail.EventType{mailtrail.EventOpened},
		Sealed: []byte("sealed-1")}
	check(t, s.CreateSubscription(ctx, sub))
	if sub.Position != head || sub.CreatedAt.IsZero() {
		t.Fatalf("new subscription at %d (created %v), want the head %d", sub.Position, sub.CreatedAt, head)
	}
	wantCode(t, "same id again", s.CreateSubscription(ctx, &mailtrail.Subscription{ID: "sub_1", OrgID: o.ID, URL: "https://x.example", Sealed: []byte("x")}), mailtrail.ECONFLICT)
	wantCode(t, "unknown org", s.CreateSubscription(ctx, &mailtrail.Subscription{ID: "sub_2", OrgID: "nope", URL: "https://x.example", Sealed: []byte("x")}), mailtrail.ENOTFOUND)

	write(t, s, norm, []*mailtrail.Event{ev(o.ID, 0, mailtrail.EventOpened, time.Hour, ""), ev(o.ID, 1, mailtrail.EventClicked, time.Hour, ""),
		ev(o.ID, 2, mailtrail.EventOpened, 2*time.Hour, "")})
	got := must[*mailtrail.Subscription](t)(s.Subscription(ctx, o.ID, "sub_1"))
	if got.URL != sub.URL || !reflect.DeepEqual(got.EventTypes, sub.EventTypes) || string(got.Sealed) != "sealed-1" || got.Position != head {
		t.Fatalf("subscription read back: %+v", got)
	}
	evs, upTo, err := s.EventsAfter(ctx, o.ID, got.Position, got.Filter(), 10)
	check(t, err)
	newHead := must[int64](t)(s.StreamHead(ctx, o.ID))
	if len(evs) != 2 || evs[0].MessageID != ref(0) || evs[1].MessageID != ref(2) || upTo != newHead {
		t.Fatalf("events after %d: %d events, up to %d (head %d)", got.Position, len(evs), upTo, newHead)
	}
	for i, e := range evs {
		if e.Type != mailtrail.EventOpened || e.Seq <= got.Position || (i > 0 && e.Seq <= evs[i-1].Seq) {
			t.Fatalf("event %d: %s at %d", i, e.Type, e.Seq)
		}
	}
	// A limit of one stops at the first event, so the caller resumes after it.
	one, upTo1, err := s.EventsAfter(ctx, o.ID, got.Position, got.Filter(), 1)
	check(t, err)
	if len(one) != 1 || upTo1 != one[0].Seq {
		t.Fatalf("limit 1: %d events up to %d", len(one), upTo1)
	}
	if end := must[int64](t)(s.StreamEnd(ctx)); end < newHead {
		t.Fatalf("stream end %d before the org's head %d", end, newHead)
	}
	if h := must[int64](t)(s.StreamHead(ctx, other.ID)); h != 0 {
		t.Fatalf("empty org's head %d", h)
	}
	// The last opened event, found by StreamRecent, is what a stream starting there reads.
	from := must[int64](t)(s.StreamRecent(ctx, o.ID, got.Filter(), 1))
	last, _, err := s.EventsAfter(ctx, o.ID, from, got.Filter(), 10)
	check(t, err)
	if len(last) != 1 || last[0].MessageID != ref(2) {
		t.Fatalf("recent 1: %d events", len(last))
	}
	if _, _, err := s.EventsAfter(ctx, other.ID, 0, mailtrail.StreamFilter{}, 10); err != nil {
		t.Fatal(err)
	} else if evs, _, _ := s.EventsAfter(ctx, other.ID, 0, mailtrail.StreamFilter{}, 10); len(evs) != 0 {
		t.Fatalf("other org reads %d events", len(evs))
	}

	// A failed attempt that disables it: out of the active list, logged.
	at := base.Add(3 * time.Hour).UTC()
	check(t, s.RecordDelivery(ctx, "sub_1", mailtrail.Delivery{ID: "d1", At: at, Events: 2, Status: 500, Error: "boom", RetryInMS: 1000},
		mailtrail.SubscriptionState{Position: head, ConsecutiveFailures: 1, FailingSince: at, DisabledReason: "failing"}))
	got = must[*mailtrail.Subscription](t)(s.Subscription(ctx, o.ID, "sub_1"))
	if got.DisabledAt == nil || got.DisabledReason != "failing" || got.ConsecutiveFailures != 1 || got.FailingSince == nil || !got.FailingSince.Equal(at) {
		t.Fatalf("after a failure that disables: %+v", got)
	}
	if active := must[[]mailtrail.Subscription](t)(s.ActiveSubscriptions(ctx)); len(active) != 0 {
		t.Fatalf("disabled subscription still active: %d", len(active))
	}
	ds := must[[]mailtrail.Delivery](t)(s.SubscriptionDeliveries(ctx, o.ID, "sub_1", 10))
	if len(ds) != 1 || ds[0].ID != "d1" || ds[0].Status != 500 || ds[0].Events != 2 || ds[0].Error != "boom" || ds[0].OK {
		t.Fatalf("deliveries: %+v", ds)
	}
	// Enabled again: failures cleared, the backlog kept.
	got = must[*mailtrail.Subscription](t)(s.EnableSubscription(ctx, o.ID, "sub_1", false))
	if got.DisabledAt != nil || got.ConsecutiveFailures != 0 || got.Position != head {
		t.Fatalf("enabled: %+v", got)
	}
	if active := must[[]mailtrail.Subscription](t)(s.ActiveSubscriptions(ctx)); len(active) != 1 || active[0].ID != "sub_1" {
		t.Fatalf("active: %+v", active)
	}
	// A success moves the position; it never moves back.
	check(t, s.RecordDelivery(ctx, "sub_1", mailtrail.Delivery{ID: "d2", At: at.Add(time.Minute), Events: 1, Status: 200, OK: true},
		mailtrail.SubscriptionState{Position: evs[0].Seq, LastDeliveredAt: at.Add(time.Minute)}))
	check(t, s.AdvanceSubscription(ctx, "sub_1", head))
	got = must[*mailtrail.Subscription](t)(s.Subscription(ctx, o.ID, "sub_1"))
	if got.Position != evs[0].Seq || got.LastDeliveredAt == nil {
		t.Fatalf("after success then advance back: position %d, want %d", got.Position, evs[0].Seq)
	}
	check(t, s.AdvanceSubscription(ctx, "sub_1", evs[1].Seq))
	if got = must[*mailtrail.Subscription](t)(s.Subscription(ctx, o.ID, "sub_1")); got.Position != evs[1].Seq {
		t.Fatalf("advance: position %d, want %d", got.Position, evs[1].Seq)
	}
	ds = must[[]mailtrail.Delivery](t)(s.SubscriptionDeliveries(ctx, o.ID, "sub_1", 1))
	if len(ds) != 1 || ds[0].ID != "d2" {
		t.Fatalf("newest delivery first, at most the limit: %+v", ds)
	}
	// Skipping the backlog starts at the head.
	write(t, s, norm, []*mailtrail.Event{ev(o.ID, 1, mailtrail.EventOpened, 4*time.Hour, "")})
	got = must[*mailtrail.Subscription](t)(s.EnableSubscription(ctx, o.ID, "sub_1", true))
	if h := must[int64](t)(s.StreamHead(ctx, o.ID)); got.Position != h {
		t.Fatalf("enable skipping the backlog: position %d, head %d", got.Position, h)
	}
	// Reseal: the new secret is stored; an error changes nothing.
	n := must[int](t)(s.ResealSubscriptions(ctx, func(sub *mailtrail.Subscription) (bool, error) {
		sub.Sealed = []byte("sealed-2")
		return true, nil
	}))
	if got = must[*mailtrail.Subscription](t)(s.Subscription(ctx, o.ID, "sub_1")); n != 1 || string(got.Sealed) != "sealed-2" {
		t.Fatalf("resealed %d: %q", n, got.Sealed)
	}
	if _, err := s.ResealSubscriptions(ctx, func(sub *mailtrail.Subscription) (bool, error) {
		sub.Sealed = []byte("lost")
		return true, errors.New("key refused")
	}); err == nil {
		t.Fatal("reseal error not returned")
	}
	if got = must[*mailtrail.Subscription](t)(s.Subscription(ctx, o.ID, "sub_1")); string(got.Sealed) != "sealed-2" {
		t.Fatalf("failed reseal changed the secret: %q", got.Sealed)
	}
	// Other organizations see nothing; deleting removes it and its log.
	wantCode(t, "other org reads it", func() error { _, err := s.Subscription(ctx, other.ID, "sub_1"); return err }(), mailtrail.ENOTFOUND)
	wantCode(t, "other org deletes it", s.DeleteSubscription(ctx, other.ID, "sub_1"), mailtrail.ENOTFOUND)
	if l := must[[]mailtrail.Subscription](t)(s.Subscriptions(ctx, o.ID)); len(l) != 1 || l[0].ID != "sub_1" {
		t.Fatalf("list: %+v", l)
	}
	check(t, s.DeleteSubscription(ctx, o.ID, "sub_1"))
	wantCode(t, "deleted", func() error { _, err := s.Subscription(ctx, o.ID, "sub_1"); return err }(), mailtrail.ENOTFOUND)
	wantCode(t, "deleted's log", func() error { _, err := s.SubscriptionDeliveries(ctx, o.ID, "sub_1", 10); return err }(), mailtrail.ENOTFOUND)
	if l := must[[]mailtrail.Subscription](t)(s.Subscriptions(ctx, o.ID)); len(l) != 0 {
		t.Fatalf("list after delete: %+v", l)
	}
}

// testSuppressions: added once whatever the case of the address, found by any case,
// listed and counted, removed with a history.
func testSuppressions(t *testing.T, s Operational) {
	o, _ := newOrg(t, s, "acme")
	other, _ := newOrg(t, s, "other")
	in := []mailtrail.SuppressionInput{{Email: "Ann@Example.COM", Note: "asked"}, {Email: "bob@example.com", Reason: mailtrail.ReasonListImport}}
	res := must[mailtrail.AddResult](t)(s.AddSuppressions(ctx, o.ID, in, mailtrail.SuppressSourceManual, "tester"))
	if res != (mailtrail.AddResult{Added: 2}) {
		t.Fatalf("add: %+v", res)
	}
	again := []mailtrail.SuppressionInput{{Email: "ANN@example.com"}, {Email: "bob@EXAMPLE.com", Reason: mailtrail.ReasonListImport}}
	if res := must[mailtrail.AddResult](t)(s.AddSuppressions(ctx, o.ID, again, mailtrail.SuppressSourceAPI, "tester")); res != (mailtrail.AddResult{Existing: 2}) {
		t.Fatalf("add again in other cases: %+v", res)
	}
	sup := must[*mailtrail.Suppression](t)(s.Suppressed(ctx, o.ID, "ann@example.com"))
	if sup == nil || sup.Reason != mailtrail.ReasonManual || sup.Source != mailtrail.SuppressSourceManual {
		t.Fatalf("suppressed: %+v", sup)
	}
	found := must[map[string]mailtrail.Suppression](t)(s.CheckSuppressions(ctx, o.ID, []string{"ANN@EXAMPLE.COM", "bob@example.com", "carl@example.com"}))
	if len(found) != 2 || found["ann@example.com"].Reason != mailtrail.ReasonManual || found["bob@example.com"].Reason != mailtrail.ReasonListImport {
		t.Fatalf("check: %+v", found)
	}
	if found := must[map[string]mailtrail.Suppression](t)(s.CheckSuppressions(ctx, other.ID, []string{"ann@example.com"})); len(found) != 0 {
		t.Fatalf("other org sees: %+v", found)
	}
	// Listing: every one, a page at a time, newest first when asked; a query in any case.
	var all []string
	f := mailtrail.SuppressionFilter{Limit: 1}
	for {
		p := must[*mailtrail.SuppressionPage](t)(s.Suppressions(ctx, o.ID, f))
		for _, x := range p.Suppressions {
			all = append(all, mailtrail.NormalizeEmail(x.Email))
			if x.Reason == mailtrail.ReasonManual && x.Note != "asked" {
				t.Fatalf("note lost: %+v", x)
			}
		}
		if p.NextCursor == "" {
			break
		}
		f.Cursor = p.NextCursor
	}
	sort.Strings(all)
	if !reflect.DeepEqual(all, []string{"ann@example.com", "bob@example.com"}) {
		t.Fatalf("listed: %v", all)
	}
	if p := must[*mailtrail.SuppressionPage](t)(s.Suppressions(ctx, o.ID, mailtrail.SuppressionFilter{Query: "BOB@"})); len(p.Suppressions) != 1 {
		t.Fatalf("query in another case: %+v", p.Suppressions)
	}
	if p := must[*mailtrail.SuppressionPage](t)(s.Suppressions(ctx, o.ID, mailtrail.SuppressionFilter{Reason: mailtrail.ReasonListImport})); len(p.Suppressions) != 1 ||
		mailtrail.NormalizeEmail(p.Suppressions[0].Email) != "bob@example.com" {
		t.Fatalf("by reason: %+v", p.Suppressions)
	}
	if n := must[int](t)(s.CountSuppressions(ctx, o.ID, mailtrail.SuppressionFilter{})); n != 2 {
		t.Fatalf("count %d", n)
	}
	if n := must[int](t)(s.CountSuppressions(ctx, o.ID, mailtrail.SuppressionFilter{Reason: mailtrail.ReasonManual})); n != 1 {
		t.Fatalf("count manual %d", n)
	}
	if n := must[int](t)(s.CountSuppressions(ctx, other.ID, mailtrail.SuppressionFilter{})); n != 0 {
		t.Fatalf("other org counts %d", n)
	}
	// Removing, in any case: gone, with the history of both changes.
	rm := must[*mailtrail.Suppression](t)(s.RemoveSuppression(ctx, o.ID, "aNN@example.com", "tester", "asked back"))
	if rm.Reason != mailtrail.ReasonManual {
		t.Fatalf("removed: %+v", rm)
	}
	wantCode(t, "remove twice", func() error { _, err := s.RemoveSuppression(ctx, o.ID, "ann@example.com", "tester", ""); return err }(), mailtrail.ENOTFOUND)
	if sup := must[*mailtrail.Suppression](t)(s.Suppressed(ctx, o.ID, "ann@example.com")); sup != nil {
		t.Fatalf("still suppressed: %+v", sup)
	}
	hist, cur, err := s.SuppressionHistory(ctx, o.ID, "Ann@example.com")
	check(t, err)
	var actions []string
	for _, h := range hist {
		actions = append(actions, h.Action+"/"+h.Actor)
	}
	if cur != nil || !reflect.DeepEqual(actions, []string{"added/tester", "removed/tester"}) {
		t.Fatalf("history: %v, current %+v", actions, cur)
	}
	if n := must[int](t)(s.CountSuppressions(ctx, o.ID, mailtrail.SuppressionFilter{})); n != 1 {
		t.Fatalf("count after removal %d", n)
	}
}

// testTopics: an unsubscribe from a topic suppresses that topic only; a later resubscribe
// lifts it; removal is per topic.
func testTopics(t *testing.T, s Operational, norm Normalizer) {
	o, _ := newOrg(t, s, "acme")
	check(t, s.CreateMessages(ctx, o.ID, []*mailtrail.Message{
		{ID: ref(0), CampaignID: "camp", CustomerID: "u0", CustomerEmail: "U0@Example.com", Topic: "news"},
		{ID: ref(1), CampaignID: "camp", CustomerID: "u1", CustomerEmail: "u1@example.com", Topic: "offers"},
	}))
	unsub := func(msg int, topic string, at time.Duration, key string) *mailtrail.Event {
		e := ev(o.ID, msg, mailtrail.EventUnsubscribed, at, key)
		e.Metadata.Topic = topic
		return e
	}
	write(t, s, norm, []*mailtrail.Event{unsub(0, "news", time.Hour, "u0n"), unsub(1, "offers", time.Hour, "u1o"), unsub(1, "news", time.Hour, "u1n")})
	if sup := must[*mailtrail.Suppression](t)(s.Suppressed(ctx, o.ID, "u0@example.com")); sup != nil {
		t.Fatalf("a topic unsubscribe suppressed every email: %+v", sup)
	}
	got := must[map[string][]mailtrail.Suppression](t)(s.CheckTopicSuppressions(ctx, o.ID, []string{"u0@EXAMPLE.com", "u1@example.com"}, []string{"news"}))
	if len(got) != 2 || len(got["u0@example.com"]) != 1 || got["u0@example.com"][0].Topic != "news" || got["u0@example.com"][0].Reason != mailtrail.ReasonUnsubscribed {
		t.Fatalf("news: %+v", got)
	}
	got = must[map[string][]mailtrail.Suppression](t)(s.CheckTopicSuppressions(ctx, o.ID, []string{"u0@example.com", "u1@example.com"}, []string{"offers", "news"}))
	if len(got["u0@example.com"]) != 1 || len(got["u1@example.com"]) != 2 {
		t.Fatalf("offers and news: %+v", got)
	}
	// A resubscribe after the unsubscribe lifts it; one before it does not.
	lifted := must[int](t)(s.Resubscribe(ctx, o.ID, []mailtrail.Resubscribe{
		{Email: "U0@example.com", Topic: "news", At: base.Add(2 * time.Hour)},
		{Email: "u1@example.com", Topic: "news", At: base.Add(time.Minute)},
	}, "vendor"))
	if lifted != 1 {
		t.Fatalf("lifted %d, want 1", lifted)
	}
	again := must[int](t)(s.Resubscribe(ctx, o.ID, []mailtrail.Resubscribe{{Email: "u0@example.com", Topic: "news", At: base.Add(2 * time.Hour)}}, "vendor"))
	if again != 0 {
		t.Fatalf("repeated resubscribe lifted %d", again)
	}
	// An older unsubscribe arriving late does not suppress again.
	write(t, s, norm, []*mailtrail.Event{unsub(0, "news", 90*time.Minute, "u0n-late")})
	got = must[map[string][]mailtrail.Suppression](t)(s.CheckTopicSuppressions(ctx, o.ID, []string{"u0@example.com"}, []string{"news"}))
	if len(got) != 0 {
		t.Fatalf("suppressed again by an older unsubscribe: %+v", got)
	}
	rm := must[*mailtrail.Suppression](t)(s.RemoveTopicSuppression(ctx, o.ID, "U1@example.com", "offers", "tester", "asked"))
	if rm.Topic != "offers" {
		t.Fatalf("removed %+v", rm)
	}
	wantCode(t, "remove a topic not suppressed", func() error {
		_, err := s.RemoveTopicSuppression(ctx, o.ID, "u1@example.com", "offers", "tester", "")
		return err
	}(), mailtrail.ENOTFOUND)
	got = must[map[string][]mailtrail.Suppression](t)(s.CheckTopicSuppressions(ctx, o.ID, []string{"u1@example.com"}, []string{"offers", "news"}))
	if len(got["u1@example.com"]) != 1 || got["u1@example.com"][0].Topic != "news" {
		t.Fatalf("after removing offers: %+v", got)
	}
	// Scoped suppressions are listed and counted with the others.
	if n := must[int](t)(s.CountSuppressions(ctx, o.ID, mailtrail.SuppressionFilter{})); n != 1 {
		t.Fatalf("count %d, want the one left", n)
	}
}

// testSettings: settings round-trip; the tracking domain finds its organization in any
// case; API keys are listed and their ids found from their secrets.
func testSettings(t *testing.T, s Operational) {
	o, key := newOrg(t, s, "acme")
	set := must[*mailtrail.OrgSettings](t)(s.OrgSettings(ctx, o.ID))
	set.SoftBounceLimit, set.RetentionDays, set.KeepFullIP, set.TrackingURL = 5, 30, true, "https://t.acme.example"
	check(t, s.UpdateOrgSettings(ctx, o.ID, *set))
	if got := must[*mailtrail.OrgSettings](t)(s.OrgSettings(ctx, o.ID)); *got != *set {
		t.Fatalf("settings: %+v, want %+v", got, set)
	}
	wantCode(t, "unknown org", func() error { _, err := s.OrgSettings(ctx, "nope"); return err }(), mailtrail.ENOTFOUND)
	if id := must[string](t)(s.TrackingHostOrg(ctx, "T.Acme.Example")); id != o.ID {
		t.Fatalf("tracking host: %q", id)
	}
	if id := must[string](t)(s.TrackingHostOrg(ctx, "other.example")); id != "" {
		t.Fatalf("unknown tracking host: %q", id)
	}
	// The store's own change applies at once, whatever it cached of the lookups before.
	set.TrackingURL = "https://other.example"
	check(t, s.UpdateOrgSettings(ctx, o.ID, *set))
	if id := must[string](t)(s.TrackingHostOrg(ctx, "other.example")); id != o.ID {
		t.Fatalf("the new tracking host: %q", id)
	}
	if id := must[string](t)(s.TrackingHostOrg(ctx, "t.acme.example")); id != "" {
		t.Fatalf("the former tracking host: %q", id)
	}
	keys := must[[]mailtrail.APIKey](t)(s.APIKeys(ctx, o.ID))
	if len(keys) != 1 {
		t.Fatalf("keys: %+v", keys)
	}
	if id := must[string](t)(s.APIKeyID(ctx, key)); id != keys[0].ID {
		t.Fatalf("key id %q, want %q", id, keys[0].ID)
	}
	wantCode(t, "unknown key", func() error { _, err := s.APIKeyID(ctx, key+"x"); return err }(), mailtrail.EUNAUTHORIZED)
}

// testErasure: erasing a customer keeps every figure and the suppression (under the
// address's hash), and nothing finds the customer again; retention deletes raw events,
// not figures; pruned idempotency keys no longer deduplicate.
func testErasure(t *testing.T, s Privacy, norm Normalizer) {
	o, _ := newOrg(t, s, "acme")
	seedMessages(t, s, o.ID, 4)
	evs := []*mailtrail.Event{ev(o.ID, 0, mailtrail.EventSent, 0, "s0"), ev(o.ID, 0, mailtrail.EventOpened, time.Hour, ""),
		ev(o.ID, 0, mailtrail.EventBounced, 2*time.Hour, "b0"), ev(o.ID, 1, mailtrail.EventSent, 0, "s1"), ev(o.ID, 1, mailtrail.EventOpened, time.Hour, "")}
	write(t, s, norm, evs)
	before := total(t, s, o.ID, "camp")
	res := must[*mailtrail.EraseResult](t)(s.EraseCustomer(ctx, o.ID, "u0"))
	if res.Events != 3 || res.Messages != 1 || res.Suppressions != 1 {
		t.Fatalf("erased %+v, want 3 events, 1 message, 1 suppression", res)
	}
	// The result names the erased customer (what an erasure publishes): its new id finds
	// the customer's events.
	if c := res.Customer; c.OrgID != o.ID || c.OldID != "u0" || c.NewID == "" || c.NewID == "u0" {
		t.Fatalf("erased customer %+v", c)
	} else if p := must[*mailtrail.EventPage](t)(each(s).ListEvents(ctx, o.ID, mailtrail.EventFilter{CustomerID: c.NewID})); len(p.Events) != 3 {
		t.Fatalf("the new id %s finds %d events, want 3", c.NewID, len(p.Events))
	}
	if after := total(t, s, o.ID, "camp"); after != before {
		t.Fatalf("figures changed by erasure:\n%+v\n%+v", after, before)
	}
	if p := must[*mailtrail.EventPage](t)(each(s).ListEvents(ctx, o.ID, mailtrail.EventFilter{CustomerID: "u0"})); len(p.Events) != 0 {
		t.Fatalf("the erased id still finds %d events", len(p.Events))
	}
	for _, e := range stored(t, s, o.ID, "camp") {
		if e.MessageID == ref(0) && (e.CustomerEmail != "" || e.CustomerID == "u0") {
			t.Fatalf("erased event keeps %q %q", e.CustomerID, e.CustomerEmail)
		}
	}
	if m := must[*mailtrail.Message](t)(s.Message(ctx, o.ID, ref(0))); m.CustomerEmail != "" || m.CustomerID == "u0" {
		t.Fatalf("erased message keeps %q %q", m.CustomerID, m.CustomerEmail)
	}
	if sup := must[*mailtrail.Suppression](t)(s.Suppressed(ctx, o.ID, "U0@example.com")); sup == nil || sup.Reason != mailtrail.ReasonHardBounce {
		t.Fatalf("the erased address is no longer suppressed: %+v", sup)
	} else if sup.EmailHash != mailtrail.EmailHash("u0@example.com") {
		t.Fatalf("the suppression is not kept under the address's hash: %+v", sup)
	}
	for _, x := range must[*mailtrail.SuppressionPage](t)(s.Suppressions(ctx, o.ID, mailtrail.SuppressionFilter{})).Suppressions {
		if mailtrail.NormalizeEmail(x.Email) == "u0@example.com" {
			t.Fatalf("the suppressions still list the address: %+v", x)
		}
	}
	// The history stays under the hash, without the CRM's id; removing the address's
	// suppression by hand removes the one kept under the hash.
	hist, cur, err := s.SuppressionHistory(ctx, o.ID, "u0@example.com")
	check(t, err)
	if len(hist) == 0 || cur == nil || cur.EmailHash == "" {
		t.Fatalf("the erased address's history: %+v, current %+v", hist, cur)
	}
	for _, h := range hist {
		if h.CustomerID == "u0" || strings.Contains(h.Detail, "u0@example.com") {
			t.Fatalf("the history keeps the customer: %+v", h)
		}
	}
	if rm := must[*mailtrail.Suppression](t)(s.RemoveSuppression(ctx, o.ID, "u0@example.com", "test", "asked")); rm.EmailHash != mailtrail.EmailHash("u0@example.com") || rm.Email != "" {
		t.Fatalf("removed %+v, want the suppression kept under the hash", rm)
	}
	if sup := must[*mailtrail.Suppression](t)(s.Suppressed(ctx, o.ID, "u0@example.com")); sup != nil {
		t.Fatalf("still suppressed after its removal: %+v", sup)
	}
	wantCode(t, "erase twice", func() error { _, err := s.EraseCustomer(ctx, o.ID, "u0"); return err }(), mailtrail.ENOTFOUND)

	// Retention: 7 days. Events were received at base+1000h (the Normalizer's now).
	set := must[*mailtrail.OrgSettings](t)(s.OrgSettings(ctx, o.ID))
	set.RetentionDays = mailtrail.MinRetentionDays
	check(t, s.UpdateOrgSettings(ctx, o.ID, *set))
	// What the segment index forgets follows (segment.Horizon): the retention, and once
	// it is raised, a floor at the first day an index kept under the old one.
	horizon := func() segment.Horizon {
		t.Helper()
		h, ok := must[map[string]segment.Horizon](t)(s.SegmentHorizons(ctx))[o.ID]
		if !ok {
			t.Fatal("SegmentHorizons does not name an organization with a retention")
		}
		return h
	}
	if h := horizon(); h != (segment.Horizon{RetentionDays: mailtrail.MinRetentionDays, Floor: segment.NoFloor}) {
		t.Fatalf("horizon %+v after setting the retention", h)
	}
	tb := time.Now()
	set.RetentionDays = 30
	check(t, s.UpdateOrgSettings(ctx, o.ID, *set))
	ta := time.Now()
	h := horizon()
	if lo, hi := segment.RetentionFirstDay(tb, mailtrail.MinRetentionDays)+1, segment.RetentionFirstDay(ta, mailtrail.MinRetentionDays)+1; h.RetentionDays != 30 || h.Floor < lo || h.Floor > hi {
		t.Fatalf("horizon %+v after raising the retention, want 30 days and a floor in [%d, %d]", h, lo, hi)
	}
	set.RetentionDays = mailtrail.MinRetentionDays
	check(t, s.UpdateOrgSettings(ctx, o.ID, *set))
	if h2 := horizon(); h2.RetentionDays != mailtrail.MinRetentionDays || h2.Floor != h.Floor {
		t.Fatalf("horizon %+v after lowering the retention, want the floor kept (%d)", h2, h.Floor)
	}
	received := base.Add(1000 * time.Hour)
	if n := must[int](t)(s.DeleteExpiredEvents(ctx, received.Add(6*24*time.Hour), 2)); n != 0 {
		t.Fatalf("deleted %d events within retention", n)
	}
	if n := must[int](t)(s.DeleteExpiredEvents(ctx, received.Add(8*24*time.Hour), 2)); n != len(evs) {
		t.Fatalf("deleted %d events past retention, want %d", n, len(evs))
	}
	if n := len(stored(t, s, o.ID, "camp")); n != 0 {
		t.Fatalf("%d raw events left", n)
	}
	if after := total(t, s, o.ID, "camp"); after != before {
		t.Fatalf("figures changed by retention:\n%+v\n%+v", after, before)
	}

	// Idempotency keys: a retry is a duplicate until the key is pruned.
	keyed := func(at time.Time) *mailtrail.Event {
		e := ev(o.ID, 2, mailtrail.EventDelivered, 0, idempotencyKey("k1"))
		e.ReceivedAt, e.OccurredAt = at, at // a retry may carry another time
		return e
	}
	t0 := base.Add(2000 * time.Hour)
	if dup := write(t, s, norm, []*mailtrail.Event{keyed(t0)}); dup[0] {
		t.Fatal("first keyed event is a duplicate")
	}
	if dup := write(t, s, norm, []*mailtrail.Event{keyed(t0.Add(time.Hour))}); !dup[0] {
		t.Fatal("a retry with the same key was stored")
	}
	if n := must[int](t)(s.PruneIdempotencyKeys(ctx, t0.Add(-time.Millisecond), 10)); n != 0 {
		t.Fatalf("pruned %d keys before the cutoff", n)
	}
	if n := must[int](t)(s.PruneIdempotencyKeys(ctx, t0.Add(time.Millisecond), 10)); n != 1 {
		t.Fatalf("pruned %d keys, want 1", n)
	}
	if dup := write(t, s, norm, []*mailtrail.Event{keyed(t0.Add(2 * time.Hour))}); dup[0] {
		t.Fatal("a pruned key still deduplicates")
	}
}

var (
	clients   = []string{"Gmail", "Apple Mail", "Outlook"}
	countries = []string{"FR", "DE"}
)

// dimensioned is history with a client, device and country on every open and click.
func dimensioned(r *rand.Rand, org string, n int) []*mailtrail.Event {
	evs := history(r, org, n)
	for i, e := range evs {
		if e.Type == mailtrail.EventOpened || e.Type == mailtrail.EventClicked {
			e.Metadata.Client = clients[i%len(clients)]
			e.Metadata.Device = "desktop"
			e.Metadata.Country = countries[i%len(countries)]
		}
	}
	return evs
}

// campaignLister is the campaign list of the contract (Store's Campaigns).
type campaignLister interface {
	Campaigns(ctx context.Context, orgID string, f mailtrail.CampaignFilter) (*mailtrail.CampaignPage, error)
}

// testAnalytics writes the same history in random orders and checks the campaign list,
// the recipients, the top clickers and the breakdowns against a recount of the raw
// events as stored.
func testAnalytics(t *testing.T, open func(t *testing.T) Projection, norm Normalizer) {
	r := rand.New(rand.NewPCG(7, 8))
	for round := 0; round < 2; round++ {
		s := open(t)
		o, _ := newOrg(t, s, "acme")
		seedMessages(t, s, o.ID, 20)
		evs := dimensioned(rand.New(rand.NewPCG(5, 6)), o.ID, 20)
		all := clone(evs)
		r.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
		for len(all) > 0 {
			n := min(len(all), 1+r.IntN(50))
			write(t, s, norm, all[:n])
			all = all[n:]
		}
		raw := stored(t, s, o.ID, "camp")
		want := recount(raw)

		// Campaigns: the list's figures are the recount's. Every Store has the list; a
		// store run on the Projection part alone may not have it yet.
		if cl, ok := s.(campaignLister); ok {
			page := must[*mailtrail.CampaignPage](t)(cl.Campaigns(ctx, o.ID, mailtrail.CampaignFilter{}))
			if len(page.Campaigns) != 1 || page.Total != 1 || page.Campaigns[0].ID != "camp" {
				t.Fatalf("round %d: campaigns %+v", round, page)
			}
			if got := page.Campaigns[0].Counts; got != want {
				t.Fatalf("round %d: campaign list differs from a recount:\n got %+v\nwant %+v", round, got, want)
			}
		} else if round == 0 {
			t.Log("the store has no campaign list: not checked")
		}

		// Recipients who opened (and people only): first opens as recounted.
		firstOpen, firstHuman := map[string]time.Time{}, map[string]time.Time{}
		humanClicks := map[string]map[string]int64{} // link → customer → human clicks
		dims := map[string]map[string]int64{}        // "opens/client" → value → count
		for _, e := range raw {
			human := e.Classification == "" || e.Classification == mailtrail.Human
			switch e.Type {
			case mailtrail.EventOpened:
				if t0, ok := firstOpen[e.MessageID]; !ok || e.OccurredAt.Before(t0) {
					firstOpen[e.MessageID] = e.OccurredAt
				}
				if t0, ok := firstHuman[e.MessageID]; human && (!ok || e.OccurredAt.Before(t0)) {
					firstHuman[e.MessageID] = e.OccurredAt
				}
				addDim(dims, "opens", e)
			case mailtrail.EventClicked:
				if human {
					if humanClicks[e.Metadata.LinkURL] == nil {
						humanClicks[e.Metadata.LinkURL] = map[string]int64{}
					}
					humanClicks[e.Metadata.LinkURL][e.CustomerID]++
				}
				addDim(dims, "clicks", e)
			}
		}
		if len(firstOpen) == 0 || len(humanClicks) == 0 || len(dims["opens/client"]) != len(clients) {
			t.Fatalf("round %d: the history has no opens, human clicks or clients: the checks prove nothing", round)
		}
		for _, hum := range []bool{false, true} {
			wantFirst := firstOpen
			if hum {
				wantFirst = firstHuman
			}
			got := map[string]time.Time{}
			f := mailtrail.RecipientFilter{Activity: mailtrail.EventOpened, HumanOnly: hum, Limit: 3}
			for {
				p := must[*mailtrail.RecipientPage](t)(each(s).Recipients(ctx, o.ID, "camp", f))
				for _, rc := range p.Recipients {
					first := rc.FirstOpen
					if hum {
						first = rc.FirstHumanOpen
					}
					if _, seen := got[rc.MessageID]; first == nil || seen {
						t.Fatalf("round %d: recipient %s without its first open, or listed twice", round, rc.MessageID)
					}
					got[rc.MessageID] = *first
				}
				if p.NextCursor == "" {
					break
				}
				f.Cursor = p.NextCursor
			}
			if len(got) != len(wantFirst) {
				t.Fatalf("round %d human %v: %d recipients, recount %d", round, hum, len(got), len(wantFirst))
			}
			for m, at := range wantFirst {
				if !got[m].Equal(at) {
					t.Fatalf("round %d human %v: %s first open %v, recount %v", round, hum, m, got[m], at)
				}
			}
		}

		// Top clickers of each link: human clicks per customer as recounted.
		for link, per := range humanClicks {
			top := topClickers(t, s, o.ID, "camp", link, 100)
			got := map[string]int64{}
			for _, c := range top {
				got[c.CustomerID] += c.HumanClicks
			}
			for k, v := range per {
				if got[k] != v {
					t.Fatalf("round %d: %s: %s clicked %d, recount %d", round, link, k, got[k], v)
				}
			}
		}

		// Breakdowns: per client and country, opens and clicks as recounted.
		b := must[*mailtrail.Breakdowns](t)(each(s).CampaignBreakdowns(ctx, o.ID, "camp", 10))
		gotDims := map[string]map[string]int64{}
		for _, part := range []struct {
			name string
			bd   mailtrail.Breakdown
		}{{"opens", b.Opens}, {"clicks", b.Clicks}} {
			for dim, vals := range map[string][]mailtrail.DimValue{"client": part.bd.Client, "country": part.bd.Country, "device": part.bd.Device} {
				m := map[string]int64{}
				for _, v := range vals {
					m[v.Value] = v.Total
				}
				gotDims[part.name+"/"+dim] = m
			}
		}
		if !reflect.DeepEqual(gotDims, dims) {
			t.Fatalf("round %d: breakdowns differ from a recount:\n got %v\nwant %v", round, gotDims, dims)
		}
		// At most limit values, the most frequent first.
		top := must[*mailtrail.Breakdowns](t)(each(s).CampaignBreakdowns(ctx, o.ID, "camp", 1))
		var best string
		for v, n := range dims["opens/client"] {
			if best == "" || n > dims["opens/client"][best] || n == dims["opens/client"][best] && v < best {
				best = v
			}
		}
		if len(top.Opens.Client) != 1 || top.Opens.Client[0].Value != best {
			t.Fatalf("round %d: top client %+v, recount %q", round, top.Opens.Client, best)
		}
	}
}

func addDim(dims map[string]map[string]int64, what string, e *mailtrail.Event) {
	for dim, v := range map[string]string{"client": e.Metadata.Client, "country": e.Metadata.Country, "device": e.Metadata.Device} {
		k := what + "/" + dim
		if dims[k] == nil {
			dims[k] = map[string]int64{}
		}
		dims[k][v]++
	}
}

// testJourneys: Did answers from the customer's events as written.
func testJourneys(t *testing.T, s Projection, norm Normalizer) {
	o, _ := newOrg(t, s, "acme")
	seedMessages(t, s, o.ID, 2)
	var evs []*mailtrail.Event
	for i := 0; i < 5; i++ {
		evs = append(evs, ev(o.ID, 1, mailtrail.EventOpened, time.Duration(5-i)*time.Hour, ""))
	}
	evs[4].Classification = mailtrail.Machine
	write(t, s, norm, evs)
	d := must[*mailtrail.Did](t)(each(s).Did(ctx, o.ID, mailtrail.Condition{CustomerID: "u1", Type: mailtrail.EventOpened}))
	if !d.Did || d.Count != 5 || d.FirstAt == nil || !d.FirstAt.Equal(base.Add(time.Hour)) || d.LastAt == nil || !d.LastAt.Equal(base.Add(5*time.Hour)) {
		t.Fatalf("did: %+v", d)
	}
	if d.Event == nil || d.Event.ID != d.FirstEventID || d.Event.MessageID != ref(1) {
		t.Fatalf("first event: %+v", d.Event)
	}
	d = must[*mailtrail.Did](t)(each(s).Did(ctx, o.ID, mailtrail.Condition{CustomerID: "u1", Type: mailtrail.EventOpened, HumanOnly: true, Since: base.Add(2 * time.Hour)}))
	if !d.Did || d.Count != 4 {
		t.Fatalf("human since 2h: %+v", d)
	}
	d = must[*mailtrail.Did](t)(each(s).Did(ctx, o.ID, mailtrail.Condition{CustomerID: "u1", Type: mailtrail.EventOpened, MessageID: ref(0)}))
	if d.Did || d.Count != 0 {
		t.Fatalf("another message: %+v", d)
	}
	d = must[*mailtrail.Did](t)(each(s).Did(ctx, o.ID, mailtrail.Condition{CustomerID: "nobody", Type: mailtrail.EventClicked}))
	if d.Did {
		t.Fatalf("unknown customer: %+v", d)
	}
	wantCode(t, "invalid", func() error {
		_, err := each(s).Did(ctx, o.ID, mailtrail.Condition{Type: mailtrail.EventOpened})
		return err
	}(), mailtrail.EINVALID)
	wantCode(t, "unknown org", func() error {
		_, err := each(s).Did(ctx, "nope", mailtrail.Condition{CustomerID: "u1", Type: mailtrail.EventOpened})
		return err
	}(), mailtrail.ENOTFOUND)
}

// testSegmentSource reads the segment index's source through its opaque cursors: every
// customer and campaign once, every counted event once in id order, page by page.
func testSegmentSource(t *testing.T, s Segments, norm Normalizer) {
	o, _ := newOrg(t, s, "acme")
	other, _ := newOrg(t, s, "other")
	seedMessages(t, s, o.ID, 6)
	check(t, s.CreateMessages(ctx, other.ID, []*mailtrail.Message{{ID: ref(100), CampaignID: "camp", CustomerID: "u0", CustomerEmail: "u0@example.com"}}))
	write(t, s, norm, history(rand.New(rand.NewPCG(9, 9)), o.ID, 6)[:60])
	// An open dated an hour after its arrival (a sender's clock gone wrong) is counted,
	// and not read for the index (segment.Indexed).
	ahead := ev(o.ID, 1, mailtrail.EventOpened, 1001*time.Hour, "")
	ahead.ReceivedAt = base.Add(1000 * time.Hour)
	write(t, s, norm, []*mailtrail.Event{ahead})
	orgs := must[[]mailtrail.Organization](t)(s.Orgs(ctx))
	if len(orgs) != 2 || orgs[0].ID != o.ID || orgs[1].ID != other.ID {
		t.Fatalf("orgs: %+v", orgs)
	}
	got := must[*mailtrail.Organization](t)(s.Org(ctx, o.ID))
	if got.Name != "acme" {
		t.Fatalf("org: %+v", got)
	}
	rows := map[int64]string{}
	var ids []string
	check(t, s.SegmentCustomers(ctx, o.ID, 0, func(row int64, ext string) { rows[row] = ext; ids = append(ids, ext) }))
	sort.Strings(ids)
	if !reflect.DeepEqual(ids, []string{"u0", "u1", "u2", "u3", "u4", "u5"}) {
		t.Fatalf("customers: %v", ids)
	}
	var keys []int64
	for k := range rows {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var after []string
	check(t, s.SegmentCustomers(ctx, o.ID, keys[2], func(row int64, ext string) {
		if row <= keys[2] {
			t.Errorf("row %d not after %d", row, keys[2])
		}
		after = append(after, ext)
	}))
	if len(after) != 3 {
		t.Fatalf("customers after the third: %v", after)
	}
	var camps []string
	campRow := int64(0)
	check(t, s.SegmentCampaigns(ctx, o.ID, func(row int64, name string) { camps, campRow = append(camps, name), row }))
	if !reflect.DeepEqual(camps, []string{"camp"}) {
		t.Fatalf("campaigns: %v", camps)
	}
	last := must[int64](t)(s.LastEventID(ctx))
	var read []*segment.StoredEvent
	cursor := int64(0)
	for pages := 0; ; pages++ {
		n, next, err := s.SegmentEvents(ctx, o.ID, cursor, last, 7, func(e *segment.StoredEvent) { c := *e; read = append(read, &c) })
		check(t, err)
		if n == 0 {
			break
		}
		if next <= cursor || pages > 100 {
			t.Fatalf("cursor from %d to %d", cursor, next)
		}
		cursor = next
	}
	raw := stored(t, s, o.ID, "camp")
	counted := map[string]int{}
	aheadStored := false
	for _, e := range raw {
		if e.Counted && e.OccurredAt.Equal(ahead.OccurredAt) {
			aheadStored = true
			continue
		}
		if e.Counted {
			counted[fmt.Sprintf("%s %d %s", e.CustomerID, e.Type, e.Metadata.LinkURL)]++
		}
	}
	if !aheadStored {
		t.Fatal("the open dated after its arrival is not stored counted: the test does not exercise segment.Indexed")
	}
	gotCounted := map[string]int{}
	for i, e := range read {
		if i > 0 && e.ID <= read[i-1].ID {
			t.Fatalf("events out of id order: %d after %d", e.ID, read[i-1].ID)
		}
		if e.Campaign != campRow {
			t.Fatalf("event of campaign row %d, want %d", e.Campaign, campRow)
		}
		gotCounted[fmt.Sprintf("%s %d %s", rows[e.Customer], e.Type, e.Link)]++
	}
	if len(read) == 0 || !reflect.DeepEqual(gotCounted, counted) {
		t.Fatalf("segment events differ from the stored counted events:\n got %v\nwant %v", gotCounted, counted)
	}
	// The tail after an event: the later counted events in id order, named; then only
	// clicks (of the messages those events belong to) as relabels.
	mid := read[len(read)/2].ID
	var tail, want []string
	relabels := 0
	check(t, s.SegmentTail(ctx, o.ID, mid, last, func(e *segment.TailEvent) {
		if e.Relabel {
			relabels++
			if e.Type != mailtrail.EventClicked || e.Campaign != "camp" {
				t.Errorf("relabel of a %v of campaign %q: only clicks", e.Type, e.Campaign)
			}
			return
		}
		tail = append(tail, fmt.Sprintf("%s %d %s %s %d %v", e.Customer, e.Type, e.Link, e.Campaign, e.At, e.Human))
	}))
	for _, e := range read {
		if e.ID > mid {
			want = append(want, fmt.Sprintf("%s %d %s camp %d %v", rows[e.Customer], e.Type, e.Link, e.At, e.Human))
		}
	}
	if len(want) == 0 || !reflect.DeepEqual(tail, want) {
		t.Fatalf("segment tail after %d:\n got %v\nwant %v", mid, tail, want)
	}
	check(t, s.SegmentTail(ctx, o.ID, last, last, func(e *segment.TailEvent) { t.Errorf("tail past the last event: %+v", e) }))
}

// testConnections: created, listed, found by id in any organization for webhooks,
// rotated with a grace period, disabled and enabled, touched, resealed.
func testConnections(t *testing.T, s Operational) {
	o, _ := newOrg(t, s, "acme")
	other, _ := newOrg(t, s, "other")
	c := &mailtrail.Connection{ID: "conn_1", OrgID: o.ID, Vendor: "smtp", Name: "main", Sealed: []byte("v1"),
		IMAPURL: "imaps://imap.example:993/INBOX", IMAPPollSeconds: 60, SealedIMAP: []byte("imap-1")}
	check(t, s.CreateConnection(ctx, c))
	if c.CreatedAt.IsZero() {
		t.Fatal("CreatedAt not set")
	}
	wantCode(t, "same id", s.CreateConnection(ctx, &mailtrail.Connection{ID: "conn_1", OrgID: o.ID, Vendor: "smtp", Sealed: []byte("x")}), mailtrail.ECONFLICT)
	wantCode(t, "unknown org", s.CreateConnection(ctx, &mailtrail.Connection{ID: "conn_2", OrgID: "nope", Vendor: "smtp", Sealed: []byte("x")}), mailtrail.ENOTFOUND)
	check(t, s.CreateConnection(ctx, &mailtrail.Connection{ID: "conn_3", OrgID: o.ID, Vendor: "smtp", Name: "no mailbox", Sealed: []byte("w1")}))
	got := must[*mailtrail.Connection](t)(s.Connection(ctx, o.ID, "conn_1"))
	if got.Vendor != "smtp" || got.Name != "main" || string(got.Sealed) != "v1" || got.IMAPURL != c.IMAPURL || got.IMAPPollSeconds != 60 ||
		string(got.SealedIMAP) != "imap-1" || got.Disabled || got.LastWebhookAt != nil {
		t.Fatalf("read back: %+v", got)
	}
	if any := must[*mailtrail.Connection](t)(s.Connection(ctx, "", "conn_1")); any.OrgID != o.ID {
		t.Fatalf("found by id alone in org %q", any.OrgID)
	}
	wantCode(t, "other org", func() error { _, err := s.Connection(ctx, other.ID, "conn_1"); return err }(), mailtrail.ENOTFOUND)
	if l := must[[]mailtrail.Connection](t)(s.Connections(ctx, o.ID)); len(l) != 2 || l[0].ID != "conn_1" || l[1].ID != "conn_3" {
		t.Fatalf("list: %+v", l)
	}
	if l := must[[]mailtrail.Connection](t)(s.Connections(ctx, other.ID)); len(l) != 0 {
		t.Fatalf("other org lists %d", len(l))
	}
	if l := must[[]mailtrail.Connection](t)(s.MailboxConnections(ctx)); len(l) != 1 || l[0].ID != "conn_1" || string(l[0].SealedIMAP) != "imap-1" {
		t.Fatalf("mailboxes: %+v", l)
	}
	// Rotation: the old credentials stay until the grace ends.
	until := base.Add(24 * time.Hour).UTC()
	check(t, s.RotateConnection(ctx, o.ID, "conn_1", []byte("v2"), until))
	got = must[*mailtrail.Connection](t)(s.Connection(ctx, o.ID, "conn_1"))
	if string(got.Sealed) != "v2" || string(got.SealedPrevious) != "v1" || got.PreviousValidUntil == nil || !got.PreviousValidUntil.Equal(until) {
		t.Fatalf("rotated: %q %q %v", got.Sealed, got.SealedPrevious, got.PreviousValidUntil)
	}
	check(t, s.RotateConnection(ctx, o.ID, "conn_1", []byte("v3"), time.Time{}))
	got = must[*mailtrail.Connection](t)(s.Connection(ctx, o.ID, "conn_1"))
	if string(got.Sealed) != "v3" || len(got.SealedPrevious) != 0 || got.PreviousValidUntil != nil {
		t.Fatalf("rotated without grace: %q %q %v", got.Sealed, got.SealedPrevious, got.PreviousValidUntil)
	}
	wantCode(t, "rotate in another org", s.RotateConnection(ctx, other.ID, "conn_1", []byte("x"), until), mailtrail.ENOTFOUND)
	// Disabled: out of the mailbox pollers' list; enabled again.
	check(t, s.SetConnectionDisabled(ctx, o.ID, "conn_1", true))
	if got = must[*mailtrail.Connection](t)(s.Connection(ctx, o.ID, "conn_1")); !got.Disabled {
		t.Fatal("not disabled")
	}
	if l := must[[]mailtrail.Connection](t)(s.MailboxConnections(ctx)); len(l) != 0 {
		t.Fatalf("disabled mailbox still polled: %+v", l)
	}
	wantCode(t, "disable in another org", s.SetConnectionDisabled(ctx, other.ID, "conn_1", true), mailtrail.ENOTFOUND)
	check(t, s.SetConnectionDisabled(ctx, o.ID, "conn_1", false))
	if got = must[*mailtrail.Connection](t)(s.Connection(ctx, o.ID, "conn_1")); got.Disabled {
		t.Fatal("not enabled again")
	}
	at := base.Add(time.Hour).UTC()
	check(t, s.TouchConnection(ctx, "conn_1", at))
	if got = must[*mailtrail.Connection](t)(s.Connection(ctx, o.ID, "conn_1")); got.LastWebhookAt == nil || !got.LastWebhookAt.Equal(at) {
		t.Fatalf("touched: %v", got.LastWebhookAt)
	}
	// Reseal every connection; an error rolls every change back.
	n := must[int](t)(s.ResealConnections(ctx, func(c *mailtrail.Connection) (bool, error) {
		if c.ID != "conn_1" {
			return false, nil
		}
		c.Sealed, c.SealedIMAP = []byte("r3"), []byte("imap-r")
		return true, nil
	}))
	got = must[*mailtrail.Connection](t)(s.Connection(ctx, o.ID, "conn_1"))
	if n != 1 || string(got.Sealed) != "r3" || string(got.SealedIMAP) != "imap-r" {
		t.Fatalf("resealed %d: %q %q", n, got.Sealed, got.SealedIMAP)
	}
	if _, err := s.ResealConnections(ctx, func(c *mailtrail.Connection) (bool, error) {
		c.Sealed = []byte("lost")
		if c.ID == "conn_3" {
			return false, errors.New("key refused")
		}
		return true, nil
	}); err == nil {
		t.Fatal("reseal error not returned")
	}
	for id, want := range map[string]string{"conn_1": "r3", "conn_3": "w1"} {
		if got := must[*mailtrail.Connection](t)(s.Connection(ctx, o.ID, id)); string(got.Sealed) != want {
			t.Fatalf("failed reseal changed %s: %q", id, got.Sealed)
		}
	}
	check(t, s.Ping(ctx))
}

// testCampaigns: a campaign's name and subject come from its messages and are updated
// field by field.
func testCampaigns(t *testing.T, s Catalog, norm Normalizer) {
	o, _ := newOrg(t, s, "acme")
	check(t, s.CreateMessages(ctx, o.ID, []*mailtrail.Message{{ID: ref(0), CampaignID: "camp", CampaignName: "Autumn sale", Subject: "20% off",
		CustomerID: "u0", CustomerEmail: "u0@example.com"}}))
	write(t, s, norm, []*mailtrail.Event{ev(o.ID, 0, mailtrail.EventSent, 0, "s0")})
	info := must[*mailtrail.CampaignInfo](t)(each(s).CampaignInfo(ctx, o.ID, "camp"))
	if info.ID != "camp" || info.Name != "Autumn sale" || info.Subject != "20% off" {
		t.Fatalf("info: %+v", info)
	}
	name := "Autumn sale (FR)"
	up := must[*mailtrail.CampaignInfo](t)(s.UpdateCampaign(ctx, o.ID, "camp", mailtrail.CampaignUpdate{Name: &name}))
	if up.Name != name || up.Subject != "20% off" {
		t.Fatalf("updated: %+v", up)
	}
	if info = must[*mailtrail.CampaignInfo](t)(each(s).CampaignInfo(ctx, o.ID, "camp")); info.Name != name || info.Subject != "20% off" {
		t.Fatalf("read after update: %+v", info)
	}
	long := string(make([]byte, mailtrail.MaxCampaignName+1))
	wantCode(t, "name too long", func() error {
		_, err := s.UpdateCampaign(ctx, o.ID, "camp", mailtrail.CampaignUpdate{Name: &long})
		return err
	}(), mailtrail.EINVALID)
	wantCode(t, "unknown campaign", func() error { _, err := each(s).CampaignInfo(ctx, o.ID, "nope"); return err }(), mailtrail.ENOTFOUND)
	wantCode(t, "update unknown", func() error {
		_, err := s.UpdateCampaign(ctx, o.ID, "nope", mailtrail.CampaignUpdate{Name: &name})
		return err
	}(), mailtrail.ENOTFOUND)
	page := must[*mailtrail.CampaignPage](t)(s.Campaigns(ctx, o.ID, mailtrail.CampaignFilter{Search: "(fr)"}))
	if len(page.Campaigns) != 1 || page.Campaigns[0].Counts.Sent != 1 {
		t.Fatalf("search by name: %+v", page)
	}
	if page = must[*mailtrail.CampaignPage](t)(s.Campaigns(ctx, o.ID, mailtrail.CampaignFilter{Search: "winter"})); len(page.Campaigns) != 0 || page.Total != 0 {
		t.Fatalf("search without match: %+v", page)
	}
}

// testSavedSegments: saved by name, replaced, listed, deleted.
func testSavedSegments(t *testing.T, s Catalog) {
	o, _ := newOrg(t, s, "acme")
	other, _ := newOrg(t, s, "other")
	r1 := json.RawMessage(`{"opened":{"campaign":"camp"}}`)
	r2 := json.RawMessage(`{"clicked":{"campaign":"camp"}}`)
	seg, created, err := s.SaveSegment(ctx, o.ID, "openers", r1)
	check(t, err)
	if !created || seg.Name != "openers" {
		t.Fatalf("saved: %+v %v", seg, created)
	}
	if _, created, err = s.SaveSegment(ctx, o.ID, "openers", r2); err != nil || created {
		t.Fatalf("replaced: created %v %v", created, err)
	}
	got := must[*mailtrail.SavedSegment](t)(s.SavedSegment(ctx, o.ID, "openers"))
	if !jsonEqual(got.Rule, r2) {
		t.Fatalf("rule: %s", got.Rule)
	}
	_, _, err = s.SaveSegment(ctx, o.ID, "clickers", r2)
	check(t, err)
	var names []string
	for _, x := range must[[]mailtrail.SavedSegment](t)(s.SavedSegments(ctx, o.ID)) {
		names = append(names, x.Name)
	}
	if !reflect.DeepEqual(names, []string{"clickers", "openers"}) {
		t.Fatalf("list: %v", names)
	}
	wantCode(t, "other org", func() error { _, err := s.SavedSegment(ctx, other.ID, "openers"); return err }(), mailtrail.ENOTFOUND)
	check(t, s.DeleteSavedSegment(ctx, o.ID, "openers"))
	wantCode(t, "deleted", s.DeleteSavedSegment(ctx, o.ID, "openers"), mailtrail.ENOTFOUND)
	if l := must[[]mailtrail.SavedSegment](t)(s.SavedSegments(ctx, o.ID)); len(l) != 1 {
		t.Fatalf("after delete: %+v", l)
	}
}

func jsonEqual(a, b json.RawMessage) bool {
	var x, y any
	return json.Unmarshal(a, &x) == nil && json.Unmarshal(b, &y) == nil && reflect.DeepEqual(x, y)
}
