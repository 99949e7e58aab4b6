package mailtrail

import (
	"strings"
	"time"
)

// Organization is a tenant. Location is its IANA time zone, used for report buckets.
type Organization struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Timezone  string    `json:"timezone"`
	CreatedAt time.Time `json:"created_at"`
	// KeyScope is the scope of the API key a request authenticated with (set by
	// Authenticate only; never shown).
	KeyScope string `json:"-"`
}

// API key scopes.
const (
	ScopeAll  = "all"  // every route of the organization
	ScopeRead = "read" // reads only: reports, events, segments, journeys, suppression checks
)

// APIKey is a bearer credential of one organization. The secret itself is shown once at
// creation and stored only as a hash.
type APIKey struct {
	ID        string     `json:"id"`
	OrgID     string     `json:"organization_id"`
	Name      string     `json:"name"`
	Prefix    string     `json:"prefix"`
	Scope     string     `json:"scope"` // ScopeAll or ScopeRead
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// Message is one email to one recipient, as recorded when it was instrumented.
// Links are the http(s) URLs found in it, in order; a click token refers to an index here,
// so a click can only ever redirect to one of them.
type Message struct {
	ID         string `json:"message_id"`
	OrgID      string `json:"organization_id"`
	CampaignID string `json:"campaign_id"`
	// CampaignName and Subject, when not empty, set the campaign's (CampaignInfo).
	CampaignName  string   `json:"campaign_name,omitempty"`
	Subject       string   `json:"subject,omitempty"`
	CustomerID    string   `json:"customer_id"`
	CustomerEmail string   `json:"customer_email"`
	ESPMessageID  string   `json:"esp_message_id,omitempty"`
	TrackOpens    bool     `json:"track_opens"`
	TrackClicks   bool     `json:"track_clicks"`
	Links         []string `json:"links,omitempty"`
	// Topic is the topic or list the message belongs to (optional): its unsubscribe link
	// leaves that topic only, unless the recipient chooses everything.
	Topic     string    `json:"topic,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// Suppression is an address that must not be mailed, and why.
type Suppression struct {
	OrgID      string `json:"organization_id"`
	Email      string `json:"email"`
	CustomerID string `json:"customer_id,omitempty"`
	Reason     string `json:"reason"`
	Source     string `json:"source"`
	EventID    string `json:"event_id,omitempty"`
	// Detail is the vendor's reason text of the causing event; Note a person's note.
	Detail string `json:"detail,omitempty"`
	Note   string `json:"note,omitempty"`
	// SuppressedAt is the causing event's time, or when a person or program added it.
	SuppressedAt time.Time `json:"suppressed_at"`
	CreatedAt    time.Time `json:"created_at"`
	// EmailHash replaces Email (then "") in the suppression of an erased customer's
	// address: only the address's hash (EmailHash) is kept, and checks still find it.
	EmailHash string `json:"email_hash,omitempty"`
	// Topic is the scope of an unsubscribe that left one topic or list; empty means the
	// address must not be mailed at all.
	Topic string `json:"topic,omitempty"`
}

// Suppression reasons and sources (SPEC §6).
const (
	ReasonHardBounce   = "hard_bounce"
	ReasonSoftBounce   = "soft_bounce"
	ReasonComplaint    = "complaint"
	ReasonUnsubscribed = "unsubscribed"
	ReasonManual       = "manual"
	ReasonListImport   = "list_import"

	SuppressSourceWebhook      = "webhook"
	SuppressSourceTrackingLink = "tracking_link"
	SuppressSourceManual       = "manual"
	SuppressSourceCSV          = "csv_import"
	SuppressSourceAPI          = "api"
)

// NormalizeEmail returns the form under which an address is compared: surrounding space
// removed, the local part's ASCII letters lower-cased and the domain lower-cased. RFC 5321
// lets a local part be case-sensitive, but every ESP, mailbox provider and CRM treats it
// as case-insensitive (SparkPost reports rcpt_to lower-cased), so Mixed.Case@Example.com
// and mixed.case@example.com are one address. Only ASCII letters of the local part are
// folded: that is what SQLite's lower() does, so stored keys and this function agree.
func NormalizeEmail(s string) string {
	s = strings.TrimSpace(s)
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		return asciiLower(s)
	}
	return asciiLower(s[:at+1]) + strings.ToLower(s[at+1:])
}

// asciiLower lower-cases the ASCII letters of s and leaves every other byte as it is.
func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if c := b[j]; 'A' <= c && c <= 'Z' {
					b[j] = c + 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}
