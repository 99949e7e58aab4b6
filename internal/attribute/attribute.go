// Package attribute decides which message of an organization each event an ESP reported
// belongs to. The precedence is written here once; a store only answers the batched
// lookups of Lookup, each within one organization.
package attribute

import (
	"context"
	"strings"

	"github.com/mailtrail/mailtrail"
)

// Placeholders of events that no message of the organization matches: they are kept (the
// store files them under one synthetic message of this campaign and customer) and
// counted, never dropped.
const (
	UnattributedCampaign = "_unattributed"
	UnknownCustomer      = "_unknown"
)

// Target is the message an event is attributed to: its public id and its names.
type Target struct {
	MessageID, CampaignID, CustomerID string
}

// Names are the campaign and customer hints of an event.
type Names struct {
	Campaign, Customer string
}

// Recipient is one recipient of a mail sent to several (mailtrail.Event.SharedMessage):
// the ids the mail is known by — our message id, the ESP's message id (either may be
// empty) — and the address of the recipient the event is about.
type Recipient struct {
	MessageID, ESPMessageID, Email string
}

// Lookup answers, for one organization and a whole batch of keys at once, which message
// each key names. Every method reads only orgID's rows, returns an entry only for the keys
// that match (a key may match nothing, and then has no entry), and fails with a
// mailtrail.ENOTFOUND error when orgID names no organization; any other error is an I/O
// failure. "Most recent" means the message created last. The placeholder customer
// UnknownCustomer is never matched by an ESP message id, an address or a recipient.
type Lookup interface {
	// MessagesByID returns the messages of orgID whose public ids are among ids. An id that
	// is not a message id, or names another organization's message, has no entry.
	MessagesByID(ctx context.Context, orgID string, ids []string) (map[string]Target, error)
	// MessagesByESPID returns, for each ESP message id, the most recent message of orgID
	// sent with it.
	MessagesByESPID(ctx context.Context, orgID string, ids []string) (map[string]Target, error)
	// MessagesByNames returns, for each campaign and customer, the most recent message of
	// that campaign of orgID to that customer.
	MessagesByNames(ctx context.Context, orgID string, names []Names) (map[Names]Target, error)
	// MessagesByEmail returns, for each address, the most recent message of orgID to a
	// customer with that address in any case (mailtrail.NormalizeEmail's equality).
	MessagesByEmail(ctx context.Context, orgID string, emails []string) (map[string]Target, error)
	// MessagesByRecipient returns, for each recipient, the most recent message of orgID
	// that the mail's MessageID or ESPMessageID names and that was sent to Email in any
	// case.
	MessagesByRecipient(ctx context.Context, orgID string, rs []Recipient) (map[Recipient]Target, error)
}

// Attribute resolves the message of each event an ESP reported for organization orgID,
// asking l only about orgID, in this order:
//  1. MessageID (our custom argument) naming a message of orgID. One naming a message of
//     another organization, or none, is ignored with the campaign and customer hints
//     (they came from the same untrusted payload) and attribution falls through.
//  2. ESPMessageID (spaces trimmed): the most recent message of orgID sent with it; then
//     the same with ESPMessageIDAlt, the other form the vendor's adapter gave (if any).
//  3. CampaignID and CustomerID hints, both given: the most recent message of that
//     campaign to that customer.
//  4. CustomerEmail: the most recent message to a customer of orgID with that address.
//  5. Otherwise the event keeps its email and is filed under UnattributedCampaign and
//     UnknownCustomer; these are counted in unattributed.
//
// An event with SharedMessage set is reported under a mail of several recipients: it is
// attributed only to a message that its MessageID or ESPMessageID names and that was
// sent to its CustomerEmail (MessagesByRecipient), else it is unattributed; its hints are
// never used.
//
// A resolved event gets MessageID, CampaignID and CustomerID of its message, and OrgID is
// set to orgID on every event. Each kind of lookup is asked at most once, with the keys
// of every event still unresolved at that step. On error (the first lookup that failed,
// as is) no event has been changed.
func Attribute(ctx context.Context, l Lookup, orgID string, evs []*mailtrail.Event) (unattributed int, err error) {
	ps := make([]pending, len(evs))
	for i, ev := range evs {
		ps[i] = pending{ev: ev, names: Names{ev.CampaignID, ev.CustomerID},
			esp: strings.TrimSpace(ev.ESPMessageID), email: strings.TrimSpace(ev.CustomerEmail)}
	}
	steps := []func(context.Context, Lookup, string, []pending) error{byID, byESPID, byNames, byEmail, byRecipient}
	for _, step := range steps {
		if err := step(ctx, l, orgID, ps); err != nil {
			return 0, err
		}
	}
	for _, p := range ps {
		p.ev.OrgID = orgID
		if p.to == nil {
			p.ev.MessageID, p.ev.CampaignID, p.ev.CustomerID = "", UnattributedCampaign, UnknownCustomer
			unattributed++
			continue
		}
		p.ev.MessageID, p.ev.CampaignID, p.ev.CustomerID = p.to.MessageID, p.to.CampaignID, p.to.CustomerID
	}
	return unattributed, nil
}

// pending is an event being attributed: the keys it still trusts and its message, once
// found.
type pending struct {
	ev         *mailtrail.Event
	names      Names  // the hints, cleared when the event's own message id proved foreign
	esp, email string // trimmed
	to         *Target
}

// open reports whether p is a single recipient's event not yet resolved.
func (p *pending) open() bool { return p.to == nil && !p.ev.SharedMessage }

func byID(ctx context.Context, l Lookup, org string, ps []pending) error {
	var ids keys[string]
	for i := range ps {
		if p := &ps[i]; p.open() && p.ev.MessageID != "" {
			ids.add(p.ev.MessageID)
		}
	}
	found, err := ask(ctx, org, ids, l.MessagesByID)
	if err != nil {
		return err
	}
	for i := range ps {
		if p := &ps[i]; p.open() && p.ev.MessageID != "" {
			if t, ok := found[p.ev.MessageID]; ok {
				p.to = &t
			} else {
				p.names = Names{} // a foreign or unknown id: nothing of the payload's hints is trusted
			}
		}
	}
	return nil
}

func byESPID(ctx context.Context, l Lookup, org string, ps []pending) error {
	var ids keys[string]
	for i := range ps {
		if p := &ps[i]; p.open() && p.esp != "" {
			ids.add(p.esp)
			if alt := p.ev.ESPMessageIDAlt; alt != "" {
				ids.add(alt)
			}
		}
	}
	found, err := ask(ctx, org, ids, l.MessagesByESPID)
	if err != nil {
		return err
	}
	for i := range ps {
		p := &ps[i]
		if !p.open() || p.esp == "" {
			continue
		}
		if t, ok := found[p.esp]; ok {
			p.to = &t
		} else if alt := p.ev.ESPMessageIDAlt; alt != "" {
			if t, ok := found[alt]; ok {
				p.to = &t
			}
		}
	}
	return nil
}

func byNames(ctx context.Context, l Lookup, org string, ps []pending) error {
	named := func(p *pending) bool { return p.open() && p.names.Campaign != "" && p.names.Customer != "" }
	var ns keys[Names]
	for i := range ps {
		if p := &ps[i]; named(p) {
			ns.add(p.names)
		}
	}
	found, err := ask(ctx, org, ns, l.MessagesByNames)
	if err != nil {
		return err
	}
	for i := range ps {
		if p := &ps[i]; named(p) {
			if t, ok := found[p.names]; ok {
				p.to = &t
			}
		}
	}
	return nil
}

func byEmail(ctx context.Context, l Lookup, org string, ps []pending) error {
	var es keys[string]
	for i := range ps {
		if p := &ps[i]; p.open() && p.email != "" {
			es.add(p.email)
		}
	}
	found, err := ask(ctx, org, es, l.MessagesByEmail)
	if err != nil {
		return err
	}
	for i := range ps {
		if p := &ps[i]; p.open() && p.email != "" {
			if t, ok := found[p.email]; ok {
				p.to = &t
			}
		}
	}
	return nil
}

func byRecipient(ctx context.Context, l Lookup, org string, ps []pending) error {
	key := func(p *pending) (Recipient, bool) {
		r := Recipient{MessageID: p.ev.MessageID, ESPMessageID: p.esp, Email: p.email}
		return r, p.ev.SharedMessage && r.Email != "" && (r.MessageID != "" || r.ESPMessageID != "")
	}
	var rs keys[Recipient]
	for i := range ps {
		if r, ok := key(&ps[i]); ok {
			rs.add(r)
		}
	}
	found, err := ask(ctx, org, rs, l.MessagesByRecipient)
	if err != nil {
		return err
	}
	for i := range ps {
		if r, ok := key(&ps[i]); ok {
			if t, ok := found[r]; ok {
				ps[i].to = &t
			}
		}
	}
	return nil
}

// keys collects distinct keys in the order first seen.
type keys[K comparable] struct {
	list []K
	seen map[K]bool
}

func (k *keys[K]) add(key K) {
	if k.seen[key] {
		return
	}
	if k.seen == nil {
		k.seen = map[K]bool{}
	}
	k.seen[key] = true
	k.list = append(k.list, key)
}

// ask calls lookup with the keys collected, and not at all when there are none.
func ask[K comparable](ctx context.Context, org string, k keys[K], lookup func(context.Context, string, []K) (map[K]Target, error)) (map[K]Target, error) {
	if len(k.list) == 0 {
		return nil, nil
	}
	return lookup(ctx, org, k.list)
}
