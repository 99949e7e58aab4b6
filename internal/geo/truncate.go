package geo

import "net/netip"

// Truncate returns the network of ip that may be kept in place of the address: the /24
// of an IPv4 address ("203.0.113.77" → "203.0.113.0") and the /48 of an IPv6 address
// ("2001:db8:1234:5678::1" → "2001:db8:1234::"). An IPv4-mapped IPv6 address is
// truncated as IPv4 and returned in IPv4 form; a zone is dropped. It returns "" for an
// empty or invalid address.
func Truncate(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ""
	}
	a = a.Unmap().WithZone("")
	bits := 48
	if a.Is4() {
		bits = 24
	}
	p, err := a.Prefix(bits)
	if err != nil {
		return ""
	}
	return p.Addr().String()
}
