package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
)

// Payloads here follow the shapes of the vendors' own documentation and are signed (or
// authenticated) as the vendors do it.

// mailgunFailed is Mailgun's "failed" event-data, as its webhook documentation shows it.
func mailgunFailed(id, severity, rcpt, msgID string, at time.Time) map[string]any {
	code, msg, reason := 452, "4.2.2 The email account that you tried to reach is over quota.", "generic"
	if severity == "permanent" {
		code, msg, reason = 550, "5.1.1 The email account that you tried to reach does not exist.", "bounce"
	}
	return map[string]any{"id": id, "event": "failed", "severity": severity, "reason": reason, "timestamp": float64(at.Unix()),
		"log-level": "error", "recipient": rcpt, "recipient-domain": "example.com",
		"delivery-status": map[string]any{"attempt-no": 1, "code": code, "message": msg, "description": "", "mx-host": "mx.example.com",
			"session-seconds": 0.4, "tls": true, "certificate-verified": true},
		"envelope": map[string]any{"sender": "bob@mg.brand.example", "transport": "smtp", "targets": rcpt},
		"message":  map[string]any{"headers": map[string]any{"to": rcpt, "message-id": "20240529." + id + "@mg.brand.example", "from": "news@brand.example", "subject": "Spring sale"}, "size": 1024},
		"tags":     []string{}, "campaigns": []any{}, "flags": map[string]any{"is-routed": false, "is-authenticated": true, "is-test-mode": false},
		"user-variables": map[string]any{"mt_message_id": msgID}}
}

// postmarkBounce is a Postmark Bounce webhook record of bounce type typ.
func postmarkBounce(id int, typ, code, rcpt, msgID string, at time.Time) []byte {
	return mustJSON(map[string]any{"RecordType": "Bounce", "ID": id, "Type": typ, "TypeCode": code, "Name": typ, "Tag": "spring",
		"MessageID": fmt.Sprintf("883953f4-6105-42a2-a16a-%012d", id), "ServerID": 23, "MessageStream": "outbound",
		"Description": "The server could not temporarily deliver your message (ex: Message is delayed due to network troubles).",
		"Details":     "smtp;421 4.4.2 connection timed out", "Email": rcpt, "From": "news@brand.example",
		"BouncedAt": at.UTC().Format(time.RFC3339Nano), "DumpAvailable": false, "Inactive": false, "CanActivate": true,
		"Subject": "Spring sale", "Metadata": map[string]string{"mt_message_id": msgID}})
}

// "Temporary, will retry" is not a bounce: five Mailgun temporary failures (and five
// Postmark Transient bounces) for one message are deferred events. They do not suppress
// the address, count no soft bounce, and once the ESP delivers the message the report
// shows it delivered and nothing else; the message's timeline shows every notice.
func TestWebhookDeferredIsNotABounce(t *testing.T) {
	h := newHookHarness(t)
	_, key := h.org("acme")
	mg := h.connection(key, map[string]any{"vendor": "mailgun", "name": "mg", "signing_key": "mg-key"})
	pm := h.connection(key, map[string]any{"vendor": "postmark", "name": "pm", "username": "pm-user", "password": "pm-password-long"})
	mgMsg, pmMsg := h.instrument(key, "retry", "u-mg"), h.instrument(key, "retry", "u-pm")
	now := h.clock.now().Add(-time.Hour)

	for i := 0; i < 5; i++ {
		at := now.Add(time.Duration(i) * 5 * time.Minute)
		body := mailgunBody("mg-key", h.clock.now(), "", mailgunFailed(fmt.Sprintf("mg-tmp-%d", i), "temporary", "u-mg@example.com", mgMsg.MessageID, at))
		if r := h.hookOK(mg.WebhookURL, body, nil); r.Accepted != 1 {
			t.Fatalf("mailgun temporary %d: %+v", i, r)
		}
		if r := h.hookOK(pm.WebhookURL, postmarkBounce(7000+i, "Transient", "2", "u-pm@example.com", pmMsg.MessageID, at), basic("pm-user", "pm-password-long")); r.Accepted != 1 {
			t.Fatalf("postmark transient %d: %+v", i, r)
		}
	}
	delivered := now.Add(30 * time.Minute)
	dl := mailgunBody("mg-key", h.clock.now(), "", map[string]any{"id": "mg-dl", "event": "delivered", "timestamp": float64(delivered.Unix()),
		"recipient": "u-mg@example.com", "delivery-status": map[string]any{"code": 250, "message": "OK"},
		"message": map[string]any{"headers": map[string]any{"message-id": "20240529.dl@mg.brand.example"}}, "user-variables": map[string]any{"mt_message_id": mgMsg.MessageID}})
	if r := h.hookOK(mg.WebhookURL, dl, nil); r.Accepted != 1 {
		t.Fatalf("delivered: %+v", r)
	}
	pmDl := mustJSON(map[string]any{"RecordType": "Delivery", "ServerID": 23, "MessageStream": "outbound", "MessageID": "883953f4-6105-42a2-a16a-77a8eac79499",
		"Recipient": "u-pm@example.com", "Tag": "spring", "DeliveredAt": delivered.UTC().Format(time.RFC3339), "Details": "Test delivery webhook details",
		"Metadata": map[string]string{"mt_message_id": pmMsg.MessageID}})
	if r := h.hookOK(pm.WebhookURL, pmDl, basic("pm-user", "pm-password-long")); r.Accepted != 1 {
		t.Fatalf("postmark delivered: %+v", r)
	}

	rep := h.report(key, "retry")
	if c := rep.Counts; c.Delivered != 2 || c.Bounced != 0 || c.BouncedSoft != 0 || c.BouncedHard != 0 {
		t.Fatalf("report %+v", c)
	}
	if n := h.count(`SELECT count(*) FROM suppressions`); n != 0 {
		t.Fatalf("%d suppressions after temporary failures", n)
	}
	for _, m := range []string{mgMsg.MessageID, pmMsg.MessageID} {
		evs := h.events(key, "campaign_id=retry&type=deferred")
		n := 0
		for _, ev := range evs {
			if ev.MessageID == m {
				n++
				if ev.Type != mailtrail.EventDeferred || ev.Metadata.BounceType != "" || ev.Metadata.Reason == "" {
					t.Errorf("deferred event %+v", ev)
				}
			}
		}
		if n != 5 {
			t.Errorf("message %s: %d deferred events in its timeline, want 5", m, n)
		}
	}
	if got := typesOf(h.events(key, "campaign_id=retry&type=bounced")); got != "" {
		t.Fatalf("bounced events: %s", got)
	}

	// The ESP's final failure is the bounce: Mailgun's permanent failure is hard.
	fin := mailgunBody("mg-key", h.clock.now(), "", mailgunFailed("mg-perm", "permanent", "u-final@example.com", h.instrument(key, "retry2", "u-final").MessageID, now))
	if r := h.hookOK(mg.WebhookURL, fin, nil); r.Accepted != 1 {
		t.Fatalf("permanent: %+v", r)
	}
	if c := h.report(key, "retry2").Counts; c.Bounced != 1 || c.BouncedHard != 1 {
		t.Fatalf("permanent failure report %+v", c)
	}

	// The events API imports deferred too; it adds to no figure.
	imp := h.instrument(key, "retry3", "u-imp")
	var out struct{ Accepted int }
	if r := h.do("POST", "/api/v1/events", key, map[string]any{"events": []map[string]any{{"event_type": "deferred", "message_id": imp.MessageID,
		"source": "import", "occurred_at": now.UTC().Format(time.RFC3339), "metadata": map[string]any{"smtp_code": "451", "reason": "4.7.1 try again later"}}}}, &out); r.StatusCode != 200 || out.Accepted != 1 {
		t.Fatalf("import deferred: %d %+v", r.StatusCode, out)
	}
	if evs := h.events(key, "campaign_id=retry3"); typesOf(evs) != "deferred" || evs[0].Source != mailtrail.SourceImport {
		t.Fatalf("imported: %+v", evs)
	}
	if c := h.report(key, "retry3").Counts; c.Bounced != 0 || c.Delivered != 0 {
		t.Fatalf("imported deferred counted: %+v", c)
	}
}

// Postmark's webhooks page shows its bounce sample without RecordType (as its older
// payloads were): it is a bounce, not a 400.
func TestWebhookPostmarkBounceWithoutRecordType(t *testing.T) {
	h := newHookHarness(t)
	_, key := h.org("acme")
	pm := h.connection(key, map[string]any{"vendor": "postmark", "name": "pm", "username": "pm-user", "password": "pm-password-long"})
	m := h.instrument(key, "pm", "john")
	sample := `{
  "ID": 42,
  "Type": "HardBounce",
  "TypeCode": 1,
  "Name": "Hard bounce",
  "Tag": "Test",
  "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
  "ServerID": 23,
  "Description": "The server was unable to deliver your message (ex: unknown user, mailbox not found).",
  "Details": "Test bounce details",
  "Email": "john@example.com",
  "From": "sender@example.com",
  "BouncedAt": "` + h.clock.now().Add(-time.Minute).UTC().Format("2006-01-02T15:04:05.0000000Z07:00") + `",
  "DumpAvailable": true,
  "Inactive": true,
  "CanActivate": true,
  "Subject": "Test subject",
  "Content": "<Full dump of bounce>",
  "Metadata": {"mt_message_id": "` + m.MessageID + `"}
}`
	if r := h.hookOK(pm.WebhookURL, []byte(sample), basic("pm-user", "pm-password-long")); r.Accepted != 1 || r.Unattributed != 0 {
		t.Fatalf("sample: %+v", r)
	}
	if c := h.report(key, "pm").Counts; c.BouncedHard != 1 {
		t.Fatalf("report %+v", c)
	}
	// Nothing to infer from: still a 400.
	if code, b := h.hook(pm.WebhookURL, []byte(`{"ID":43,"Email":"john@example.com"}`), basic("pm-user", "pm-password-long")); code != 400 || !strings.Contains(b, "invalid") {
		t.Fatalf("uninferable: %d %s", code, b)
	}
}

// Bounce classes from the vendors' tables: a Postmark AutoResponder or
// ChallengeVerification records nothing; a Postmark Unsubscribe bounce unsubscribes and
// suppresses the address for its message stream (Postmark suppresses per stream, as its
// SubscriptionChange records do: docs/suppression.md, Scopes).
func TestWebhookPostmarkBounceClasses(t *testing.T) {
	h := newHookHarness(t)
	_, key := h.org("acme")
	pm := h.connection(key, map[string]any{"vendor": "postmark", "name": "pm", "username": "pm-user", "password": "pm-password-long"})
	m := h.instrument(key, "cls", "eve")
	at := h.clock.now().Add(-time.Minute)
	for i, typ := range []struct{ name, code string }{{"AutoResponder", "64"}, {"ChallengeVerification", "16384"}} {
		if r := h.hookOK(pm.WebhookURL, postmarkBounce(100+i, typ.name, typ.code, "eve@example.com", m.MessageID, at), basic("pm-user", "pm-password-long")); r.Accepted != 0 || r.Ignored != 1 {
			t.Fatalf("%s: %+v", typ.name, r)
		}
	}
	if r := h.hookOK(pm.WebhookURL, postmarkBounce(102, "Unsubscribe", "16", "eve@example.com", m.MessageID, at), basic("pm-user", "pm-password-long")); r.Accepted != 1 {
		t.Fatalf("unsubscribe: %+v", r)
	}
	if c := h.report(key, "cls").Counts; c.Unsubscribed != 1 || c.Bounced != 0 {
		t.Fatalf("report %+v", c)
	}
	if n := h.count(`SELECT count(*) FROM topic_suppressions WHERE reason = 'unsubscribed' AND topic = 'outbound'`); n != 1 {
		t.Fatalf("%d unsubscribed suppressions of stream outbound", n)
	}
}

// An outage longer than the signature window: Mailgun and SNS retry with the original
// signed request, so a delivery signed 3 hours ago with a valid signature is stored once,
// and the same body posted again is a duplicate. Resend (Svix) signs every attempt afresh:
// its window stays ±5 minutes.
func TestWebhookRetryAfterOutage(t *testing.T) {
	h := newHookHarness(t)
	_, key := h.org("acme")
	mg := h.connection(key, map[string]any{"vendor": "mailgun", "name": "mg", "signing_key": "mg-key"})
	sns := newSNSSigner(t, h.fetcher)
	ses := h.connection(key, map[string]any{"vendor": "ses", "name": "ses", "topic_arn": sesTopic})
	const whsec = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	rs := h.connection(key, map[string]any{"vendor": "resend", "name": "rs", "signing_key": whsec})
	mgMsg, sesMsg := h.instrument(key, "outage", "u-mg"), h.instrument(key, "outage", "u-ses")
	signed := h.clock.now().Add(-3 * time.Hour) // the first attempt, before the outage

	mgBody := mailgunBody("mg-key", signed, "tok-outage-1", map[string]any{"id": "mg-out-1", "event": "delivered", "timestamp": float64(signed.Unix()),
		"recipient": "u-mg@example.com", "delivery-status": map[string]any{"code": 250, "message": "OK"},
		"message": map[string]any{"headers": map[string]any{"message-id": "20240529.out@mg.brand.example"}}, "user-variables": map[string]any{"mt_message_id": mgMsg.MessageID}})
	at := signed.UTC().Format("2006-01-02T15:04:05.000Z")
	snsBody := sns.notification(t, "sns-out-1", sesTopic, sesMessage("Delivery", "u-ses@example.com", sesMsg.MessageID, "ses-out-1", at), signed)

	if r := h.hookOK(mg.WebhookURL, mgBody, nil); r.Accepted != 1 {
		t.Fatalf("mailgun retry after the outage: %+v", r)
	}
	if r := h.hookOK(ses.WebhookURL, snsBody, snsHeaders("sns-out-1", sesTopic)); r.Accepted != 1 {
		t.Fatalf("sns retry after the outage: %+v", r)
	}
	// The same bodies again (a retry whose 200 was lost, or a replay): duplicates.
	if r := h.hookOK(mg.WebhookURL, mgBody, nil); r.Accepted != 0 || r.Duplicates != 1 {
		t.Fatalf("mailgun again: %+v", r)
	}
	if r := h.hookOK(ses.WebhookURL, snsBody, snsHeaders("sns-out-1", sesTopic)); r.Accepted != 0 || r.Duplicates != 1 {
		t.Fatalf("sns again: %+v", r)
	}
	// Mailgun signs the token, not the event: an hour later, the captured signature block
	// with other event data is still refused (the token is remembered for the horizon).
	h.clock.advance(time.Hour)
	forged := mailgunBody("mg-key", signed, "tok-outage-1", map[string]any{"id": "mg-forged", "event": "complained", "timestamp": float64(signed.Unix()),
		"recipient": "u-mg@example.com", "user-variables": map[string]any{"mt_message_id": mgMsg.MessageID}})
	if r := h.hookOK(mg.WebhookURL, forged, nil); r.Accepted != 0 {
		t.Fatalf("forged event data under a used token: %+v", r)
	}
	if n := h.eventRows(); n != 2 {
		t.Fatalf("rows %d, want 2", n)
	}
	if c := h.report(key, "outage").Counts; c.Delivered != 2 {
		t.Fatalf("report %+v", c)
	}

	// Beyond the retry horizon (Mailgun: 8 h plus margin; SNS: a day) a signature is refused.
	old := h.clock.now().Add(-10 * time.Hour)
	oldMG := mailgunBody("mg-key", old, "", map[string]any{"id": "mg-out-2", "event": "delivered", "timestamp": float64(old.Unix()), "recipient": "u-mg@example.com"})
	if code, b := h.hook(mg.WebhookURL, oldMG, nil); code != 401 {
		t.Fatalf("mailgun beyond the horizon: %d %s", code, b)
	}
	older := h.clock.now().Add(-25 * time.Hour)
	oldSNS := sns.notification(t, "sns-out-2", sesTopic, sesMessage("Delivery", "u-ses@example.com", sesMsg.MessageID, "ses-out-2", at), older)
	if code, b := h.hook(ses.WebhookURL, oldSNS, snsHeaders("sns-out-2", sesTopic)); code != 401 {
		t.Fatalf("sns beyond the horizon: %d %s", code, b)
	}
	// Resend signs each attempt: ten minutes old is refused.
	rsBody := []byte(`{"type":"email.delivered","created_at":"` + at + `","data":{"email_id":"56761188-7520-42d8-8898-ff6fc54ce618","to":["u-mg@example.com"],"tags":{"mt_message_id":"` + mgMsg.MessageID + `"}}}`)
	if code, b := h.hook(rs.WebhookURL, rsBody, resendHeaders(whsec, "msg_out", h.clock.now().Add(-10*time.Minute), rsBody)); code != 401 {
		t.Fatalf("resend 10 min old: %d %s", code, b)
	}
	if n := h.eventRows(); n != 2 {
		t.Fatalf("rows %d after refused requests, want 2", n)
	}
}
