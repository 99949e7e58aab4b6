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

	"github.com/mailtrail/mailtrail"
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

// sesTwoRecipientBounce is SES's documented bounce notification (notificationType Bounce,
// https://docs.aws.amazon.com/ses/latest/dg/notification-examples.html) for a mail sent
// to three recipients, two of which bounced. Its tags carry one message id: the CRM's
// message to the first recipient.
const sesTwoRecipientBounce = `{"notificationType":"Bounce","bounce":{"bounceType":"Permanent","reportingMTA":"dns; email.example.com",
"bouncedRecipients":[{"emailAddress":"jane@example.com","status":"5.1.1","action":"failed","diagnosticCode":"smtp; 550 5.1.1 <jane@example.com>... User"},
{"emailAddress":"mary@example.com","status":"5.1.1","action":"failed","diagnosticCode":"smtp; 550 5.1.1 <mary@example.com>... User"}],
"bounceSubType":"General","timestamp":"AT","feedbackId":"00000138111222aa-33322211-cccc-cccc-cccc-ddddaaaa068a-000000","remoteMtaIp":"127.0.2.0"},
"mail":{"timestamp":"AT","source":"john@example.com","sourceArn":"arn:aws:ses:us-east-1:888888888888:identity/example.com","sourceIp":"127.0.3.0",
"sendingAccountId":"123456789012","callerIdentity":"IAM_user_or_role_name","messageId":"00000138111222aa-33322211-cccc-cccc-cccc-ddddaaaa0680-000000",
"destination":["jane@example.com","mary@example.com","richard@example.com"],"headersTruncated":false,
"headers":[{"name":"From","value":"\"John Doe\" <john@example.com>"},{"name":"To","value":"\"Jane Doe\" <jane@example.com>, \"Mary Doe\" <mary@example.com>, \"Richard Doe\" <richard@example.com>"},
{"name":"Message-ID","value":"custom-message-ID"},{"name":"Subject","value":"Hello"},{"name":"Content-Type","value":"text/plain; charset=\"UTF-8\""}],
"commonHeaders":{"from":["John Doe <john@example.com>"],"date":"Wed, 27 Jan 2016 14:05:45 +0000","to":["Jane Doe <jane@example.com>, Mary Doe <mary@example.com>, Richard Doe <richard@example.com>"],"messageId":"custom-message-ID","subject":"Hello"},
"tags":{"mt_message_id":["MSG"]}}}`

// A bounce notification of a mail to several recipients: each bounced recipient lands on
// its own message (found by its address among the messages of that mail), never on the
// message the mail's tags name; a recipient with no message of that mail is unattributed.
// Every bounced address is suppressed under its own customer.
func TestWebhookSESMultiRecipientBounce(t *testing.T) {
	h := newHookHarness(t)
	_, key := h.org("acme")
	sns := newSNSSigner(t, h.fetcher)
	c := h.connection(key, map[string]any{"vendor": "ses", "name": "ses", "topic_arn": sesTopic})
	const sesID = "00000138111222aa-33322211-cccc-cccc-cccc-ddddaaaa0680-000000"
	msgs := map[string]instrumented{}
	for cust, addr := range map[string]string{"u-jane": "jane@example.com", "u-mary": "Mary@Example.com", "u-richard": "richard@example.com"} {
		var m instrumented
		if r := h.do("POST", "/api/v1/messages", key, map[string]any{"campaign_id": "c-" + cust, "customer_id": cust, "customer_email": addr, "html": emailHTML}, &m); r.StatusCode != 200 {
			t.Fatalf("instrument: %d", r.StatusCode)
		}
		msgs[cust] = m
	}
	now := h.clock.now().Add(-time.Minute)
	at := now.UTC().Format("2006-01-02T15:04:05.000Z")
	// The CRM sent jane's and mary's messages as one SES mail and recorded its id; richard's
	// message went out in another mail.
	h.postEvents(key,
		map[string]any{"event_type": "sent", "message_id": msgs["u-jane"].MessageID, "esp_message_id": sesID, "occurred_at": now.Add(-time.Minute).Format(time.RFC3339)},
		map[string]any{"event_type": "sent", "message_id": msgs["u-mary"].MessageID, "esp_message_id": sesID, "occurred_at": now.Add(-time.Minute).Format(time.RFC3339)})

	msg := strings.NewReplacer("AT", at, "MSG", msgs["u-jane"].MessageID).Replace(sesTwoRecipientBounce)
	body := sns.notification(t, "sns-multi-1", sesTopic, msg, now)
	if r := h.hookOK(c.WebhookURL, body, snsHeaders("sns-multi-1", sesTopic)); r.Accepted != 2 || r.Unattributed != 0 {
		t.Fatalf("two bounced recipients: %+v", r)
	}
	for cust, addr := range map[string]string{"u-jane": "jane@example.com", "u-mary": "mary@example.com"} {
		evs := h.events(key, "customer_id="+cust+"&type=bounced")
		if len(evs) != 1 || evs[0].MessageID != msgs[cust].MessageID || evs[0].CampaignID != "c-"+cust || evs[0].CustomerEmail != addr {
			t.Errorf("%s's bounce: %+v", cust, evs)
		}
	}
	// Richard was a recipient of the mail but has no message of it: not jane's.
	richard := strings.NewReplacer(`{"emailAddress":"jane@example.com","status":"5.1.1","action":"failed","diagnosticCode":"smtp; 550 5.1.1 <jane@example.com>... User"},
{"emailAddress":"mary@example.com"`, `{"emailAddress":"richard@example.com"`).Replace(msg)
	if strings.Count(richard, `"emailAddress"`) != 1 {
		t.Fatal("the richard notification was not built")
	}
	body = sns.notification(t, "sns-multi-2", sesTopic, richard, now.Add(time.Second))
	if r := h.hookOK(c.WebhookURL, body, snsHeaders("sns-multi-2", sesTopic)); r.Accepted != 1 || r.Unattributed != 1 {
		t.Fatalf("richard's bounce: %+v, want unattributed", r)
	}
	if evs := h.events(key, "customer_id=u-jane&type=bounced"); len(evs) != 1 {
		t.Errorf("jane has %d bounces, want 1", len(evs))
	}
	if evs := h.events(key, "customer_id=u-richard"); len(evs) != 0 {
		t.Errorf("richard's message of another mail got %+v", evs)
	}

	got := h.checkReasons(key, "jane@example.com", "Mary@Example.com", "richard@example.com")
	if len(got) != 3 || got["Mary@Example.com"] != mailtrail.ReasonHardBounce {
		t.Fatalf("suppressed: %v", got)
	}
	var page mailtrail.SuppressionPage
	h.do("GET", "/api/v1/suppressions", key, nil, &page)
	cust := map[string]string{}
	for _, s := range page.Suppressions {
		cust[mailtrail.NormalizeEmail(s.Email)] = s.CustomerID
	}
	if cust["jane@example.com"] != "u-jane" || cust["mary@example.com"] != "u-mary" || cust["richard@example.com"] == "u-jane" {
		t.Errorf("suppressions' customers: %v", cust)
	}
}
