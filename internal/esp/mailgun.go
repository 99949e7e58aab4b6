package esp

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"strings"

	"github.com/mailtrail/mailtrail"
)

// mailgun is the Mailgun webhook: one JSON object per POST,
// {"signature":{"timestamp","token","signature"},"event-data":{…}}.
//
// Credentials: SigningKey is the account's HTTP webhook signing key. The signature is
// hex HMAC-SHA256(key, timestamp + token); it covers the timestamp and token only, not
// event-data (Mailgun's scheme). Mailgun's retries repeat the first attempt's signature
// block, so the timestamp may be up to MailgunHorizon old; replays within it are stopped
// by the caller's token cache (see MailgunToken) and the event-id dedupe key.
type mailgun struct{}

var _ Vendor = mailgun{}

// NewMailgun returns the Mailgun webhook vendor.
func NewMailgun() Vendor { return mailgun{} }

// Name implements Vendor.
func (mailgun) Name() string { return "mailgun" }

// MaxBody implements Vendor: 1 MiB.
func (mailgun) MaxBody() int64 { return 1 << 20 }

// mailgunSignature is the signature block of a Mailgun webhook.
type mailgunSignature struct {
	Timestamp       hookString `json:"timestamp"`
	Token           hookString `json:"token"`
	Signature       hookString `json:"signature"`
	ParentSignature hookString `json:"parent-signature"`
}

// mailgunEnvelope is the body of a Mailgun webhook.
type mailgunEnvelope struct {
	Signature mailgunSignature `json:"signature"`
	EventData json.RawMessage  `json:"event-data"`
}

// MailgunToken returns the signature token of a Mailgun webhook body, or "" when the
// body has none. Tokens are random per signature: a caller that keeps the tokens it
// accepted for at least MailgunHorizon + Window can refuse a replayed request outright
// (the vendor's dedupe key already makes a replay of the same event store nothing).
func MailgunToken(body []byte) string {
	var env struct {
		Signature mailgunSignature `json:"signature"`
	}
	if json.Unmarshal(body, &env) != nil {
		return ""
	}
	return string(env.Signature.Token)
}

// Verify implements Vendor. It checks the HMAC (lowercase hex only; the subaccount
// parent-signature is accepted as well) and the signed timestamp: at most MailgunHorizon
// old (retries repeat it), at most Window ahead. Every failure is EUNAUTHORIZED.
func (mailgun) Verify(_ context.Context, r *Request, c Credentials) error {
	var env struct {
		Signature mailgunSignature `json:"signature"`
	}
	if hookDecodeObject("mailgun", r.Body, &env) != nil {
		return errUnauthorized()
	}
	s := env.Signature
	at, ok := hookParseUnix(string(s.Timestamp))
	if !ok || s.Token == "" || len(s.Timestamp) > 20 || !hookDigits(string(s.Timestamp)) ||
		!withinHorizon(at, r.Now, MailgunHorizon) {
		return errUnauthorized()
	}
	good := eachCredential(c, func(c Credentials) bool {
		if c.SigningKey == "" {
			return false
		}
		want := hex.EncodeToString(hmacSHA256([]byte(c.SigningKey), []byte(s.Timestamp), []byte(s.Token)))
		sig := hookLowerHex(string(s.Signature), 64) && equal(string(s.Signature), want)
		parent := hookLowerHex(string(s.ParentSignature), 64) && equal(string(s.ParentSignature), want)
		return sig || parent
	})
	if !good {
		return errUnauthorized()
	}
	return nil
}

// mailgunEvent holds the fields of Mailgun's event-data that we use.
type mailgunEvent struct {
	Event          hookString `json:"event"`
	ID             hookString `json:"id"`
	Timestamp      hookUnix   `json:"timestamp"`
	Recipient      hookString `json:"recipient"`
	Severity       hookString `json:"severity"`
	Reason         hookString `json:"reason"`
	IP             hookString `json:"ip"`
	URL            hookString `json:"url"`
	UserVariables  *hookArgs  `json:"user-variables"`
	DeliveryStatus struct {
		Code        hookString `json:"code"`
		Message     hookString `json:"message"`
		Description hookString `json:"description"`
	} `json:"delivery-status"`
	Message struct {
		Headers struct {
			MessageID hookString `json:"message-id"`
		} `json:"headers"`
	} `json:"message"`
	ClientInfo struct {
		UserAgent  hookString `json:"user-agent"`
		ClientName hookString `json:"client-name"`
		DeviceType hookString `json:"device-type"`
	} `json:"client-info"`
	Geolocation struct {
		Country hookString `json:"country"`
		City    hookString `json:"city"`
	} `json:"geolocation"`
}

// Parse implements Vendor. Kinds: delivered; failed (severity permanent → hard bounce;
// temporary → deferred, since Mailgun keeps retrying and reports the final failure as
// permanent; no severity → soft bounce; reason suppress-* counted in Ignored as
// "failed:suppress-…", since Mailgun did not attempt delivery); complained;
// unsubscribed; opened; clicked. accepted, rejected, stored and unknown kinds are counted
// in Ignored.
func (mailgun) Parse(_ context.Context, r *Request) (*Result, error) {
	var env mailgunEnvelope
	if err := hookDecodeObject("mailgun", r.Body, &env); err != nil {
		return nil, err
	}
	var ev mailgunEvent
	if err := hookDecodeObject("mailgun", env.EventData, &ev); err != nil {
		return nil, err
	}
	res := hookNewResult()
	e, kind, err := mailgunMap(&ev, env.EventData)
	if err != nil {
		return nil, err
	}
	if kind != "" {
		hookIgnore(res, kind)
		return res, nil
	}
	res.Events = append(res.Events, e)
	return res, nil
}

// mailgunMap maps the event; a non-empty kind means "not recorded, count it as kind".
func mailgunMap(ev *mailgunEvent, raw json.RawMessage) (e mailtrail.Event, kind string, err error) {
	var t mailtrail.EventType
	switch ev.Event {
	case "delivered":
		t = mailtrail.EventDelivered
	case "failed":
		if strings.HasPrefix(string(ev.Reason), "suppress-") {
			return e, "failed:" + string(ev.Reason), nil
		}
		t = mailtrail.EventBounced
		if ev.Severity == "temporary" {
			t = mailtrail.EventDeferred
		}
	case "complained":
		t = mailtrail.EventComplained
	case "unsubscribed":
		t = mailtrail.EventUnsubscribed
	case "opened":
		t = mailtrail.EventOpened
	case "clicked":
		t = mailtrail.EventClicked
	case "":
		return e, "", errMalformed("mailgun") // every Mailgun webhook names its event
	default:
		return e, string(ev.Event), nil
	}
	if ev.Timestamp.IsZero() {
		return e, "", mailtrail.Errorf(mailtrail.EINVALID, "mailgun %s event without a timestamp", t)
	}
	e = hookEvent("mailgun", t, ev.Timestamp.Time)
	ev.UserVariables.apply(&e)
	e.CustomerEmail = string(ev.Recipient)
	e.ESPMessageID = strings.Trim(string(ev.Message.Headers.MessageID), "<>")
	switch t {
	case mailtrail.EventDelivered:
		e.Metadata.SMTPCode = string(ev.DeliveryStatus.Code)
	case mailtrail.EventBounced, mailtrail.EventDeferred:
		if t == mailtrail.EventBounced {
			e.Metadata.BounceType = mailtrail.BounceSoft
			if ev.Severity == "permanent" {
				e.Metadata.BounceType = mailtrail.BounceHard
			}
		}
		e.Metadata.SMTPCode = string(ev.DeliveryStatus.Code)
		e.Metadata.Reason = string(ev.DeliveryStatus.Message)
		if e.Metadata.Reason == "" {
			e.Metadata.Reason = string(ev.DeliveryStatus.Description)
		}
		e.Metadata.Raw = hookRaw(raw)
	case mailtrail.EventComplained:
		e.Metadata.FeedbackType = "abuse"
		e.Metadata.Raw = hookRaw(raw)
	case mailtrail.EventOpened, mailtrail.EventClicked:
		e.Metadata.UserAgent = string(ev.ClientInfo.UserAgent)
		e.Metadata.Client = string(ev.ClientInfo.ClientName)
		e.Metadata.Device = string(ev.ClientInfo.DeviceType)
		e.Metadata.IP = string(ev.IP)
		e.Metadata.Country = string(ev.Geolocation.Country)
		e.Metadata.City = string(ev.Geolocation.City)
		if t == mailtrail.EventClicked {
			e.Metadata.LinkURL = string(ev.URL)
		}
	}
	hookDedupe(&e, string(ev.ID))
	return e, "", nil
}
