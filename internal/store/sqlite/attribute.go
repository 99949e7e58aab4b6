package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/mailtrail/mailtrail"
)

// Placeholders of webhook events that no message of the organization matches: they are
// kept (the sink files them under one synthetic message of this campaign and customer)
// and counted, never dropped.
const (
	UnattributedCampaign = "_unattributed"
	UnknownCustomer      = "_unknown"
)

// attribution is what an event resolves to: our message id and its names.
type attribution struct {
	ref                string
	campaign, customer string
}

// Attribute resolves the message of each webhook event of organization orgID, reading
// only that organization's rows, in this order:
//  1. MessageID (our custom argument) naming a message of orgID: kept. One naming a
//     message of another organization, or none, is cleared with the campaign and
//     customer hints (they came from the same untrusted payload) and falls through.
//  2. ESPMessageID: the most recent message of orgID with that esp_message_id; then
//     the same with ESPMessageIDAlt, the other form the vendor's adapter gave (if any).
//  3. CampaignID and CustomerID hints: the most recent message of that campaign to that
//     customer.
//  4. CustomerEmail: the most recent message to a customer of orgID with that address.
//  5. Otherwise the event keeps its email and is filed under UnattributedCampaign /
//     UnknownCustomer; these are counted in unattributed.
//
// A resolved event gets MessageID, CampaignID and CustomerID of its message. OrgID is
// set to orgID on every event. The error is an I/O failure; then events may be half
// resolved and must not be stored.
func (db *DB) Attribute(ctx context.Context, orgID string, evs []*mailtrail.Event) (unattributed int, err error) {
	org, err := db.orgInternal(ctx, orgID)
	if err != nil {
		return 0, err
	}
	a := &attributor{db: db, ctx: ctx, org: org, memo: map[string]*attribution{}}
	if err := a.prefetch(evs); err != nil {
		return 0, err
	}
	for _, ev := range evs {
		ev.OrgID = orgID
		at, err := a.resolve(ev)
		if err != nil {
			return 0, err
		}
		if at == nil {
			ev.MessageID, ev.CampaignID, ev.CustomerID = "", UnattributedCampaign, UnknownCustomer
			unattributed++
			continue
		}
		ev.MessageID, ev.CampaignID, ev.CustomerID = at.ref, at.campaign, at.customer
	}
	return unattributed, nil
}

type attributor struct {
	db   *DB
	ctx  context.Context
	org  int64
	memo map[string]*attribution // lookups of this call, by kind and key; nil = no match
}

func (a *attributor) resolve(ev *mailtrail.Event) (*attribution, error) {
	if ev.SharedMessage {
		return a.byRecipient(ev)
	}
	if ev.MessageID != "" {
		at, err := a.byRef(ev.MessageID)
		if err != nil || at != nil {
			return at, err
		}
		// Unknown or another organization's: nothing of the payload's hints is trusted.
		ev.MessageID, ev.CampaignID, ev.CustomerID = "", "", ""
	}
	if id := strings.TrimSpace(ev.ESPMessageID); id != "" {
		at, err := a.byESP(id)
		if err != nil || at != nil {
			return at, err
		}
		if alt := ev.ESPMessageIDAlt; alt != "" {
			if at, err := a.byESP(alt); err != nil || at != nil {
				return at, err
			}
		}
	}
	if ev.CampaignID != "" && ev.CustomerID != "" {
		at, err := a.byNames(ev.CampaignID, ev.CustomerID)
		if err != nil || at != nil {
			return at, err
		}
	}
	if e := strings.TrimSpace(ev.CustomerEmail); e != "" {
		return a.byEmail(e)
	}
	return nil, nil
}

const attrSelect = `SELECT m.ref, c.name, u.ext_id FROM messages m JOIN campaigns c ON c.id = m.campaign_id JOIN customers u ON u.id = m.customer_id `

func (a *attributor) lookup(key, q string, args ...any) (*attribution, error) {
	if at, ok := a.memo[key]; ok {
		return at, nil
	}
	var ref []byte
	at := &attribution{}
	err := a.db.r.QueryRowContext(a.ctx, q, args...).Scan(&ref, &at.campaign, &at.customer)
	if errors.Is(err, sql.ErrNoRows) {
		at = nil
	} else if err != nil {
		return nil, fmt.Errorf("sqlite: attribute: %w", err)
	} else {
		at.ref = refString(ref)
	}
	a.memo[key] = at
	return at, nil
}

func (a *attributor) byRef(id string) (*attribution, error) {
	ref, ok := parseRef(id)
	if !ok {
		return nil, nil
	}
	return a.lookup("m\x00"+id, attrSelect+`WHERE m.ref = ? AND m.org_id = ?`, ref[:], a.org)
}

func (a *attributor) byESP(id string) (*attribution, error) {
	return a.lookup("e\x00"+id, attrSelect+`WHERE m.org_id = ? AND m.esp_message_id = ? AND u.ext_id != ? ORDER BY m.id DESC LIMIT 1`,
		a.org, id, UnknownCustomer)
}

func (a *attributor) byNames(campaign, customer string) (*attribution, error) {
	return a.lookup("n\x00"+campaign+"\x00"+customer, attrSelect+`WHERE u.org_id = ? AND u.ext_id = ? AND m.customer_id = u.id
		AND c.org_id = ? AND c.name = ? AND m.org_id = ? ORDER BY m.id DESC LIMIT 1`, a.org, customer, a.org, campaign, a.org)
}

// byRecipient resolves an event reported under a mail sent to several recipients
// (Event.SharedMessage): the most recent message of the organization that the mail's ids
// name — our message id, or the ESP message id recorded with a send — and that was sent to
// the event's address in any case. The payload's hints are for the mail's first
// recipient and are never used alone: no such message, no attribution.
func (a *attributor) byRecipient(ev *mailtrail.Event) (*attribution, error) {
	f := emailForms(ev.CustomerEmail)
	var ref, esp any // nil matches nothing
	if r, ok := parseRef(ev.MessageID); ok {
		ref = r[:]
	}
	if id := strings.TrimSpace(ev.ESPMessageID); id != "" {
		esp = id
	}
	key := "r\x00" + ev.MessageID + "\x00" + ev.ESPMessageID + "\x00" + f[0]
	ev.MessageID, ev.CampaignID, ev.CustomerID = "", "", ""
	if f[0] == "" || (ref == nil && esp == nil) {
		return nil, nil
	}
	return a.lookup(key, attrSelect+`WHERE m.org_id = ? AND (m.ref = ? OR m.esp_message_id = ?)
		AND lower(m.email) IN (?, ?) AND u.ext_id != ? ORDER BY m.id DESC LIMIT 1`, a.org, ref, esp, f[0], f[1], UnknownCustomer)
}

// byEmail matches the address in any case (customers_email_ci indexes lower(email)),
// skipping the placeholder customer of unattributed events.
func (a *attributor) byEmail(email string) (*attribution, error) {
	f := emailForms(email)
	return a.lookup("a\x00"+email, attrSelect+`WHERE u.org_id = ? AND lower(u.email) IN (?, ?) AND u.ext_id != ? AND m.customer_id = u.id AND m.org_id = ?
		ORDER BY m.id DESC LIMIT 1`, a.org, f[0], f[1], UnknownCustomer, a.org)
}

// emailForms returns the forms of an address that lower(customers.email) is compared
// with: its key (mailtrail.NormalizeEmail) and its ASCII letters lower-cased, which
// differ only for a domain with non-ASCII capitals (lower() folds ASCII alone).
func emailForms(email string) [2]string {
	email = strings.TrimSpace(email)
	return [2]string{mailtrail.NormalizeEmail(email), strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, email)}
}
