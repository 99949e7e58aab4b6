package esp

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
)

// hookWant is the expected shape of one mapped event.
type hookWant struct {
	Type         mailtrail.EventType
	At           time.Time
	Bounce       mailtrail.BounceType
	MessageID    string
	CampaignID   string
	CustomerID   string
	Email        string
	ESP          string
	Dedupe       string // exact key, or "h" for any content hash of the vendor
	URL          string
	Machine      bool
	FeedbackType string
	SMTPCode     string
	Raw          bool // Metadata.Raw must be set
}

// hookTestdata returns testdata/<vendor>/<name>.
func hookTestdata(t testing.TB, vendor, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", vendor, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// hookSeed adds every testdata file of vendor to the fuzz corpus.
func hookSeed(f *testing.F, vendor string) {
	files, _ := filepath.Glob(filepath.Join("testdata", vendor, "*.json"))
	if len(files) == 0 {
		f.Fatalf("no testdata for %s", vendor)
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{``, `[]`, `{}`, `null`, `[{}]`, `[[[[[[`, `{"a":`, `[{"timestamp":"x"}]`} {
		f.Add([]byte(s))
	}
}

// hookFuzzParse runs v.Parse on body and checks the invariants every parser keeps: an
// error is EINVALID, every event has a valid type, a non-zero UTC time, the webhook
// source, the vendor and a dedupe key of the vendor.
func hookFuzzParse(t *testing.T, v Vendor, body []byte) {
	res, err := v.Parse(context.Background(), &Request{Body: body, Header: http.Header{}, Now: time.Now()})
	if err != nil {
		if code := mailtrail.ErrorCode(err); code != mailtrail.EINVALID {
			t.Fatalf("error code %q for %q", code, body)
		}
		return
	}
	if res == nil || res.Ignored == nil {
		t.Fatal("nil result or Ignored map")
	}
	for _, e := range res.Events {
		if !e.Type.Valid() || e.Type == mailtrail.EventSent {
			t.Fatalf("bad type %d", e.Type)
		}
		if e.OccurredAt.IsZero() || e.OccurredAt.Location() != time.UTC {
			t.Fatalf("bad time %v", e.OccurredAt)
		}
		if e.Source != mailtrail.SourceWebhook || e.Metadata.Vendor != v.Name() {
			t.Fatalf("bad source/vendor %q %q", e.Source, e.Metadata.Vendor)
		}
		if len(e.DedupeKey) <= len(v.Name())+1 || e.DedupeKey[:len(v.Name())+1] != v.Name()+":" {
			t.Fatalf("bad dedupe key %q", e.DedupeKey)
		}
		if e.Type == mailtrail.EventBounced && e.Metadata.BounceType != mailtrail.BounceHard && e.Metadata.BounceType != mailtrail.BounceSoft {
			t.Fatalf("bounce without type")
		}
	}
}

// hookCheck compares events with the expectations, in order.
func hookCheck(t *testing.T, vendor string, got []mailtrail.Event, want []hookWant) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d events, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		e := got[i]
		m := e.Metadata
		check := func(field string, g, x any) {
			t.Helper()
			if g != x {
				t.Errorf("event %d (%s) %s = %v, want %v", i, w.Type, field, g, x)
			}
		}
		check("type", e.Type, w.Type)
		check("occurred_at", e.OccurredAt, w.At.UTC())
		check("source", e.Source, mailtrail.SourceWebhook)
		check("vendor", m.Vendor, vendor)
		check("bounce_type", m.BounceType, w.Bounce)
		check("message_id", e.MessageID, w.MessageID)
		check("campaign_id", e.CampaignID, w.CampaignID)
		check("customer_id", e.CustomerID, w.CustomerID)
		check("customer_email", e.CustomerEmail, w.Email)
		check("esp_message_id", e.ESPMessageID, w.ESP)
		check("link_url", m.LinkURL, w.URL)
		check("feedback_type", m.FeedbackType, w.FeedbackType)
		check("smtp_code", m.SMTPCode, w.SMTPCode)
		check("raw", len(m.Raw) > 0, w.Raw)
		if len(m.Raw) > 0 && !json.Valid(m.Raw) {
			t.Errorf("event %d raw is not JSON", i)
		}
		check("machine", e.Classification == mailtrail.Machine, w.Machine)
		if w.Machine && !slices.Equal(e.Reasons, []string{"esp_machine_open"}) {
			t.Errorf("event %d reasons %v", i, e.Reasons)
		}
		if w.Dedupe == "h" {
			if len(e.DedupeKey) != len(vendor)+3+64 || e.DedupeKey[:len(vendor)+3] != vendor+":h:" {
				t.Errorf("event %d dedupe %q, want a content hash", i, e.DedupeKey)
			}
		} else {
			check("dedupe", e.DedupeKey, w.Dedupe)
		}
	}
}

// hookWantCode fails unless err carries code.
func hookWantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := mailtrail.ErrorCode(err); got != code {
		t.Fatalf("error %v: code %q, want %q", err, got, code)
	}
}

// hookBasic returns a basic Authorization header value.
func hookBasic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// hookUnixT is time.Unix in UTC.
func hookUnixT(sec int64, nsec int64) time.Time { return time.Unix(sec, nsec).UTC() }

// hookRFC parses an RFC 3339 time for expectations.
func hookRFC(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return v.UTC()
}

func TestRegisterA(t *testing.T) {
	r := Registry{}
	RegisterA(r)
	limits := map[string]int64{
		"sendgrid": 8 << 20, "sparkpost": 8 << 20, "smtpcom": 8 << 20,
		"mailgun": 1 << 20, "postmark": 1 << 20, "generic": 8 << 20,
	}
	for name, max := range limits {
		v, ok := r.Get(name)
		if !ok {
			t.Fatalf("%s not registered", name)
		}
		if v.MaxBody() != max {
			t.Errorf("%s MaxBody %d, want %d", name, v.MaxBody(), max)
		}
		// A connection without credentials is always refused.
		err := v.Verify(context.Background(), &Request{Header: http.Header{}, Body: []byte(`[]`), Now: time.Now()}, Credentials{})
		hookWantCode(t, err, mailtrail.EUNAUTHORIZED)
	}
	if len(r) != len(limits) {
		t.Errorf("registered %d vendors", len(r))
	}
}

func TestHookParseUnix(t *testing.T) {
	for _, c := range []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"1717000050", hookUnixT(1717000050, 0), true},
		{"1717000050.5", hookUnixT(1717000050, 5e8), true},
		{"1717000050.123456789123", hookUnixT(1717000050, 123456789), true},
		{"1.71700005e9", hookUnixT(1717000050, 0), true},
		{"0", time.Time{}, false},
		{"-5", time.Time{}, false},
		{"x", time.Time{}, false},
		{"99999999999999", time.Time{}, false},
		{"NaN", time.Time{}, false},
	} {
		got, ok := hookParseUnix(c.in)
		if ok != c.ok || !got.Equal(c.want) {
			t.Errorf("hookParseUnix(%q) = %v, %v", c.in, got, ok)
		}
	}
}

func TestHookDedupeHashStable(t *testing.T) {
	a := hookEvent("x", mailtrail.EventOpened, hookUnixT(1717000000, 0))
	a.ESPMessageID, a.CustomerEmail = "m1", "Ann@Example.com"
	b := a
	b.CustomerEmail = "ann@example.com"
	hookDedupe(&a, "")
	hookDedupe(&b, "")
	if a.DedupeKey != b.DedupeKey {
		t.Fatal("hash depends on the recipient's case")
	}
	c := a
	c.OccurredAt = c.OccurredAt.Add(time.Second)
	hookDedupe(&c, "")
	if c.DedupeKey == a.DedupeKey {
		t.Fatal("hash ignores the time")
	}
}

// hookAuthCases runs the credential table shared by the vendors that sign nothing
// (SparkPost, SMTP.com, Postmark): basic auth, bearer token and the shared-secret
// header, with rotation and every kind of wrong credential.
func hookAuthCases(t *testing.T, v Vendor, body []byte) {
	now := time.Now()
	full := Credentials{Username: "hook", Password: "s3cret-pass", BearerToken: "tok-123", SigningKey: "shared-secret"}
	rotated := Credentials{Username: "hook", Password: "new-pass", Previous: &Credentials{Username: "hook", Password: "s3cret-pass"}}
	cases := []struct {
		name   string
		header map[string]string
		creds  Credentials
		ok     bool
	}{
		{"basic auth", map[string]string{"Authorization": hookBasic("hook", "s3cret-pass")}, full, true},
		{"bearer token", map[string]string{"Authorization": "Bearer tok-123"}, full, true},
		{"shared-secret header", map[string]string{HeaderWebhookSecret: "shared-secret"}, full, true},
		{"wrong password", map[string]string{"Authorization": hookBasic("hook", "s3cret-pasS")}, full, false},
		{"wrong user", map[string]string{"Authorization": hookBasic("hooc", "s3cret-pass")}, full, false},
		{"wrong bearer", map[string]string{"Authorization": "Bearer tok-124"}, full, false},
		{"wrong shared secret", map[string]string{HeaderWebhookSecret: "shared-secreT"}, full, false},
		{"basic auth not base64", map[string]string{"Authorization": "Basic !!!"}, full, false},
		{"no header", nil, full, false},
		{"no credentials configured", map[string]string{"Authorization": hookBasic("", ""), HeaderWebhookSecret: ""}, Credentials{}, false},
		{"empty bearer against no token", map[string]string{"Authorization": "Bearer "}, Credentials{Username: "u", Password: "p"}, false},
		{"rotation: previous password accepted", map[string]string{"Authorization": hookBasic("hook", "s3cret-pass")}, rotated, true},
		{"rotation: new password accepted", map[string]string{"Authorization": hookBasic("hook", "new-pass")}, rotated, true},
		{"rotation: random password refused", map[string]string{"Authorization": hookBasic("hook", "random")}, rotated, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := http.Header{}
			for k, val := range c.header {
				h.Set(k, val)
			}
			err := v.Verify(context.Background(), &Request{Header: h, Body: body, Now: now}, c.creds)
			if c.ok && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !c.ok {
				hookWantCode(t, err, mailtrail.EUNAUTHORIZED)
			}
		})
	}
}

func TestHookString(t *testing.T) {
	var v struct {
		S hookString `json:"s"`
	}
	for in, want := range map[string]string{
		`{"s":"plain"}`: "plain", `{"s":"a\"b\\c"}`: `a"b\c`, `{"s":"é\u00e9"}`: "éé", `{"s":"\ud83d\ude00"}`: "😀",
		"{\"s\":\"bad \xff\"}": "bad \uFFFD", `{"s":550}`: "550", `{"s":-1.5e3}`: "-1.5e3", `{"s":null}`: "", `{"s":""}`: "",
	} {
		v.S = "x"
		if err := json.Unmarshal([]byte(in), &v); err != nil || string(v.S) != want {
			t.Errorf("%s: %q %v, want %q", in, v.S, err, want)
		}
	}
	for _, in := range []string{`{"s":true}`, `{"s":{}}`, `{"s":[]}`} {
		if err := json.Unmarshal([]byte(in), &v); err == nil {
			t.Errorf("%s accepted", in)
		}
	}
}
