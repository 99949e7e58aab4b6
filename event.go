// Package mailtrail holds the domain of the email-events service: events, messages,
// links, suppressions, reports and the one error type every layer speaks. It imports the
// standard library only; every other package may import it.
package mailtrail

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"time"
)

// EventType is one of the interactions mailtrail records.
type EventType uint8

// The event types. Their numeric values are persisted: never renumber them.
const (
	EventUnknown      EventType = 0
	EventSent         EventType = 1
	EventDelivered    EventType = 2
	EventOpened       EventType = 3
	EventClicked      EventType = 4
	EventBounced      EventType = 5
	EventComplained   EventType = 6
	EventUnsubscribed EventType = 7
	// EventDeferred is an ESP's "temporary failure, still retrying" notice (SendGrid
	// deferred, Mailgun failed with severity temporary, Postmark Transient, SES
	// DeliveryDelay, …). It is shown in timelines and metrics but is never a bounce: it
	// sets no figure and takes no part in a soft-bounce run. Only the ESP's final failure
	// is a bounce.
	EventDeferred EventType = 8
)

// EventTypes lists every valid type in display order.
var EventTypes = [...]EventType{EventSent, EventDelivered, EventOpened, EventClicked, EventBounced, EventComplained, EventUnsubscribed, EventDeferred}

var eventTypeNames = [...]string{"", "sent", "delivered", "opened", "clicked", "bounced", "complained", "unsubscribed", "deferred"}

// EventTypeNames is the list of type names for messages ("sent, delivered, …").
const EventTypeNames = "sent, delivered, opened, clicked, bounced, complained, unsubscribed, deferred"

// String returns the API name of t ("sent", "opened", …), or "" for an invalid type.
func (t EventType) String() string {
	if int(t) < len(eventTypeNames) {
		return eventTypeNames[t]
	}
	return ""
}

// Valid reports whether t is one of the types.
func (t EventType) Valid() bool { return t >= EventSent && t <= EventDeferred }

// ParseEventType returns the type named s, or an EINVALID error.
func ParseEventType(s string) (EventType, error) {
	for i, n := range eventTypeNames {
		if i > 0 && n == s {
			return EventType(i), nil
		}
	}
	return EventUnknown, Errorf(EINVALID, "unknown event type %q", s)
}

// MarshalText implements encoding.TextMarshaler.
func (t EventType) MarshalText() ([]byte, error) {
	if !t.Valid() {
		return nil, fmt.Errorf("invalid event type %d", t)
	}
	return []byte(t.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (t *EventType) UnmarshalText(b []byte) error {
	v, err := ParseEventType(string(b))
	if err != nil {
		return err
	}
	*t = v
	return nil
}

// Source says which door an event came in by.
type Source string

// The sources of events.
const (
	SourceAPI      Source = "api"
	SourceTracking Source = "tracking"
	SourceWebhook  Source = "webhook"
	SourceImport   Source = "import"
)

// Valid reports whether s is a known source.
func (s Source) Valid() bool {
	switch s {
	case SourceAPI, SourceTracking, SourceWebhook, SourceImport:
		return true
	}
	return false
}

// Classification labels an open or a click as made by a person, by a machine fetching on
// a person's behalf (privacy proxies) or by a bot (security scanners).
type Classification string

// The classifications. An empty Classification on an open or click means human.
const (
	Human   Classification = "human"
	Machine Classification = "machine"
	Bot     Classification = "bot"
)

// HoneypotLink is the link index of the hidden honeypot link that instrumenting adds to a
// message with tracked links: no person sees it, so only scanners click it. It is the
// largest index a click id carries; a message's real links stay below it.
const HoneypotLink = 65535

// BounceType distinguishes permanent from temporary failures.
type BounceType string

// The bounce types.
const (
	BounceHard BounceType = "hard"
	BounceSoft BounceType = "soft"
)

// Metadata carries the type-specific details of an event. Unknown keys a client sends are
// kept in Extra (UnmarshalJSON).
type Metadata struct {
	LinkURL       string     `json:"link_url,omitempty"`
	LinkIndex     *int       `json:"link_index,omitempty"`
	BounceType    BounceType `json:"bounce_type,omitempty"`
	SMTPCode      string     `json:"smtp_code,omitempty"`
	Reason        string     `json:"reason,omitempty"`
	FeedbackType  string     `json:"feedback_type,omitempty"`
	UserAgent     string     `json:"user_agent,omitempty"`
	IP            string     `json:"ip,omitempty"`
	Client        string     `json:"client,omitempty"`
	Device        string     `json:"device,omitempty"`
	Country       string     `json:"country,omitempty"`
	City          string     `json:"city,omitempty"`
	Vendor        string     `json:"vendor,omitempty"`
	VendorEventID string     `json:"vendor_event_id,omitempty"`
	Method        string     `json:"method,omitempty"`
	// JourneyID and StepID name the journey and step of a journey email (SPEC §1), as the
	// CRM sends them.
	JourneyID string `json:"journey_id,omitempty"`
	StepID    string `json:"step_id,omitempty"`
	// Topic is the scope of an unsubscribe: the topic or list it leaves (the message's
	// topic, or the vendor's group or topic); empty means every email.
	Topic string          `json:"topic,omitempty"`
	Raw   json.RawMessage `json:"raw,omitempty"`
	Extra map[string]any  `json:"extra,omitempty"`
}

// metadataFields are the JSON keys of Metadata's own fields.
var metadataFields = map[string]bool{"link_url": true, "link_index": true, "bounce_type": true, "smtp_code": true,
	"reason": true, "feedback_type": true, "user_agent": true, "ip": true, "client": true, "device": true, "country": true,
	"city": true, "vendor": true, "vendor_event_id": true, "method": true, "journey_id": true, "step_id": true, "raw": true,
	"extra": true, "topic": true}

// UnmarshalJSON decodes the known keys into their fields and keeps any other key in
// Extra (beside what an "extra" object holds).
func (m *Metadata) UnmarshalJSON(b []byte) error {
	type plain Metadata
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		return err
	}
	for k, raw := range all {
		if metadataFields[k] {
			continue
		}
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			return err
		}
		if p.Extra == nil {
			p.Extra = map[string]any{}
		}
		p.Extra[k] = v
	}
	*m = Metadata(p)
	return nil
}

// Event is one interaction with one email.
//
// OrgID is always set by the server from the credential that carried the event, never from
// the event's body. MessageID is ours; when a client records an event without one, the
// message is identified by (campaign, customer).
type Event struct {
	ID             string         `json:"event_id"`
	OrgID          string         `json:"organization_id"`
	CampaignID     string         `json:"campaign_id"`
	CustomerID     string         `json:"customer_id"`
	CustomerEmail  string         `json:"customer_email"`
	MessageID      string         `json:"message_id"`
	Type           EventType      `json:"event_type"`
	OccurredAt     time.Time      `json:"occurred_at"`
	ReceivedAt     time.Time      `json:"received_at"`
	ESPMessageID   string         `json:"esp_message_id"`
	Source         Source         `json:"source"`
	Classification Classification `json:"classification,omitempty"`
	Reasons        []string       `json:"classification_reasons,omitempty"`
	Metadata       Metadata       `json:"metadata"`
	// DedupeKey identifies the event across retries: the vendor's event id, the client's
	// idempotency key, or a hash of the content. Empty means "every arrival is new" (pixel
	// hits, clicks). It is never shown to clients.
	DedupeKey string `json:"-"`
	// SharedMessage says the vendor reported this recipient's event under a mail sent to
	// several recipients (an SES notification lists them all under one mail and its tags):
	// MessageID, ESPMessageID and the campaign and customer hints name that mail, not
	// necessarily this recipient's message. Such an event is attributed only to a message
	// of those ids sent to CustomerEmail (any case), else left unattributed. Set by the
	// vendor adapters; never shown.
	SharedMessage bool `json:"-"`
	// ESPMessageIDAlt is another form of ESPMessageID under which the vendor may have
	// returned the message id at send time (for one vendor, the part before its first
	// '.'): attribution tries it when ESPMessageID matches no message. Set by the vendor
	// adapters, which alone know their ids' forms; never stored or shown.
	ESPMessageIDAlt string `json:"-"`
	// Counted is false for events stored but kept out of the figures (an ESP's open of a
	// message our own pixel tracks). Set by the rules, not by clients.
	Counted bool `json:"counted"`
	// BeforeSend flags an event dated more than SendTolerance before its message's first
	// sent event (see IsBeforeSend). Derived when the event is read, so it does not depend
	// on the order events arrived in; such an event counts like any other.
	BeforeSend bool `json:"before_send,omitempty"`
}

// SendTolerance is how much earlier than its message's send an event may be dated
// before it is flagged BeforeSend: clocks of the CRM, the ESP and this server differ.
const SendTolerance = 5 * time.Minute

// IsBeforeSend reports whether an event at occurred is dated more than SendTolerance
// before sent, the time of its message's first sent event (zero: not known, false).
func IsBeforeSend(occurred, sent time.Time) bool {
	return !sent.IsZero() && occurred.Before(sent.Add(-SendTolerance))
}

// TruncateIP returns ip with its host part zeroed: an IPv4 address to its /24, an IPv6
// address to its /48 (an IPv4-mapped address as IPv4). An invalid address gives "".
func TruncateIP(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ""
	}
	a = a.Unmap().WithZone("")
	bits := 48
	if a.Is4() {
		bits = 24
	}
	p, err := a.Prefix(bits)
	if err != nil {
		return ""
	}
	return p.Addr().String()
}

// IsHuman reports whether an open or click counts in the human-only figures.
func (e *Event) IsHuman() bool {
	return e.Classification == "" || e.Classification == Human
}
