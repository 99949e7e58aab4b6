package mailtrail

import (
	"net/netip"
	"testing"
)

func TestTruncateIP(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"203.0.113.77", "203.0.113.0"},
		{"203.0.113.0", "203.0.113.0"},
		{"255.255.255.255", "255.255.255.0"},
		{"0.0.0.0", "0.0.0.0"},
		{"2001:db8:1234:5678::1", "2001:db8:1234::"},
		{"2001:db8:1234:ffff:ffff:ffff:ffff:ffff", "2001:db8:1234::"},
		{"2001:DB8:1234::", "2001:db8:1234::"},
		{"::1", "::"},
		{"::", "::"},
		{"fe80::1%eth0", "fe80::"},
		{"::ffff:203.0.113.77", "203.0.113.0"}, // IPv4-mapped: truncated as IPv4
		{"::ffff:cb00:714d", "203.0.113.0"},
		{"::203.0.113.77", "::"}, // IPv4-compatible (deprecated) is IPv6
		{"", ""},
		{"203.0.113", ""},
		{"203.0.113.256", ""},
		{"203.0.113.077", ""},
		{" 203.0.113.77", ""},
		{"203.0.113.0/24", ""},
		{"[2001:db8::1]", ""},
		{"203.0.113.77:443", ""},
		{"localhost", ""},
		{"2001:db8:::1", ""},
	} {
		if got := TruncateIP(c.in); got != c.want {
			t.Errorf("TruncateIP(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func FuzzTruncateIP(f *testing.F) {
	for _, s := range []string{"203.0.113.77", "2001:db8:1234:5678::1", "::ffff:1.2.3.4", "fe80::1%eth0", "", "x", "1.2.3.4/24"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := TruncateIP(in)
		if out == "" {
			return
		}
		a, err := netip.ParseAddr(out)
		if err != nil {
			t.Fatalf("TruncateIP(%q) = %q, not an address: %v", in, out, err)
		}
		if a.Zone() != "" || a.Is4In6() {
			t.Fatalf("TruncateIP(%q) = %q: zone or IPv4-mapped form kept", in, out)
		}
		if again := TruncateIP(out); again != out {
			t.Fatalf("TruncateIP(%q) = %q but TruncateIP(%q) = %q", in, out, out, again)
		}
	})
}
