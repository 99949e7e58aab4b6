package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
)

// One signed payload per vendor, attributed by our custom argument: exact events stored,
// exact figures in the report.
func TestWebhookVendors(t *testing.T) {
	h := newHookHarness(t)
	_, key := h.org("acme")
	now := time.Now().UTC().Truncate(time.Second)
	iso := now.Add(-time.Minute).Format(time.RFC3339)
	unix := fmt.Sprint(now.Add(-time.Minute).Unix())

	cases := []struct {
		vendor string
		creds  map[string]any
		post   func(url, msgID string) (body []byte, hdr http.Header)
		want   string // event types, newest first
		counts func(c mailtrail.Counts) bool
	}{
		{"sendgrid", nil, nil, "bounced,delivered", func(c mailtrail.Counts) bool { return c.Delivered == 1 && c.BouncedHard == 1 }},
		{"mailgun", map[string]any{"signing_key": "mg-key-0123456789"}, func(url, id string) ([]byte, http.Header) {
			return mailgunBody("mg-key-0123456789", now, "", map[string]any{"event": "delivered", "id": "mg-ev-1", "timestamp": float64(now.Unix() - 60),
				"recipient": "vendor-mailgun@example.com", "message": map[string]any{"headers": map[string]any{"message-id": "<mg-1@mailgun>"}},
				"delivery-status": map[string]any{"code": 250}, "user-variables": map[string]any{"mt_message_id": id}}), nil
		}, "delivered", func(c mailtrail.Counts) bool { return c.Delivered == 1 }},
		{"generic", map[string]any{"signing_key": "generic-key-0123456789"}, func(url, id string) ([]byte, http.Header) {
			b := mustJSON(map[string]any{"events": []map[string]any{
				{"event_id": "g1", "event_type": "delivered", "occurred_at": iso, "message_id": id},
				{"event_id": "g2", "event_type": "complained", "occurred_at": iso, "message_id": id},
				{"event_id": "g3", "event_type": "sent", "occurred_at": iso, "message_id": id}}})
			return b, genericHeaders("generic-key-0123456789", now, b)
		}, "complained,delivered", func(c mailtrail.Counts) bool { return c.Delivered == 1 && c.Complained == 1 }},
		{"postmark", map[string]any{"username": "pm", "password": "pm-pass"}, func(url, id string) ([]byte, http.Header) {
			return mustJSON(map[string]any{"RecordType": "Bounce", "ID": 4323372036854775807, "Type": "SoftBounce", "MessageID": "pm-1",
				"Email": "vendor-postmark@example.com", "BouncedAt": iso, "Details": "mailbox full", "Metadata": map[string]any{"mt_message_id": id}}), basic("pm", "pm-pass")
		}, "bounced", func(c mailtrail.Counts) bool { return c.BouncedSoft == 1 && c.BouncedHard == 0 }},
		{"sparkpost", map[string]any{"bearer_token": "sp-token"}, func(url, id string) ([]byte, http.Header) {
			return mustJSON([]map[string]any{{"msys": map[string]any{"message_event": map[string]any{"type": "delivery", "event_id": "sp1", "timestamp": unix,
					"rcpt_to": "vendor-sparkpost@example.com", "transmission_id": "sp-t1", "rcpt_meta": map[string]any{"mt_message_id": id}}}},
					{"msys": map[string]any{"message_event": map[string]any{"type": "injection", "event_id": "sp0", "timestamp": unix}}}}),
				http.Header{"Authorization": {"Bearer sp-token"}}
		}, "delivered", func(c mailtrail.Counts) bool { return c.Delivered == 1 }},
		{"smtpcom", map[string]any{"signing_key": "smtpcom-shared-secret"}, func(url, id string) ([]byte, http.Header) {
			return mustJSON([]map[string]any{{"id": "sc1", "event_label": "delivered", "tracking_id": "sc-t1", "rcpt_to": "vendor-smtpcom@example.com",
				"time_finished": now.Unix() - 60, "resp_code": 250, "mt_message_id": id}}), http.Header{"X-Mailtrail-Webhook-Secret": {"smtpcom-shared-secret"}}
		}, "delivered", func(c mailtrail.Counts) bool { return c.Delivered == 1 }},
		{"resend", map[string]any{"signing_key": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}, func(url, id string) ([]byte, http.Header) {
			b := mustJSON(map[string]any{"type": "email.delivered", "created_at": iso, "data": map[string]any{"created_at": iso, "email_id": "rs-1",
				"to": []string{"vendor-resend@example.com"}, "tags": map[string]any{"mt_message_id": id}}})
			return b, resendHeaders("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_rs1", now, b)
		}, "delivered", func(c mailtrail.Counts) bool { return c.Delivered == 1 }},
		{"smtp", map[string]any{"bearer_token": "smtp-pipe-token"}, nil, "bounced", func(c mailtrail.Counts) bool { return c.BouncedHard == 1 }},
	}
	sg := newSGKey(t)
	for _, tc := range cases {
		t.Run(tc.vendor, func(t *testing.T) {
			h.t = t
			creds := tc.creds
			if tc.vendor == "sendgrid" {
				creds = map[string]any{"signing_key": sg.pub}
			}
			req := map[string]any{"vendor": tc.vendor, "name": tc.vendor}
			for k, v := range creds {
				req[k] = v
			}
			c := h.connection(key, req)
			campaign := "v-" + tc.vendor
			m := h.instrument(key, campaign, "vendor-"+tc.vendor)
			var body []byte
			var hdr http.Header
			switch tc.vendor {
			case "sendgrid":
				body = mustJSON([]map[string]any{
					{"email": "vendor-sendgrid@example.com", "timestamp": now.Unix() - 60, "event": "delivered", "sg_event_id": "sg-d1", "sg_message_id": "sgm1.filter0001", "mt_message_id": m.MessageID},
					{"email": "vendor-sendgrid@example.com", "timestamp": now.Unix() - 30, "event": "bounce", "type": "bounce", "status": "5.1.1", "sg_event_id": "sg-b1", "sg_message_id": "sgm1.filter0001", "mt_message_id": m.MessageID},
					{"email": "vendor-sendgrid@example.com", "timestamp": now.Unix() - 90, "event": "processed", "sg_event_id": "sg-p1", "mt_message_id": m.MessageID}})
				hdr = sg.headers(t, now, body)
			case "smtp":
				body = []byte(dsn("vendor-smtp@example.com", m.MessageID))
				hdr = http.Header{"Authorization": {"Bearer smtp-pipe-token"}, "Content-Type": {"message/rfc822"}}
			default:
				body, hdr = tc.post(c.WebhookURL, m.MessageID)
			}
			res := h.hookOK(c.WebhookURL, body, hdr)
			if got := typesOf(h.events(key, "campaign_id="+campaign)); got != "sent,"+tc.want && got != tc.want {
				// instrumenting records no sent event; the webhook events are all there is
				t.Fatalf("events %q, want %q (response %+v)", got, tc.want, res)
			}
			if res.Accepted != strings.Count(tc.want, ",")+1 || res.Duplicates != 0 || res.Unattributed != 0 {
				t.Errorf("response %+v", res)
			}
			for _, ev := range h.events(key, "campaign_id="+campaign) {
				if ev.MessageID != m.MessageID || ev.Source != mailtrail.SourceWebhook || ev.Metadata.Vendor != tc.vendor {
					t.Errorf("event %+v", ev)
				}
			}
			if rep := h.report(key, campaign); !tc.counts(rep.Counts) {
				t.Errorf("report %+v", rep.Counts)
			}
			// The same delivery again: acknowledged, stored once.
			if tc.vendor != "mailgun" && tc.vendor != "resend" && tc.vendor != "sendgrid" && tc.vendor != "generic" {
				if again := h.hookOK(c.WebhookURL, body, hdr); again.Accepted != 0 || again.Duplicates != res.Accepted {
					t.Errorf("retry: %+v", again)
				}
			}
		})
	}
}

// dsn is a Postfix-shaped delivery status notification for a hard bounce of rcpt, carrying
// our message id header in the returned headers.
func dsn(rcpt, msgID string) string {
	return strings.NewReplacer("RCPT", rcpt, "MSGID", msgID, "\n", "\r\n").Replace(dsnTemplate)
}

const dsnTemplate = `From: MAILER-DAEMON@mx.example.com (Mail Delivery System)
To: news@brand.example
Subject: Undelivered Mail Returned to Sender
Date: Wed, 29 May 2024 16:27:30 +0000
Message-ID: <20240529162730.ABC@mx.example.com>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

The mail system: <RCPT>: host said: 550 5.1.1 user unknown

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.com
Arrival-Date: Wed, 29 May 2024 16:27:29 +0000

Final-Recipient: rfc822; RCPT
Original-Recipient: rfc822;RCPT
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <RCPT>: Recipient address rejected: User unknown

--B
Content-Type: text/rfc822-headers

From: news@brand.example
To: RCPT
Subject: Spring sale
Message-ID: <orig-1@brand.example>
X-Mailtrail-Message-ID: MSGID

--B--
`

// sgBatch returns n SendGrid delivered events with ids prefix-0…, for one message.
func sgBatch(prefix string, n int, msgID string, at time.Time) []byte {
	evs := make([]map[string]any, n)
	for i := range evs {
		evs[i] = map[string]any{"email": "batch@example.com", "timestamp": at.Unix() - int64(i), "event": "open",
			"sg_event_id": fmt.Sprintf("%s-%d", prefix, i), "sg_message_id": "sgbatch.filter1", "mt_message_id": msgID}
	}
	return mustJSON(evs)
}

// Every kind of tampering is refused with 401 and nothing stored.
func TestWebhookTampering(t *testing.T) {
	h := newHookHarness(t)
	_, key := h.org("acme")
	sg := newSGKey(t)
	c := h.connection(key, map[string]any{"vendor": "sendgrid", "name": "sg", "signing_key": sg.pub})
	mg := h.connection(key, map[string]any{"vendor": "mailgun", "name": "mg", "signing_key": "mg-key"})
	gen := h.connection(key, map[string]any{"vendor": "generic", "name": "g", "signing_key": "gen-key"})
	m := h.instrument(key, "c", "u1")
	now := time.Now()
	body := sgBatch("t", 3, m.MessageID, now)
	other := newSGKey(t)
	flip := bytes.Clone(body)
	flip[len(flip)/2] ^= 0x01
	reser, _ := json.Marshal(json.RawMessage(body)) // compacted the same? force a change:
	reser = bytes.ReplaceAll(reser, []byte(`,"`), []byte(`, "`))
	noSig := sg.headers(t, now, body)
	noSig.Del("X-Twilio-Email-Event-Webhook-Signature")
	gbody := mustJSON(map[string]any{"events": []map[string]any{{"event_id": "g1", "event_type": "delivered", "occurred_at": now.Format(time.RFC3339), "message_id": m.MessageID}}})
	cases := []struct {
		name string
		url  string
		body []byte
		hdr  http.Header
	}{
		{"one body byte", c.WebhookURL, flip, sg.headers(t, now, body)},
		{"re-serialised JSON", c.WebhookURL, reser, sg.headers(t, now, body)},
		{"wrong key", c.WebhookURL, body, other.headers(t, now, body)},
		{"missing header", c.WebhookURL, body, noSig},
		{"timestamp beyond the retry horizon", c.WebhookURL, body, sg.headers(t, now.Add(-26*time.Hour), body)},
		{"timestamp in the future", c.WebhookURL, body, sg.headers(t, now.Add(6*time.Minute), body)},
		{"timestamp changed", c.WebhookURL, body, func() http.Header {
			hd := sg.headers(t, now, body)
			hd.Set("X-Twilio-Email-Event-Webhook-Timestamp", fmt.Sprint(now.Unix()+1))
			return hd
		}()},
		{"mailgun wrong key", mg.WebhookURL, mailgunBody("other", now, "", map[string]any{"event": "delivered", "id": "x", "timestamp": float64(now.Unix())}), nil},
		{"mailgun beyond the retry horizon", mg.WebhookURL, mailgunBody("mg-key", now.Add(-10*time.Hour), "", map[string]any{"event": "delivered", "id": "x", "timestamp": float64(now.Unix())}), nil},
		{"generic wrong key", gen.WebhookURL, gbody, genericHeaders("nope", now, gbody)},
		{"generic no header", gen.WebhookURL, gbody, nil},
	}
	for _, tc := range cases {
		if code, b := h.hook(tc.url, tc.body, tc.hdr); code != 401 {
			t.Errorf("%s: %d %s, want 401", tc.name, code, b)
		}
	}
	if n := h.eventRows(); n != 0 {
		t.Fatalf("%d events stored after refused webhooks", n)
	}
	if r := h.hookOK(c.WebhookURL, body, sg.headers(t, now, body)); r.Accepted != 3 {
		t.Fatalf("valid after tampering: %+v", r)
	}
}

// Unknown connection, vendor mismatch, unknown vendor and a disabled connection give the
// same 404; an oversized body 413 without being stored.
func TestWebhookNotFoundAndLimits(t *testing.T) {
	h := newHookHarness(t)
	_, key := h.org("acme")
	c := h.connection(key, map[string]any{"vendor": "mailgun", "name": "mg", "signing_key": "mg-key"})
	now := time.Now()
	body := mailgunBody("mg-key", now, "", map[string]any{"event": "delivered", "id": "e1", "timestamp": float64(now.Unix()), "recipient": "x@example.com"})
	base := h.srv.URL + "/webhooks/v2/"
	codeU, bodyU := h.hook(base+"mailgun/conn_doesnotexist0000000000", body, nil)
	codeM, bodyM := h.hook(base+"sendgrid/"+c.ID, body, nil)
	codeV, bodyV := h.hook(base+"nosuchvendor/"+c.ID, body, nil)
	if codeU != 404 || codeM != 404 || codeV != 404 || bodyU != bodyM || bodyU != bodyV {
		t.Fatalf("unknown %d %s / mismatch %d %s / vendor %d %s", codeU, bodyU, codeM, bodyM, codeV, bodyV)
	}
	if r := h.do("POST", "/api/v1/connections/"+c.ID+"/disable", key, nil, nil); r.StatusCode != 200 {
		t.Fatalf("disable: %d", r.StatusCode)
	}
	if code, b := h.hook(c.WebhookURL, body, nil); code != 404 || b != bodyU {
		t.Fatalf("disabled: %d %s", code, b)
	}
	h.do("POST", "/api/v1/connections/"+c.ID+"/enable", key, nil, nil)
	big := append(bytes.Repeat([]byte(" "), 1<<20), body...)
	if code, _ := h.hook(c.WebhookURL, big, nil); code != 413 {
		t.Fatalf("oversized: %d", code)
	}
	// Without a Content-Length (chunked), the limit still holds while reading.
	req, _ := http.NewRequest("POST", c.WebhookURL, io.MultiReader(bytes.NewReader(big)))
	req.ContentLength = -1
	resp, err := h.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 413 {
		t.Fatalf("oversized chunked: %d", resp.StatusCode)
	}
	if n := h.eventRows(); n != 0 {
		t.Fatalf("%d events stored", n)
	}
	if code, b := h.hook(c.WebhookURL, []byte(`{"signature":`), nil); code != 401 {
		t.Fatalf("malformed unsigned: %d %s", code, b) // credentials first, then parsing
	}
}

// A 500-event SendGrid batch posted 40 times, interleaved with new batches, stores
// exactly the unique events.
func TestWebhookSendGridRetries(t *testing.T) {
	h := newHookHarness(t)
	_, key := h.org("acme")
	sg := newSGKey(t)
	c := h.connection(key, map[string]any{"vendor": "sendgrid", "name": "sg", "signing_key": sg.pub})
	m := h.instrument(key, "batch", "batch")
	now := time.Now()
	big := sgBatch("big", 500, m.MessageID, now)
	dups := 0
	for i := 0; i < 40; i++ {
		r := h.hookOK(c.WebhookURL, big, sg.headers(t, time.Now(), big))
		dups += r.Duplicates
		small := sgBatch(fmt.Sprintf("new%d", i), 10, m.MessageID, now)
		if r := h.hookOK(c.WebhookURL, small, sg.headers(t, time.Now(), small)); r.Accepted != 10 {
			t.Fatalf("new batch %d: %+v", i, r)
		}
	}
	if want := 500 + 40*10; h.eventRows() != want || dups != 39*500 {
		t.Fatalf("rows %d, want %d; duplicates %d, want %d", h.eventRows(), want, dups, 39*500)
	}
	rep := h.report(key, "batch")
	// The message is pixel-tracked: SendGrid's opens are kept but add nothing.
	if rep.Counts.OpensTotal != 0 || h.count(`SELECT count(*) FROM events WHERE counted = 0`) != 900 {
		t.Fatalf("report %+v", rep.Counts)
	}
	t.Logf("rows %d (500 + 40×10 unique), duplicates acknowledged %d", h.eventRows(), dups)
}

// A signed webhook on A's connection naming B's message changes nothing in B: the id is
// ignored and the event stays in A, unattributed.
func TestWebhookCrossTenant(t *testing.T) {
	h := newHookHarness(t)
	orgA, keyA := h.org("A")
	_, keyB := h.org("B")
	mB := h.instrument(keyB, "b-camp", "bob")
	c := h.connection(keyA, map[string]any{"vendor": "generic", "name": "g", "signing_key": "gen-key"})
	now := time.Now()
	body := mustJSON(map[string]any{"events": []map[string]any{{"event_id": "x1", "event_type": "complained", "occurred_at": now.Format(time.RFC3339),
		"message_id": mB.MessageID, "campaign_id": "b-camp", "customer_id": "bob", "customer_email": "someone@a.example"}}})
	r := h.hookOK(c.WebhookURL, body, genericHeaders("gen-key", now, body))
	if r.Accepted != 1 || r.Unattributed != 1 {
		t.Fatalf("response %+v", r)
	}
	if rep := h.report(keyB, "b-camp"); rep.Counts != (mailtrail.Counts{}) {
		t.Fatalf("B's report changed: %+v", rep.Counts)
	}
	if evs := h.events(keyB, ""); len(evs) != 0 {
		t.Fatalf("B sees %d events", len(evs))
	}
	evs := h.events(keyA, "campaign_id=_unattributed")
	if len(evs) != 1 || evs[0].OrgID != orgA || evs[0].CustomerID != "_unknown" || evs[0].MessageID == mB.MessageID || evs[0].CustomerEmail != "someone@a.example" {
		t.Fatalf("A's events %+v", evs)
	}
	if n := h.count(`SELECT count(*) FROM suppressions s JOIN orgs o ON o.id = s.org_id WHERE o.public_id != ?`, orgA); n != 0 {
		t.Fatalf("%d suppressions outside A", n)
	}
	if n := h.count(`SELECT count(*) FROM messages m JOIN orgs o ON o.id = m.org_id WHERE o.public_id = ? AND f_complaint != 0`, orgA); n != 1 {
		t.Fatalf("complaint not filed in A: %d", n)
	}
}

// Attribution without our custom argument: the ESP message id recorded with sent (also a
// SendGrid id with its suffix), then the recipient address; ESP opens of a message we do
// not track are the figures.
func TestWebhookAttributionFallbacks(t *testing.T) {
	h := newHookHarness(t)
	_, key := h.org("acme")
	sg := newSGKey(t)
	c := h.connection(key, map[string]any{"vendor": "sendgrid", "name": "sg", "signing_key": sg.pub})
	var m1, m2 instrumented
	h.do("POST", "/api/v1/messages", key, map[string]any{"campaign_id": "fb", "customer_id": "u1", "customer_email": "u1@example.com",
		"html": emailHTML, "track_opens": false, "track_clicks": false}, &m1)
	m2 = h.instrument(key, "fb", "u2")
	now := time.Now()
	h.do("POST", "/api/v1/events", key, map[string]any{"events": []map[string]any{
		{"event_type": "sent", "message_id": m1.MessageID, "esp_message_id": "XMSGID1", "occurred_at": now.Add(-time.Hour).Format(time.RFC3339)}}}, nil)
	body := mustJSON([]map[string]any{
		{"email": "nobody@example.com", "timestamp": now.Unix() - 50, "event": "open", "sg_event_id": "o1", "sg_message_id": "XMSGID1.filterdrecv-1.2"},
		{"email": "u2@example.com", "timestamp": now.Unix() - 40, "event": "delivered", "sg_event_id": "d2", "sg_message_id": "unknown-id"},
		{"email": "stranger@example.com", "timestamp": now.Unix() - 30, "event": "delivered", "sg_event_id": "d3"},
	})
	r := h.hookOK(c.WebhookURL, body, sg.headers(t, now, body))
	if r.Accepted != 3 || r.Unattributed != 1 {
		t.Fatalf("response %+v", r)
	}
	got := map[string]string{}
	for _, ev := range h.events(key, "campaign_id=fb") {
		got[ev.Type.String()+":"+ev.CustomerID] = ev.MessageID
	}
	if got["opened:u1"] != m1.MessageID || got["delivered:u2"] != m2.MessageID || len(got) != 3 {
		t.Fatalf("attributed %v", got)
	}
	if rep := h.report(key, "fb"); rep.Counts.OpensUnique != 1 || rep.Counts.Delivered != 2 {
		t.Fatalf("report %+v (an untracked message's ESP open is its figure)", rep.Counts)
	}
	if rep := h.report(key, "_unattributed"); rep.Counts.Delivered != 1 {
		t.Fatalf("unattributed report %+v", rep.Counts)
	}
	var metrics string
	resp, _ := h.client.Get(h.srv.URL + "/metrics")
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	metrics = string(b)
	for _, want := range []string{`mailtrail_webhook_unattributed_total{vendor="sendgrid"} 1`, `mailtrail_webhook_requests_total{outcome="accepted",vendor="sendgrid"} 1`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// ESP open of a pixel-tracked message: stored, not counted a second time.
func TestWebhookESPOpenNotCountedTwice(t *testing.T) {
	h := newHookHarness(t)
	_, key := h.org("acme")
	c := h.connection(key, map[string]any{"vendor": "generic", "name": "g", "signing_key": "gen-key"})
	m := h.instrument(key, "px", "u1")
	if resp, err := h.client.Get(m.Tracking.OpenURL); err != nil || resp.StatusCode != 200 {
		t.Fatalf("pixel: %v", err)
	}
	now := time.Now()
	body := mustJSON(map[string]any{"events": []map[string]any{{"event_id": "o1", "event_type": "opened", "occurred_at": now.Format(time.RFC3339), "message_id": m.MessageID}}})
	if r := h.hookOK(c.WebhookURL, body, genericHeaders("gen-key", now, body)); r.Accepted != 1 {
		t.Fatalf("response %+v", r)
	}
	rep := h.report(key, "px")
	if rep.Counts.OpensTotal != 1 || rep.Counts.OpensUnique != 1 || len(h.events(key, "campaign_id=px")) != 2 {
		t.Fatalf("report %+v", rep.Counts)
	}
}

// Rotation: the old secret is accepted during the grace period and refused after it.
func TestWebhookConnectionRotation(t *testing.T) {
	h := newHookHarness(t)
	_, key := h.org("acme")
	c := h.connection(key, map[string]any{"vendor": "generic", "name": "g", "signing_key": "old-key"})
	var rc connOut
	if r := h.do("POST", "/api/v1/connections/"+c.ID+"/rotate", key, map[string]any{"signing_key": "new-key", "grace_seconds": 3600}, &rc); r.StatusCode != 200 || rc.PreviousValidUntil == nil {
		t.Fatalf("rotate: %d %+v", r.StatusCode, rc)
	}
	post := func(k, id string) int {
		at := h.clock.now()
		body := mustJSON(map[string]any{"events": []map[string]any{{"event_id": id, "event_type": "delivered", "occurred_at": at.Format(time.RFC3339), "customer_email": "x@example.com"}}})
		code, _ := h.hook(c.WebhookURL, body, genericHeaders(k, at, body))
		return code
	}
	if post("old-key", "1") != 200 || post("new-key", "2") != 200 || post("wrong", "3") != 401 {
		t.Fatal("during grace: want old and new accepted, another refused")
	}
	h.clock.advance(61 * time.Minute)
	if post("old-key", "4") != 401 || post("new-key", "5") != 200 {
		t.Fatal("after grace: want old refused, new accepted")
	}
	var got connOut
	h.do("GET", "/api/v1/connections/"+c.ID, key, nil, &got)
	if got.LastWebhookAt == nil {
		t.Error("last_webhook_at not recorded")
	}
}

// A Mailgun request replayed with the same signature token is acknowledged as a
// duplicate, stores nothing.
func TestWebhookMailgunReplay(t *testing.T) {
	h := newHookHarness(t)
	_, key := h.org("acme")
	c := h.connection(key, map[string]any{"vendor": "mailgun", "name": "mg", "signing_key": "mg-key"})
	now := time.Now()
	body := mailgunBody("mg-key", now, "tok-1", map[string]any{"event": "delivered", "id": "ev-1", "timestamp": float64(now.Unix()), "recipient": "x@example.com"})
	if r := h.hookOK(c.WebhookURL, body, nil); r.Accepted != 1 {
		t.Fatalf("first: %+v", r)
	}
	if r := h.hookOK(c.WebhookURL, body, nil); r.Accepted != 0 || r.Duplicates != 1 {
		t.Fatalf("replay: %+v", r)
	}
	if n := h.eventRows(); n != 1 {
		t.Fatalf("rows %d", n)
	}
}

// The connection API: created with sealed secrets (never shown, not in the database in
// clear), listed and read only within the organization, unknown vendor refused.
func TestConnectionAPI(t *testing.T) {
	h := newHookHarness(t)
	orgA, keyA := h.org("A")
	_, keyB := h.org("B")
	var raw json.RawMessage
	r := h.do("POST", "/api/v1/connections", keyA, map[string]any{"vendor": "postmark", "name": "pm", "username": "u", "password": "very-secret-password"}, &raw)
	var c connOut
	_ = json.Unmarshal(raw, &c)
	if r.StatusCode != 201 || !strings.HasPrefix(c.ID, "conn_") || len(c.ID) != 27 || c.OrgID != orgA ||
		c.WebhookURL != h.srv.URL+"/webhooks/v2/postmark/"+c.ID || strings.Contains(string(raw), "very-secret") {
		t.Fatalf("create: %d %s", r.StatusCode, raw)
	}
	if n := h.count(`SELECT count(*) FROM connections WHERE instr(secret, 'very-secret') > 0`); n != 0 {
		t.Fatal("secret stored in clear")
	}
	for _, body := range []map[string]any{
		{"vendor": "hotmail", "name": "x", "signing_key": "k"},
		{"vendor": "generic", "name": "", "signing_key": "k"},
		{"vendor": "generic", "name": "no creds"},
	} {
		if r := h.do("POST", "/api/v1/connections", keyA, body, nil); r.StatusCode != 400 {
			t.Errorf("%v: %d, want 400", body, r.StatusCode)
		}
	}
	var list struct{ Connections []connOut }
	h.do("GET", "/api/v1/connections", keyA, nil, &list)
	if len(list.Connections) != 1 || list.Connections[0].ID != c.ID {
		t.Fatalf("A's list %+v", list)
	}
	h.do("GET", "/api/v1/connections", keyB, nil, &list)
	if len(list.Connections) != 0 {
		t.Fatalf("B's list %+v", list)
	}
	for _, p := range []string{"", "/disable", "/enable", "/rotate"} {
		method := "POST"
		if p == "" {
			method = "GET"
		}
		if r := h.do(method, "/api/v1/connections/"+c.ID+p, keyB, map[string]any{"signing_key": "k"}, nil); r.StatusCode != 404 {
			t.Errorf("B %s %s: %d, want 404", method, p, r.StatusCode)
		}
	}
	if r := h.do("GET", "/api/v1/connections", "", nil, nil); r.StatusCode != 401 {
		t.Errorf("no key: %d", r.StatusCode)
	}
}

// An OCI subscription confirmation is confirmed by one GET through the fetcher.
func TestWebhookConfirmation(t *testing.T) {
	h := newHookHarness(t)
	_, key := h.org("acme")
	c := h.connection(key, map[string]any{"vendor": "ocimail", "name": "oci", "username": "oci", "password": "oci-pass"})
	body, err := os.ReadFile("../../internal/esp/testdata/ocimail/confirmation.json")
	if err != nil {
		t.Fatal(err)
	}
	hdr := basic("oci", "oci-pass")
	hdr.Set("X-OCI-NS-ConfirmationURL", "https://cell1.notification.us-ashburn-1.oci.oraclecloud.com/20181201/subscriptions/ocid1.onssubscription.oc1.iad.aaaa/confirmation?token=MDAwMHpI")
	if code, b := h.hook(c.WebhookURL, body, basic("oci", "wrong")); code != 401 || len(h.fetcher.calls()) != 0 {
		t.Fatalf("unauthenticated confirmation: %d %s, fetches %v", code, b, h.fetcher.calls())
	}
	h.hookOK(c.WebhookURL, body, hdr)
	if calls := h.fetcher.calls(); len(calls) != 1 || !strings.HasPrefix(calls[0], "https://cell1.notification.us-ashburn-1.oci.oraclecloud.com/") {
		t.Fatalf("fetches %v", calls)
	}
}

// The CLI creates and lists connections with the same sealing as the API.
func TestConnectionCLI(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	if err := Run(context.Background(), []string{"org", "create", "--data-dir", dir, "--name", "acme"}, &out, &errb); err != nil {
		t.Fatal(err, errb.String())
	}
	var org struct{ ID string }
	_ = json.Unmarshal(out.Bytes(), &org)
	out.Reset()
	if err := Run(context.Background(), []string{"connection", "create", "--data-dir", dir, "--org", org.ID, "--vendor", "mailgun", "--name", "mg", "--signing-key", "cli-secret-key"}, &out, &errb); err != nil {
		t.Fatal(err, errb.String())
	}
	if !strings.Contains(out.String(), `"webhook_url": "http://`) || strings.Contains(out.String(), "cli-secret-key") {
		t.Fatalf("create: %s", out.String())
	}
	out.Reset()
	if err := Run(context.Background(), []string{"connection", "list", "--data-dir", dir, "--org", org.ID}, &out, &errb); err != nil || !strings.Contains(out.String(), `"vendor": "mailgun"`) {
		t.Fatalf("list: %v %s", err, out.String())
	}
	if err := Run(context.Background(), []string{"connection", "create", "--data-dir", dir, "--org", org.ID, "--vendor", "hotmail", "--name", "x", "--signing-key", "k"}, &out, &errb); err == nil {
		t.Fatal("unknown vendor accepted")
	}
	// The API's per-vendor check, with the fields spelled as flags.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--vendor", "sendgrid", "--username", "u", "--password", "p"}, "connection create: sendgrid connection needs --signing-key or --bearer-token"},
		{[]string{"--vendor", "ses", "--username", "u", "--password", "p"}, "connection create: ses connection needs --topic-arn"},
		{[]string{"--vendor", "ocimail", "--signing-key", "k"}, "connection create: ocimail connection needs --username and --password or --bearer-token"},
		{[]string{"--vendor", "resend", "--signing-key", "whsec_not base64"}, "connection create: resend connection: --signing-key is not a whsec_ secret"},
		{[]string{"--vendor", "smtp", "--imap-url", "imaps://169.254.169.254/INBOX", "--imap-username", "u", "--imap-password", "p"},
			"connection create: imap_url targets a private, loopback, link-local or reserved address"},
	} {
		args := append([]string{"connection", "create", "--data-dir", dir, "--org", org.ID, "--name", "x"}, c.args...)
		if err := Run(context.Background(), args, &out, &errb); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want an error saying %q", c.args, err, c.want)
		}
	}
	out.Reset()
	if err := Run(context.Background(), []string{"connection", "create", "--data-dir", dir, "--org", org.ID, "--vendor", "smtp", "--name", "bounces",
		"--imap-url", "imaps://imap.example.com:993/INBOX", "--imap-username", "bounces", "--imap-password", "imap-pass"}, &out, &errb); err != nil {
		t.Fatalf("smtp connection fed by a bounce mailbox only: %v", err)
	}
	out.Reset()
	if err := Run(context.Background(), []string{"connection", "list", "--data-dir", dir, "--org", org.ID}, &out, &errb); err != nil || strings.Count(out.String(), `"vendor"`) != 2 {
		t.Fatalf("list after the refusals: %v %s", err, out.String())
	}
}

// Generic event ids are the sender's own: the same id at two connections of one
// organization is two events; repeated at one connection, it is stored once.
func TestWebhookGenericIDsPerConnection(t *testing.T) {
	h := newHookHarness(t)
	_, key := h.org("acme")
	c1 := h.connection(key, map[string]any{"vendor": "generic", "name": "relay-1", "signing_key": "key-one"})
	c2 := h.connection(key, map[string]any{"vendor": "generic", "name": "relay-2", "signing_key": "key-two"})
	m1, m2 := h.instrument(key, "ids", "u1"), h.instrument(key, "ids", "u2")
	now := time.Now()
	post := func(c connOut, k, msg string) hookResult {
		t.Helper()
		body := mustJSON(map[string]any{"events": []map[string]any{{"event_id": "same-1", "event_type": "delivered",
			"occurred_at": now.Format(time.RFC3339), "message_id": msg}}})
		return h.hookOK(c.WebhookURL, body, genericHeaders(k, now, body))
	}
	if r := post(c1, "key-one", m1.MessageID); r.Accepted != 1 || r.Duplicates != 0 {
		t.Fatalf("first connection: %+v", r)
	}
	if r := post(c2, "key-two", m2.MessageID); r.Accepted != 1 || r.Duplicates != 0 {
		t.Fatalf("second connection, same id, another message: %+v", r)
	}
	if r := post(c1, "key-one", m1.MessageID); r.Duplicates != 1 {
		t.Fatalf("a retry at the first connection: %+v", r)
	}
	if got := h.report(key, "ids").Counts.Delivered; got != 2 {
		t.Fatalf("delivered %d, want 2", got)
	}
}
