package dashboard

import (
	"bytes"
	"context"
	cryptotls "crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
)

type fakeStore struct{}

var acme = &mailtrail.Organization{ID: "org_1", Name: "acme", Timezone: "UTC"}

func (fakeStore) Authenticate(_ context.Context, s string) (*mailtrail.Organization, error) {
	if s == "good" {
		return acme, nil
	}
	return nil, mailtrail.Errorf(mailtrail.EUNAUTHORIZED, "no")
}
func (fakeStore) Org(context.Context, string) (*mailtrail.Organization, error) { return acme, nil }
func (fakeStore) Orgs(context.Context) ([]mailtrail.Organization, error)       { return nil, nil }
func (fakeStore) Campaigns(context.Context, string, mailtrail.CampaignFilter) (*mailtrail.CampaignPage, error) {
	return &mailtrail.CampaignPage{}, nil
}

func (fakeStore) Recipients(context.Context, string, string, mailtrail.RecipientFilter) (*mailtrail.RecipientPage, error) {
	return &mailtrail.RecipientPage{}, nil
}

// signIn posts the sign-in form with a matching pre-session token.
func signIn(h http.Handler, key string, tls bool) *http.Response {
	form := url.Values{"csrf": {"t0k"}, "key": {key}}
	r := httptest.NewRequest("POST", "/dashboard/signin", strings.NewReader(form.Encode()))
	if tls {
		r.TLS = &cryptotls.ConnectionState{}
	}
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.AddCookie(&http.Cookie{Name: preCookie, Value: "t0k"})
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Result()
}

func sessionCookieOf(resp *http.Response) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == sessionCookie {
			return c
		}
	}
	return nil
}

func TestSecureCookie(t *testing.T) {
	for _, tc := range []struct {
		public string
		tls    bool
		secure bool
	}{{"http://localhost:8080", false, false}, {"https://mail.example.com", false, true}, {"http://localhost:8080", true, true}} {
		h := New(Options{Store: fakeStore{}, PublicURL: tc.public})
		resp := signIn(h, "good", tc.tls)
		c := sessionCookieOf(resp)
		if resp.StatusCode != http.StatusSeeOther || c == nil || c.Secure != tc.secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode {
			t.Errorf("%s tls=%v: %d %+v", tc.public, tc.tls, resp.StatusCode, c)
		}
	}
}

func TestSessionExpiry(t *testing.T) {
	now := time.Unix(1e9, 0)
	s := newSessions(time.Hour, func() time.Time { return now }, nil)
	ctx := context.Background()
	id, _, _ := s.create(ctx, "org_1", "mt_key", false)
	get := func(id string) *session {
		ss, err := s.get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return ss
	}
	if get(id) == nil || get("nope") != nil || get("") != nil {
		t.Fatal("lookup")
	}
	now = now.Add(time.Hour + time.Second)
	if get(id) != nil {
		t.Fatal("expired session still live")
	}
}

// A session sealed for a SessionStore opens only under its own cookie, and holds
// neither the cookie nor the API key in clear; its store id is a hash of the cookie.
func TestSealedSession(t *testing.T) {
	id, other := randomToken(), randomToken()
	ss := &session{orgID: "org_1", key: "mt_secret_key_123", csrf: randomToken()}
	data := sealSession(id, ss)
	if bytes.Contains(data, []byte(ss.key)) || bytes.Contains(data, []byte(id)) || bytes.Contains(data, []byte(ss.csrf)) {
		t.Fatal("the sealed session holds the key, the cookie or the CSRF token in clear")
	}
	got, ok := openSession(id, data)
	if !ok || got.orgID != ss.orgID || got.key != ss.key || got.csrf != ss.csrf || got.admin {
		t.Fatalf("openSession = %+v, %v", got, ok)
	}
	if _, ok := openSession(other, data); ok {
		t.Fatal("a session opened under another cookie")
	}
	data[len(data)-1] ^= 1
	if _, ok := openSession(id, data); ok {
		t.Fatal("a tampered session opened")
	}
	if bytes.Equal(sessionKey(id), sessionKey(other)) || bytes.Contains(sessionKey(id), []byte(id)) {
		t.Fatal("session keys")
	}
}

func TestFormatting(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -4200: "-4,200"} {
		if got := num(n); got != want {
			t.Errorf("num(%d) = %q", n, got)
		}
	}
	if pct(0.5) != "50.0%" || pct(0.0012) != "0.12%" || pct(0) != "0.0%" {
		t.Errorf("pct: %s %s %s", pct(0.5), pct(0.0012), pct(0))
	}
}
