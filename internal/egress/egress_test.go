package egress

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"
)

// refusedForms are addresses no connection may reach under the zero policy, in the forms
// the outside probes used and their relatives.
var refusedForms = []string{
	"127.0.0.1", "127.1.2.3", "::1", "0.0.0.0", "::",
	"10.0.0.5", "172.16.3.4", "192.168.1.1", "100.64.0.1", "169.254.169.254",
	"192.0.2.10", "198.51.100.7", "203.0.113.99", // documentation
	"192.0.0.8", "198.18.0.1", "224.0.0.1", "255.255.255.255", "240.0.0.1", "192.88.99.1",
	"fe80::1", "fe80::1%lo", "fe80::1%eth0", "fd00::1", "fc00::5", "ff02::1", "fec0::1",
	"::127.0.0.1", "::a9fe:a9fe", // IPv4-compatible forms of loopback and metadata
	"::ffff:127.0.0.1", "::ffff:169.254.169.254", "::ffff:10.0.0.1", // IPv4-mapped
	"2002:7f00:1::", "2002:a9fe:a9fe::1", "2002:c0a8:101::", // 6to4 of loopback, metadata, private
	"64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "64:ff9b::c000:20a", "64:ff9b:1::1", // NAT64
	"2001:db8::1", "3fff::1", "2001:0:4136:e378::1", "2001:2::1", "2001:10::1", "100::1",
	"::ffff:0:7f00:1", // IPv4-translated
	"93.184.215.14%eth0",
}

var publicForms = []string{
	"93.184.215.14", "8.8.8.8", "1.1.1.1", "2606:4700::1111", "2a00:1450:4001:82a::200e",
	"::ffff:93.184.215.14", "2002:5db8:d70e::1", "64:ff9b::5db8:d70e",
}

func TestPublic(t *testing.T) {
	for _, s := range refusedForms {
		a, err := netip.ParseAddr(s)
		if err != nil {
			t.Logf("%s does not parse (%v): refused by construction", s, err)
			continue
		}
		if Public(a) {
			t.Errorf("%s is public, want refused", s)
		}
		if err := (Policy{}).Allow(a); !errors.Is(err, ErrRefused) {
			t.Errorf("Allow(%s) = %v, want ErrRefused", s, err)
		}
	}
	for _, s := range publicForms {
		if a := netip.MustParseAddr(s); !Public(a) || (Policy{}).Allow(a) != nil {
			t.Errorf("%s refused, want public", s)
		}
	}
}

// The dial guard sees the address actually dialled, in the form net gives it (zones and
// brackets included); none of these is dialled: Control runs before connect.
func TestDialerControlRefusesEveryForm(t *testing.T) {
	control := (Policy{}).Dialer(time.Second).Control
	for _, s := range refusedForms {
		a, err := netip.ParseAddr(s)
		if err != nil {
			continue
		}
		addr := netip.AddrPortFrom(a, 443).String()
		if err := control("tcp", addr, nil); !errors.Is(err, ErrRefused) {
			t.Errorf("control(%s) = %v, want ErrRefused", addr, err)
		}
	}
	if err := control("tcp", "not-an-address:443", nil); !errors.Is(err, ErrRefused) {
		t.Errorf("unparsable dial address: %v", err)
	}
	loop := (Policy{AllowLoopback: true}).Dialer(time.Second).Control
	for _, s := range []string{"10.0.0.1:143", "[fe80::1%lo]:443", "[::127.0.0.1]:443", "169.254.169.254:80"} {
		if err := loop("tcp", s, nil); !errors.Is(err, ErrRefused) {
			t.Errorf("allow-loopback reached %s: %v", s, err)
		}
	}
	for _, s := range []string{"127.0.0.1:143", "[::1]:443", "[::ffff:127.0.0.1]:80"} {
		if err := loop("tcp", s, nil); err != nil {
			t.Errorf("allow-loopback refused %s: %v", s, err)
		}
	}
}

// A real dial to a loopback listener, by address and by a name that resolves to it, is
// refused by the zero policy before any byte is sent, and made with AllowLoopback.
func TestDialLoopbackListener(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan struct{}, 4)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- struct{}{}
			c.Close()
		}
	}()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ctx := context.Background()
	for _, target := range []string{ln.Addr().String(), net.JoinHostPort("localhost", port)} {
		if c, err := (Policy{}).Dialer(time.Second).DialContext(ctx, "tcp", target); !errors.Is(err, ErrRefused) {
			if c != nil {
				c.Close()
			}
			t.Errorf("dial %s: %v, want ErrRefused", target, err)
		}
	}
	select {
	case <-accepted:
		t.Fatal("a refused dial reached the listener")
	default:
	}
	c, err := (Policy{AllowLoopback: true}).Dialer(time.Second).DialContext(ctx, "tcp", ln.Addr().String())
	if err != nil {
		t.Fatalf("allow-loopback dial: %v", err)
	}
	c.Close()
	<-accepted
}

type fakeResolver []netip.Addr

func (f fakeResolver) LookupNetIP(context.Context, string, string) ([]netip.Addr, error) {
	return f, nil
}

func TestCheckHost(t *testing.T) {
	ctx := context.Background()
	public := fakeResolver{netip.MustParseAddr("93.184.215.14")}
	rebind := fakeResolver{netip.MustParseAddr("93.184.215.14"), netip.MustParseAddr("::ffff:10.0.0.5")}
	cases := []struct {
		host string
		r    Resolver
		p    Policy
		ok   bool
	}{
		{"hooks.example.com", public, Policy{}, true},
		{"hooks.example.com", rebind, Policy{}, false},
		{"hooks.example.com", fakeResolver{}, Policy{}, false},
		{"localhost", public, Policy{}, false},
		{"a.localhost.", public, Policy{}, false},
		{"fe80::1%lo", nil, Policy{}, false},
		{"::127.0.0.1", nil, Policy{}, false},
		{"2002:7f00:1::", nil, Policy{}, false},
		{"203.0.113.5", nil, Policy{}, false},
		{"127.0.0.1", nil, Policy{AllowLoopback: true}, true},
		{"10.0.0.1", nil, Policy{AllowLoopback: true}, false},
		{"10.0.0.1", nil, Policy{AllowPrivate: true}, true},
	}
	for _, tc := range cases {
		err := tc.p.CheckHost(ctx, tc.host, tc.r)
		if (err == nil) != tc.ok {
			t.Errorf("CheckHost(%q, %+v) = %v, want ok=%v", tc.host, tc.p, err, tc.ok)
		}
	}
}
