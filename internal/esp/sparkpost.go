package esp

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"strconv"

	"github.com/mailtrail/mailtrail"
)

// sparkpost is the SparkPost (Bird) event webhook: a JSON array of
// {"msys":{"<class>":{…}}} wrappers, unsigned. An empty {"msys":{}} is SparkPost's ping.
//
// Credentials: basic auth (Username/Password, auth_type "basic"), a bearer token
// (BearerToken, auth_type "oauth2") or the shared secret header HeaderWebhookSecret
// equal to SigningKey (SparkPost custom_headers). A connection with none is refused.
type sparkpost struct{}

var _ Vendor = sparkpost{}

// NewSparkPost returns the SparkPost event webhook vendor.
func NewSparkPost() Vendor { return sparkpost{} }

// Name implements Vendor.
func (sparkpost) Name() string { return "sparkpost" }

// MaxBody implements Vendor: 8 MiB.
func (sparkpost) MaxBody() int64 { return 8 << 20 }

// Verify implements Vendor: basic auth, bearer token or the shared-secret header,
// compared in constant time; anything else is EUNAUTHORIZED.
func (sparkpost) Verify(_ context.Context, r *Request, c Credentials) error {
	basic := checkBasicOrBearer(r.Header.Get("Authorization"), c)
	secret := hookHeaderSecret(r, c)
	if !basic && !secret {
		return errUnauthorized()
	}
	return nil
}

// sparkpostWrapper is one element of the batch.
type sparkpostWrapper struct {
	Msys map[string]json.RawMessage `json:"msys"`
}

// sparkpostEvent holds the fields of a SparkPost event that we use.
type sparkpostEvent struct {
	Type           hookString `json:"type"`
	EventID        hookString `json:"event_id"`
	Timestamp      hookUnix   `json:"timestamp"`
	RcptTo         hookString `json:"rcpt_to"`
	RawRcptTo      hookString `json:"raw_rcpt_to"`
	MessageID      hookString `json:"message_id"`
	TransmissionID hookString `json:"transmission_id"`
	BounceClass    hookString `json:"bounce_class"`
	ErrorCode      hookString `json:"error_code"`
	RawReason      hookString `json:"raw_reason"`
	Reason         hookString `json:"reason"`
	FBType         hookString `json:"fbtype"`
	TargetLinkURL  hookString `json:"target_link_url"`
	IPAddress      hookString `json:"ip_address"`
	UserAgent      hookString `json:"user_agent"`
	RcptMeta       *hookArgs  `json:"rcpt_meta"`
}

// Parse implements Vendor. See VENDORS_A.md for the mapping; the ping batch gives no
// events.
func (sparkpost) Parse(_ context.Context, r *Request) (*Result, error) {
	res := hookNewResult()
	err := hookEach("sparkpost", r.Body, 0, func(w *sparkpostWrapper, _ []byte) error {
		for _, class := range slices.Sorted(maps.Keys(w.Msys)) { // one per wrapper in practice
			raw := w.Msys[class]
			var ev sparkpostEvent
			if err := hookDecodeObject("sparkpost", raw, &ev); err != nil {
				return err
			}
			e, kind, err := sparkpostMap(&ev, raw)
			if err != nil {
				return err
			}
			if kind != "" {
				hookIgnore(res, kind)
				continue
			}
			hookAppendEvent(res, r.Body, e)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// sparkpostMap maps one event; a non-empty kind means "not recorded, count it as kind".
func sparkpostMap(ev *sparkpostEvent, raw json.RawMessage) (e mailtrail.Event, kind string, err error) {
	var t mailtrail.EventType
	switch ev.Type {
	case "delivery":
		t = mailtrail.EventDelivered
	case "delay":
		t = mailtrail.EventDeferred
	case "bounce", "out_of_band":
		if sparkpostNotBounce(string(ev.BounceClass)) {
			return e, string(ev.Type) + ":" + string(ev.BounceClass), nil
		}
		t = mailtrail.EventBounced
	case "spam_complaint":
		t = mailtrail.EventComplained
	case "list_unsubscribe", "link_unsubscribe":
		t = mailtrail.EventUnsubscribed
	case "open", "initial_open", "amp_open", "amp_initial_open":
		t = mailtrail.EventOpened
	case "click", "amp_click":
		t = mailtrail.EventClicked
	case "":
		return e, "(none)", nil // as hookIgnore names it
	default:
		return e, string(ev.Type), nil
	}
	if ev.Timestamp.IsZero() {
		return e, "", mailtrail.Errorf(mailtrail.EINVALID, "sparkpost %s event without a timestamp", ev.Type)
	}
	e = hookEvent("sparkpost", t, ev.Timestamp.Time)
	ev.RcptMeta.apply(&e)
	e.CustomerEmail = string(ev.RcptTo)
	if e.CustomerEmail == "" {
		e.CustomerEmail = string(ev.RawRcptTo)
	}
	e.ESPMessageID = string(ev.TransmissionID)
	if e.ESPMessageID == "" {
		e.ESPMessageID = string(ev.MessageID)
	}
	switch t {
	case mailtrail.EventBounced, mailtrail.EventDeferred:
		if t == mailtrail.EventBounced {
			e.Metadata.BounceType = sparkpostBounceType(string(ev.BounceClass))
		}
		e.Metadata.SMTPCode = string(ev.ErrorCode)
		e.Metadata.Reason = string(ev.RawReason)
		if e.Metadata.Reason == "" {
			e.Metadata.Reason = string(ev.Reason)
		}
		e.Metadata.Raw = hookRaw(raw)
	case mailtrail.EventComplained:
		e.Metadata.FeedbackType = string(ev.FBType)
		if e.Metadata.FeedbackType == "" {
			e.Metadata.FeedbackType = "abuse"
		}
		e.Metadata.Raw = hookRaw(raw)
	case mailtrail.EventOpened, mailtrail.EventClicked:
		e.Metadata.UserAgent = string(ev.UserAgent)
		e.Metadata.IP = string(ev.IPAddress)
		if t == mailtrail.EventClicked {
			e.Metadata.LinkURL = string(ev.TargetLinkURL)
		}
	}
	hookDedupe(&e, string(ev.EventID))
	return e, "", nil
}

// sparkpostBounceType maps a SparkPost bounce classification code (SparkPost's bounce
// classification table): the classes SparkPost counts as hard are 10 Invalid Recipient,
// 30 Generic Bounce: No RCPT, 90 Unsubscribe, and the Admin classes 25 Admin Failure (the
// message was refused by SparkPost's own policy, such as its suppression list) and 80
// Subscribe. Every other class (soft 20–24, 40, 70; block 50–54; admin 26; undetermined
// 1; unknown codes) is soft. 60 and 100 are no bounce at all (sparkpostNotBounce).
func sparkpostBounceType(class string) mailtrail.BounceType {
	switch n, err := strconv.Atoi(class); {
	case err != nil:
		return mailtrail.BounceSoft
	case n == 10 || n == 25 || n == 30 || n == 80 || n == 90:
		return mailtrail.BounceHard
	}
	return mailtrail.BounceSoft
}

// sparkpostNotBounce reports whether a bounce class is a reply rather than a delivery
// failure: 60 Auto-Reply (out of office) and 100 Challenge-Response. The message reached
// the mailbox; they are ignored.
func sparkpostNotBounce(class string) bool {
	n, err := strconv.Atoi(class)
	return err == nil && (n == 60 || n == 100)
}
