package mailtrail

import "time"

// SuppressionFilter selects an organization's suppressions. Zero fields do not filter.
type SuppressionFilter struct {
	Reason string
	Source string
	Since  time.Time // suppressed at or after
	Until  time.Time // suppressed before
	Query  string    // substring of the address
	Cursor string
	Limit  int // 1..1000, default 100
	// Newest lists the most recently suppressed first (the dashboard's order); its cursors
	// only continue listings in the same order.
	Newest bool
}

// SuppressionPage is one page of a suppression listing, oldest first; NextCursor is empty
// on the last page.
type SuppressionPage struct {
	Suppressions []Suppression `json:"suppressions"`
	NextCursor   string        `json:"next_cursor,omitempty"`
}

// SuppressionInput is one address a person or a program adds.
type SuppressionInput struct {
	Email      string `json:"email"`
	Reason     string `json:"reason,omitempty"` // manual (default) or list_import
	CustomerID string `json:"customer_id,omitempty"`
	Note       string `json:"note,omitempty"`
}

// Resubscribe is a provider's report that an address joined a topic again (SendGrid
// group_resubscribe, an SES topic OptIn, a Postmark stream reactivated). It lifts the
// address's suppression for that topic when the unsubscribe was earlier; it never lifts
// an organization-wide suppression.
type Resubscribe struct {
	Email string
	Topic string
	At    time.Time
}

// SuppressionChange is one entry of an address's history: added, replaced, lifted (a
// soft-bounce suppression ended by a later delivery) or removed (by a person, audited).
type SuppressionChange struct {
	Action     string    `json:"action"`
	Reason     string    `json:"reason"`
	Source     string    `json:"source"`
	EventID    string    `json:"event_id,omitempty"`
	Detail     string    `json:"detail,omitempty"`
	CustomerID string    `json:"customer_id,omitempty"`
	Actor      string    `json:"actor,omitempty"`
	Topic      string    `json:"topic,omitempty"` // the scope of a scoped suppression's entry
	Note       string    `json:"note,omitempty"`
	At         time.Time `json:"at"`
}

// The actions of a SuppressionChange.
const (
	ActionAdded    = "added"
	ActionReplaced = "replaced"
	ActionLifted   = "lifted"
	ActionRemoved  = "removed"
	// ActionMerged records a row of another spelling of the address, dropped when
	// migration 010 made addresses case-insensitive (actor "migration").
	ActionMerged = "merged"
)

// AddResult counts what an addition did: addresses newly suppressed, and addresses that
// were suppressed already (their suppression is kept, or replaced by a stronger reason).
type AddResult struct {
	Added    int `json:"added"`
	Existing int `json:"existing"`
}

// OrgSettings are the settings an organization changes itself.
type OrgSettings struct {
	// SoftBounceLimit is the number of consecutive soft bounces that suppress an address
	// (1..20, default 5).
	SoftBounceLimit int `json:"soft_bounce_limit"`
	// KeepFullIP keeps the full client address of opens and clicks; off (the default),
	// addresses are stored truncated to /24 (IPv4) or /48 (IPv6) once geography and
	// classification have used them.
	KeepFullIP bool `json:"keep_full_ip"`
	// RetentionDays is how many days raw events are kept after they are received; a
	// background job deletes older ones. Aggregates are kept. 0 keeps raw events forever.
	RetentionDays int `json:"retention_days"`
	// TrackingURL is the base (scheme://host[:port], e.g. https://click.brand.example) of
	// the tracking URLs of the organization's new messages: a domain of its own, pointed at
	// this service. Empty: the service's public URL. A host belongs to one organization:
	// a click link of another organization is not followed on it.
	TrackingURL string `json:"tracking_url"`
	// BrandLogoURL (an https URL, at most 2 KiB) and BrandColor (#rrggbb) dress the
	// organization's unsubscribe page beside its display name; empty: none.
	BrandLogoURL string `json:"brand_logo_url"`
	BrandColor   string `json:"brand_color"`
}

// MinRetentionDays is the shortest retention an organization can set: raw events hold the
// keys that recognise an ESP's retried delivery, and ESPs retry for up to three days.
const MinRetentionDays = 7
