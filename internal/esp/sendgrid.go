package esp

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/mailtrail/mailtrail"
)

// SendGrid's Signed Event Webhook headers.
const (
	sendgridSignatureHeader = "X-Twilio-Email-Event-Webhook-Signature"
	sendgridTimestampHeader = "X-Twilio-Email-Event-Webhook-Timestamp"
)

// sendgrid is the SendGrid Event Webhook: a JSON array of events, signed with ECDSA
// P-256 over SHA-256(timestamp + raw body), optionally also carrying an OAuth bearer.
//
// Credentials: SigningKey is the verification key SendGrid shows (base64 DER
// SubjectPublicKeyInfo); BearerToken, when set, must match the Authorization header
// too. A connection with neither is refused.
type sendgrid struct{}

var _ Vendor = sendgrid{}

// NewSendGrid returns the SendGrid Event Webhook vendor.
func NewSendGrid() Vendor { return sendgrid{} }

// Name implements Vendor.
func (sendgrid) Name() string { return "sendgrid" }

// MaxBody implements Vendor: 8 MiB.
func (sendgrid) MaxBody() int64 { return 8 << 20 }

// Verify implements Vendor. It checks the ECDSA signature on the raw body and the signed
// timestamp (at most SendGridHorizon old, at most Window ahead: the signature covers the
// whole body, so a replay is only a duplicate of its sg_event_ids), and the bearer token
// when the connection has one; every failure is EUNAUTHORIZED.
func (sendgrid) Verify(_ context.Context, r *Request, c Credentials) error {
	if !eachCredential(c, func(c Credentials) bool { return sendgridCheck(r, c) }) {
		return errUnauthorized()
	}
	return nil
}

// sendgridCheck verifies r against one set of credentials.
func sendgridCheck(r *Request, c Credentials) bool {
	if c.SigningKey == "" && c.BearerToken == "" {
		return false
	}
	good := true
	if c.SigningKey != "" {
		good = sendgridSignatureOK(r, c.SigningKey)
	}
	if c.BearerToken != "" {
		h := r.Header.Get("Authorization")
		tok, found := strings.CutPrefix(h, "Bearer ")
		b := found && equal(tok, c.BearerToken)
		good = good && b
	}
	return good
}

// sendgridSignatureOK checks the signature headers of r with the base64 DER public key.
func sendgridSignatureOK(r *Request, key string) bool {
	sig := r.Header.Get(sendgridSignatureHeader)
	ts := r.Header.Get(sendgridTimestampHeader)
	if sig == "" || ts == "" || len(ts) > 12 || !hookDigits(ts) {
		return false
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || !withinHorizon(time.Unix(sec, 0), r.Now, SendGridHorizon) {
		return false
	}
	pub, ok := sendgridPublicKey(key)
	if !ok {
		return false
	}
	der, err := base64.StdEncoding.DecodeString(strings.TrimSpace(sig))
	if err != nil {
		return false
	}
	h := sha256.New()
	h.Write([]byte(ts))
	h.Write(r.Body)
	return ecdsa.VerifyASN1(pub, h.Sum(nil), der)
}

// sendgridPublicKey parses SendGrid's verification key: base64 DER SubjectPublicKeyInfo
// of a P-256 key, with or without PEM framing around it.
func sendgridPublicKey(key string) (*ecdsa.PublicKey, bool) {
	key = strings.TrimSpace(key)
	key = strings.TrimPrefix(key, "-----BEGIN PUBLIC KEY-----")
	key = strings.TrimSuffix(key, "-----END PUBLIC KEY-----")
	key = strings.Join(strings.Fields(key), "")
	der, err := base64.StdEncoding.DecodeString(key)
	if err != nil {
		return nil, false
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, false
	}
	pub, ok := k.(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() {
		return nil, false
	}
	return pub, true
}

// sendgridEvent holds the fields of a SendGrid event that we use; custom args are
// top-level keys.
type sendgridEvent struct {
	Event       hookString `json:"event"`
	Email       hookString `json:"email"`
	ASMGroupID  hookString `json:"asm_group_id"` // the unsubscribe group: a topic
	Timestamp   hookUnix   `json:"timestamp"`
	EventID     hookString `json:"sg_event_id"`
	MessageID   hookString `json:"sg_message_id"`
	Type        hookString `json:"type"`
	Status      hookString `json:"status"`
	Reason      hookString `json:"reason"`
	Response    hookString `json:"response"`
	IP          hookString `json:"ip"`
	UserAgent   hookString `json:"useragent"`
	URL         hookString `json:"url"`
	MachineOpen hookBool   `json:"sg_machine_open"`
	hookArgs
}

// Parse implements Vendor. Event kinds: delivered; deferred (SendGrid keeps retrying:
// a deferred event, never a bounce); bounce (type bounce → hard, blocked → soft);
// spamreport; unsubscribe; group_unsubscribe (scoped to the topic named by its
// asm_group_id); group_resubscribe (a Resubscribe to that topic); open (sg_machine_open →
// machine); click. processed, dropped and unknown kinds are counted in Ignored.
func (sendgrid) Parse(_ context.Context, r *Request) (*Result, error) {
	res := hookNewResult()
	err := hookEach("sendgrid", r.Body, 0, func(ev *sendgridEvent, raw []byte) error {
		if ev.Event == "group_resubscribe" && ev.ASMGroupID != "" && ev.Email != "" && !ev.Timestamp.IsZero() {
			res.Resubscribes = append(res.Resubscribes, mailtrail.Resubscribe{Email: string(ev.Email), Topic: string(ev.ASMGroupID), At: ev.Timestamp.Time.UTC()})
			return nil
		}
		e, ok, err := sendgridMap(ev, raw)
		if err != nil {
			return err
		}
		if !ok {
			hookIgnore(res, string(ev.Event))
			return nil
		}
		hookAppendEvent(res, r.Body, e)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// sendgridMap maps one event; ok is false for a kind we do not record.
func sendgridMap(ev *sendgridEvent, raw []byte) (e mailtrail.Event, ok bool, err error) {
	var t mailtrail.EventType
	switch ev.Event {
	case "delivered":
		t = mailtrail.EventDelivered
	case "deferred":
		t = mailtrail.EventDeferred
	case "bounce":
		t = mailtrail.EventBounced
	case "spamreport":
		t = mailtrail.EventComplained
	case "unsubscribe", "group_unsubscribe":
		t = mailtrail.EventUnsubscribed
	case "open":
		t = mailtrail.EventOpened
	case "click":
		t = mailtrail.EventClicked
	default:
		return e, false, nil
	}
	if ev.Timestamp.IsZero() {
		return e, false, mailtrail.Errorf(mailtrail.EINVALID, "sendgrid %s event without a timestamp", t)
	}
	e = hookEvent("sendgrid", t, ev.Timestamp.Time)
	ev.hookArgs.apply(&e)
	e.CustomerEmail = string(ev.Email)
	e.ESPMessageID = sendgridMessageID(string(ev.MessageID))
	// An older id keeps dots before ".filter"; the message may have been sent under the
	// part before the first one.
	if prefix, _, ok := strings.Cut(strings.TrimSpace(e.ESPMessageID), "."); ok && prefix != "" {
		e.ESPMessageIDAlt = prefix
	}
	if ev.Event == "group_unsubscribe" {
		e.Metadata.Topic = string(ev.ASMGroupID) // "" (no group): every email
	}
	switch t {
	case mailtrail.EventDelivered:
		e.Metadata.SMTPCode = sendgridReplyCode(string(ev.Response))
	case mailtrail.EventDeferred:
		e.Metadata.SMTPCode = sendgridReplyCode(string(ev.Response))
		e.Metadata.Reason = string(ev.Response)
		e.Metadata.Raw = hookRaw(raw)
	case mailtrail.EventBounced:
		e.Metadata.BounceType = mailtrail.BounceHard
		if ev.Type == "blocked" {
			e.Metadata.BounceType = mailtrail.BounceSoft
		}
		e.Metadata.SMTPCode = string(ev.Status)
		e.Metadata.Reason = string(ev.Reason)
		e.Metadata.Raw = hookRaw(raw)
	case mailtrail.EventComplained:
		e.Metadata.FeedbackType = "abuse"
		e.Metadata.Raw = hookRaw(raw)
	case mailtrail.EventOpened, mailtrail.EventClicked:
		e.Metadata.UserAgent = string(ev.UserAgent)
		e.Metadata.IP = string(ev.IP)
		e.Metadata.LinkURL = string(ev.URL)
		if t == mailtrail.EventOpened && ev.MachineOpen {
			e.Classification = mailtrail.Machine
			e.Reasons = []string{"esp_machine_open"}
		}
	}
	if t != mailtrail.EventClicked {
		e.Metadata.LinkURL = ""
	}
	hookDedupe(&e, string(ev.EventID))
	return e, true, nil
}

// sendgridMessageID returns the X-Message-Id that the Mail Send API returned, from an
// sg_message_id: the part before ".filter" (older ids contain dots themselves), else
// before the first dot ("<id>.recvd-…").
func sendgridMessageID(s string) string {
	if i := strings.Index(s, ".filter"); i >= 0 {
		return s[:i]
	}
	if i := strings.IndexByte(s, '.'); i >= 0 {
		return s[:i]
	}
	return s
}

// sendgridReplyCode returns the three-digit SMTP code at the start of a response such as
// "250 OK", or "".
func sendgridReplyCode(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 3 && hookDigits(s[:3]) && (len(s) == 3 || s[3] == ' ' || s[3] == '-') {
		return s[:3]
	}
	return ""
}
