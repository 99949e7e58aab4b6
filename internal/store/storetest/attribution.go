package storetest

import (
	"maps"
	"testing"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/attribute"
)

// testAttribution: attribute.Attribute over the store's lookups (our message id first, of
// this organization only, then the ESP's message id and the adapter's other form of it,
// then the campaign and customer hints, then the address; else unattributed), then each
// lookup on its own: most recent message, this organization's rows only, the placeholder
// customer never matched, an unknown organization refused.
func testAttribution(t *testing.T, s Operational, norm Normalizer) {
	o, _ := newOrg(t, s, "acme")
	other, _ := newOrg(t, s, "other")
	check(t, s.CreateMessages(ctx, o.ID, []*mailtrail.Message{
		{ID: ref(0), CampaignID: "c1", CustomerID: "u0", CustomerEmail: "u0@example.com", ESPMessageID: "esp-0"},
		{ID: ref(1), CampaignID: "c1", CustomerID: "u1", CustomerEmail: "U1@Example.com"},
		{ID: ref(2), CampaignID: "c2", CustomerID: "u1", CustomerEmail: "u1@example.com"},
		{ID: ref(3), CampaignID: "c3", CustomerID: "u3", CustomerEmail: "u3@example.com", ESPMessageID: "esp-3"},
		{ID: ref(4), CampaignID: "c3", CustomerID: "u3", CustomerEmail: "u3@example.com", ESPMessageID: "esp-3"},
		{ID: ref(5), CampaignID: "c4", CustomerID: "u5", CustomerEmail: "u5@example.com", ESPMessageID: "mail-1"},
		{ID: ref(6), CampaignID: "c4", CustomerID: "u6", CustomerEmail: "U6@Example.com", ESPMessageID: "mail-1"},
	}))
	check(t, s.CreateMessages(ctx, other.ID, []*mailtrail.Message{{ID: ref(9), CampaignID: "c9", CustomerID: "x", CustomerEmail: "x@example.com", ESPMessageID: "esp-9"}}))
	// An unattributed event: its message is the placeholder customer's, which no ESP id,
	// address or recipient may match.
	write(t, s, norm, []*mailtrail.Event{{OrgID: o.ID, CampaignID: attribute.UnattributedCampaign, CustomerID: attribute.UnknownCustomer,
		CustomerEmail: "ghost@example.com", ESPMessageID: "esp-ghost", Type: mailtrail.EventDelivered, Source: mailtrail.SourceWebhook}})

	cases := []struct {
		name string
		ev   mailtrail.Event
		want string // message id; "" unattributed
	}{
		{"our id", mailtrail.Event{MessageID: ref(1), ESPMessageID: "esp-0"}, ref(1)},
		{"esp id", mailtrail.Event{ESPMessageID: "esp-0"}, ref(0)},
		{"the adapter's other form of the esp id", mailtrail.Event{ESPMessageID: "esp-0.dfd.1", ESPMessageIDAlt: "esp-0"}, ref(0)},
		{"no other form, no guess", mailtrail.Event{ESPMessageID: "esp-0.dfd.1", CustomerEmail: "nobody@example.com"}, ""},
		{"another org's id falls through", mailtrail.Event{MessageID: ref(9), CampaignID: "c9", CustomerID: "x", CustomerEmail: "u0@example.com"}, ref(0)},
		{"another org's id, its hints not trusted", mailtrail.Event{MessageID: ref(9), CampaignID: "c1", CustomerID: "u1"}, ""},
		{"hints", mailtrail.Event{CampaignID: "c1", CustomerID: "u1"}, ref(1)},
		{"address, latest message", mailtrail.Event{CustomerEmail: "u1@EXAMPLE.com"}, ref(2)},
		{"nothing matches", mailtrail.Event{ESPMessageID: "esp-unknown", CustomerEmail: "nobody@example.com"}, ""},
		{"shared mail, this recipient's message", mailtrail.Event{SharedMessage: true, MessageID: ref(5), ESPMessageID: "mail-1", CustomerEmail: "u6@example.com"}, ref(6)},
		{"shared mail, not sent to the address", mailtrail.Event{SharedMessage: true, MessageID: ref(5), ESPMessageID: "mail-1", CampaignID: "c1", CustomerID: "u0", CustomerEmail: "u0@example.com"}, ""},
	}
	var evs []*mailtrail.Event
	for i := range cases {
		e := cases[i].ev
		e.Type = mailtrail.EventDelivered
		evs = append(evs, &e)
	}
	n := must[int](t)(attribute.Attribute(ctx, s, o.ID, evs))
	if n != 4 {
		t.Fatalf("unattributed %d, want 4", n)
	}
	for i, c := range cases {
		e := evs[i]
		if e.OrgID != o.ID || e.MessageID != c.want {
			t.Errorf("%s: message %q org %q, want %q", c.name, e.MessageID, e.OrgID, c.want)
		}
		if c.want == "" && e.CampaignID == "" {
			t.Errorf("%s: unattributed event without its placeholder campaign", c.name)
		}
		if c.want != "" {
			m := must[*mailtrail.Message](t)(s.Message(ctx, o.ID, c.want))
			if e.CampaignID != m.CampaignID || e.CustomerID != m.CustomerID {
				t.Errorf("%s: names %q %q, want %q %q", c.name, e.CampaignID, e.CustomerID, m.CampaignID, m.CustomerID)
			}
		}
	}
	unknown := []*mailtrail.Event{{MessageID: ref(0), Type: mailtrail.EventDelivered}}
	wantCode(t, "unknown org", func() error { _, err := attribute.Attribute(ctx, s, "nope", unknown); return err }(), mailtrail.ENOTFOUND)

	target := func(i int, campaign, customer string) attribute.Target {
		return attribute.Target{MessageID: ref(i), CampaignID: campaign, CustomerID: customer}
	}
	wantTargets(t, "MessagesByID", must[map[string]attribute.Target](t)(s.MessagesByID(ctx, o.ID, []string{ref(0), ref(9), "not an id", ref(7)})),
		map[string]attribute.Target{ref(0): target(0, "c1", "u0")})
	wantTargets(t, "MessagesByID, other org", must[map[string]attribute.Target](t)(s.MessagesByID(ctx, other.ID, []string{ref(0), ref(9)})),
		map[string]attribute.Target{ref(9): target(9, "c9", "x")})
	wantTargets(t, "MessagesByESPID", must[map[string]attribute.Target](t)(s.MessagesByESPID(ctx, o.ID, []string{"esp-3", "esp-0", "esp-ghost", "esp-9", "nope"})),
		map[string]attribute.Target{"esp-3": target(4, "c3", "u3"), "esp-0": target(0, "c1", "u0")})
	wantTargets(t, "MessagesByNames", must[map[attribute.Names]attribute.Target](t)(s.MessagesByNames(ctx, o.ID, []attribute.Names{
		{Campaign: "c1", Customer: "u1"}, {Campaign: "c3", Customer: "u3"}, {Campaign: "c1", Customer: "u3"}, {Campaign: "c9", Customer: "x"}})),
		map[attribute.Names]attribute.Target{{Campaign: "c1", Customer: "u1"}: target(1, "c1", "u1"), {Campaign: "c3", Customer: "u3"}: target(4, "c3", "u3")})
	wantTargets(t, "MessagesByEmail", must[map[string]attribute.Target](t)(s.MessagesByEmail(ctx, o.ID, []string{"U1@example.COM", "u3@example.com", "u6@example.com", "ghost@example.com", "x@example.com"})),
		map[string]attribute.Target{"U1@example.COM": target(2, "c2", "u1"), "u3@example.com": target(4, "c3", "u3"), "u6@example.com": target(6, "c4", "u6")})
	rs := []attribute.Recipient{
		{MessageID: ref(5), ESPMessageID: "mail-1", Email: "U6@example.com"}, // by the ESP id
		{ESPMessageID: "mail-1", Email: "u5@example.com"},
		{MessageID: ref(5), Email: "u5@EXAMPLE.com"},            // by our id
		{MessageID: ref(5), Email: "u6@example.com"},            // our id names another recipient's message
		{ESPMessageID: "esp-ghost", Email: "ghost@example.com"}, // the placeholder
		{MessageID: ref(9), ESPMessageID: "esp-9", Email: "x@example.com"},
	}
	wantTargets(t, "MessagesByRecipient", must[map[attribute.Recipient]attribute.Target](t)(s.MessagesByRecipient(ctx, o.ID, rs)),
		map[attribute.Recipient]attribute.Target{rs[0]: target(6, "c4", "u6"), rs[1]: target(5, "c4", "u5"), rs[2]: target(5, "c4", "u5")})

	for name, err := range map[string]error{
		"MessagesByID":    func() error { _, err := s.MessagesByID(ctx, "nope", []string{ref(0)}); return err }(),
		"MessagesByESPID": func() error { _, err := s.MessagesByESPID(ctx, "nope", []string{"esp-0"}); return err }(),
		"MessagesByNames": func() error {
			_, err := s.MessagesByNames(ctx, "nope", []attribute.Names{{Campaign: "c1", Customer: "u1"}})
			return err
		}(),
		"MessagesByEmail":     func() error { _, err := s.MessagesByEmail(ctx, "nope", []string{"u0@example.com"}); return err }(),
		"MessagesByRecipient": func() error { _, err := s.MessagesByRecipient(ctx, "nope", rs[:1]); return err }(),
	} {
		wantCode(t, name+" of an unknown org", err, mailtrail.ENOTFOUND)
	}
}

func wantTargets[K comparable](t *testing.T, what string, got, want map[K]attribute.Target) {
	t.Helper()
	if !maps.Equal(got, want) {
		t.Errorf("%s: got %v, want %v", what, got, want)
	}
}
