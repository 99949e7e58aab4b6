package attribute

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"

	"github.com/mailtrail/mailtrail"
)

// sent is a message in the lookup table below.
type sent struct {
	org, id, esp, campaign, customer, email string
}

// table answers Lookup from a list of sent messages, the most recent last, and records
// the keys each method was asked. It is a lookup table, not a store: the rules of Lookup's
// contract (most recent, one organization, any case, the placeholder never matched by an
// ESP id, an address or a recipient) are written out plainly.
type table struct {
	orgs  []string
	msgs  []sent
	fail  string // the method that fails
	asked map[string][]string
}

var errBoom = errors.New("boom")

func (l *table) ask(ctx context.Context, method, org string, keys []string) error {
	if l.asked == nil {
		l.asked = map[string][]string{}
	}
	l.asked[method] = append(l.asked[method], keys...)
	if method == l.fail {
		return errBoom
	}
	if !slices.Contains(l.orgs, org) {
		return mailtrail.Errorf(mailtrail.ENOTFOUND, "organization %q not found", org)
	}
	return nil
}

// latest returns the most recent message of org that ok accepts.
func (l *table) latest(org string, ok func(sent) bool) (Target, bool) {
	for i := len(l.msgs) - 1; i >= 0; i-- {
		if m := l.msgs[i]; m.org == org && ok(m) {
			return Target{m.id, m.campaign, m.customer}, true
		}
	}
	return Target{}, false
}

func lookupAll[K comparable](l *table, ctx context.Context, method, org string, keys []K, ok func(K, sent) bool) (map[K]Target, error) {
	strs := make([]string, len(keys))
	for i, k := range keys {
		strs[i] = fmt.Sprint(k)
	}
	if err := l.ask(ctx, method, org, strs); err != nil {
		return nil, err
	}
	out := map[K]Target{}
	for _, k := range keys {
		if t, found := l.latest(org, func(m sent) bool { return ok(k, m) }); found {
			out[k] = t
		}
	}
	return out, nil
}

func sameEmail(a, b string) bool { return mailtrail.NormalizeEmail(a) == mailtrail.NormalizeEmail(b) }

func (l *table) MessagesByID(ctx context.Context, org string, ids []string) (map[string]Target, error) {
	return lookupAll(l, ctx, "id", org, ids, func(id string, m sent) bool { return m.id == id })
}

func (l *table) MessagesByESPID(ctx context.Context, org string, ids []string) (map[string]Target, error) {
	return lookupAll(l, ctx, "esp", org, ids, func(id string, m sent) bool { return m.esp == id && m.customer != UnknownCustomer })
}

func (l *table) MessagesByNames(ctx context.Context, org string, ns []Names) (map[Names]Target, error) {
	return lookupAll(l, ctx, "names", org, ns, func(n Names, m sent) bool { return m.campaign == n.Campaign && m.customer == n.Customer })
}

func (l *table) MessagesByEmail(ctx context.Context, org string, es []string) (map[string]Target, error) {
	return lookupAll(l, ctx, "email", org, es, func(e string, m sent) bool { return sameEmail(m.email, e) && m.customer != UnknownCustomer })
}

func (l *table) MessagesByRecipient(ctx context.Context, org string, rs []Recipient) (map[Recipient]Target, error) {
	return lookupAll(l, ctx, "recipient", org, rs, func(r Recipient, m sent) bool {
		return (m.id == r.MessageID || (r.ESPMessageID != "" && m.esp == r.ESPMessageID)) && sameEmail(m.email, r.Email) && m.customer != UnknownCustomer
	})
}

// world: organization A's messages (a0 … a9) and one of organization B (b0), the most
// recent last.
func world() *table {
	return &table{orgs: []string{"A", "B"}, msgs: []sent{
		{"A", "a0", "esp-0", "c1", "u0", "u0@example.com"},
		{"A", "a1", "", "c1", "u1", "U1@Example.com"},
		{"A", "a2", "", "c2", "u1", "u1@example.com"},
		{"A", "a3", "esp-3", "c3", "u3", "u3@example.com"},
		{"A", "a4", "esp-3", "c3", "u3", "u3@example.com"},
		{"A", "a5", "mail-1", "c4", "u5", "u5@example.com"},
		{"A", "a6", "mail-1", "c4", "u6", "u6@example.com"},
		{"A", "a7", "esp-7", "c5", "u7", "u7@example.com"},
		{"A", "a8", "esp-ghost", UnattributedCampaign, UnknownCustomer, "ghost@example.com"},
		{"A", "a9", "esp-9", "c9", "x", "x@example.com"}, // the same names and ESP id as b0, in A
		{"B", "b0", "esp-9", "c9", "x", "x@example.com"},
		{"B", "b1", "esp-b", "cb", "ub", "ub@example.com"},
	}}
}

var precedence = []struct {
	name string
	ev   mailtrail.Event
	want string // message id; "" unattributed
}{
	// 1. our message id, before everything else
	{"our id", mailtrail.Event{MessageID: "a1"}, "a1"},
	{"our id before the esp id, hints and address", mailtrail.Event{MessageID: "a1", ESPMessageID: "esp-0", CampaignID: "c2", CustomerID: "u1", CustomerEmail: "u3@example.com"}, "a1"},
	{"another org's id falls through to the address", mailtrail.Event{MessageID: "b1", CustomerEmail: "u0@example.com"}, "a0"},
	{"another org's id falls through to the esp id", mailtrail.Event{MessageID: "b1", ESPMessageID: "esp-7"}, "a7"},
	{"another org's id: its hints are not trusted", mailtrail.Event{MessageID: "b1", CampaignID: "c1", CustomerID: "u1"}, ""},
	{"an unknown id: its hints are not trusted", mailtrail.Event{MessageID: "nope", CampaignID: "c1", CustomerID: "u1", CustomerEmail: "u3@example.com"}, "a4"},
	// 2. the ESP message id, then the adapter's other form of it
	{"esp id, most recent message", mailtrail.Event{ESPMessageID: "esp-3"}, "a4"},
	{"esp id before hints and address", mailtrail.Event{ESPMessageID: "esp-0", CampaignID: "c2", CustomerID: "u1", CustomerEmail: "u3@example.com"}, "a0"},
	{"esp id trimmed", mailtrail.Event{ESPMessageID: "  esp-0\n"}, "a0"},
	{"esp id of the org only", mailtrail.Event{ESPMessageID: "esp-b"}, ""},
	{"the other form when the esp id matches nothing", mailtrail.Event{ESPMessageID: "esp-0.x.1", ESPMessageIDAlt: "esp-0"}, "a0"},
	{"the esp id before its other form", mailtrail.Event{ESPMessageID: "esp-7", ESPMessageIDAlt: "esp-0"}, "a7"},
	{"no other form, no guess", mailtrail.Event{ESPMessageID: "esp-0.x.1"}, ""},
	{"the other form alone is not an esp id", mailtrail.Event{ESPMessageIDAlt: "esp-0"}, ""},
	{"the other form before hints", mailtrail.Event{ESPMessageID: "esp-7.x", ESPMessageIDAlt: "esp-7", CampaignID: "c1", CustomerID: "u1"}, "a7"},
	{"unknown esp id falls through to hints", mailtrail.Event{ESPMessageID: "esp-unknown", CampaignID: "c1", CustomerID: "u1"}, "a1"},
	{"the placeholder's esp id matches nothing", mailtrail.Event{ESPMessageID: "esp-ghost"}, ""},
	// 3. the campaign and customer hints
	{"hints", mailtrail.Event{CampaignID: "c1", CustomerID: "u1"}, "a1"},
	{"hints, most recent message", mailtrail.Event{CampaignID: "c3", CustomerID: "u3"}, "a4"},
	{"hints before the address", mailtrail.Event{CampaignID: "c1", CustomerID: "u1", CustomerEmail: "u0@example.com"}, "a1"},
	{"a campaign alone is no hint", mailtrail.Event{CampaignID: "c1", CustomerEmail: "u0@example.com"}, "a0"},
	{"a customer alone is no hint", mailtrail.Event{CustomerID: "u1"}, ""},
	{"unknown hints fall through to the address", mailtrail.Event{CampaignID: "c2", CustomerID: "u0", CustomerEmail: "u0@example.com"}, "a0"},
	{"hints of the org only", mailtrail.Event{CampaignID: "cb", CustomerID: "ub"}, ""},
	// 4. the address
	{"address, most recent message, any case", mailtrail.Event{CustomerEmail: " u1@EXAMPLE.com "}, "a2"},
	{"address of the org only", mailtrail.Event{CustomerEmail: "ub@example.com"}, ""},
	{"the placeholder's address matches nothing", mailtrail.Event{CustomerEmail: "ghost@example.com"}, ""},
	// 5. unattributed
	{"nothing", mailtrail.Event{}, ""},
	{"nothing matches", mailtrail.Event{MessageID: "nope", ESPMessageID: "esp-unknown", CustomerEmail: "nobody@example.com"}, ""},
	// a mail sent to several recipients
	{"shared: this recipient's message by the esp id", mailtrail.Event{SharedMessage: true, MessageID: "a5", ESPMessageID: "mail-1", CustomerEmail: "U6@example.com"}, "a6"},
	{"shared: by our id", mailtrail.Event{SharedMessage: true, MessageID: "a5", CustomerEmail: "u5@example.com"}, "a5"},
	{"shared: our id names another recipient's message", mailtrail.Event{SharedMessage: true, MessageID: "a5", CustomerEmail: "u6@example.com"}, ""},
	{"shared: not sent to the address, the address alone is not used", mailtrail.Event{SharedMessage: true, ESPMessageID: "mail-1", CustomerEmail: "u0@example.com"}, ""},
	{"shared: hints are never used", mailtrail.Event{SharedMessage: true, ESPMessageID: "mail-1", CampaignID: "c1", CustomerID: "u1", CustomerEmail: "u1@example.com"}, ""},
	{"shared: no address", mailtrail.Event{SharedMessage: true, MessageID: "a5", ESPMessageID: "mail-1"}, ""},
	{"shared: no id", mailtrail.Event{SharedMessage: true, CustomerEmail: "u5@example.com"}, ""},
	{"shared: the esp id trimmed", mailtrail.Event{SharedMessage: true, ESPMessageID: " mail-1 ", CustomerEmail: "u5@example.com"}, "a5"},
}

// check asserts what ev (a copy of in) was attributed to in organization org.
func check(t *testing.T, l *table, name, org string, in, ev mailtrail.Event, want string) {
	t.Helper()
	if ev.OrgID != org || ev.MessageID != want {
		t.Errorf("%s: message %q org %q, want %q in %q", name, ev.MessageID, ev.OrgID, want, org)
	}
	if ev.CustomerEmail != in.CustomerEmail || ev.ESPMessageID != in.ESPMessageID || ev.SharedMessage != in.SharedMessage {
		t.Errorf("%s: the event's other fields changed: %+v", name, ev)
	}
	if want == "" {
		if ev.CampaignID != UnattributedCampaign || ev.CustomerID != UnknownCustomer {
			t.Errorf("%s: unattributed under %q %q", name, ev.CampaignID, ev.CustomerID)
		}
		return
	}
	m, _ := l.latest(org, func(m sent) bool { return m.id == want })
	if ev.CampaignID != m.CampaignID || ev.CustomerID != m.CustomerID {
		t.Errorf("%s: names %q %q, want %q %q", name, ev.CampaignID, ev.CustomerID, m.CampaignID, m.CustomerID)
	}
}

func TestPrecedence(t *testing.T) {
	for _, c := range precedence {
		l := world()
		ev := c.ev
		n, err := Attribute(context.Background(), l, "A", []*mailtrail.Event{&ev})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if want := map[bool]int{true: 1, false: 0}[c.want == ""]; n != want {
			t.Errorf("%s: unattributed %d, want %d", c.name, n, want)
		}
		check(t, l, c.name, "A", c.ev, ev, c.want)
	}
}

// TestBatch: every case in one batch, twice over, resolves as it does alone, with each
// lookup asked once, each key once.
func TestBatch(t *testing.T) {
	l := world()
	var evs []*mailtrail.Event
	var unattributed int
	for range 2 {
		for _, c := range precedence {
			ev := c.ev
			evs = append(evs, &ev)
			if c.want == "" {
				unattributed++
			}
		}
	}
	n, err := Attribute(context.Background(), l, "A", evs)
	if err != nil {
		t.Fatal(err)
	}
	if n != unattributed {
		t.Errorf("unattributed %d, want %d", n, unattributed)
	}
	for i, ev := range evs {
		c := precedence[i%len(precedence)]
		check(t, l, c.name, "A", c.ev, *ev, c.want)
	}
	for method, keys := range l.asked {
		seen := map[string]bool{}
		for _, k := range keys {
			if seen[k] {
				t.Errorf("%s: key %s asked twice", method, k)
			}
			seen[k] = true
		}
	}
	if len(l.asked) != 5 {
		t.Errorf("lookups asked: %v, want all five once", l.asked)
	}
}

// TestOnlyWhatIsUnresolved: a step asks only about the events the steps before left
// unresolved, and a step with nothing to ask is not asked.
func TestOnlyWhatIsUnresolved(t *testing.T) {
	l := world()
	evs := []*mailtrail.Event{
		{MessageID: "a1", ESPMessageID: "esp-0", CampaignID: "c1", CustomerID: "u1", CustomerEmail: "u1@example.com"},
		{MessageID: "b1", ESPMessageID: "esp-7", ESPMessageIDAlt: "esp-7-alt", CustomerEmail: "u7@example.com"},
		{ESPMessageID: "esp-unknown", CampaignID: "c3", CustomerID: "u3", CustomerEmail: "u3@example.com"},
	}
	if _, err := Attribute(context.Background(), l, "A", evs); err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"id":    {"a1", "b1"},
		"esp":   {"esp-7", "esp-7-alt", "esp-unknown"},
		"names": {"{c3 u3}"},
	}
	if !reflect.DeepEqual(l.asked, want) {
		t.Errorf("asked %v, want %v", l.asked, want)
	}

	l = world()
	if n, err := Attribute(context.Background(), l, "A", []*mailtrail.Event{{}, {CustomerID: "u1"}}); err != nil || n != 2 {
		t.Fatalf("events without keys: %d, %v", n, err)
	}
	if len(l.asked) != 0 {
		t.Errorf("events without keys asked %v", l.asked)
	}
}

// TestOrganizations: an organization's events reach only its messages, whatever ids,
// hints or addresses they carry.
func TestOrganizations(t *testing.T) {
	cases := []struct {
		ev   mailtrail.Event
		want string
	}{
		{mailtrail.Event{MessageID: "a0"}, ""},
		{mailtrail.Event{MessageID: "a0", CampaignID: "c1", CustomerID: "u0", CustomerEmail: "u0@example.com"}, ""},
		{mailtrail.Event{ESPMessageID: "esp-0"}, ""},
		{mailtrail.Event{ESPMessageID: "esp-9"}, "b0"},
		{mailtrail.Event{CampaignID: "c9", CustomerID: "x"}, "b0"},
		{mailtrail.Event{CustomerEmail: "x@example.com"}, "b0"},
		{mailtrail.Event{MessageID: "a9", CustomerEmail: "ub@example.com"}, "b1"},
		{mailtrail.Event{SharedMessage: true, MessageID: "a5", ESPMessageID: "mail-1", CustomerEmail: "u5@example.com"}, ""},
	}
	for i, c := range cases {
		l := world()
		ev := c.ev
		if _, err := Attribute(context.Background(), l, "B", []*mailtrail.Event{&ev}); err != nil {
			t.Fatal(err)
		}
		check(t, l, fmt.Sprint("case ", i), "B", c.ev, ev, c.want)
	}
}

// TestFailure: the first failing lookup's error is returned and no event is changed, at
// whichever step it fails; an unknown organization is the lookup's ENOTFOUND.
func TestFailure(t *testing.T) {
	batch := func() []*mailtrail.Event {
		return []*mailtrail.Event{
			{MessageID: "a1", CustomerEmail: "u1@example.com"},
			{MessageID: "b1", ESPMessageID: "esp-unknown", CampaignID: "c9", CustomerID: "nobody"},
			{CampaignID: "c2", CustomerID: "u0", CustomerEmail: "u0@example.com"},
			{SharedMessage: true, ESPMessageID: "mail-1", CustomerEmail: "u5@example.com"},
		}
	}
	for _, method := range []string{"id", "esp", "names", "email", "recipient"} {
		l := world()
		l.fail = method
		evs := batch()
		if _, err := Attribute(context.Background(), l, "A", evs); !errors.Is(err, errBoom) {
			t.Errorf("%s fails: got %v", method, err)
		}
		if want := batch(); !reflect.DeepEqual(evs, want) {
			t.Errorf("%s fails: events changed: %+v", method, evs)
		}
	}
	if _, err := Attribute(context.Background(), world(), "nope", batch()); mailtrail.ErrorCode(err) != mailtrail.ENOTFOUND {
		t.Errorf("unknown organization: got %v", err)
	}
}
