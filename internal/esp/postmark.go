package esp

import (
	"context"
	"encoding/json"
	"time"

	"github.com/mailtrail/mailtrail"
)

// postmark is the Postmark webhook: one JSON object per POST, discriminated by
// RecordType. Postmark signs nothing.
//
// Credentials: basic auth (Username/Password, embedded in the webhook URL), a bearer
// token or the shared-secret header HeaderWebhookSecret equal to SigningKey (Postmark's
// custom HTTP headers). A connection with none is refused.
type postmark struct{}

var _ Vendor = postmark{}

// NewPostmark returns the Postmark webhook vendor.
func NewPostmark() Vendor { return postmark{} }

// Name implements Vendor.
func (postmark) Name() string { return "postmark" }

// MaxBody implements Vendor: 1 MiB.
func (postmark) MaxBody() int64 { return 1 << 20 }

// Verify implements Vendor: basic auth, bearer token or the shared-secret header,
// compared in constant time; anything else is EUNAUTHORIZED.
func (postmark) Verify(_ context.Context, r *Request, c Credentials) error {
	basic := checkBasicOrBearer(r.Header.Get("Authorization"), c)
	secret := hookHeaderSecret(r, c)
	if !basic && !secret {
		return errUnauthorized()
	}
	return nil
}

// postmarkRecord holds the fields of every Postmark record type that we use.
type postmarkRecord struct {
	RecordType        hookString  `json:"RecordType"`
	ID                json.Number `json:"ID"`
	Type              hookString  `json:"Type"`
	MessageID         hookString  `json:"MessageID"`
	Recipient         hookString  `json:"Recipient"`
	Email             hookString  `json:"Email"`
	DeliveredAt       hookString  `json:"DeliveredAt"`
	BouncedAt         hookString  `json:"BouncedAt"`
	ReceivedAt        hookString  `json:"ReceivedAt"`
	ChangedAt         hookString  `json:"ChangedAt"`
	Details           hookString  `json:"Details"`
	Description       hookString  `json:"Description"`
	SuppressSending   hookBool    `json:"SuppressSending"`
	MessageStream     hookString  `json:"MessageStream"`
	SuppressionReason hookString  `json:"SuppressionReason"`
	OriginalLink      hookString  `json:"OriginalLink"`
	UserAgent         hookString  `json:"UserAgent"`
	Client            struct {
		Name hookString `json:"Name"`
	} `json:"Client"`
	Platform hookString `json:"Platform"`
	Geo      struct {
		IP      hookString `json:"IP"`
		Country hookString `json:"Country"`
		City    hookString `json:"City"`
	} `json:"Geo"`
	Metadata *hookArgs `json:"Metadata"`
}

// postmarkHard and postmarkSoft classify the Type of a Bounce record. Transient
// ("message delayed", Postmark keeps trying) is a deferred event and Unsubscribe (the
// recipient answered with an unsubscribe or remove request) an unsubscribed event; any
// other Type (AutoResponder, ChallengeVerification, AddressChange, Subscribe,
// OpenRelayTest, Unconfirmed, InboundError, SMTPApiError, TemplateRenderingFailed) is
// not a delivery failure of the recipient and is counted in Ignored as "Bounce:<Type>".
var (
	postmarkHard = map[string]bool{"HardBounce": true, "BadEmailAddress": true, "ManuallyDeactivated": true}
	postmarkSoft = map[string]bool{
		"SoftBounce": true, "DnsError": true, "Blocked": true,
		"SpamNotification": true, "VirusNotification": true, "DMARCPolicy": true, "Unknown": true,
	}
)

// postmarkRecordType returns the record's RecordType. Postmark's older webhooks, and the
// bounce sample on its webhooks page, carry none: the type is then inferred from a field
// only that record type has (BouncedAt: Bounce, or SpamComplaint when Type says so;
// DeliveredAt: Delivery; ChangedAt: SubscriptionChange; OriginalLink: Click;
// ReceivedAt: Open). "" when nothing tells.
func postmarkRecordType(rec *postmarkRecord) hookString {
	switch {
	case rec.RecordType != "":
		return rec.RecordType
	case rec.BouncedAt != "" && rec.Type == "SpamComplaint":
		return "SpamComplaint"
	case rec.BouncedAt != "":
		return "Bounce"
	case rec.DeliveredAt != "":
		return "Delivery"
	case rec.ChangedAt != "":
		return "SubscriptionChange"
	case rec.OriginalLink != "":
		return "Click"
	case rec.ReceivedAt != "":
		return "Open"
	}
	return ""
}

// Parse implements Vendor. See VENDORS_A.md for the mapping.
func (postmark) Parse(_ context.Context, r *Request) (*Result, error) {
	var rec postmarkRecord
	if err := hookDecodeObject("postmark", r.Body, &rec); err != nil {
		return nil, err
	}
	res := hookNewResult()
	// A stream reactivated for an address: a resubscribe to that stream's topic.
	if rec.RecordType == "SubscriptionChange" && !rec.SuppressSending && rec.MessageStream != "" && rec.Recipient != "" {
		at, err := postmarkTime(string(rec.ChangedAt))
		if err != nil {
			return nil, err
		}
		res.Resubscribes = append(res.Resubscribes, mailtrail.Resubscribe{Email: string(rec.Recipient), Topic: string(rec.MessageStream), At: at})
		return res, nil
	}
	e, kind, err := postmarkMap(&rec, r.Body)
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

// postmarkMap maps a record; a non-empty kind means "not recorded, count it as kind".
func postmarkMap(rec *postmarkRecord, raw []byte) (e mailtrail.Event, kind string, err error) {
	var (
		t    mailtrail.EventType
		when hookString
		id   string
		rcpt = rec.Recipient
	)
	switch rt := postmarkRecordType(rec); rt {
	case "Delivery":
		t, when = mailtrail.EventDelivered, rec.DeliveredAt
	case "Bounce", "SpamComplaint":
		t, when, id, rcpt = mailtrail.EventBounced, rec.BouncedAt, rec.ID.String(), rec.Email
		switch {
		case rt == "SpamComplaint" || rec.Type == "SpamComplaint":
			t = mailtrail.EventComplained
		case rec.Type == "Transient":
			t = mailtrail.EventDeferred
		case rec.Type == "Unsubscribe":
			t = mailtrail.EventUnsubscribed
		case !postmarkHard[string(rec.Type)] && !postmarkSoft[string(rec.Type)]:
			return e, "Bounce:" + string(rec.Type), nil
		}
	case "SubscriptionChange":
		if !rec.SuppressSending {
			return e, "SubscriptionChange:reactivated", nil
		}
		if r := rec.SuppressionReason; r == "HardBounce" || r == "SpamComplaint" {
			return e, "SubscriptionChange:" + string(r), nil // the Bounce/SpamComplaint record carries it
		}
		t, when = mailtrail.EventUnsubscribed, rec.ChangedAt
	case "Open":
		t, when = mailtrail.EventOpened, rec.ReceivedAt
	case "Click":
		t, when = mailtrail.EventClicked, rec.ReceivedAt
	case "":
		return e, "", errMalformed("postmark")
	default:
		return e, string(rt), nil
	}
	at, err := postmarkTime(string(when))
	if err != nil {
		return e, "", err
	}
	e = hookEvent("postmark", t, at)
	rec.Metadata.apply(&e)
	if t == mailtrail.EventUnsubscribed {
		e.Metadata.Topic = string(rec.MessageStream) // Postmark suppresses per stream
	}
	e.CustomerEmail = string(rcpt)
	e.ESPMessageID = string(rec.MessageID)
	switch t {
	case mailtrail.EventDelivered:
		e.Metadata.Reason = string(rec.Details)
	case mailtrail.EventBounced, mailtrail.EventDeferred:
		if t == mailtrail.EventBounced {
			e.Metadata.BounceType = mailtrail.BounceSoft
			if postmarkHard[string(rec.Type)] {
				e.Metadata.BounceType = mailtrail.BounceHard
			}
		}
		e.Metadata.Reason = string(rec.Details)
		if e.Metadata.Reason == "" {
			e.Metadata.Reason = string(rec.Description)
		}
		e.Metadata.Raw = hookRaw(raw)
	case mailtrail.EventComplained:
		e.Metadata.FeedbackType = "abuse"
		e.Metadata.Raw = hookRaw(raw)
	case mailtrail.EventOpened, mailtrail.EventClicked:
		e.Metadata.UserAgent = string(rec.UserAgent)
		e.Metadata.Client = string(rec.Client.Name)
		e.Metadata.Device = string(rec.Platform)
		e.Metadata.IP = string(rec.Geo.IP)
		e.Metadata.Country = string(rec.Geo.Country)
		e.Metadata.City = string(rec.Geo.City)
		if t == mailtrail.EventClicked {
			e.Metadata.LinkURL = string(rec.OriginalLink)
		}
	}
	if id == "0" {
		id = ""
	}
	hookDedupe(&e, id)
	return e, "", nil
}

// postmarkTime parses Postmark's ISO 8601 times ("2024-05-29T16:27:30Z", with an offset
// or a fraction of up to seven digits) into UTC; missing or unparsable is EINVALID.
func postmarkTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || t.IsZero() || t.Year() < 1971 {
		return time.Time{}, mailtrail.Errorf(mailtrail.EINVALID, "malformed postmark payload: bad or missing event time")
	}
	return t.UTC(), nil
}
