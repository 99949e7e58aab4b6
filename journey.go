package mailtrail

import (
	"time"
	"unicode/utf8"
)

// Condition is a journey's question about one customer of an organization: did the
// customer do an event of Type (for one campaign or one message), at or after Since?
// It is the "engagement condition" and "event condition" step of a journey, and what a
// journey's "wait for event" step waits for.
type Condition struct {
	CustomerID string    // the CRM's customer id; required
	Type       EventType // required
	CampaignID string    // only events of this campaign ("" = any)
	MessageID  string    // only events of this message (ours, public; "" = any)
	Since      time.Time // only events that occurred at or after Since (zero = ever)
	// HumanOnly keeps only opens and clicks classified human (machine opens and bot
	// clicks are left out); it changes nothing for the other types, which carry no label.
	HumanOnly bool
	LinkURL   string // clicks only: only clicks of this URL, exactly as stored
}

// Validate reports whether c can be asked: EINVALID names what is wrong.
func (c *Condition) Validate() error {
	switch {
	case c.CustomerID == "" || len(c.CustomerID) > 200:
		return Errorf(EINVALID, "customer id must be 1 to 200 characters")
	case !c.Type.Valid():
		return Errorf(EINVALID, "event must be one of "+EventTypeNames)
	case c.CampaignID != "" && c.MessageID != "":
		return Errorf(EINVALID, "give campaign_id or message_id, not both")
	case len(c.CampaignID) > 200 || len(c.MessageID) > 200:
		return Errorf(EINVALID, "campaign_id and message_id are at most 200 characters")
	case c.LinkURL != "" && c.Type != EventClicked:
		return Errorf(EINVALID, "link applies to event=clicked only")
	case len(c.LinkURL) > 4096 || !utf8.ValidString(c.LinkURL):
		return Errorf(EINVALID, "link must be a URL of at most 4096 bytes")
	}
	return nil
}

// Did is the answer to a Condition. Count, FirstAt and LastAt cover every matching event
// that is still stored (raw events past an organization's retention are gone).
type Did struct {
	CustomerID string    `json:"customer_id"`
	Type       EventType `json:"event_type"`
	Did        bool      `json:"did"`
	Count      int64     `json:"count"`
	// FirstAt, FirstEventID: the earliest matching event (by occurred_at); LastAt,
	// LastEventID: the latest. Absent when Did is false.
	FirstAt      *time.Time `json:"first_at,omitempty"`
	FirstEventID string     `json:"first_event_id,omitempty"`
	LastAt       *time.Time `json:"last_at,omitempty"`
	LastEventID  string     `json:"last_event_id,omitempty"`
	// Event is the earliest matching event in full.
	Event *Event `json:"event,omitempty"`
}
