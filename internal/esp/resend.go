package esp

import (
	"context"
	"crypto/hmac"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/mailtrail/mailtrail"
)

// Resend is the "resend" vendor: Resend webhooks, signed by Svix. Credentials:
// SigningKey is the endpoint's "whsec_<base64>" secret.
type Resend struct{}

// NewResend returns the resend vendor.
func NewResend() Vendor { return Resend{} }

// Name implements Vendor.
func (Resend) Name() string { return "resend" }

// MaxBody implements Vendor.
func (Resend) MaxBody() int64 { return 1 << 20 }

// resendHeader returns a Svix header, or its Standard Webhooks twin ("webhook-id", …),
// which carries the same scheme.
func resendHeader(h map[string][]string, name string) string {
	for _, n := range []string{"Svix-" + name, "Webhook-" + name} {
		if v := strings.TrimSpace(resendFirst(h[n])); v != "" {
			return v
		}
	}
	return ""
}

func resendFirst(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

// Verify implements Vendor: HMAC-SHA256 keyed with the base64-decoded secret over
// "svix-id.svix-timestamp.body", compared in constant time with every "v1,<base64>"
// signature of the svix-signature header (several during a rotation on Resend's side);
// svix-timestamp must be within Window of arrival.
func (Resend) Verify(_ context.Context, r *Request, c Credentials) error {
	id, ts, sigs := resendHeader(r.Header, "Id"), resendHeader(r.Header, "Timestamp"), resendHeader(r.Header, "Signature")
	if id == "" || ts == "" || sigs == "" {
		return errUnauthorized()
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || !withinWindow(time.Unix(sec, 0), r.Now) {
		return errUnauthorized()
	}
	var given [][]byte
	for _, s := range strings.Fields(sigs) {
		v, b64, ok := strings.Cut(s, ",")
		if !ok || v != "v1" {
			continue
		}
		if raw, err := base64.StdEncoding.DecodeString(b64); err == nil {
			given = append(given, raw)
		}
	}
	ok := eachCredential(c, func(c Credentials) bool {
		key, ok := resendKey(c.SigningKey)
		if !ok {
			return false
		}
		want := hmacSHA256(key, []byte(id), []byte("."), []byte(ts), []byte("."), r.Body)
		match := false
		for _, g := range given {
			if hmac.Equal(g, want) {
				match = true
			}
		}
		return match
	})
	if !ok {
		return errUnauthorized()
	}
	return nil
}

type resendPayload struct {
	Type      string `json:"type"`
	CreatedAt string `json:"created_at"`
	Data      struct {
		EmailID   string          `json:"email_id"`
		CreatedAt string          `json:"created_at"`
		To        json.RawMessage `json:"to"`
		Tags      json.RawMessage `json:"tags"`
		Headers   json.RawMessage `json:"headers"`
		Bounce    *struct {
			Message string `json:"message"`
			Type    string `json:"type"`
			SubType string `json:"subType"`
		} `json:"bounce"`
		Click *struct {
			IPAddress string `json:"ipAddress"`
			Link      string `json:"link"`
			Timestamp string `json:"timestamp"`
			UserAgent string `json:"userAgent"`
		} `json:"click"`
	} `json:"data"`
}

// Parse implements Vendor. One webhook is one event: email.delivered, email.bounced
// (data.bounce.type Permanent → hard, Transient/Undetermined → soft; hard when absent,
// as Resend sends email.bounced for permanent rejections), email.complained,
// email.opened, email.clicked; email.delivery_delayed (Resend keeps trying) is a
// deferred event, never a bounce. Other types (email.sent, email.failed, contact.*,
// domain.*, …) go to Ignored. The recipient is set when data.to
// names exactly one address. DedupeKey is "resend:" + svix-id (stable across retries).
func (Resend) Parse(_ context.Context, r *Request) (*Result, error) {
	var p resendPayload
	if err := json.Unmarshal(r.Body, &p); err != nil || p.Type == "" {
		return nil, errMalformed("resend")
	}
	res := &Result{Ignored: map[string]int{}}
	var t mailtrail.EventType
	switch p.Type {
	case "email.delivered":
		t = mailtrail.EventDelivered
	case "email.delivery_delayed":
		t = mailtrail.EventDeferred
	case "email.bounced":
		t = mailtrail.EventBounced
	case "email.complained":
		t = mailtrail.EventComplained
	case "email.opened":
		t = mailtrail.EventOpened
	case "email.clicked":
		t = mailtrail.EventClicked
	default:
		res.Ignored[p.Type]++
		return res, nil
	}
	id := resendHeader(r.Header, "Id")
	stamps := []string{p.CreatedAt, p.Data.CreatedAt}
	if p.Data.Click != nil {
		stamps = append([]string{p.Data.Click.Timestamp}, stamps...)
	}
	e := newEventB("resend", t, firstTimeB(r.Now, stamps...), id)
	e.ESPMessageID = p.Data.EmailID
	e.CustomerEmail = resendSingle(p.Data.To)
	tags, headers := resendPairs(p.Data.Tags), resendPairs(p.Data.Headers)
	applyArgsB(&e, func(name string) string {
		if v := tags[name]; v != "" {
			return v
		}
		return headers[strings.ToLower(name)]
	})
	e.DedupeKey = "resend:" + id
	if id == "" {
		e.DedupeKey = contentKeyB("resend", string(r.Body))
	}
	switch t {
	case mailtrail.EventBounced:
		e.Metadata.BounceType = mailtrail.BounceHard
		if b := p.Data.Bounce; b != nil {
			if b.Type != "" && b.Type != "Permanent" {
				e.Metadata.BounceType = mailtrail.BounceSoft
			}
			e.Metadata.Reason = b.Message
			e.Metadata.Extra = map[string]any{"bounce_type": b.Type, "bounce_sub_type": b.SubType}
		}
		e.Metadata.Raw = append(json.RawMessage(nil), r.Body...)
	case mailtrail.EventComplained:
		e.Metadata.FeedbackType = "abuse"
		e.Metadata.Raw = append(json.RawMessage(nil), r.Body...)
	case mailtrail.EventClicked:
		if c := p.Data.Click; c != nil {
			e.Metadata.LinkURL, e.Metadata.IP, e.Metadata.UserAgent = c.Link, c.IPAddress, c.UserAgent
		}
	}
	res.Events = append(res.Events, e)
	return res, nil
}

// resendSingle returns the address of a one-recipient "to" (a string or a one-element
// list), else "".
func resendSingle(raw json.RawMessage) string {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return one
	}
	var list []string
	if json.Unmarshal(raw, &list) == nil && len(list) == 1 {
		return list[0]
	}
	return ""
}

// resendPairs reads tags or headers given as an object {"name":"value"} or as a list of
// {"name":…,"value":…}. Header names are lower-cased by the caller's lookups; both forms
// are stored under their name as given and in lower case.
func resendPairs(raw json.RawMessage) map[string]string {
	out := map[string]string{}
	var obj map[string]any
	if json.Unmarshal(raw, &obj) == nil {
		for k, v := range obj {
			if s, ok := v.(string); ok {
				out[k], out[strings.ToLower(k)] = s, s
			}
		}
		return out
	}
	var list []struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	}
	if json.Unmarshal(raw, &list) == nil {
		for _, kv := range list {
			out[kv.Name], out[strings.ToLower(kv.Name)] = kv.Value, kv.Value
		}
	}
	return out
}
