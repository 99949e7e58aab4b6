package bouncemail

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
)

var testNow = time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)

// want is the part of an event a table row pins; the rest is checked by checkEvent.
type want struct {
	typ        mailtrail.EventType
	email      string
	bounce     mailtrail.BounceType
	code       string
	feedback   string
	messageID  string
	espID      string
	occurredAt string
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseEvents(t *testing.T) {
	tests := []struct {
		file    string
		kind    Kind
		want    []want
		ignored map[string]int
	}{
		{"postfix.eml", KindDSN, []want{
			{mailtrail.EventBounced, "bob@example.com", mailtrail.BounceHard, "5.1.1", "", "msg_01HXPOSTFIX", "send-7f3a@mail.brand.example", "2024-05-14T10:15:32Z"},
			{mailtrail.EventBounced, "carol@example.net", mailtrail.BounceSoft, "5.2.2", "", "msg_01HXPOSTFIX", "send-7f3a@mail.brand.example", "2024-05-14T10:15:32Z"},
		}, map[string]int{}},
		// Action: delayed: the MTA keeps trying; a deferred notice, not a bounce.
		{"postfix_delayed.eml", KindDSN, []want{
			{mailtrail.EventDeferred, "dave@example.org", "", "4.4.1", "", "msg_01HXDELAYED", "send-8a1b@mail.brand.example", "2024-05-14T14:15:32Z"},
		}, map[string]int{}},
		{"exim.eml", KindDSN, []want{
			{mailtrail.EventBounced, "erin@example.org", mailtrail.BounceHard, "5.0.0", "", "msg_01HXEXIM", "send-9c2d@mail.brand.example", "2024-05-15T06:02:11Z"},
		}, map[string]int{}},
		{"exchange.eml", KindDSN, []want{
			{mailtrail.EventBounced, "frank@contoso.com", mailtrail.BounceHard, "5.1.10", "", "msg_01HXEXCHANGE", "send-aa11@mail.brand.example", "2024-05-16T09:30:05Z"},
		}, map[string]int{}},
		{"gmail.eml", KindDSN, []want{
			{mailtrail.EventBounced, "gina@gmail.com", mailtrail.BounceHard, "5.1.1", "", "msg_01HXGMAIL", "send-bb22@mail.brand.example", "2024-05-17T10:12:45Z"},
		}, map[string]int{}},
		{"yahoo_arf.eml", KindARF, []want{
			{mailtrail.EventComplained, "hank@yahoo.com", "", "", "abuse", "msg_01HXYAHOO", "send-cc33@mail.brand.example", "2024-05-18T12:00:04Z"},
		}, map[string]int{}},
		{"autoreply.eml", KindNone, nil, map[string]int{"not-report": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			rep, err := Parse(readTestdata(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if rep.Kind != tt.kind {
				t.Fatalf("kind = %d, want %d", rep.Kind, tt.kind)
			}
			evs, ignored := Events(rep, "smtp", testNow)
			if !reflect.DeepEqual(ignored, tt.ignored) {
				t.Errorf("ignored = %v, want %v", ignored, tt.ignored)
			}
			if len(evs) != len(tt.want) {
				t.Fatalf("got %d events, want %d: %+v", len(evs), len(tt.want), evs)
			}
			for i, w := range tt.want {
				e := evs[i]
				checkEvent(t, e)
				got := want{e.Type, e.CustomerEmail, e.Metadata.BounceType, e.Metadata.SMTPCode, e.Metadata.FeedbackType,
					e.MessageID, e.ESPMessageID, e.OccurredAt.Format(time.RFC3339)}
				if got != w {
					t.Errorf("event %d = %+v, want %+v", i, got, w)
				}
				if e.Metadata.VendorEventID != rep.MessageID || e.Metadata.Vendor != "smtp" {
					t.Errorf("vendor metadata = %q %q", e.Metadata.Vendor, e.Metadata.VendorEventID)
				}
			}
		})
	}
}

// checkEvent asserts the invariants every event from this package keeps.
func checkEvent(t testing.TB, e mailtrail.Event) {
	t.Helper()
	if !e.Type.Valid() || e.Source != mailtrail.SourceWebhook || e.OccurredAt.IsZero() ||
		e.OccurredAt.Location() != time.UTC || !strings.HasPrefix(e.DedupeKey, "smtp:") {
		t.Fatalf("invalid event %+v", e)
	}
	if e.Type == mailtrail.EventBounced && e.Metadata.BounceType != mailtrail.BounceHard && e.Metadata.BounceType != mailtrail.BounceSoft {
		t.Fatalf("bounce without type %+v", e)
	}
	if e.Type == mailtrail.EventBounced || e.Type == mailtrail.EventComplained {
		if len(e.Metadata.Raw) == 0 || !json.Valid(e.Metadata.Raw) {
			t.Fatalf("raw not valid JSON: %q", e.Metadata.Raw)
		}
	}
	if _, err := json.Marshal(e); err != nil {
		t.Fatalf("event does not marshal: %v", err)
	}
}

func TestDedupeKeys(t *testing.T) {
	rep, err := Parse(readTestdata(t, "postfix.eml"))
	if err != nil {
		t.Fatal(err)
	}
	a, _ := Events(rep, "smtp", testNow)
	b, _ := Events(rep, "smtp", testNow.Add(time.Hour))
	if a[0].DedupeKey != b[0].DedupeKey || a[0].DedupeKey == a[1].DedupeKey {
		t.Fatalf("dedupe keys not stable and distinct: %q %q %q", a[0].DedupeKey, b[0].DedupeKey, a[1].DedupeKey)
	}
	// Without a Message-ID the content decides: the same bytes give the same key.
	raw := strings.Replace(string(readTestdata(t, "exim.eml")), "Message-Id: <E1s76Qx-0004Zt-2K@mx1.brand.example>\n", "", 1)
	r1, _ := Parse([]byte(raw))
	r2, _ := Parse([]byte(raw))
	e1, _ := Events(r1, "smtp", testNow)
	e2, _ := Events(r2, "smtp", testNow)
	if r1.MessageID != "" || e1[0].DedupeKey != e2[0].DedupeKey {
		t.Fatalf("content keys differ: %q %q", e1[0].DedupeKey, e2[0].DedupeKey)
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		status, diag string
		want         mailtrail.BounceType
	}{
		{"5.1.1", "", mailtrail.BounceHard},
		{"5.1.10", "", mailtrail.BounceHard},
		{"5.2.1", "", mailtrail.BounceHard},
		{"5.4.1", "550 5.4.1 Recipient address rejected: Access denied", mailtrail.BounceHard},
		{"5.2.2", "", mailtrail.BounceSoft},
		{"5.3.4", "", mailtrail.BounceSoft},
		{"5.4.7", "", mailtrail.BounceSoft},
		{"5.7.1", "554 5.7.1 Message rejected as spam", mailtrail.BounceSoft},
		{"5.7.26", "", mailtrail.BounceSoft},
		{"4.4.1", "", mailtrail.BounceSoft},
		{"", "smtp; 550-5.1.1 The email account does not exist", mailtrail.BounceHard},
		{"", "550 Unrouteable address", mailtrail.BounceHard},
		{"", "421 Try again later", mailtrail.BounceSoft},
		{"x", "no code at all", ""},
		{"5.1", "", ""},
	}
	for _, tt := range tests {
		if got := Classify(tt.status, tt.diag); got != tt.want {
			t.Errorf("Classify(%q, %q) = %q, want %q", tt.status, tt.diag, got, tt.want)
		}
	}
}

func TestParseMalformedAndOddShapes(t *testing.T) {
	if _, err := Parse([]byte("no header here")); err == nil {
		t.Error("garbage parsed")
	}
	broken := "Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n--b\r\nContent-Type: message/delivery-status\r\n"
	if rep, err := Parse([]byte(broken)); err == nil && rep.Kind != KindNone {
		t.Errorf("truncated report gave kind %d", rep.Kind)
	}
	// A base64-encoded delivery-status part (RFC 2046 forbids it; some MTAs do it).
	b64 := "From: x@y\nMessage-ID: <r1@y>\nContent-Type: multipart/report; report-type=delivery-status; boundary=zz\n\n" +
		"--zz\nContent-Type: message/delivery-status\nContent-Transfer-Encoding: base64\n\n" +
		"UmVwb3J0aW5nLU1UQTogZG5zOyBteAoKRmluYWwtUmVjaXBpZW50OiByZmM4MjI7IGpAZXhhbXBsZS5j\nb20KQWN0aW9uOiBmYWlsZWQKU3RhdHVzOiA1LjEuMQo=\n--zz--\n"
	rep, err := Parse([]byte(b64))
	if err != nil || rep.Kind != KindDSN || len(rep.Recipients) != 1 || rep.Recipients[0].Email != "j@example.com" {
		t.Fatalf("base64 part: %v %+v", err, rep)
	}
	// An ARF not-spam report is no complaint.
	arf := strings.Replace(string(readTestdata(t, "yahoo_arf.eml")), "Feedback-Type: abuse", "Feedback-Type: not-spam", 1)
	rep, _ = Parse([]byte(arf))
	evs, ignored := Events(rep, "smtp", testNow)
	if len(evs) != 0 || ignored["not-spam"] != 1 {
		t.Fatalf("not-spam: %v %v", evs, ignored)
	}
}

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.eml"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		rep, err := Parse(raw)
		if err != nil {
			return
		}
		evs, _ := Events(rep, "smtp", testNow)
		for _, e := range evs {
			checkEvent(t, e)
		}
	})
}
