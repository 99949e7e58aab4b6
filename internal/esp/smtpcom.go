package esp

import (
	"context"
	"strconv"
	"strings"

	"github.com/mailtrail/mailtrail"
)

// smtpcomMaxEvents is the largest SMTP.com callback batch (their documented maximum).
const smtpcomMaxEvents = 1000

// smtpcom is the SMTP.com API v4 callback: a JSON array of 1 to 1000 events, with our
// unique_args (X-SMTPAPI header at send time) appended as top-level keys.
//
// SMTP.com's public knowledge base documents no signature scheme for callbacks, so a
// connection authenticates with the shared-secret header HeaderWebhookSecret equal to
// SigningKey, or with basic auth / a bearer token. A connection with none is refused.
type smtpcom struct{}

var _ Vendor = smtpcom{}

// NewSMTPCom returns the SMTP.com callback vendor.
func NewSMTPCom() Vendor { return smtpcom{} }

// Name implements Vendor.
func (smtpcom) Name() string { return "smtpcom" }

// MaxBody implements Vendor: 8 MiB.
func (smtpcom) MaxBody() int64 { return 8 << 20 }

// Verify implements Vendor: the shared-secret header or basic auth / bearer token,
// compared in constant time; anything else is EUNAUTHORIZED.
func (smtpcom) Verify(_ context.Context, r *Request, c Credentials) error {
	secret := hookHeaderSecret(r, c)
	basic := checkBasicOrBearer(r.Header.Get("Authorization"), c)
	if !secret && !basic {
		return errUnauthorized()
	}
	return nil
}

// smtpcomEvent holds the fields of an SMTP.com callback that we use.
type smtpcomEvent struct {
	ID           hookString `json:"id"`
	Label        hookString `json:"event_label"`
	TrackingID   hookString `json:"tracking_id"`
	RcptTo       hookString `json:"rcpt_to"`
	TimeStarted  hookUnix   `json:"time_started"`
	TimeFinished hookUnix   `json:"time_finished"`
	Timestamp    hookUnix   `json:"timestamp"`
	RespCode     hookString `json:"resp_code"`
	RespClass    hookString `json:"resp_class"`
	RespMsg      hookString `json:"resp_msg"`
	FeedbackType hookString `json:"feedback_type"`
	UserAgent    hookString `json:"user_agent"`
	IP           hookString `json:"ip"`
	URL          hookString `json:"url"`
	hookArgs
}

// time returns the event's own time: when the attempt finished, else started.
func (ev *smtpcomEvent) time() hookUnix {
	for _, t := range []hookUnix{ev.TimeFinished, ev.Timestamp, ev.TimeStarted} {
		if !t.IsZero() {
			return t
		}
	}
	return hookUnix{}
}

// Parse implements Vendor. An empty batch or one over 1000 events is EINVALID. See
// VENDORS_A.md for the labels.
func (smtpcom) Parse(_ context.Context, r *Request) (*Result, error) {
	res := hookNewResult()
	err := hookEach("smtpcom", r.Body, smtpcomMaxEvents, func(ev *smtpcomEvent, raw []byte) error {
		e, ok, err := smtpcomMap(ev, raw)
		if err != nil {
			return err
		}
		if !ok {
			hookIgnore(res, string(ev.Label))
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

// smtpcomMap maps one callback; ok is false for a label we do not record.
func smtpcomMap(ev *smtpcomEvent, raw []byte) (e mailtrail.Event, ok bool, err error) {
	var t mailtrail.EventType
	switch strings.ToLower(string(ev.Label)) {
	case "delivered", "delivery":
		t = mailtrail.EventDelivered
	case "bounce", "bounced":
		if sparkpostNotBounce(string(ev.RespClass)) { // an auto-reply or challenge, not a failure
			return e, false, nil
		}
		t = mailtrail.EventBounced
	case "complaint", "complained", "spam":
		t = mailtrail.EventComplained
	case "unsubscribe", "unsubscribed":
		t = mailtrail.EventUnsubscribed
	case "open", "opened":
		t = mailtrail.EventOpened
	case "click", "clicked":
		t = mailtrail.EventClicked
	default:
		return e, false, nil
	}
	at := ev.time()
	if at.IsZero() {
		return e, false, mailtrail.Errorf(mailtrail.EINVALID, "smtpcom %s event without a time", t)
	}
	e = hookEvent("smtpcom", t, at.Time)
	ev.hookArgs.apply(&e)
	e.CustomerEmail = string(ev.RcptTo)
	e.ESPMessageID = string(ev.TrackingID)
	switch t {
	case mailtrail.EventDelivered:
		e.Metadata.SMTPCode = string(ev.RespCode)
	case mailtrail.EventBounced:
		e.Metadata.BounceType = smtpcomBounceType(string(ev.RespClass), string(ev.RespCode))
		e.Metadata.SMTPCode = string(ev.RespCode)
		e.Metadata.Reason = string(ev.RespMsg)
		e.Metadata.Raw = hookRaw(raw)
	case mailtrail.EventComplained:
		e.Metadata.FeedbackType = string(ev.FeedbackType)
		if e.Metadata.FeedbackType == "" {
			e.Metadata.FeedbackType = "abuse"
		}
		e.Metadata.Raw = hookRaw(raw)
	case mailtrail.EventOpened, mailtrail.EventClicked:
		e.Metadata.UserAgent = string(ev.UserAgent)
		e.Metadata.IP = string(ev.IP)
		if t == mailtrail.EventClicked {
			e.Metadata.LinkURL = string(ev.URL)
		}
	}
	hookDedupe(&e, string(ev.ID))
	return e, true, nil
}

// smtpcomBounceType classifies a bounce by resp_class when SMTP.com gave one (the
// SparkPost numbering: 10, 25, 30, 80, 90 hard, 60 and 100 no bounce at all, any other
// class soft), else by the SMTP reply
// code (5xx hard, 4xx soft); a bounce that says neither is hard, since SMTP.com reports
// a bounce only once it stopped trying.
func smtpcomBounceType(class, code string) mailtrail.BounceType {
	if n, err := strconv.Atoi(class); err == nil && n > 0 {
		return sparkpostBounceType(class)
	}
	if bt := hookSMTPClass(code); bt != "" {
		return bt
	}
	return mailtrail.BounceHard
}
