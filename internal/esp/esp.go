// Package esp verifies and parses the webhooks of email service providers. One file per
// vendor; each vendor checks the request's credentials on the raw bytes first, then maps
// the vendor's events to mailtrail events. Nothing here does storage or attribution: the
// events come out with the hints the vendor gave (our custom arguments, the vendor's
// message id, the recipient) and the ingest pipeline resolves them.
package esp

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/mailtrail/mailtrail"
)

// Custom argument names attached at the ESP at send time (see instrument). Vendors echo
// them back in their events (SendGrid custom_args, SparkPost rcpt_meta, Mailgun
// user-variables, SES tags, Postmark Metadata, Resend tags).
const (
	ArgMessageID  = "mt_message_id"
	ArgCampaignID = "mt_campaign_id"
	ArgCustomerID = "mt_customer_id"
)

// Request is one webhook call as received: the raw body (already size-limited), headers,
// query and the time of arrival (for timestamp windows).
type Request struct {
	Header http.Header
	Query  url.Values
	Body   []byte
	Now    time.Time
	// ConnID is the connection the request came to. A vendor whose event ids are unique
	// only per sender (generic: the sender makes them up) scopes its dedupe keys by it.
	ConnID string
}

// Credentials are a connection's decrypted secrets. Which fields a vendor uses is in its
// file. Previous holds the secrets being rotated out; they are accepted until the grace
// period ends (the caller leaves Previous nil after that).
type Credentials struct {
	SigningKey  string // SendGrid public key (base64 DER), Mailgun/SMTP.com/generic HMAC key, Resend whsec_ secret
	Username    string // basic auth
	Password    string
	BearerToken string
	TopicARN    string // SES: the only SNS topic accepted
	Previous    *Credentials
}

// Result is what a vendor made of a request.
type Result struct {
	// Events are the mapped events. OrgID is not set (the caller sets it from the
	// connection); MessageID, CampaignID, CustomerID come from our custom arguments when the
	// vendor echoed them; ESPMessageID and CustomerEmail when the vendor gave them.
	// DedupeKey is "vendor:event-id" or a content hash. Source is SourceWebhook.
	Events []mailtrail.Event
	// Ignored counts vendor events of kinds we do not record (processed, deferred, …),
	// by vendor kind, for metrics.
	Ignored map[string]int
	// Resubscribes are the vendor's reports that an address joined a topic (an unsubscribe
	// group, topic or stream) again; they are not events.
	Resubscribes []mailtrail.Resubscribe
	// ConfirmURL, when set, is a subscription-confirmation URL (SNS, OCI) already checked
	// to be on the vendor's hosts; the caller GETs it once.
	ConfirmURL string
}

// Fetcher performs outbound GETs a vendor needs (SNS signing certificates). Tests give a
// fake that records calls, so "no outbound request" can be asserted.
type Fetcher interface {
	Get(ctx context.Context, url string) ([]byte, error)
}

// Vendor is one ESP's webhook format.
type Vendor interface {
	// Name is the {vendor} path segment: "sendgrid", "mailgun", …
	Name() string
	// MaxBody is the largest body accepted, in bytes; beyond it the caller answers 413.
	MaxBody() int64
	// Verify checks the request's credentials against c on the raw body, in constant time,
	// and returns a *mailtrail.Error with code EUNAUTHORIZED when they fail.
	Verify(ctx context.Context, r *Request, c Credentials) error
	// Parse maps a verified request to events. A malformed body is a *mailtrail.Error with
	// code EINVALID. Unknown fields are ignored; unknown event kinds go to Result.Ignored.
	Parse(ctx context.Context, r *Request) (*Result, error)
}

// Registry holds the vendors by name.
type Registry map[string]Vendor

// Register adds v under its name.
func (r Registry) Register(v Vendor) { r[v.Name()] = v }

// Get returns the vendor called name, or false.
func (r Registry) Get(name string) (Vendor, bool) { v, ok := r[name]; return v, ok }
