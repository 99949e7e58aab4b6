package esp

import (
	"encoding/json"
	"fmt"
	"slices"
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
	DeliveryDelay *struct {
		Timestamp         string `json:"timestamp"`
		DelayType         string `json:"delayType"`
		ExpirationTime    string `json:"expirationTime"`
		DelayedRecipients []struct {
			EmailAddress   string `json:"emailAddress"`
			Status         string `json:"status"`
			DiagnosticCode string `json:"diagnosticCode"`
		} `json:"delayedRecipients"`
	} `json:"deliveryDelay"`
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
// Subscription with an opt-out gives unsubscribed per destination; DeliveryDelay (SES
// keeps trying) one deferred event per delayed recipient, never a bounce. Send, Reject,
// Rendering Failure and unknown kinds are counted in Ignored.
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
	case kind == "DeliveryDelay" && m.DeliveryDelay != nil:
		d := m.DeliveryDelay
		for i, rc := range d.DelayedRecipients {
			e := add(mailtrail.EventDeferred, i, rc.EmailAddress, d.Timestamp)
			e.Metadata.SMTPCode = sesCode(rc.Status, rc.DiagnosticCode)
			e.Metadata.Reason = rc.DiagnosticCode
			if e.Metadata.Reason == "" {
				e.Metadata.Reason = d.DelayType
			}
			e.Metadata.Extra = map[string]any{"delay_type": d.DelayType, "expiration_time": d.ExpirationTime}
		}
	case kind == "Open" && m.Open != nil:
		e := add(mailtrail.EventOpened, 0, m.Mail.only(), m.Open.Timestamp)
		e.Metadata.UserAgent, e.Metadata.IP = m.Open.UserAgent, m.Open.IPAddress
	case kind == "Click" && m.Click != nil:
		e := add(mailtrail.EventClicked, 0, m.Mail.only(), m.Click.Timestamp)
		e.Metadata.UserAgent, e.Metadata.IP, e.Metadata.LinkURL = m.Click.UserAgent, m.Click.IPAddress, m.Click.Link
	case kind == "Subscription" && m.Subscription != nil && sesSubscription(&m, fallback, add, res):
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

// sesSubscription maps a Subscription event and reports whether it recorded anything:
// unsubscribeAll gives unsubscribed (every email) per destination; otherwise each topic
// in OptOut gives unsubscribed scoped to that topic per destination, and each topic in
// OptIn a Resubscribe to it (the state at the event's time: an earlier unsubscribe from
// the topic no longer holds).
func sesSubscription(m *sesMessage, fallback time.Time, add func(mailtrail.EventType, int, string, string) *mailtrail.Event, res *Result) bool {
	all, out, in := sesTopics(m.Subscription.NewTopicPreferences)
	ts := m.Subscription.Timestamp
	n := len(m.Mail.Destination)
	for i, rc := range m.Mail.Destination {
		if all {
			add(mailtrail.EventUnsubscribed, i, rc, ts)
			continue
		}
		for j, topic := range out {
			add(mailtrail.EventUnsubscribed, j*n+i, rc, ts).Metadata.Topic = topic
		}
		for _, topic := range in {
			res.Resubscribes = append(res.Resubscribes, mailtrail.Resubscribe{Email: rc, Topic: topic, At: firstTimeB(fallback, ts)})
		}
	}
	return n > 0 && (all || len(out) > 0 || len(in) > 0)
}

// sesTopics reads a Subscription event's new preferences: unsubscribeAll, and the topics
// in OptOut and in OptIn, sorted. topicSubscriptionStatus is a list of {topicName,
// subscriptionStatus} in AWS's examples; a name→status map is accepted too.
func sesTopics(raw json.RawMessage) (all bool, optOut, optIn []string) {
	var p struct {
		UnsubscribeAll bool            `json:"unsubscribeAll"`
		Topics         json.RawMessage `json:"topicSubscriptionStatus"`
	}
	if json.Unmarshal(raw, &p) != nil {
		return false, nil, nil
	}
	status := map[string]string{}
	var list []struct {
		TopicName          string `json:"topicName"`
		SubscriptionStatus string `json:"subscriptionStatus"`
	}
	if json.Unmarshal(p.Topics, &list) == nil {
		for _, t := range list {
			status[t.TopicName] = t.SubscriptionStatus
		}
	} else {
		_ = json.Unmarshal(p.Topics, &status)
	}
	for name, st := range status {
		switch {
		case name == "":
		case strings.EqualFold(st, "OptOut"):
			optOut = append(optOut, name)
		case strings.EqualFold(st, "OptIn"):
			optIn = append(optIn, name)
		}
	}
	slices.Sort(optOut)
	slices.Sort(optIn)
	return p.UnsubscribeAll, optOut, optIn
}
