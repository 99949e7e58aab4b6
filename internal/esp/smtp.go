package esp

import (
	"context"

	"github.com/mailtrail/mailtrail/internal/esp/bouncemail"
)

// SMTP is the "smtp" vendor: bounce and complaint mail (RFC 3464 DSNs, RFC 5965 ARF
// reports) posted as raw RFC 5322 bytes to the connection's webhook URL, typically by a
// mail server's pipe running curl. Credentials: Username/Password (basic auth) or
// BearerToken.
type SMTP struct{}

// NewSMTP returns the smtp vendor.
func NewSMTP() Vendor { return SMTP{} }

// Name implements Vendor.
func (SMTP) Name() string { return "smtp" }

// MaxBody implements Vendor: bounces may return the whole original message.
func (SMTP) MaxBody() int64 { return 10 << 20 }

// Verify implements Vendor: basic auth or bearer token, constant-time.
func (SMTP) Verify(_ context.Context, r *Request, c Credentials) error {
	if !checkBasicOrBearer(r.Header.Get("Authorization"), c) {
		return errUnauthorized()
	}
	return nil
}

// Parse implements Vendor. Mail that is no report (an auto-reply) gives no events and is
// counted in Ignored as "not-report"; bytes that are no message are EINVALID.
func (SMTP) Parse(_ context.Context, r *Request) (*Result, error) {
	rep, err := bouncemail.Parse(r.Body)
	if err != nil {
		return nil, errMalformed("smtp")
	}
	events, ignored := bouncemail.Events(rep, "smtp", r.Now)
	return &Result{Events: events, Ignored: ignored}, nil
}
