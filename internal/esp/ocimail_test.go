package esp

import (
	"context"
	"encoding/base64"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
)

var ociTestNow = time.Date(2024, 5, 29, 16, 35, 0, 0, time.UTC)

func ociCreds() Credentials { return Credentials{Username: "oci", Password: "s3cret-pass"} }

func ociRequest(t testing.TB, file string) *Request {
	h := http.Header{}
	h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("oci:s3cret-pass")))
	h.Set("X-OCI-NS-MessageId", "ons-msg-1")
	h.Set("X-OCI-NS-Timestamp", "2024-05-29T16:33:00.310+0000")
	h.Set("X-OCI-NS-MessageType", "Notification")
	return &Request{Header: h, Body: readFileB(t, "testdata", "ocimail", file), Now: ociTestNow}
}

func TestOCIMailVerify(t *testing.T) {
	ctx := context.Background()
	if err := (OCIMail{}).Verify(ctx, ociRequest(t, "relayed.json"), ociCreds()); err != nil {
		t.Fatalf("valid: %v", err)
	}
	rot := Credentials{Username: "oci", Password: "new-pass", Previous: &Credentials{Username: "oci", Password: "s3cret-pass"}}
	if err := (OCIMail{}).Verify(ctx, ociRequest(t, "relayed.json"), rot); err != nil {
		t.Fatalf("previous password: %v", err)
	}
	for name, mut := range map[string]func(*Request){
		"wrong password": func(r *Request) {
			r.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("oci:s3cret-pasS")))
		},
		"missing header": func(r *Request) { r.Header.Del("Authorization") },
		"bad base64":     func(r *Request) { r.Header.Set("Authorization", "Basic !!!") },
		"confirmation elsewhere": func(r *Request) {
			r.Header.Set("X-OCI-NS-MessageType", "SubscriptionConfirmation")
			r.Header.Set("X-OCI-NS-ConfirmationURL", "https://oraclecloud.com.evil.example/confirm")
		},
	} {
		r := ociRequest(t, "relayed.json")
		mut(r)
		if err := (OCIMail{}).Verify(ctx, r, ociCreds()); codeB(err) != mailtrail.EUNAUTHORIZED {
			t.Errorf("%s: %v, want unauthorized", name, err)
		}
	}
	if err := (OCIMail{}).Verify(ctx, ociRequest(t, "relayed.json"), Credentials{}); codeB(err) != mailtrail.EUNAUTHORIZED {
		t.Errorf("empty credentials accepted: %v", err)
	}
}

func TestOCIMailConfirmation(t *testing.T) {
	const want = "https://cell1.notification.us-ashburn-1.oci.oraclecloud.com/20181201/subscriptions/ocid1.onssubscription.oc1.iad.aaaa/confirmation?token=MDAwMHpI"
	r := ociRequest(t, "confirmation.json")
	r.Header.Set("X-OCI-NS-MessageType", "SubscriptionConfirmation")
	res, err := (OCIMail{}).Parse(context.Background(), r)
	if err != nil || res.ConfirmURL != want || len(res.Events) != 0 {
		t.Fatalf("body URL: %v %+v", err, res)
	}
	r.Header.Set("X-OCI-NS-ConfirmationURL", want+"&h=1")
	if res, err = (OCIMail{}).Parse(context.Background(), r); err != nil || res.ConfirmURL != want+"&h=1" {
		t.Fatalf("header URL: %v %+v", err, res)
	}
	for _, u := range []string{"http://cell1.notification.us-ashburn-1.oci.oraclecloud.com/x", "https://169.254.169.254/x", "https://evil-oraclecloud.com/x", "https://u:p@x.oraclecloud.com/x", "https://x.oraclecloud.com:8443/x"} {
		r := ociRequest(t, "confirmation.json")
		r.Header.Set("X-OCI-NS-MessageType", "SubscriptionConfirmation")
		r.Header.Set("X-OCI-NS-ConfirmationURL", u)
		if err := (OCIMail{}).Verify(context.Background(), r, ociCreds()); codeB(err) != mailtrail.EUNAUTHORIZED {
			t.Errorf("%s: verify %v", u, err)
		}
		if _, err := (OCIMail{}).Parse(context.Background(), r); err == nil {
			t.Errorf("%s: parse accepted", u)
		}
	}
}

func TestOCIMailParse(t *testing.T) {
	ev := func(typ mailtrail.EventType, at, id, email, esp string) mailtrail.Event {
		e := wantEventB("ocimail", typ, at, "ocimail:"+id)
		e.CustomerEmail, e.ESPMessageID, e.Metadata.VendorEventID = email, esp, id
		return e
	}
	delivered := ev(mailtrail.EventDelivered, "2024-05-29T16:27:30Z", "8f6b1c2a-0d3e-4f5a-9b7c-1d2e3f4a5b6c", "bob@example.com", "send-7f3a@mail.brand.example")
	delivered.MessageID = "msg_01HXOCI"
	hard := ev(mailtrail.EventBounced, "2024-05-29T16:30:00Z", "11111111-0d3e-4f5a-9b7c-1d2e3f4a5b6c", "carol@example.com", "send-8a1b@mail.brand.example")
	hard.Metadata.BounceType, hard.Metadata.SMTPCode, hard.Metadata.Reason = mailtrail.BounceHard, "5.1.1", "Hard bounce: 550 5.1.1 user unknown"
	soft := ev(mailtrail.EventBounced, "2024-05-29T16:31:00Z", "22222222-0d3e-4f5a-9b7c-1d2e3f4a5b6c", "dave@example.com", "send-8a1c@mail.brand.example")
	soft.MessageID = "msg_01HXSOFT"
	soft.Metadata.BounceType, soft.Metadata.SMTPCode, soft.Metadata.Reason = mailtrail.BounceSoft, "4.2.2", "452 4.2.2 mailbox full"
	complaint := ev(mailtrail.EventComplained, "2024-05-29T16:27:30Z", "44444444-0d3e-4f5a-9b7c-1d2e3f4a5b6c", "frank@example.com", "send-9c2d@mail.brand.example")
	complaint.Metadata.FeedbackType = "abuse"
	tests := []struct {
		file    string
		want    []mailtrail.Event
		ignored map[string]int
	}{
		{"relayed.json", []mailtrail.Event{delivered}, map[string]int{}},
		{"batch.json", []mailtrail.Event{hard, soft}, map[string]int{"accept": 1}},
		{"complaint_logcontent.json", []mailtrail.Event{complaint}, map[string]int{}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			res, err := (OCIMail{}).Parse(context.Background(), ociRequest(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			eqEventsB(t, checkEventsB(t, "ocimail", res.Events), tt.want)
			if len(res.Ignored) != len(tt.ignored) || res.Ignored["accept"] != tt.ignored["accept"] {
				t.Errorf("ignored = %v, want %v", res.Ignored, tt.ignored)
			}
		})
	}
	// Without log ids the ONS message id and the index make the key.
	r := ociRequest(t, "batch.json")
	r.Body = []byte(strings.ReplaceAll(string(r.Body), `"id":`, `"x":`))
	res, err := (OCIMail{}).Parse(context.Background(), r)
	if err != nil || res.Events[0].DedupeKey != "ocimail:ons-msg-1:0" || res.Events[1].DedupeKey != "ocimail:ons-msg-1:1" {
		t.Fatalf("fallback keys: %v %+v", err, res)
	}
	for _, body := range []string{`nope`, `{}`, `[1]`, `{"data":"x"}`, `{"logContent":7}`} {
		r := ociRequest(t, "relayed.json")
		r.Body = []byte(body)
		if _, err := (OCIMail{}).Parse(context.Background(), r); codeB(err) != mailtrail.EINVALID {
			t.Errorf("%s: %v, want invalid", body, err)
		}
	}
}

func FuzzOCIMailParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "ocimail", "*.json"))
	for _, name := range files {
		f.Add(readFileB(f, name))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r := ociRequest(t, "relayed.json")
		r.Body = body
		res, err := (OCIMail{}).Parse(context.Background(), r)
		if err != nil {
			if c := codeB(err); c != mailtrail.EINVALID && c != mailtrail.EUNAUTHORIZED {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		checkEventsB(t, "ocimail", res.Events)
		if res.ConfirmURL != "" && !ociURLOK(res.ConfirmURL) {
			t.Fatalf("unchecked confirm URL %q", res.ConfirmURL)
		}
	})
}
