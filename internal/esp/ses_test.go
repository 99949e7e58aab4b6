package esp

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
)

const (
	sesTestTopic   = "arn:aws:sns:us-east-1:123456789012:ses-events"
	sesTestCertURL = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc123.pem"
	sesTestSubURL  = "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:us-east-1:123456789012:ses-events&Token=2336412f37"
)

var sesTestNow = time.Date(2024, 5, 29, 16, 30, 0, 0, time.UTC)

var (
	sesKeysOnce sync.Once
	sesKeys     [2]*rsa.PrivateKey
)

// sesTestKeys returns two RSA keys: the signer's and an impostor's.
func sesTestKeys(t testing.TB) [2]*rsa.PrivateKey {
	sesKeysOnce.Do(func() {
		for i := range sesKeys {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			sesKeys[i] = k
		}
	})
	return sesKeys
}

// sesTestCertPEM returns a self-signed certificate for key, valid around sesTestNow.
func sesTestCertPEM(t testing.TB, key *rsa.PrivateKey, notAfter time.Time) []byte {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "sns.amazonaws.com"},
		NotBefore:    sesTestNow.Add(-24 * time.Hour),
		NotAfter:     notAfter,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// sesFetcher serves the signer's certificate at sesTestCertURL.
func sesFetcher(t testing.TB) *recordingFetcherB {
	return &recordingFetcherB{body: map[string][]byte{
		sesTestCertURL: sesTestCertPEM(t, sesTestKeys(t)[0], sesTestNow.Add(365*24*time.Hour)),
	}}
}

// sesEnvelope returns a signed SNS envelope; edit runs before signing, tamper after.
func sesEnvelope(t testing.TB, typ, message, version string, edit func(*snsEnvelope), tamper func(map[string]any)) []byte {
	t.Helper()
	env := snsEnvelope{
		Type: typ, MessageID: "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324", TopicArn: sesTestTopic,
		Message: message, Timestamp: "2024-05-29T16:27:31.000Z", SignatureVersion: version,
		SigningCertURL: sesTestCertURL,
	}
	if typ != "Notification" {
		env.Token, env.SubscribeURL = "2336412f37", sesTestSubURL
	}
	key := sesTestKeys(t)[0]
	if edit != nil {
		edit(&env)
	}
	h := crypto.SHA256
	if version == "1" {
		h = crypto.SHA1
	}
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, h, sesDigest(h, sesCanonical(&env)))
	if err != nil {
		t.Fatal(err)
	}
	env.Signature = base64.StdEncoding.EncodeToString(sig)
	b, _ := json.Marshal(env)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	m["UnsubscribeURL"] = "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=x"
	if m["Subject"] == nil {
		delete(m, "Subject")
	}
	if tamper != nil {
		tamper(m)
	}
	b, _ = json.Marshal(m)
	return b
}

func sesRequest(body []byte) *Request {
	return &Request{Header: http.Header{"Content-Type": {"text/plain; charset=UTF-8"}}, Body: body, Now: sesTestNow}
}

func sesCreds() Credentials { return Credentials{TopicARN: sesTestTopic} }

func TestSESCanonical(t *testing.T) {
	subj := "Hi"
	env := snsEnvelope{Type: "Notification", MessageID: "m", TopicArn: "a", Message: "x", Timestamp: "t", Subject: &subj, Token: "ignored", SubscribeURL: "ignored"}
	if got, want := string(sesCanonical(&env)), "Message\nx\nMessageId\nm\nSubject\nHi\nTimestamp\nt\nTopicArn\na\nType\nNotification\n"; got != want {
		t.Errorf("notification canonical = %q", got)
	}
	env.Subject = nil
	if got, want := string(sesCanonical(&env)), "Message\nx\nMessageId\nm\nTimestamp\nt\nTopicArn\na\nType\nNotification\n"; got != want {
		t.Errorf("no-subject canonical = %q", got)
	}
	env.Type = "SubscriptionConfirmation"
	env.Token, env.SubscribeURL = "k", "u"
	if got, want := string(sesCanonical(&env)), "Message\nx\nMessageId\nm\nSubscribeURL\nu\nTimestamp\nt\nToken\nk\nTopicArn\na\nType\nSubscriptionConfirmation\n"; got != want {
		t.Errorf("confirmation canonical = %q", got)
	}
}

func TestSESVerifyValid(t *testing.T) {
	msg := string(readFileB(t, "testdata", "ses", "bounce.json"))
	for _, v := range []string{"1", "2"} {
		f := sesFetcher(t)
		ses := NewSES(f)
		body := sesEnvelope(t, "Notification", msg, v, nil, nil)
		if err := ses.Verify(context.Background(), sesRequest(body), sesCreds()); err != nil {
			t.Fatalf("v%s: %v", v, err)
		}
		subj := "Amazon SES Email Event Notification"
		body = sesEnvelope(t, "Notification", msg, v, func(e *snsEnvelope) { e.Subject = &subj }, nil)
		if err := ses.Verify(context.Background(), sesRequest(body), sesCreds()); err != nil {
			t.Fatalf("v%s with subject: %v", v, err)
		}
		if f.count() != 1 {
			t.Errorf("v%s: %d fetches, want 1 (cached)", v, f.count())
		}
	}
	// Rotation: the topic being rotated out still verifies during the grace period.
	f := sesFetcher(t)
	c := Credentials{TopicARN: "arn:aws:sns:us-east-1:123456789012:new-topic", Previous: &Credentials{TopicARN: sesTestTopic}}
	if err := NewSES(f).Verify(context.Background(), sesRequest(sesEnvelope(t, "Notification", msg, "2", nil, nil)), c); err != nil {
		t.Fatalf("previous topic rejected: %v", err)
	}
	// Every SNS attempt repeats the signed Timestamp: a Notification 3 hours old (a retry
	// after an outage) is still accepted; its MessageId dedupes it.
	r := sesRequest(sesEnvelope(t, "Notification", msg, "2", nil, nil))
	r.Now = sesTestNow.Add(3 * time.Hour)
	if err := NewSES(f).Verify(context.Background(), r, sesCreds()); err != nil {
		t.Fatalf("late retry rejected: %v", err)
	}
	// A subscription confirmation (which makes us fetch a URL) keeps SNS's one hour.
	r = sesRequest(sesEnvelope(t, "SubscriptionConfirmation", msg, "2", nil, nil))
	r.Now = sesTestNow.Add(61 * time.Minute)
	if err := NewSES(f).Verify(context.Background(), r, sesCreds()); codeB(err) != mailtrail.EUNAUTHORIZED {
		t.Fatalf("old confirmation: %v, want unauthorized", err)
	}
}

func TestSESVerifyRejects(t *testing.T) {
	msg := string(readFileB(t, "testdata", "ses", "delivery.json"))
	set := func(k string, v any) func(map[string]any) { return func(m map[string]any) { m[k] = v } }
	certURL := func(u string) func(*snsEnvelope) { return func(e *snsEnvelope) { e.SigningCertURL = u } }
	tests := []struct {
		name    string
		edit    func(*snsEnvelope)
		tamper  func(map[string]any)
		creds   Credentials
		header  http.Header
		now     time.Time
		fetches int // -1: any
	}{
		{name: "http cert URL", edit: certURL("http://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc123.pem")},
		{name: "foreign host", edit: certURL("https://sns.evil.com/SimpleNotificationService-abc123.pem")},
		{name: "suffix host", edit: certURL("https://sns.us-east-1.amazonaws.com.evil.com/SimpleNotificationService-abc123.pem")},
		{name: "userinfo", edit: certURL("https://sns.us-east-1.amazonaws.com@evil.com/SimpleNotificationService-abc123.pem")},
		{name: "userinfo on sns host", edit: certURL("https://user@sns.us-east-1.amazonaws.com/SimpleNotificationService-abc123.pem")},
		{name: "not pem", edit: certURL("https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc123.txt")},
		{name: "pem in query only", edit: certURL("https://sns.us-east-1.amazonaws.com/x?f=a.pem")},
		{name: "other port", edit: certURL("https://sns.us-east-1.amazonaws.com:8443/SimpleNotificationService-abc123.pem")},
		{name: "backslash", edit: certURL("https://evil.com\\@sns.us-east-1.amazonaws.com/a.pem")},
		{name: "wrong topic", edit: func(e *snsEnvelope) { e.TopicArn = "arn:aws:sns:us-east-1:999999999999:other" }},
		{name: "no topic configured", creds: Credentials{}},
		{name: "timestamp beyond the retry horizon", now: sesTestNow.Add(SNSHorizon + time.Minute)},
		{name: "timestamp in future", now: sesTestNow.Add(-10 * time.Minute)},
		{name: "unknown signature version", tamper: set("SignatureVersion", "3")},
		{name: "missing signature", tamper: set("Signature", "")},
		{name: "header id mismatch", header: http.Header{"X-Amz-Sns-Message-Id": {"other"}}},
		{name: "basic auth required", creds: Credentials{TopicARN: sesTestTopic, Username: "u", Password: "p"}},
		{name: "tampered message", tamper: set("Message", strings.Replace(msg, "frank", "frane", 1)), fetches: -1},
		{name: "tampered timestamp", tamper: set("Timestamp", "2024-05-29T16:27:32.000Z"), fetches: -1},
		{name: "added subject", tamper: set("Subject", "x"), fetches: -1},
		{name: "wrong key", tamper: func(m map[string]any) {
			env := snsEnvelope{Type: "Notification", MessageID: m["MessageId"].(string), TopicArn: sesTestTopic, Message: msg, Timestamp: m["Timestamp"].(string)}
			sig, _ := rsa.SignPKCS1v15(rand.Reader, sesTestKeys(t)[1], crypto.SHA256, sesDigest(crypto.SHA256, sesCanonical(&env)))
			m["Signature"] = base64.StdEncoding.EncodeToString(sig)
		}, fetches: -1},
		{name: "v1 signature declared v2", tamper: set("SignatureVersion", "1"), fetches: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := sesFetcher(t)
			r := sesRequest(sesEnvelope(t, "Notification", msg, "2", tt.edit, tt.tamper))
			if tt.header != nil {
				r.Header = tt.header
			}
			if !tt.now.IsZero() {
				r.Now = tt.now
			}
			c := tt.creds
			if c.TopicARN == "" && c.Username == "" && tt.name != "no topic configured" {
				c = sesCreds()
			}
			err := NewSES(f).Verify(context.Background(), r, c)
			if codeB(err) != mailtrail.EUNAUTHORIZED {
				t.Fatalf("err = %v, want unauthorized", err)
			}
			if tt.fetches == 0 && f.count() != 0 {
				t.Fatalf("outbound fetch made: %v", f.calls)
			}
		})
	}
}

func TestSESVerifyCertProblems(t *testing.T) {
	msg := string(readFileB(t, "testdata", "ses", "delivery.json"))
	body := sesEnvelope(t, "Notification", msg, "2", nil, nil)
	f := &recordingFetcherB{err: errors.New("network down")}
	if err := NewSES(f).Verify(context.Background(), sesRequest(body), sesCreds()); codeB(err) != mailtrail.EUNAVAILABLE {
		t.Errorf("fetch failure: %v, want unavailable", err)
	}
	f = &recordingFetcherB{body: map[string][]byte{sesTestCertURL: sesTestCertPEM(t, sesTestKeys(t)[0], sesTestNow.Add(-time.Hour))}}
	if err := NewSES(f).Verify(context.Background(), sesRequest(body), sesCreds()); codeB(err) != mailtrail.EUNAUTHORIZED {
		t.Errorf("expired cert: %v", err)
	}
	f = &recordingFetcherB{body: map[string][]byte{sesTestCertURL: []byte("<html>not a cert</html>")}}
	if err := NewSES(f).Verify(context.Background(), sesRequest(body), sesCreds()); codeB(err) != mailtrail.EUNAUTHORIZED {
		t.Errorf("garbage cert: %v", err)
	}
}

func TestSESCertCacheBounded(t *testing.T) {
	s := NewSES(nil).(*SES)
	pemBytes := sesTestCertPEM(t, sesTestKeys(t)[0], sesTestNow.Add(time.Hour))
	f := &recordingFetcherB{body: map[string][]byte{}}
	s.fetch = f
	for i := 0; i < 3*sesCertCache; i++ {
		u := "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-" + strings.Repeat("a", i+1) + ".pem"
		f.body[u] = pemBytes
		if _, err := s.cert(context.Background(), u); err != nil {
			t.Fatal(err)
		}
	}
	if len(s.certs) != sesCertCache || len(s.order) != sesCertCache {
		t.Fatalf("cache holds %d/%d certificates, want %d", len(s.certs), len(s.order), sesCertCache)
	}
}

func TestSESSubscriptionConfirmation(t *testing.T) {
	msg := "You have chosen to subscribe to the topic arn:aws:sns:us-east-1:123456789012:ses-events.\nTo confirm the subscription, visit the SubscribeURL included in this message."
	f := sesFetcher(t)
	ses := NewSES(f)
	r := sesRequest(sesEnvelope(t, "SubscriptionConfirmation", msg, "1", nil, nil))
	if err := ses.Verify(context.Background(), r, sesCreds()); err != nil {
		t.Fatal(err)
	}
	res, err := ses.Parse(context.Background(), r)
	if err != nil || res.ConfirmURL != sesTestSubURL || len(res.Events) != 0 {
		t.Fatalf("parse: %v %+v", err, res)
	}
	for _, u := range []string{"http://169.254.169.254/latest/meta-data/", "https://169.254.169.254/x", "https://sns.evil.com/?Action=ConfirmSubscription", "http://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription"} {
		f := sesFetcher(t)
		r := sesRequest(sesEnvelope(t, "SubscriptionConfirmation", msg, "2", func(e *snsEnvelope) { e.SubscribeURL = u }, nil))
		if err := NewSES(f).Verify(context.Background(), r, sesCreds()); codeB(err) != mailtrail.EUNAUTHORIZED || f.count() != 0 {
			t.Errorf("%s: err %v, fetches %d", u, err, f.count())
		}
		if _, err := NewSES(f).Parse(context.Background(), r); err == nil {
			t.Errorf("%s: parse accepted", u)
		}
	}
	unsigned := sesEnvelope(t, "SubscriptionConfirmation", msg, "2", nil, func(m map[string]any) { delete(m, "Signature") })
	if err := NewSES(sesFetcher(t)).Verify(context.Background(), sesRequest(unsigned), sesCreds()); codeB(err) != mailtrail.EUNAUTHORIZED {
		t.Errorf("unsigned confirmation: %v", err)
	}
}

func TestSESParse(t *testing.T) {
	const snsID = "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324"
	ev := func(typ mailtrail.EventType, at string, idx string, email, esp string) mailtrail.Event {
		e := wantEventB("ses", typ, at, "ses:"+snsID+":"+idx)
		e.CustomerEmail, e.ESPMessageID, e.Metadata.VendorEventID = email, esp, snsID
		return e
	}
	args := func(e mailtrail.Event, m, c, u string) mailtrail.Event {
		e.MessageID, e.CampaignID, e.CustomerID = m, c, u
		return e
	}
	bounce := func(idx, email string) mailtrail.Event {
		e := args(ev(mailtrail.EventBounced, "2024-05-29T16:27:30Z", idx, email, "0100018fc-1111-2222"), "msg_01HXSES", "c_123", "u_43")
		e.Metadata.BounceType, e.Metadata.SMTPCode, e.Metadata.Reason = mailtrail.BounceHard, "5.1.1", "smtp; 550 5.1.1 user unknown"
		e.Metadata.Extra = map[string]any{"bounce_sub_type": "General", "feedback_id": "0100018fc1b2c3d4-aaaa-bbbb-cccc-000000000000-000000"}
		e.SharedMessage = true // the mail has two destinations: each bounce is attributed by its own address
		return e
	}
	soft := ev(mailtrail.EventBounced, "2024-05-29T16:28:30Z", "0", "dave@example.com", "0100018fc-3333-4444")
	soft.MessageID = "msg_01HXHEADER"
	soft.Metadata.BounceType, soft.Metadata.SMTPCode, soft.Metadata.Reason = mailtrail.BounceSoft, "552", "smtp; 552 5.2.2 mailbox full"
	soft.Metadata.Extra = map[string]any{"bounce_sub_type": "MailboxFull", "feedback_id": "0100018fc1b2c3d5-0000"}
	complaint := args(ev(mailtrail.EventComplained, "2024-05-29T17:00:00Z", "0", "erin@example.com", "0100018fc-5555-6666"), "msg_01HXCOMPLAINT", "c_123", "u_44")
	complaint.Metadata.FeedbackType, complaint.Metadata.UserAgent = "abuse", "Yahoo!-Mail-Feedback/2.0"
	complaint.Metadata.Extra = map[string]any{"feedback_id": "0100018fc1b2c3d6-0000"}
	open := args(ev(mailtrail.EventOpened, "2024-05-29T18:00:00Z", "0", "frank@example.com", "0100018fc-7777-8888"), "msg_01HXDELIVERY", "c_123", "u_45")
	open.Metadata.IP, open.Metadata.UserAgent = "192.0.2.1", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X)"
	click := args(ev(mailtrail.EventClicked, "2024-05-29T18:01:00Z", "0", "frank@example.com", "0100018fc-7777-8888"), "msg_01HXDELIVERY", "c_123", "u_45")
	click.Metadata.IP, click.Metadata.UserAgent, click.Metadata.LinkURL = "192.0.2.1", "Mozilla/5.0 (Windows NT 10.0; Win64; x64)", "https://brand.example/sale"
	// AWS's DeliveryDelay example: SES keeps trying, a deferred notice per recipient.
	delay := ev(mailtrail.EventDeferred, "2020-06-16T00:25:40.095Z", "0", "recipient@example.com", "EXAMPLE7c191be45")
	delay.Metadata.SMTPCode, delay.Metadata.Reason = "4.4.1", "smtp; 421 4.4.1 Unable to connect to remote host"
	delay.Metadata.Extra = map[string]any{"delay_type": "TransientCommunicationFailure", "expiration_time": "2020-06-16T00:25:40.914Z"}
	unsub := ev(mailtrail.EventUnsubscribed, "2024-05-29T19:00:00Z", "0", "gina@example.com", "0100018fc-9999-0000")
	unsub.MessageID = "msg_01HXSUB"
	tests := []struct {
		file    string
		want    []mailtrail.Event
		ignored map[string]int
	}{
		{"bounce.json", []mailtrail.Event{bounce("0", "bob@example.com"), bounce("1", "carol@example.com")}, nil},
		{"bounce_transient.json", []mailtrail.Event{soft}, nil},
		{"complaint.json", []mailtrail.Event{complaint}, nil},
		{"delivery.json", []mailtrail.Event{args(ev(mailtrail.EventDelivered, "2024-05-29T16:27:31Z", "0", "frank@example.com", "0100018fc-7777-8888"), "msg_01HXDELIVERY", "c_123", "u_45")}, nil},
		{"open.json", []mailtrail.Event{open}, nil},
		{"click.json", []mailtrail.Event{click}, nil},
		{"subscription.json", []mailtrail.Event{unsub}, nil},
		{"send.json", nil, map[string]int{"Send": 1}},
		{"delivery_delay.json", []mailtrail.Event{delay}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			body := sesEnvelope(t, "Notification", string(readFileB(t, "testdata", "ses", tt.file)), "2", nil, nil)
			res, err := NewSES(nil).Parse(context.Background(), sesRequest(body))
			if err != nil {
				t.Fatal(err)
			}
			eqEventsB(t, checkEventsB(t, "ses", res.Events), tt.want)
			if len(tt.ignored) > 0 || len(res.Ignored) > 0 {
				if len(res.Ignored) != len(tt.ignored) || res.Ignored[firstKeyB(tt.ignored)] != tt.ignored[firstKeyB(tt.ignored)] {
					t.Errorf("ignored = %v, want %v", res.Ignored, tt.ignored)
				}
			}
		})
	}
	for _, body := range []string{`not json`, `{"Type":"Notification","Message":"not json"}`, `{"Type":"Notification","Message":"{}"}`, `{"Type":"Weird"}`, `[]`} {
		if _, err := NewSES(nil).Parse(context.Background(), sesRequest([]byte(body))); codeB(err) != mailtrail.EINVALID {
			t.Errorf("%s: %v, want invalid", body, err)
		}
	}
}

func firstKeyB(m map[string]int) string {
	for k := range m {
		return k
	}
	return ""
}

func FuzzSESParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "ses", "*.json"))
	for _, name := range files {
		msg := readFileB(f, name)
		f.Add(sesEnvelope(f, "Notification", string(msg), "2", nil, nil))
	}
	f.Add(sesEnvelope(f, "SubscriptionConfirmation", "confirm", "2", nil, nil))
	f.Fuzz(func(t *testing.T, body []byte) {
		res, err := NewSES(nil).Parse(context.Background(), sesRequest(body))
		if err != nil {
			if c := codeB(err); c != mailtrail.EINVALID && c != mailtrail.EUNAUTHORIZED {
				t.Fatalf("unexpected error code %q", c)
			}
			return
		}
		checkEventsB(t, "ses", res.Events)
		if res.ConfirmURL != "" && !sesSubscribeURLOK(res.ConfirmURL) {
			t.Fatalf("unchecked confirm URL %q", res.ConfirmURL)
		}
	})
}

// An SES Subscription event without unsubscribeAll: each topic in OptOut is an
// unsubscribe scoped to it, each topic in OptIn a resubscribe; unsubscribeAll is
// organization-wide (subscription.json).
func TestSESSubscriptionTopics(t *testing.T) {
	msg := `{"eventType":"Subscription","mail":{"timestamp":"2024-05-29T16:27:29.000Z","messageId":"0100018fc-9999-0000","destination":["gina@example.com"],"tags":{"mt_message_id":["msg_01HXSUB"]}},"subscription":{"contactList":"ContactListName","timestamp":"2024-05-29T19:00:00.000Z","source":"UnsubscribeHeader","newTopicPreferences":{"unsubscribeAll":false,"topicSubscriptionStatus":[{"topicName":"Offers","subscriptionStatus":"OptOut"},{"topicName":"News","subscriptionStatus":"OptIn"}]},"oldTopicPreferences":{"unsubscribeAll":false,"topicSubscriptionStatus":[{"topicName":"Offers","subscriptionStatus":"OptIn"},{"topicName":"News","subscriptionStatus":"OptOut"}]}}}`
	res, err := NewSES(nil).Parse(context.Background(), sesRequest(sesEnvelope(t, "Notification", msg, "2", nil, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Events) != 1 || res.Events[0].Type != mailtrail.EventUnsubscribed || res.Events[0].Metadata.Topic != "Offers" || res.Events[0].CustomerEmail != "gina@example.com" {
		t.Fatalf("events %+v", res.Events)
	}
	at, _ := time.Parse(time.RFC3339, "2024-05-29T19:00:00Z")
	if len(res.Resubscribes) != 1 || res.Resubscribes[0] != (mailtrail.Resubscribe{Email: "gina@example.com", Topic: "News", At: at}) {
		t.Fatalf("resubscribes %+v", res.Resubscribes)
	}
	all, err := NewSES(nil).Parse(context.Background(), sesRequest(sesEnvelope(t, "Notification", string(readFileB(t, "testdata", "ses", "subscription.json")), "2", nil, nil)))
	if err != nil || len(all.Events) != 1 || all.Events[0].Metadata.Topic != "" || len(all.Resubscribes) != 0 {
		t.Fatalf("unsubscribeAll: %+v %v", all, err)
	}
}
