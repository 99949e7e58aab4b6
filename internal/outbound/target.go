// Package outbound delivers an organization's committed events to its webhook
// subscriptions: batches read from the store past each subscription's position, signed
// (package webhooksig), retried with exponential backoff, disabled after failing for
// too long. Every URL it posts to is checked, and every connection it dials is guarded, by
// package egress against server-side request forgery.
package outbound

import (
	"context"
	"errors"
	"net/url"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/egress"
)

// Resolver looks host names up (net.DefaultResolver; tests replace it).
type Resolver = egress.Resolver

// CheckURL validates a subscription URL: absolute https (http too when allowPrivate), no
// user info, no fragment, a host that is not, and does not resolve to, a blocked address
// unless allowPrivate. It returns an EINVALID error that says what to fix.
func CheckURL(ctx context.Context, raw string, allowPrivate bool, r Resolver) (*url.URL, error) {
	invalid := func(msg string) error { return mailtrail.Errorf(mailtrail.EINVALID, "url: %s", msg) }
	if len(raw) > 2048 {
		return nil, invalid("longer than 2048 characters")
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return nil, invalid("must be an absolute https:// URL")
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && allowPrivate:
	case u.Scheme == "http":
		return nil, invalid("must use https (http is allowed only with --webhooks-allow-private, for local receivers)")
	default:
		return nil, invalid("must be an https:// URL")
	}
	if u.User != nil {
		return nil, invalid("must not carry user info; deliveries are authenticated by their signature")
	}
	if u.Fragment != "" {
		return nil, invalid("must not have a fragment")
	}
	if allowPrivate {
		return u, nil
	}
	switch err := (egress.Policy{}).CheckHost(ctx, u.Hostname(), r); {
	case errors.Is(err, egress.ErrUnresolved):
		return nil, invalid("host does not resolve")
	case err != nil:
		return nil, invalid("targets a private, loopback, link-local or reserved address")
	}
	return u, nil
}
