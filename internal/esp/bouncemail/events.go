package bouncemail

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"

	"github.com/mailtrail/mailtrail"
)

// maxRaw bounds the report text kept in an event's Metadata.Raw.
const maxRaw = 64 << 10

// Events maps a report to mailtrail events for the connection's vendor ("smtp", or the
// vendor whose bounce mailbox was read). now is the time used when the report carries no
// date. ignored counts what was recognised but not recorded: "not-report" for mail that
// is no report, "expanded", "not-spam", "unknown-action", "no-recipient".
//
// DSN recipients: Action failed → bounced (hard or soft by Classify; hard when no code is
// given, as RFC 3464 defines failed as permanent); delayed → deferred (the reporting MTA
// keeps trying: never a bounce); delivered or relayed → delivered.
// ARF: any Feedback-Type but not-spam → complained, one event per Original-Rcpt-To (else
// the original's To). Our HeaderMessageID → MessageID; the original Message-ID →
// ESPMessageID. DedupeKey is vendor + ":" + a hash of the report's Message-ID (or of its
// content when it has none) and the recipient.
func Events(rep *Report, vendor string, now time.Time) (events []mailtrail.Event, ignored map[string]int) {
	ignored = map[string]int{}
	switch rep.Kind {
	case KindDSN:
		for _, r := range rep.Recipients {
			e, kind := dsnEvent(rep, r)
			if kind != "" {
				ignored[kind]++
				continue
			}
			events = append(events, finish(rep, e, vendor, r.LastAttempt, now))
		}
		if len(rep.Recipients) == 0 {
			ignored["no-recipient"]++
		}
	case KindARF:
		f := rep.Feedback
		if f.Type == "not-spam" {
			ignored["not-spam"]++
			return nil, ignored
		}
		rcpts := f.Recipients
		if len(rcpts) == 0 {
			rcpts = []string{rep.Original.To}
		}
		for _, to := range rcpts {
			e := mailtrail.Event{Type: mailtrail.EventComplained, CustomerEmail: to}
			e.Metadata.FeedbackType = f.Type
			if e.Metadata.FeedbackType == "" {
				e.Metadata.FeedbackType = "abuse"
			}
			e.Metadata.UserAgent = f.UserAgent
			events = append(events, finish(rep, e, vendor, time.Time{}, now))
		}
	default:
		ignored["not-report"]++
	}
	return events, ignored
}

// dsnEvent maps one DSN recipient; a non-empty kind means "ignored as kind".
func dsnEvent(rep *Report, r Recipient) (mailtrail.Event, string) {
	e := mailtrail.Event{CustomerEmail: r.Email}
	action := r.Action
	if action == "" && (strings.HasPrefix(r.Status, "5") || strings.HasPrefix(r.Status, "4")) {
		action = "failed"
	}
	switch action {
	case "failed", "delayed":
		e.Type = mailtrail.EventBounced
		if action == "delayed" {
			e.Type = mailtrail.EventDeferred
		} else if e.Metadata.BounceType = Classify(r.Status, r.DiagnosticCode); e.Metadata.BounceType == "" {
			e.Metadata.BounceType = mailtrail.BounceHard
		}
		e.Metadata.SMTPCode = r.Status
		if !isEnhanced(e.Metadata.SMTPCode) {
			e.Metadata.SMTPCode = Enhanced(r.DiagnosticCode)
		}
		if e.Metadata.SMTPCode == "" {
			e.Metadata.SMTPCode = Basic(r.DiagnosticCode)
		}
		e.Metadata.Reason = r.DiagnosticCode
	case "delivered", "relayed":
		e.Type = mailtrail.EventDelivered
	case "expanded":
		return e, action
	default:
		return e, "unknown-action"
	}
	return e, ""
}

// finish sets what every event of a report shares.
func finish(rep *Report, e mailtrail.Event, vendor string, at, now time.Time) mailtrail.Event {
	switch {
	case !at.IsZero():
	case !rep.Date.IsZero():
		at = rep.Date
	default:
		at = now
	}
	e.OccurredAt = at.UTC()
	e.Source = mailtrail.SourceWebhook
	e.MessageID = rep.Original.MailtrailID
	e.ESPMessageID = rep.Original.MessageID
	e.Metadata.Vendor = vendor
	e.Metadata.VendorEventID = rep.MessageID
	if e.Type == mailtrail.EventBounced || e.Type == mailtrail.EventDeferred || e.Type == mailtrail.EventComplained {
		e.Metadata.Raw = rawText(rep.Part)
	}
	id := rep.MessageID
	if id == "" {
		id = hex.EncodeToString(rep.ContentHash[:])
	}
	sum := sha256.Sum256([]byte(id + "\x00" + strings.ToLower(e.CustomerEmail)))
	e.DedupeKey = vendor + ":" + hex.EncodeToString(sum[:16])
	return e
}

// rawText encodes report text as a JSON string (Metadata.Raw must be JSON), bounded.
func rawText(s string) json.RawMessage {
	if len(s) > maxRaw {
		s = s[:maxRaw]
	}
	b, err := json.Marshal(strings.ToValidUTF8(s, "\uFFFD"))
	if err != nil {
		return nil
	}
	return b
}
