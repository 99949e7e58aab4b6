// Package egress is the one guard of every connection mailtrail opens to an address a
// user chose: outbound webhook deliveries, bounce mailboxes over IMAP and the SNS
// certificate and subscription fetcher. It refuses addresses that are not globally
// reachable (loopback, private, link-local, cloud metadata, documentation ranges, …),
// including the IPv6 forms that embed such an IPv4 address (IPv4-mapped, IPv4-compatible,
// 6to4, NAT64) and zoned addresses, and it checks the address actually dialled, after DNS,
// for every address a name resolves to (a dialer's Control), so that a name rebound to a
// private address after a check is still refused.
package egress

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"time"
)

// Policy says which addresses a dialer may reach. The zero Policy reaches only globally
// reachable addresses.
type Policy struct {
	// AllowPrivate lets connections reach any address (private networks, loopback,
	// link-local): the operator's choice for receivers on a local network.
	AllowPrivate bool
	// AllowLoopback lets connections reach loopback addresses only (127.0.0.0/8, ::1):
	// tests and local development.
	AllowLoopback bool
}

// ErrRefused is the error of a connection to an address the policy refuses.
var ErrRefused = errors.New("egress: address is not public (private, loopback, link-local or reserved); refused")

func prefixes(ss ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParsePrefix(s)
	}
	return out
}

// blocked4 are the IPv4 ranges that are not globally reachable (RFC 6890 and successors).
var blocked4 = prefixes(
	"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
	"192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15",
	"198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
)

// Within 2000::/3 (global unicast), the ranges that are not globally reachable or that
// tunnel to an address we cannot see (Teredo).
var blocked6 = prefixes(
	"2001::/32",     // Teredo
	"2001:2::/48",   // benchmarking
	"2001:10::/28",  // ORCHID
	"2001:20::/28",  // ORCHIDv2
	"2001:db8::/32", // documentation
	"3fff::/20",     // documentation (RFC 9637)
)

var (
	global6   = netip.MustParsePrefix("2000::/3")
	sixToFour = netip.MustParsePrefix("2002::/16")
	nat64     = netip.MustParsePrefix("64:ff9b::/96")
)

// Public reports whether a is a globally reachable unicast address. An address with a
// zone is never public; an IPv6 address embedding an IPv4 one (mapped, 6to4, NAT64) is
// public only when the embedded address is.
func Public(a netip.Addr) bool {
	if !a.IsValid() || a.Zone() != "" {
		return false
	}
	a = a.Unmap()
	if a.Is4() {
		for _, p := range blocked4 {
			if p.Contains(a) {
				return false
			}
		}
		return true
	}
	b := a.As16()
	switch {
	case nat64.Contains(a):
		return Public(netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}))
	case sixToFour.Contains(a):
		return Public(netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}))
	case !global6.Contains(a):
		// ::/96 (IPv4-compatible, ::1), ::ffff:0:0:0/96, 64:ff9b:1::/48, fc00::/7,
		// fe80::/10, fec0::/10, ff00::/8, 100::/64 and every unassigned range.
		return false
	}
	for _, p := range blocked6 {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// loopback reports whether a is a loopback address without a zone (IPv4-mapped included).
func loopback(a netip.Addr) bool {
	return a.IsValid() && a.Zone() == "" && a.Unmap().IsLoopback()
}

// Allow returns nil when the policy lets a connection reach a, else ErrRefused.
func (p Policy) Allow(a netip.Addr) error {
	switch {
	case p.AllowPrivate && a.IsValid():
		return nil
	case p.AllowLoopback && loopback(a):
		return nil
	case Public(a):
		return nil
	}
	return ErrRefused
}

// Resolver looks host names up (net.DefaultResolver; tests replace it).
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// CheckHost returns nil when the policy lets a connection reach host (a name or an address
// literal, IPv6 without brackets, possibly with a zone): a literal must be allowed, a name
// must resolve, and to allowed addresses only. It is the early check that gives a user a
// clear error when they configure a target; the dialer checks again at every connection.
// Errors are ErrRefused, or an error saying the host does not resolve.
func (p Policy) CheckHost(ctx context.Context, host string, r Resolver) error {
	if a, err := netip.ParseAddr(host); err == nil {
		return p.Allow(a)
	}
	lower := strings.ToLower(strings.TrimSuffix(host, "."))
	if (lower == "localhost" || strings.HasSuffix(lower, ".localhost")) && !p.AllowPrivate && !p.AllowLoopback {
		return ErrRefused
	}
	if p.AllowPrivate {
		return nil
	}
	addrs, err := r.LookupNetIP(ctx, "ip", host)
	if err != nil || len(addrs) == 0 {
		return ErrUnresolved
	}
	for _, a := range addrs {
		if err := p.Allow(a); err != nil {
			return err
		}
	}
	return nil
}

// ErrUnresolved is the error of CheckHost for a name that does not resolve.
var ErrUnresolved = errors.New("egress: host does not resolve")

// Dialer returns a dialer whose every connection is checked against the policy on the
// address actually dialled (after DNS, before the connection is made).
func (p Policy) Dialer(timeout time.Duration) *net.Dialer {
	d := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	if p.AllowPrivate {
		return d
	}
	d.Control = func(network, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return ErrRefused
		}
		return p.Allow(ap.Addr())
	}
	return d
}
