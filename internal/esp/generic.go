package esp

import (
	"context"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/mailtrail/mailtrail"
)

// GenericSignatureHeader carries the signature of a generic webhook:
// "t=<unix seconds>,v1=<hex HMAC-SHA256(SigningKey, t + "." + body)>". See GENERIC.md.
const GenericSignatureHeader = "X-Mailtrail-Signature"

// genericMaxEvents is the largest batch of the generic format.
const genericMaxEvents = 1000

// generic is mailtrail's own documented webhook format for ESPs we do not cover
// (GENERIC.md): {"events":[…]} signed with HMAC-SHA256 under the connection's SigningKey.
type generic struct{}

var _ Vendor = generic{}

// NewGeneric returns the vendor of mailtrail's generic webhook format.
func NewGeneric() Vendor { return generic{} }

// Name implements Vendor.
func (generic) Name() string { return "generic" }

// MaxBody implements Vendor: 8 MiB.
func (generic) MaxBody() int64 { return 8 << 20 }

// Verify implements Vendor. It checks GenericSignatureHeader: the timestamp within
// Window and one v1 signature (lowercase hex) matching; every failure is EUNAUTHORIZED.
func (generic) Verify(_ context.Context, r *Request, c Credentials) error {
	ts, sigs, ok := genericParseHeader(r.Header.Get(GenericSignatureHeader))
	if !ok {
		return errUnauthorized()
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || !withinWindow(time.Unix(sec, 0), r.Now) {
		return errUnauthorized()
	}
	good := eachCredential(c, func(c Credentials) bool {
		if c.SigningKey == "" {
			return false
		}
		want := hex.EncodeToString(hmacSHA256([]byte(c.SigningKey), []byte(ts), []byte("."), r.Body))
		match := false
		for _, s := range sigs {
			if hookLowerHex(s, 64) && equal(s, want) {
				match = true
			}
		}
		return match
	})
	if !good {
		return errUnauthorized()
	}
	return nil
}

// genericParseHeader splits "t=…,v1=…[,v1=…]" into the timestamp and the v1 signatures.
// Unknown keys are skipped so the scheme can grow; at most 8 parts are read.
func genericParseHeader(h string) (ts string, sigs []string, ok bool) {
	parts := strings.SplitN(h, ",", 9)
	if len(parts) > 8 {
		return "", nil, false
	}
	for _, p := range parts {
		k, v, found := strings.Cut(strings.TrimSpace(p), "=")
		if !found {
			continue
		}
		switch k {
		case "t":
			if ts != "" {
				return "", nil, false
			}
			ts = v
		case "v1":
			sigs = append(sigs, v)
		}
	}
	ok = ts != "" && len(ts) <= 12 && hookDigits(ts) && len(sigs) > 0
	return ts, sigs, ok
}

// genericBody is the generic webhook body.
type genericBody struct {
	Events []genericEvent `json:"events"`
}

// genericEvent is one event of the generic format (GENERIC.md).
type genericEvent struct {
	EventID       hookString `json:"event_id"`
	EventType     hookString `json:"event_type"`
	OccurredAt    hookString `json:"occurred_at"`
	MessageID     hookString `json:"message_id"`
	CampaignID    hookString `json:"campaign_id"`
	CustomerID    hookString `json:"customer_id"`
	CustomerEmail hookString `json:"customer_email"`
	ESPMessageID  hookString `json:"esp_message_id"`
	BounceType    hookString `json:"bounce_type"`
	SMTPCode      hookString `json:"smtp_code"`
	Reason        hookString `json:"reason"`
	FeedbackType  hookString `json:"feedback_type"`
	URL           hookString `json:"url"`
	UserAgent     hookString `json:"user_agent"`
	IP            hookString `json:"ip"`
}

// Parse implements Vendor. A body that is not {"events":[…]} with 1 to 1000 events, an
// event without a valid occurred_at, or a bounce without bounce_type hard|soft is
// EINVALID. event_type "sent" and unknown types are counted in Ignored.
func (generic) Parse(_ context.Context, r *Request) (*Result, error) {
	var body genericBody
	if err := hookDecodeObject("generic", r.Body, &body); err != nil {
		return nil, err
	}
	if len(body.Events) == 0 || len(body.Events) > genericMaxEvents {
		return nil, mailtrail.Errorf(mailtrail.EINVALID, "generic webhook needs 1 to %d events, got %d", genericMaxEvents, len(body.Events))
	}
	res := hookNewResult()
	for i := range body.Events {
		ev := &body.Events[i]
		t, err := mailtrail.ParseEventType(string(ev.EventType))
		if err != nil || t == mailtrail.EventSent {
			hookIgnore(res, string(ev.EventType))
			continue
		}
		e, err := genericMap(ev, t, i)
		if err != nil {
			return nil, err
		}
		if ev.EventID != "" && r.ConnID != "" {
			// The sender's ids are its own: the same id at another connection of the
			// organization is another event (GENERIC.md: "once per connection").
			e.DedupeKey = "generic:" + r.ConnID + ":" + string(ev.EventID)
		}
		res.Events = append(res.Events, e)
	}
	return res, nil
}

// genericMap maps event number i of type t.
func genericMap(ev *genericEvent, t mailtrail.EventType, i int) (mailtrail.Event, error) {
	at, err := time.Parse(time.RFC3339Nano, string(ev.OccurredAt))
	if err != nil || at.Year() < 1971 {
		return mailtrail.Event{}, genericInvalid(i, "occurred_at", "must be an RFC 3339 time")
	}
	e := hookEvent("generic", t, at)
	e.MessageID = string(ev.MessageID)
	e.CampaignID = string(ev.CampaignID)
	e.CustomerID = string(ev.CustomerID)
	e.CustomerEmail = string(ev.CustomerEmail)
	e.ESPMessageID = string(ev.ESPMessageID)
	switch t {
	case mailtrail.EventBounced:
		bt := mailtrail.BounceType(ev.BounceType)
		if bt != mailtrail.BounceHard && bt != mailtrail.BounceSoft {
			return mailtrail.Event{}, genericInvalid(i, "bounce_type", `must be "hard" or "soft"`)
		}
		e.Metadata.BounceType = bt
		e.Metadata.SMTPCode = string(ev.SMTPCode)
		e.Metadata.Reason = string(ev.Reason)
	case mailtrail.EventDeferred:
		e.Metadata.SMTPCode = string(ev.SMTPCode)
		e.Metadata.Reason = string(ev.Reason)
	case mailtrail.EventComplained:
		e.Metadata.FeedbackType = string(ev.FeedbackType)
		if e.Metadata.FeedbackType == "" {
			e.Metadata.FeedbackType = "abuse"
		}
	case mailtrail.EventDelivered:
		e.Metadata.SMTPCode = string(ev.SMTPCode)
	case mailtrail.EventOpened, mailtrail.EventClicked:
		e.Metadata.UserAgent = string(ev.UserAgent)
		e.Metadata.IP = string(ev.IP)
		if t == mailtrail.EventClicked {
			e.Metadata.LinkURL = string(ev.URL)
		}
	}
	hookDedupe(&e, string(ev.EventID))
	return e, nil
}

// genericInvalid is the EINVALID error for a bad field of event i.
func genericInvalid(i int, field, msg string) error {
	err := mailtrail.Errorf(mailtrail.EINVALID, "events[%d].%s %s", i, field, msg)
	err.Details = []mailtrail.ItemError{{Index: i, Field: field, Code: mailtrail.EINVALID, Message: msg}}
	return err
}
