package mailtrail

import (
	"strings"
	"time"
)

// Connection is an ESP or SMTP connection of an organization: where its webhooks arrive
// (/webhooks/v2/{vendor}/{id}) and the credentials they are checked against.
//
// The credentials are held only sealed (encrypted and authenticated under the service's
// secrets key, bound to the connection id); they are never serialised to clients.
type Connection struct {
	ID         string    `json:"id"`
	OrgID      string    `json:"organization_id"`
	Vendor     string    `json:"vendor"`
	Name       string    `json:"name"`
	WebhookURL string    `json:"webhook_url"`
	Disabled   bool      `json:"disabled"`
	CreatedAt  time.Time `json:"created_at"`
	// LastWebhookAt is when a verified webhook last arrived (recorded at most once a
	// minute), nil before the first.
	LastWebhookAt *time.Time `json:"last_webhook_at,omitempty"`
	// PreviousValidUntil is set after a rotation: until then the previous credentials
	// are accepted as well.
	PreviousValidUntil *time.Time `json:"previous_valid_until,omitempty"`

	// IMAPURL, when set, names the connection's bounce mailbox (vendors smtp and ocimail):
	// imaps://host:port/MAILBOX or imap://host:port/MAILBOX, without credentials. It is
	// polled every IMAPPollSeconds; processed messages are moved to "Processed", or
	// deleted when IMAPDelete is set.
	IMAPURL         string `json:"imap_url,omitempty"`
	IMAPPollSeconds int64  `json:"imap_poll_seconds,omitempty"`
	IMAPDelete      bool   `json:"imap_delete,omitempty"`

	// Sealed is the sealed current credentials; SealedPrevious the ones being rotated out
	// (empty when none). Never shown.
	Sealed         []byte `json:"-"`
	SealedPrevious []byte `json:"-"`
	// SealedIMAP is the sealed IMAP username and password (empty without a mailbox).
	// Never shown.
	SealedIMAP []byte `json:"-"`
}

// Kinds of webhook errors (what a connection's health records), as ConnectionError.Kind and the keys of
// ConnectionHealth.LastErrorAt.
const (
	HealthSignature    = "signature"    // credentials or signature refused (401)
	HealthInvalid      = "invalid"      // payload refused (400)
	HealthTooLarge     = "too_large"    // body over the vendor's limit (413)
	HealthUnavailable  = "unavailable"  // not stored now, the sender retries (503)
	HealthUnattributed = "unattributed" // accepted events that matched no sent message
	HealthInternal     = "internal"     // our fault (500), e.g. credentials that cannot be opened
)

// HealthCounts are a connection's webhook requests and events since Since, by outcome.
type HealthCounts struct {
	AcceptedRequests   int64 `json:"accepted_requests"`
	AcceptedEvents     int64 `json:"accepted_events"`
	DuplicateEvents    int64 `json:"duplicate_events"`
	UnattributedEvents int64 `json:"unattributed_events"`
	// ReplayedRequests are Mailgun requests acknowledged without storing: their token
	// was already accepted.
	ReplayedRequests  int64 `json:"replayed_requests"`
	SignatureFailures int64 `json:"signature_failures"`
	InvalidPayloads   int64 `json:"invalid_payloads"`
	TooLarge          int64 `json:"too_large"`
	Unavailable       int64 `json:"unavailable"`
	InternalErrors    int64 `json:"internal_errors"`
}

// ConnectionError is one recorded webhook error. Message is our own short text (the
// error the sender was answered, or a count), never payload bytes, addresses or secrets.
type ConnectionError struct {
	At      time.Time `json:"at"`
	Kind    string    `json:"kind"`
	Message string    `json:"message"`
}

// ConnectionHealth is a copy of what one process saw of a connection's webhooks since it
// started (Since): counts, the last error of each kind, and the most recent errors,
// newest first (at most 20).
type ConnectionHealth struct {
	Since        time.Time            `json:"since"`
	Counts       HealthCounts         `json:"counts"`
	LastErrorAt  map[string]time.Time `json:"last_error_at"`
	RecentErrors []ConnectionError    `json:"recent_errors"`
}

// WebhookURL is where a connection's webhooks arrive: /webhooks/v2/{vendor}/{id} under
// the service's public URL.
func WebhookURL(publicURL, vendor, connID string) string {
	return strings.TrimSuffix(publicURL, "/") + "/webhooks/v2/" + vendor + "/" + connID
}
