package mailtrail

import "time"

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
