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

	// Sealed is the sealed current credentials; SealedPrevious the ones being rotated out
	// (empty when none). Never shown.
	Sealed         []byte `json:"-"`
	SealedPrevious []byte `json:"-"`
}
