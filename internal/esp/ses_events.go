package esp

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/mailtrail/mailtrail"
)

// sesMessage is the SES JSON inside an SNS Notification: identity notifications carry
// notificationType, configuration-set event publishing carries eventType.
type sesMessage struct {
	EventType        string  `json:"eventType"`
	NotificationType string  `json:"notificationType"`
	Mail             sesMail `json:"mail"`
	Bounce           *struct {
		BounceType        string `json:"bounceType"`
		BounceSubType     string `json:"bounceSubType"`
		Timestamp         string `json:"timestamp"`
		FeedbackID        string `json:"feedbackId"`
		BouncedRecipients []struct {
			EmailAddress   string `json:"emailAddress"`
			Status         string `json:"status"`
			DiagnosticCode string `json:"diagnosticCode"`
		} `json:"bouncedRecipients"`
	} `json:"bounce"`
	Complaint *struct {
		Timestamp             string `json:"timestamp"`
		FeedbackID            string `json:"feedbackId"`
		ComplaintFeedbackType string `json:"complaintFeedbackType"`
		UserAgent             string `json:"userAgent"`
		ComplainedRecipients  []struct {
			EmailAddress string `json:"emailAddress"`
		} `json:"complainedRecipients"`
	} `json:"complaint"`
	Delivery *struct {
		Timestamp  string   `json:"timestamp"`
		Recipients []string `json:"recipients"`
	} `json:"delivery"`
	Open         *sesEngagement `json:"open"`
	Click        *sesEngagement `json:"click"`
	Subscription *struct {
		Timestamp           string          `json:"timestamp"`
		NewTopicPreferences json.RawMessage `json:"newTopicPreferences"`
	} `json:"subscription"`
}

type sesMail struct {
	Timestamp   string   `json:"timestamp"`
	MessageID   string   `json:"messageId"`
	Destination []string `json:"destination"`
	Headers     []struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	} `json:"headers"`
	Tags map[string][]string `json:"tags"`
}

type sesEngagement struct {
	Timestamp string `json:"timestamp"`
	IPAddress string `json:"ipAddress"`
	UserAgent string `json:"userAgent"`
	Link      string `json:"link"`
}

// sesEvents maps a Notification's SES message into res. Bounce and Complaint give one
// event per recipient; Delivery one per delivered recipient; Open and Click one event (SES
// does not say which recipient; the only destination is used when there is one);
// Subscription with an opt-out gives unsubscribed per destination. Send, Reject,
// DeliveryDelay, Rendering Failure and unknown kinds are counted in Ignored.
func sesEvents(env *snsEnvelope, now time.Time, res *Result) error {
	var m sesMessage
	if err := json.Unmarshal([]byte(env.Message), &m); err != nil {
		return errMalformed("ses")
	}
	kind := m.EventType
	if kind == "" {
		kind = m.NotificationType
	}
	fallback := firstTimeB(now, env.Timestamp)
	raw := json.RawMessage(env.Message)
	// A mail to several recipients carries one set of tags (its first recipient's message):
	// each recipient's event is attributed by its own address within the mail.
	shared := len(m.Mail.Destination) > 1
	add := func(t mailtrail.EventType, idx int, email, ts string) *mailtrail.Event {
		e := newEventB("ses", t, firstTimeB(fallback, ts), env.MessageID)
		e.CustomerEmail = email
		e.ESPMessageID = m.Mail.MessageID
		applyArgsB(&e, m.Mail.arg)
		e.SharedMessage = shared && email != "" && t != mailtrail.EventOpened && t != mailtrail.EventClicked
		e.DedupeKey = fmt.Sprintf("ses:%s:%d", env.MessageID, idx)
		if env.MessageID == "" {
			e.DedupeKey = contentKeyB("ses", env.Message, fmt.Sprint(idx))
		}
		res.Events = append(res.Events, e)
		return &res.Events[len(res.Events)-1]
	}
	switch {
	case kind == "Bounce" && m.Bounce != nil:
		b := m.Bounce
		bt := mailtrail.BounceSoft
		if b.BounceType == "Permanent" {
			bt = mailtrail.BounceHard
		}
		for i, rc := range b.BouncedRecipients {
			e := add(mailtrail.EventBounced, i, rc.EmailAddress, b.Timestamp)
			e.Metadata.BounceType = bt
			e.Metadata.SMTPCode = sesCode(rc.Status, rc.DiagnosticCode)
			e.Metadata.Reason = rc.DiagnosticCode
			if e.Metadata.Reason == "" {
				e.Metadata.Reason = strings.TrimSpace(b.BounceType + " " + b.BounceSubType)
			}
			e.Metadata.Extra = map[string]any{"bounce_sub_type": b.BounceSubType, "feedback_id": b.FeedbackID}
			e.Metadata.Raw = raw
		}
	case kind == "Complaint" && m.Complaint != nil:
		c := m.Complaint
		for i, rc := range c.ComplainedRecipients {
			e := add(mailtrail.EventComplained, i, rc.EmailAddress, c.Timestamp)
			e.Metadata.FeedbackType = c.ComplaintFeedbackType
			if e.Metadata.FeedbackType == "" {
				e.Metadata.FeedbackType = "abuse"
			}
			e.Metadata.UserAgent = c.UserAgent
			e.Metadata.Extra = map[string]any{"feedback_id": c.FeedbackID}
			e.Metadata.Raw = raw
		}
	case kind == "Delivery" && m.Delivery != nil:
		for i, rc := range m.Delivery.Recipients {
			add(mailtrail.EventDelivered, i, rc, m.Delivery.Timestamp)
		}
	case kind == "Open" && m.Open != nil:
		e := add(mailtrail.EventOpened, 0, m.Mail.only(), m.Open.Timestamp)
		e.Metadata.UserAgent, e.Metadata.IP = m.Open.UserAgent, m.Open.IPAddress
	case kind == "Click" && m.Click != nil:
		e := add(mailtrail.EventClicked, 0, m.Mail.only(), m.Click.Timestamp)
		e.Metadata.UserAgent, e.Metadata.IP, e.Metadata.LinkURL = m.Click.UserAgent, m.Click.IPAddress, m.Click.Link
	case kind == "Subscription" && m.Subscription != nil && sesOptedOut(m.Subscription.NewTopicPreferences):
		for i, rc := range m.Mail.Destination {
			add(mailtrail.EventUnsubscribed, i, rc, m.Subscription.Timestamp)
		}
	case kind == "":
		return errMalformed("ses")
	default:
		res.Ignored[kind]++
	}
	return nil
}

// arg returns the first value of message tag name, else the value of header name.
func (m *sesMail) arg(name string) string {
	if v := m.Tags[name]; len(v) > 0 {
		return v[0]
	}
	for _, h := range m.Headers {
		if strings.EqualFold(h.Name, name) {
			return h.Value
		}
	}
	return ""
}

// only returns the single destination of the mail, or "" when there are several.
func (m *sesMail) only() string {
	if len(m.Destination) == 1 {
		return m.Destination[0]
	}
	return ""
}

// sesCode is the enhanced status of a bounced recipient, else the first code found in
// its diagnostic.
func sesCode(status, diag string) string {
	if status != "" {
		return status
	}
	for _, w := range strings.FieldsFunc(diag, func(r rune) bool { return r == ' ' || r == ';' || r == '-' }) {
		if len(w) >= 3 && (w[0] == '4' || w[0] == '5') && strings.Trim(w, "0123456789.") == "" {
			return w
		}
	}
	return ""
}

// sesOptedOut reports whether a Subscription event's new preferences unsubscribe from
// all topics or opt out of one. topicSubscriptionStatus is a list of
// {topicName, subscriptionStatus} in AWS's examples; a name→status map is accepted too.
func sesOptedOut(raw json.RawMessage) bool {
	var p struct {
		UnsubscribeAll bool            `json:"unsubscribeAll"`
		Topics         json.RawMessage `json:"topicSubscriptionStatus"`
	}
	if json.Unmarshal(raw, &p) != nil {
		return false
	}
	if p.UnsubscribeAll {
		return true
	}
	var list []struct {
		SubscriptionStatus string `json:"subscriptionStatus"`
	}
	if json.Unmarshal(p.Topics, &list) == nil {
		for _, t := range list {
			if strings.EqualFold(t.SubscriptionStatus, "OptOut") {
				return true
			}
		}
		return false
	}
	var byName map[string]string
	if json.Unmarshal(p.Topics, &byName) == nil {
		for _, v := range byName {
			if strings.EqualFold(v, "OptOut") {
				return true
			}
		}
	}
	return false
}
