// Package outbound delivers an organization's committed events to its webhook
// subscriptions: batches read from the store past each subscription's position, signed
// (package webhooksig), retried with exponential backoff, disabled after failing for
// too long. It also guards the URLs it posts to against server-side request forgery.
package outbound

import (
	"context"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/mailtrail/mailtrail"
)

// blocked are the address ranges a subscription may not reach unless private targets are
// allowed: loopback, private, link-local (cloud metadata at 169.254.169.254), shared
// address space, unspecified, multicast, and the IPv6 equivalents.
var blocked = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
		"192.0.0.0/24", "192.168.0.0/16", "198.18.0.0/15", "224.0.0.0/4", "240.0.0.0/4",
		"::/128", "::1/128", "fc00::/7", "fe80::/10", "ff00::/8", "64:ff9b::/96",
	} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

// Blocked reports whether a is an address subscriptions may not reach by default.
func Blocked(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range blocked {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Resolver looks host names up (net.DefaultResolver; tests replace it).
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

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
	host := u.Hostname()
	if a, err := netip.ParseAddr(host); err == nil {
		if Blocked(a) {
			return nil, invalid("targets a private, loopback or link-local address")
		}
		return u, nil
	}
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return nil, invalid("targets a private, loopback or link-local address")
	}
	addrs, err := r.LookupNetIP(ctx, "ip", host)
	if err != nil || len(addrs) == 0 {
		return nil, invalid("host does not resolve")
	}
	for _, a := range addrs {
		if Blocked(a) {
			return nil, invalid("host resolves to a private, loopback or link-local address")
		}
	}
	return u, nil
}

// errBlocked is the dial error of a connection to a blocked address.
var errBlocked = &net.AddrError{Err: "address is private, loopback or link-local (refused)", Addr: ""}

// guardedDialer returns a dialer that refuses blocked addresses after resolution, so a
// host name that later resolves to a private address (DNS rebinding) is still refused.
func guardedDialer(allowPrivate bool) *net.Dialer {
	d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	if allowPrivate {
		return d
	}
	d.Control = func(network, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil || Blocked(ap.Addr()) {
			return errBlocked
		}
		return nil
	}
	return d
}
