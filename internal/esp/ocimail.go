package esp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/esp/bouncemail"
)

// OCIMail is the "ocimail" vendor: OCI Email Delivery log events (categories
// outboundaccepted and outboundrelayed) routed by Connector Hub to an OCI Notifications
// topic with an HTTPS (custom URL) subscription. Credentials: Username/Password, given to
// OCI in the subscription URL (https://user:pass@host/…), the only authentication
// Notifications supports for custom URLs.
type OCIMail struct{}

// NewOCIMail returns the ocimail vendor.
func NewOCIMail() Vendor { return OCIMail{} }

// Name implements Vendor.
func (OCIMail) Name() string { return "ocimail" }

// MaxBody implements Vendor.
func (OCIMail) MaxBody() int64 { return 1 << 20 }

// Verify implements Vendor: basic auth (or a bearer token, for a proxy in front), in
// constant time. A subscription confirmation whose ConfirmationURL is not https on an
// oraclecloud.com host is refused here too, so nothing is fetched or stored.
func (OCIMail) Verify(_ context.Context, r *Request, c Credentials) error {
	if !checkBasicOrBearer(r.Header.Get("Authorization"), c) {
		return errUnauthorized()
	}
	if u, ok := ociConfirmation(r); ok && !ociURLOK(u) {
		return errUnauthorized()
	}
	return nil
}

// ociConfirmation returns the confirmation URL of a SubscriptionConfirmation message
// (header X-OCI-NS-ConfirmationURL, else the body's ConfirmationURL), and whether the
// request is one.
func ociConfirmation(r *Request) (string, bool) {
	isConf := strings.EqualFold(r.Header.Get("X-Oci-Ns-Messagetype"), "SubscriptionConfirmation")
	u := r.Header.Get("X-Oci-Ns-Confirmationurl")
	if u == "" {
		var b struct {
			ConfirmationURL string `json:"ConfirmationURL"`
		}
		if json.Unmarshal(r.Body, &b) == nil && b.ConfirmationURL != "" {
			u, isConf = b.ConfirmationURL, true
		}
	}
	return u, isConf || u != ""
}

// ociURLOK reports whether u is https on oraclecloud.com or one of its subdomains.
func ociURLOK(u string) bool {
	return safeURLB(u, func(h string) bool {
		return dnsLabelsB(h) && (h == "oraclecloud.com" || strings.HasSuffix(h, ".oraclecloud.com"))
	})
}

// ociEntry is one log entry: the CloudEvents-style object Logging stores
// ({"id","time","type","data":{…}}), possibly wrapped as {"datetime", "logContent"}.
type ociEntry struct {
	ID         string          `json:"id"`
	Time       string          `json:"time"`
	Type       string          `json:"type"`
	Data       ociData         `json:"data"`
	Datetime   json.RawMessage `json:"datetime"`
	LogContent json.RawMessage `json:"logContent"`
}

type ociData struct {
	Action          string         `json:"action"`
	Recipient       string         `json:"recipient"`
	MessageID       string         `json:"messageId"`
	ErrorType       string         `json:"errorType"`
	BounceCategory  string         `json:"bounceCategory"`
	SMTPStatus      string         `json:"smtpStatus"`
	UserAgent       string         `json:"userAgent"`
	RecipientIP     string         `json:"recipientIp"`
	URL             string         `json:"url"`
	Link            string         `json:"link"`
	Headers         map[string]any `json:"headers"`
	ComplaintType   string         `json:"complaintType"`
	FeedbackType    string         `json:"feedbackType"`
	ReceivingDomain string         `json:"receivingDomain"`
}

// Parse implements Vendor. A SubscriptionConfirmation gives ConfirmURL. A notification
// body is one log entry or a JSON array of them (Connector Hub batches). See ociEvent
// for the mapping; DedupeKey is "ocimail:" + the log entry id, else the ONS message id
// and the entry's index.
func (OCIMail) Parse(_ context.Context, r *Request) (*Result, error) {
	res := &Result{Ignored: map[string]int{}}
	if u, ok := ociConfirmation(r); ok {
		if !ociURLOK(u) {
			return nil, errUnauthorized()
		}
		res.ConfirmURL = u
		return res, nil
	}
	var entries []json.RawMessage
	body := bytes.TrimSpace(r.Body)
	if len(body) > 0 && body[0] == '[' {
		if err := json.Unmarshal(body, &entries); err != nil {
			return nil, errMalformed("ocimail")
		}
	} else {
		entries = []json.RawMessage{body}
	}
	onsID := r.Header.Get("X-Oci-Ns-Messageid")
	fallback := firstTimeB(r.Now, r.Header.Get("X-Oci-Ns-Timestamp"))
	for i, raw := range entries {
		e, kind, err := ociEvent(raw, fallback)
		if err != nil {
			return nil, err
		}
		if kind != "" {
			res.Ignored[kind]++
			continue
		}
		switch {
		case e.Metadata.VendorEventID != "":
			e.DedupeKey = "ocimail:" + e.Metadata.VendorEventID
		case onsID != "":
			e.DedupeKey = fmt.Sprintf("ocimail:%s:%d", onsID, i)
		default:
			e.DedupeKey = contentKeyB("ocimail", string(raw))
		}
		res.Events = append(res.Events, e)
	}
	return res, nil
}

// ociEvent maps one log entry. data.action relay without an error → delivered; relay
// with an error, or bounce → bounced (hard/soft from errorType or bounceCategory naming
// hard/permanent or soft/transient, else from smtpStatus, else soft); complaint →
// complained; unsubscribe → unsubscribed; open → opened; click → clicked. accept
// (submission logs) and unknown actions are ignored under their action name.
func ociEvent(raw json.RawMessage, fallback time.Time) (mailtrail.Event, string, error) {
	var en ociEntry
	if err := json.Unmarshal(raw, &en); err != nil {
		return mailtrail.Event{}, "", errMalformed("ocimail")
	}
	if len(en.LogContent) > 0 {
		var inner ociEntry
		if err := json.Unmarshal(en.LogContent, &inner); err != nil {
			return mailtrail.Event{}, "", errMalformed("ocimail")
		}
		if inner.Time == "" {
			inner.Time = ociDatetime(en.Datetime)
		}
		en = inner
	}
	d := en.Data
	action := strings.ToLower(strings.TrimSpace(d.Action))
	if action == "" {
		return mailtrail.Event{}, "", errMalformed("ocimail")
	}
	var t mailtrail.EventType
	switch action {
	case "relay":
		t = mailtrail.EventDelivered
		if d.ErrorType != "" || d.BounceCategory != "" || strings.HasPrefix(d.SMTPStatus, "4") || strings.HasPrefix(d.SMTPStatus, "5") {
			t = mailtrail.EventBounced
		}
	case "bounce":
		t = mailtrail.EventBounced
	case "complaint":
		t = mailtrail.EventComplained
	case "unsubscribe":
		t = mailtrail.EventUnsubscribed
	case "open":
		t = mailtrail.EventOpened
	case "click":
		t = mailtrail.EventClicked
	default:
		return mailtrail.Event{}, action, nil
	}
	e := newEventB("ocimail", t, firstTimeB(fallback, en.Time), en.ID)
	e.CustomerEmail = d.Recipient
	e.ESPMessageID = trimAnglesB(d.MessageID)
	headers := map[string]string{}
	for k, v := range d.Headers {
		if s, ok := v.(string); ok {
			headers[strings.ToLower(k)] = s
		}
	}
	applyArgsB(&e, func(name string) string { return headers[strings.ToLower(name)] })
	switch t {
	case mailtrail.EventBounced:
		e.Metadata.BounceType = ociBounceType(d)
		e.Metadata.SMTPCode = bouncemail.Enhanced(d.SMTPStatus)
		if e.Metadata.SMTPCode == "" {
			e.Metadata.SMTPCode = bouncemail.Basic(d.SMTPStatus)
		}
		e.Metadata.Reason = strings.TrimSpace(d.ErrorType + ": " + d.SMTPStatus)
		e.Metadata.Reason = strings.Trim(e.Metadata.Reason, ": ")
		e.Metadata.Raw = append(json.RawMessage(nil), raw...)
	case mailtrail.EventComplained:
		e.Metadata.FeedbackType = strings.ToLower(d.ComplaintType + d.FeedbackType)
		if e.Metadata.FeedbackType == "" {
			e.Metadata.FeedbackType = "abuse"
		}
		e.Metadata.Raw = append(json.RawMessage(nil), raw...)
	case mailtrail.EventOpened, mailtrail.EventClicked:
		e.Metadata.UserAgent, e.Metadata.IP = d.UserAgent, d.RecipientIP
		e.Metadata.LinkURL = d.URL
		if e.Metadata.LinkURL == "" {
			e.Metadata.LinkURL = d.Link
		}
		if t == mailtrail.EventOpened {
			e.Metadata.LinkURL = ""
		}
	}
	return e, "", nil
}

// ociBounceType reads OCI's classification, then the SMTP status; soft when neither
// says (a soft bounce does not suppress at once).
func ociBounceType(d ociData) mailtrail.BounceType {
	s := strings.ToLower(d.BounceCategory + " " + d.ErrorType)
	switch {
	case strings.Contains(s, "hard") || strings.Contains(s, "permanent"):
		return mailtrail.BounceHard
	case strings.Contains(s, "soft") || strings.Contains(s, "transient"):
		return mailtrail.BounceSoft
	}
	if bt := bouncemail.Classify("", d.SMTPStatus); bt != "" {
		return bt
	}
	return mailtrail.BounceSoft
}

// ociDatetime renders a Logging "datetime" (epoch milliseconds, or a timestamp string in
// search results) as RFC 3339, or "".
func ociDatetime(raw json.RawMessage) string {
	var ms int64
	if json.Unmarshal(raw, &ms) == nil && ms > 0 {
		return time.UnixMilli(ms).UTC().Format(time.RFC3339Nano)
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return ""
}
