package main

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"
)

const (
	sesTopic   = "arn:aws:sns:eu-west-1:123456789012:ses-events"
	sesCertURL = "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-e2e.pem"
)

// snsSigner signs SNS envelopes (signature version 2) as SNS does, with a self-signed
// certificate that the harness's fetcher serves at sesCertURL.
type snsSigner struct{ key *rsa.PrivateKey }

func newSNSSigner(t *testing.T, f *recordingFetcher) snsSigner {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sns.amazonaws.com"},
		NotBefore: now.Add(-24 * time.Hour), NotAfter: now.Add(365 * 24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	f.body[sesCertURL] = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	f.mu.Unlock()
	return snsSigner{key: key}
}

// notification returns a signed SNS Notification envelope carrying message.
func (s snsSigner) notification(t *testing.T, id, topic, message string, at time.Time) []byte {
	t.Helper()
	ts := at.UTC().Format("2006-01-02T15:04:05.000Z")
	canon := "Message\n" + message + "\nMessageId\n" + id + "\nTimestamp\n" + ts + "\nTopicArn\n" + topic + "\nType\nNotification\n"
	sum := sha256.Sum256([]byte(canon))
	sig, err := rsa.SignPKCS1v15(rand.Reader, s.key, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return mustJSON(map[string]any{"Type": "Notification", "MessageId": id, "TopicArn": topic, "Message": message,
		"Timestamp": ts, "SignatureVersion": "2", "Signature": base64.StdEncoding.EncodeToString(sig),
		"SigningCertURL": sesCertURL, "UnsubscribeURL": "https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=x"})
}

// snsHeaders are the headers SNS sends with a notification.
func snsHeaders(id, topic string) http.Header {
	return http.Header{"Content-Type": {"text/plain; charset=UTF-8"}, "X-Amz-Sns-Message-Type": {"Notification"},
		"X-Amz-Sns-Message-Id": {id}, "X-Amz-Sns-Topic-Arn": {topic}}
}

// sesMessage fills an SES event-publishing message: kind, the recipient, our message id in
// mail.tags, and the kind's own object.
func sesMessage(kind, rcpt, msgID, espID, at string) string {
	var obj string
	switch kind {
	case "Bounce":
		obj = `"bounce":{"feedbackId":"fb-` + espID + `","bounceType":"Permanent","bounceSubType":"General","bouncedRecipients":[{"emailAddress":"RCPT","action":"failed","status":"5.1.1","diagnosticCode":"smtp; 550 5.1.1 user unknown"}],"timestamp":"AT"}`
	case "Complaint":
		obj = `"complaint":{"feedbackId":"fc-` + espID + `","complainedRecipients":[{"emailAddress":"RCPT"}],"timestamp":"AT","userAgent":"Yahoo!-Mail-Feedback/2.0","complaintFeedbackType":"abuse"}`
	case "Delivery":
		obj = `"delivery":{"timestamp":"AT","processingTimeMillis":546,"recipients":["RCPT"],"smtpResponse":"250 ok"}`
	}
	return strings.NewReplacer("RCPT", rcpt, "AT", at).Replace(`{"eventType":"` + kind + `",` + obj +
		`,"mail":{"timestamp":"AT","source":"news@brand.example","messageId":"` + espID + `","destination":["RCPT"],` +
		`"tags":{"ses:configuration-set":["crm"],"mt_message_id":["` + msgID + `"]}}}`)
}

// SES end to end: SNS envelopes signed with a certificate fetched (once) through the
// injected fetcher; a permanent bounce is hard and suppresses the address, a complaint and
// a delivery land on their messages; a wrong TopicArn is refused before any fetch.
func TestWebhookSESEndToEnd(t *testing.T) {
	h := newHookHarness(t)
	_, key := h.org("acme")
	sns := newSNSSigner(t, h.fetcher)
	c := h.connection(key, map[string]any{"vendor": "ses", "name": "ses", "topic_arn": sesTopic})
	bounced, complained, delivered := h.instrument(key, "ses", "u-bounce"), h.instrument(key, "ses", "u-complaint"), h.instrument(key, "ses", "u-deliver")
	now := h.clock.now().Add(-time.Minute)
	at := now.UTC().Format("2006-01-02T15:04:05.000Z")

	// Wrong topic first: 401, nothing stored, and no certificate fetched.
	bad := sns.notification(t, "sns-bad", "arn:aws:sns:eu-west-1:999999999999:other", sesMessage("Delivery", "u-deliver@example.com", delivered.MessageID, "ses-x", at), now)
	if code, b := h.hook(c.WebhookURL, bad, snsHeaders("sns-bad", "arn:aws:sns:eu-west-1:999999999999:other")); code != 401 {
		t.Fatalf("wrong topic: %d %s", code, b)
	}
	if calls := h.fetcher.calls(); len(calls) != 0 || h.eventRows() != 0 {
		t.Fatalf("wrong topic: fetches %v, rows %d", calls, h.eventRows())
	}

	posts := []struct{ id, kind, rcpt, msg string }{
		{"sns-1", "Bounce", "u-bounce@example.com", bounced.MessageID},
		{"sns-2", "Complaint", "u-complaint@example.com", complained.MessageID},
		{"sns-3", "Delivery", "u-deliver@example.com", delivered.MessageID},
	}
	for i, p := range posts {
		body := sns.notification(t, p.id, sesTopic, sesMessage(p.kind, p.rcpt, p.msg, "ses-"+p.id, at), now.Add(time.Duration(i)*time.Second))
		if r := h.hookOK(c.WebhookURL, body, snsHeaders(p.id, sesTopic)); r.Accepted != 1 || r.Unattributed != 0 {
			t.Fatalf("%s: %+v", p.kind, r)
		}
		if i == 0 { // SNS retries the same envelope: acknowledged, stored once
			if r := h.hookOK(c.WebhookURL, body, snsHeaders(p.id, sesTopic)); r.Accepted != 0 || r.Duplicates != 1 {
				t.Fatalf("retry: %+v", r)
			}
		}
	}
	if calls := h.fetcher.calls(); len(calls) != 1 || calls[0] != sesCertURL {
		t.Fatalf("fetches %v, want the certificate once", calls)
	}
	rep := h.report(key, "ses")
	if got := rep.Counts; got.Bounced != 1 || got.BouncedHard != 1 || got.BouncedSoft != 0 || got.Complained != 1 || got.Delivered != 1 {
		t.Fatalf("report %+v", got)
	}
	byMsg := map[string]string{}
	for _, ev := range h.events(key, "campaign_id=ses") {
		byMsg[ev.MessageID] += ev.Type.String()
		if ev.Metadata.Vendor != "ses" || ev.ESPMessageID == "" {
			t.Errorf("event %+v", ev)
		}
	}
	if byMsg[bounced.MessageID] != "bounced" || byMsg[complained.MessageID] != "complained" || byMsg[delivered.MessageID] != "delivered" {
		t.Fatalf("events by message %v", byMsg)
	}
	if n := h.count(`SELECT count(*) FROM suppressions WHERE email = ?`, "u-bounce@example.com"); n != 1 {
		t.Fatalf("hard bounce not suppressed (%d rows)", n)
	}
	if n := h.count(`SELECT count(*) FROM events`); n != 3 {
		t.Fatalf("rows %d, want 3", n)
	}
}
