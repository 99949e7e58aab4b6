package outbound

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/secrets"
)

// fakeResolver answers every name with its addresses.
type fakeResolver []netip.Addr

func (f fakeResolver) LookupNetIP(context.Context, string, string) ([]netip.Addr, error) {
	return f, nil
}

func TestCheckURL(t *testing.T) {
	public := fakeResolver{netip.MustParseAddr("93.184.215.14")}
	rebind := fakeResolver{netip.MustParseAddr("93.184.215.14"), netip.MustParseAddr("10.0.0.5")}
	for _, tc := range []struct {
		url     string
		private bool
		r       Resolver
		ok      bool
	}{
		{"https://hooks.example.com/in", false, public, true},
		{"https://hooks.example.com/in", false, rebind, false},
		{"https://93.184.215.14/in", false, public, true},
		{"http://hooks.example.com/in", false, public, false},
		{"http://127.0.0.1:8080/in", true, public, true},
		{"https://169.254.169.254/", false, public, false},
		{"https://[fe80::1]/", false, public, false},
		{"https://100.64.0.1/", false, public, false},
		{"https://localhost/", false, public, false},
		{"https://a:b@hooks.example.com/", false, public, false},
		{"https://hooks.example.com/#x", false, public, false},
		{"gopher://hooks.example.com/", true, public, false},
		// the forms outside probes got through (issue 14)
		{"https://[fe80::1%25lo]/", false, public, false},
		{"https://[::127.0.0.1]/", false, public, false},
		{"https://[2002:7f00:1::]/", false, public, false},
		{"https://[::ffff:169.254.169.254]/", false, public, false},
		{"https://[64:ff9b::a9fe:a9fe]/", false, public, false},
		{"https://192.0.2.1/", false, public, false},
		{"https://198.51.100.1/", false, public, false},
		{"https://203.0.113.1/", false, public, false},
		{"https://hooks.example.com/", false, fakeResolver{netip.MustParseAddr("2002:a00:1::1")}, false},
	} {
		_, err := CheckURL(context.Background(), tc.url, tc.private, tc.r)
		if (err == nil) != tc.ok {
			t.Errorf("%s (private %v): %v, want ok=%v", tc.url, tc.private, err, tc.ok)
		}
		if err != nil && mailtrail.ErrorCode(err) != mailtrail.EINVALID {
			t.Errorf("%s: code %s", tc.url, mailtrail.ErrorCode(err))
		}
	}
}

func TestBackoffDoublesWithJitter(t *testing.T) {
	for n := 1; n <= 30; n++ {
		full := min(time.Hour, time.Second<<(n-1))
		for range 50 {
			if d := backoff(time.Second, time.Hour, n); d < full/2 || d > full {
				t.Fatalf("backoff(%d) = %s, want %s..%s", n, d, full/2, full)
			}
		}
	}
}

// TestDialGuard: without AllowPrivate, a delivery to a loopback receiver is refused at
// dial time (what a host name rebound to a private address would meet).
func TestDialGuard(t *testing.T) {
	hit := false
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hit = true }))
	defer srv.Close()
	key := secrets.NewKeyring([]byte("test master secret"))
	sealed, _ := SealSecret(key, "sub_x", []byte("whsec_0123456789abcdefghijkl"))
	s := &mailtrail.Subscription{ID: "sub_x", URL: srv.URL, Sealed: sealed}
	d := New(nil, Options{Secrets: key})
	if _, err := d.post(context.Background(), s, "dlv_1", []byte(`{"events":[]}`)); err == nil || !strings.Contains(err.Error(), "refused") || hit {
		t.Fatalf("post to loopback: %v (hit %v), want refused", err, hit)
	}
	d = New(nil, Options{Secrets: key, AllowPrivate: true})
	if status, err := d.post(context.Background(), s, "dlv_2", []byte(`{"events":[]}`)); err != nil || status != 200 || !hit {
		t.Fatalf("post with AllowPrivate: %d %v", status, err)
	}
}
