package mailtrail

import "time"

// StreamFilter selects the events of an organization's stream (SSE) or of an outbound
// subscription. Zero values select everything.
type StreamFilter struct {
	Types      []EventType // any of these types; empty = all
	CampaignID string      // only this campaign; "" = all
}

// Match reports whether ev passes the filter.
func (f *StreamFilter) Match(ev *Event) bool {
	if f.CampaignID != "" && ev.CampaignID != f.CampaignID {
		return false
	}
	if len(f.Types) == 0 {
		return true
	}
	for _, t := range f.Types {
		if t == ev.Type {
			return true
		}
	}
	return false
}

// SeqEvent is a stored event with its position in its organization's stream. Positions
// grow in commit order: an event committed later always has a larger one. The JSON of a
// SeqEvent is the JSON of its Event.
type SeqEvent struct {
	Seq int64 `json:"-"`
	Event
}

// Subscription is an outbound webhook of an organization: every committed event that
// passes its filter is POSTed to URL, signed with its secret.
type Subscription struct {
	ID         string      `json:"id"`
	OrgID      string      `json:"organization_id"`
	URL        string      `json:"url"`
	EventTypes []EventType `json:"event_types"` // empty = every type
	CampaignID string      `json:"campaign_id,omitempty"`
	CreatedAt  time.Time   `json:"created_at"`
	// Delivery state.
	DisabledAt          *time.Time `json:"disabled_at,omitempty"`
	DisabledReason      string     `json:"disabled_reason,omitempty"`
	ConsecutiveFailures int        `json:"consecutive_failures"`
	FailingSince        *time.Time `json:"failing_since,omitempty"` // first failed attempt of the oldest undelivered batch
	NextAttemptAt       *time.Time `json:"next_attempt_at,omitempty"`
	LastDeliveredAt     *time.Time `json:"last_delivered_at,omitempty"`
	// Position is the stream position up to which events were delivered (or did not
	// pass the filter). Sealed is the sealed signing secret. Neither is ever shown.
	Position int64  `json:"-"`
	Sealed   []byte `json:"-"`
}

// Filter returns the subscription's event filter.
func (s *Subscription) Filter() StreamFilter {
	return StreamFilter{Types: s.EventTypes, CampaignID: s.CampaignID}
}

// Delivery is one attempt to POST a batch of events to a subscription's URL.
type Delivery struct {
	ID         string    `json:"id"` // the X-Mailtrail-Delivery header of the attempt
	At         time.Time `json:"at"`
	Events     int       `json:"events"`
	Status     int       `json:"status,omitempty"` // the receiver's HTTP status; 0 when none came
	OK         bool      `json:"ok"`
	DurationMS int64     `json:"duration_ms"`
	Error      string    `json:"error,omitempty"`
	// RetryInMS is the backoff chosen after a failed attempt (0 after a success).
	RetryInMS int64 `json:"retry_in_ms,omitempty"`
}

// SubscriptionState is what a delivery attempt changes in its subscription.
type SubscriptionState struct {
	Position            int64
	ConsecutiveFailures int
	FailingSince        time.Time // zero: not failing
	NextAttemptAt       time.Time // zero: now
	LastDeliveredAt     time.Time // zero: unchanged
	DisabledReason      string    // non-empty: disable now
}
