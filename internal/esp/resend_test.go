package esp

import (
	"bytes"
	"context"
	"encoding/base64"
	"net/http"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
)

var (
	resendTestNow    = time.Date(2024, 11, 22, 23, 50, 0, 0, time.UTC)
	resendTestKey    = []byte("resend-test-signing-key-0123456789")
	resendTestSecret = "whsec_" + base64.StdEncoding.EncodeToString(resendTestKey)
)

// resendSign returns the Svix headers for body signed with key at ts.
func resendSign(key []byte, id string, ts time.Time, body []byte) http.Header {
	t := strconv.FormatInt(ts.Unix(), 10)
	sig := hmacSHA256(key, []byte(id+"."+t+"."), body)
	h := http.Header{}
	h.Set("svix-id", id)
	h.Set("svix-timestamp", t)
	h.Set("svix-signature", "v1,"+base64.StdEncoding.EncodeToString(sig))
	return h
}

func resendRequest(t testing.TB, file string) *Request {
	body := readFileB(t, "testdata", "resend", file)
	return &Request{Header: resendSign(resendTestKey, "msg_2a8LzA", resendTestNow, body), Body: body, Now: resendTestNow}
}

func TestResendVerify(t *testing.T) {
	c := Credentials{SigningKey: resendTestSecret}
	ctx := context.Background()
	if err := (Resend{}).Verify(ctx, resendRequest(t, "bounced.json"), c); err != nil {
		t.Fatalf("valid: %v", err)
	}
	// Several signatures (Resend rotating its side): any match passes.
	r := resendRequest(t, "bounced.json")
	r.Header.Set("svix-signature", "v1,bm9wZQ== v2,abc "+r.Header.Get("svix-signature"))
	if err := (Resend{}).Verify(ctx, r, c); err != nil {
		t.Fatalf("multiple signatures: %v", err)
	}
	// Our rotation: the old secret is accepted while it is in Previous.
	rot := Credentials{SigningKey: "whsec_" + base64.StdEncoding.EncodeToString([]byte("new key")), Previous: &c}
	if err := (Resend{}).Verify(ctx, resendRequest(t, "bounced.json"), rot); err != nil {
		t.Fatalf("previous secret: %v", err)
	}
	reject := map[string]func(*Request){
		"one body byte": func(r *Request) { r.Body = bytes.Replace(r.Body, []byte("Permanent"), []byte("Permanenu"), 1) },
		"re-serialised": func(r *Request) { r.Body = bytes.Replace(r.Body, []byte(`,"data"`), []byte(`, "data"`), 1) },
		"timestamp":     func(r *Request) { r.Header.Set("svix-timestamp", strconv.FormatInt(resendTestNow.Unix()+1, 10)) },
		"id":            func(r *Request) { r.Header.Set("svix-id", "msg_other") },
		"missing id":    func(r *Request) { r.Header.Del("svix-id") },
		"missing sig":   func(r *Request) { r.Header.Del("svix-signature") },
		"missing ts":    func(r *Request) { r.Header.Del("svix-timestamp") },
		"bad ts":        func(r *Request) { r.Header.Set("svix-timestamp", "soon") },
		"wrong version": func(r *Request) { r.Header.Set("svix-signature", "v2"+r.Header.Get("svix-signature")[2:]) },
		"too old":       func(r *Request) { r.Now = resendTestNow.Add(Window + time.Second) },
		"too new":       func(r *Request) { r.Now = resendTestNow.Add(-Window - time.Second) },
		"wrong key": func(r *Request) {
			r.Header = resendSign([]byte("another key"), "msg_2a8LzA", resendTestNow, r.Body)
		},
		"replay outside window": func(r *Request) {
			old := resendTestNow.Add(-10 * time.Minute)
			r.Header = resendSign(resendTestKey, "msg_2a8LzA", old, r.Body)
		},
	}
	for name, mut := range reject {
		r := resendRequest(t, "bounced.json")
		mut(r)
		if err := (Resend{}).Verify(ctx, r, c); codeB(err) != mailtrail.EUNAUTHORIZED {
			t.Errorf("%s: err = %v, want unauthorized", name, err)
		}
	}
	for _, bad := range []Credentials{{}, {SigningKey: "whsec_!!!"}} {
		if err := (Resend{}).Verify(ctx, resendRequest(t, "bounced.json"), bad); codeB(err) != mailtrail.EUNAUTHORIZED {
			t.Errorf("creds %+v: %v", bad, err)
		}
	}
}

func TestResendParse(t *testing.T) {
	ev := func(typ mailtrail.EventType, at, email, esp, msg string) mailtrail.Event {
		e := wantEventB("resend", typ, at, "resend:msg_2a8LzA")
		e.CustomerEmail, e.ESPMessageID, e.MessageID, e.Metadata.VendorEventID = email, esp, msg, "msg_2a8LzA"
		return e
	}
	hard := ev(mailtrail.EventBounced, "2024-11-22T23:41:12.126Z", "delivered@resend.dev", "56761188-7520-42d8-8898-ff6fc54ce618", "msg_01HXRESEND")
	hard.CampaignID, hard.CustomerID = "c_123", "u_42"
	hard.Metadata.BounceType = mailtrail.BounceHard
	hard.Metadata.Reason = "The recipient's email address is on the suppression list because it has a recent history of producing hard bounces."
	hard.Metadata.Extra = map[string]any{"bounce_type": "Permanent", "bounce_sub_type": "Suppressed"}
	soft := ev(mailtrail.EventBounced, "2024-11-22T23:45:00Z", "full@example.com", "11111111-7520-42d8-8898-ff6fc54ce618", "msg_01HXLIST")
	soft.CampaignID = "c_9"
	soft.Metadata.BounceType, soft.Metadata.Reason = mailtrail.BounceSoft, "Mailbox full"
	soft.Metadata.Extra = map[string]any{"bounce_type": "Transient", "bounce_sub_type": "MailboxFull"}
	complained := ev(mailtrail.EventComplained, "2024-11-22T23:50:00Z", "ann@example.com", "22222222-7520-42d8-8898-ff6fc54ce618", "msg_01HXHDR")
	complained.Metadata.FeedbackType = "abuse"
	click := ev(mailtrail.EventClicked, "2024-05-29T16:30:00Z", "ann@example.com", "56761188-7520-42d8-8898-ff6fc54ce618", "msg_01HXCLICK")
	click.CampaignID, click.CustomerID = "c_123", "u_42"
	click.Metadata.LinkURL, click.Metadata.IP, click.Metadata.UserAgent = "https://example.com/sale", "203.0.113.9", "Mozilla/5.0"
	tests := []struct {
		file    string
		want    []mailtrail.Event
		ignored string
	}{
		{"bounced.json", []mailtrail.Event{hard}, ""},
		{"bounced_transient.json", []mailtrail.Event{soft}, ""},
		{"complained.json", []mailtrail.Event{complained}, ""},
		{"delivered.json", []mailtrail.Event{ev(mailtrail.EventDelivered, "2024-11-22T23:41:13Z", "", "56761188-7520-42d8-8898-ff6fc54ce618", "msg_01HXRESEND")}, ""},
		{"clicked.json", []mailtrail.Event{click}, ""},
		{"opened.json", []mailtrail.Event{ev(mailtrail.EventOpened, "2024-05-29T16:29:00Z", "ann@example.com", "56761188-7520-42d8-8898-ff6fc54ce618", "msg_01HXCLICK")}, ""},
		{"sent.json", nil, "email.sent"},
		// Resend keeps trying: a deferred notice, not a bounce.
		{"delivery_delayed.json", []mailtrail.Event{ev(mailtrail.EventDeferred, "2024-02-22T23:41:12.126Z", "delivered@resend.dev", "56761188-7520-42d8-8898-ff6fc54ce618", "msg_01HXRESEND")}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			res, err := (Resend{}).Parse(context.Background(), resendRequest(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			eqEventsB(t, checkEventsB(t, "resend", res.Events), tt.want)
			if tt.ignored != "" && res.Ignored[tt.ignored] != 1 {
				t.Errorf("ignored = %v", res.Ignored)
			}
		})
	}
	for _, body := range []string{`nope`, `{}`, `{"type":"email.bounced","data":[]}`, `[]`} {
		r := &Request{Header: http.Header{}, Body: []byte(body), Now: resendTestNow}
		if _, err := (Resend{}).Parse(context.Background(), r); codeB(err) != mailtrail.EINVALID {
			t.Errorf("%s: %v, want invalid", body, err)
		}
	}
}

func FuzzResendParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "resend", "*.json"))
	for _, name := range files {
		f.Add(readFileB(f, name))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r := &Request{Header: resendSign(resendTestKey, "msg_fuzz", resendTestNow, body), Body: body, Now: resendTestNow}
		res, err := (Resend{}).Parse(context.Background(), r)
		if err != nil {
			if codeB(err) != mailtrail.EINVALID {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		checkEventsB(t, "resend", res.Events)
	})
}
