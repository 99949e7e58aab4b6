// Package message is the use case of instrumenting messages (POST /api/v1/messages), with
// no HTTP in it: validate a campaign's content and recipients, store one message row per
// recipient with the content's links, and give each recipient its instrumented copy
// (tracking ids signed, links rewritten, pixel, List-Unsubscribe headers, the ESP custom
// arguments). It owns the small interface it needs of the store (Store).
package message

import (
	"context"
	"net/url"
	"strings"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/esp"
	"github.com/mailtrail/mailtrail/internal/instrument"
	"github.com/mailtrail/mailtrail/internal/token"
)

// MaxRecipients is the largest batch of one Create.
const MaxRecipients = 1000

// MaxAnswerContent bounds (len(html) + len(text)) × recipients of one Create: the
// instrumented copies the answer carries (made one at a time). It bounds the time a
// request takes; 100 KiB of HTML fits 1,000 recipients.
const MaxAnswerContent = 128 << 20

// Store is what instrumenting messages needs of the store.
type Store interface {
	OrgSettings(ctx context.Context, orgID string) (*mailtrail.OrgSettings, error)
	CreateMessages(ctx context.Context, orgID string, msgs []*mailtrail.Message) error
}

// Options configure the service.
type Options struct {
	// PublicURL is the base of tracking URLs, without trailing slash, unless the
	// organization has a tracking domain of its own.
	PublicURL string
	// UnsubscribeMailto, when set (e.g. "unsubscribe@example.com"), adds a mailto: to the
	// List-Unsubscribe header.
	UnsubscribeMailto string
}

// Service instruments messages. Safe for concurrent use.
type Service struct {
	store  Store
	signer *token.Signer
	opt    Options
}

// New returns the use case over store, signing tracking ids with signer.
func New(store Store, signer *token.Signer, opt Options) *Service {
	return &Service{store: store, signer: signer, opt: opt}
}

// Recipient is one recipient of a campaign's content.
type Recipient struct {
	CustomerID    string `json:"customer_id"`
	CustomerEmail string `json:"customer_email"`
}

// Request is a campaign's content and its recipients. Nil Track* and Honeypot are true
// (the honeypot only with click tracking).
type Request struct {
	CampaignID, CampaignName, Subject string
	HTML, Text                        string
	TrackOpens, TrackClicks, Honeypot *bool
	Recipients                        []Recipient
	Topic                             string
}

// TrackingURLs are the tracking URLs of one instrumented message.
type TrackingURLs struct {
	OpenURL        string   `json:"open_url,omitempty"`
	ClickURLs      []string `json:"click_urls"`
	HoneypotURL    string   `json:"honeypot_url,omitempty"`
	UnsubscribeURL string   `json:"unsubscribe_url"`
}

// Instrumented is one recipient's message: its id, the instrumented content and headers,
// the ESP custom arguments that carry our ids, the links tracked and the tracking URLs.
type Instrumented struct {
	MessageID  string            `json:"message_id"`
	CampaignID string            `json:"campaign_id"`
	CustomerID string            `json:"customer_id"`
	HTML       string            `json:"html"`
	Text       string            `json:"text"`
	Headers    map[string]string `json:"headers"`
	CustomArgs map[string]string `json:"custom_args"`
	Links      []string          `json:"links"`
	Tracking   TrackingURLs      `json:"tracking"`
}

// Batch is a request whose messages are stored: Instrument gives each recipient's copy,
// one at a time (memory holds one instrumented copy, not one per recipient).
type Batch struct {
	s    *Service
	in   instrument.Input
	base string
	req  *Request
	refs []token.Ref
}

// Len is the number of messages of the batch.
func (b *Batch) Len() int { return len(b.refs) }

// Instrument returns the instrumented copy of the batch's message i. It cannot fail: the
// same content was instrumented before the messages were stored (an error says a bug).
func (b *Batch) Instrument(i int) (*Instrumented, error) {
	return b.s.instrumentOne(b.in, b.base, b.refs[i], b.req.CampaignID, b.req.Recipients[i])
}

// Create validates req (nothing stored when anything is wrong: EINVALID, with one detail
// per bad recipient), instruments the content once for its links, and stores one message
// per recipient (durable when it returns). Recipients get the same content, so the same
// links; their copies come from the returned Batch. req.Topic is trimmed.
func (s *Service) Create(ctx context.Context, orgID string, req *Request) (*Batch, error) {
	if err := validate(req); err != nil {
		return nil, err
	}
	base := s.opt.PublicURL // or the organization's tracking domain
	st, err := s.store.OrgSettings(ctx, orgID)
	if err != nil {
		return nil, err
	}
	if st.TrackingURL != "" {
		base = st.TrackingURL
	}
	in := instrument.Input{HTML: req.HTML, Text: req.Text, TrackOpens: req.TrackOpens == nil || *req.TrackOpens,
		TrackClicks: req.TrackClicks == nil || *req.TrackClicks}
	in.Honeypot = in.TrackClicks && (req.Honeypot == nil || *req.Honeypot)
	refs := make([]token.Ref, len(req.Recipients))
	msgs := make([]*mailtrail.Message, len(req.Recipients))
	var links []string
	for i, rc := range req.Recipients {
		if refs[i], err = token.NewRef(); err != nil {
			return nil, err
		}
		if i == 0 {
			mr, err := s.instrumentOne(in, base, refs[i], req.CampaignID, rc)
			if err != nil {
				return nil, err
			}
			links = mr.Links
		}
		msgs[i] = &mailtrail.Message{ID: refs[i].String(), CampaignID: req.CampaignID, CampaignName: req.CampaignName, Subject: req.Subject, CustomerID: rc.CustomerID,
			CustomerEmail: rc.CustomerEmail, TrackOpens: in.TrackOpens, TrackClicks: in.TrackClicks, Links: links, Topic: req.Topic}
	}
	if err := s.store.CreateMessages(ctx, orgID, msgs); err != nil {
		return nil, err
	}
	return &Batch{s: s, in: in, base: base, req: req, refs: refs}, nil
}

// urls signs the tracking URLs of one message for the rewriter.
type urls struct {
	base     string
	signer   *token.Signer
	ref      token.Ref
	clicks   []string
	honeypot string
}

func (u *urls) Open() string {
	return u.base + "/api/track/open/" + u.signer.Sign(token.Open, u.ref, 0)
}

func (u *urls) Click(i int) string {
	c := u.base + "/api/track/click/" + u.signer.Sign(token.Click, u.ref, i)
	if i == mailtrail.HoneypotLink {
		u.honeypot = c
	} else {
		u.clicks = append(u.clicks, c)
	}
	return c
}

func (u *urls) Unsubscribe() string {
	return u.base + "/api/track/unsubscribe/" + u.signer.Sign(token.Unsubscribe, u.ref, 0)
}

// instrumentOne instruments the content for one recipient under its message ref.
func (s *Service) instrumentOne(in instrument.Input, base string, ref token.Ref, campaignID string, rc Recipient) (*Instrumented, error) {
	u := &urls{base: base, signer: s.signer, ref: ref}
	in.MessageID = ref.String()
	if s.opt.UnsubscribeMailto != "" {
		in.UnsubscribeMailto = "mailto:" + s.opt.UnsubscribeMailto + "?subject=" + url.QueryEscape("unsubscribe "+s.signer.Sign(token.Unsubscribe, ref, 0))
	}
	res, err := instrument.Rewrite(in, u)
	if err != nil {
		return nil, err
	}
	mr := &Instrumented{MessageID: ref.String(), CampaignID: campaignID, CustomerID: rc.CustomerID, HTML: res.HTML, Text: res.Text,
		Headers: res.Headers, Links: res.Links,
		CustomArgs: map[string]string{esp.ArgMessageID: ref.String(), esp.ArgCampaignID: campaignID, esp.ArgCustomerID: rc.CustomerID},
		Tracking:   TrackingURLs{ClickURLs: u.clicks, HoneypotURL: u.honeypot, UnsubscribeURL: u.Unsubscribe()}}
	if mr.Tracking.ClickURLs == nil {
		mr.Tracking.ClickURLs = []string{}
	}
	if in.TrackOpens {
		mr.Tracking.OpenURL = u.Open()
	}
	return mr, nil
}

// ValidEmail reports whether s looks like a recipient's address: something@domain, at
// most 320 bytes, without spaces, angle brackets or commas (the messages' and the events'
// rule).
func ValidEmail(s string) bool {
	at := strings.LastIndexByte(s, '@')
	return at > 0 && at < len(s)-1 && len(s) <= 320 && !strings.ContainsAny(s, " \t\r\n<>,")
}

// validate checks req; it trims req.Topic.
func validate(req *Request) error {
	var details []mailtrail.ItemError
	if strings.TrimSpace(req.CampaignID) == "" || len(req.CampaignID) > 200 {
		return mailtrail.Errorf(mailtrail.EINVALID, "campaign_id is required (at most 200 characters)")
	}
	if p := mailtrail.IDProblem(req.CampaignID, 200); p != "" {
		return &mailtrail.Error{Code: mailtrail.EINVALID, Message: "campaign_id " + p,
			Details: []mailtrail.ItemError{{Field: "campaign_id", Code: mailtrail.EINVALID, Message: "campaign_id " + p}}}
	}
	if len(req.CampaignName) > mailtrail.MaxCampaignName || len(req.Subject) > mailtrail.MaxSubject {
		return mailtrail.Errorf(mailtrail.EINVALID, "campaign_name is at most %d bytes, subject at most %d", mailtrail.MaxCampaignName, mailtrail.MaxSubject)
	}
	if req.HTML == "" && req.Text == "" {
		return mailtrail.Errorf(mailtrail.EINVALID, "html or text is required")
	}
	req.Topic = strings.TrimSpace(req.Topic)
	for _, f := range []struct{ name, v string }{{"topic", req.Topic}, {"campaign_name", req.CampaignName}, {"subject", req.Subject}} {
		if p := mailtrail.IDProblem(f.v, 1<<20); p != "" {
			return &mailtrail.Error{Code: mailtrail.EINVALID, Message: f.name + " " + p,
				Details: []mailtrail.ItemError{{Field: f.name, Code: mailtrail.EINVALID, Message: f.name + " " + p}}}
		}
	}
	if len(req.Topic) > 200 {
		return mailtrail.Errorf(mailtrail.EINVALID, "topic must be at most 200 characters")
	}
	if len(req.Recipients) == 0 || len(req.Recipients) > MaxRecipients {
		return mailtrail.Errorf(mailtrail.EINVALID, "recipients must hold 1 to %d entries", MaxRecipients)
	}
	if n := int64(len(req.HTML)+len(req.Text)) * int64(len(req.Recipients)); n > MaxAnswerContent {
		return mailtrail.Errorf(mailtrail.EINVALID, "html and text times recipients is %d bytes, over %d: send fewer recipients per request", n, MaxAnswerContent)
	}
	for i, rc := range req.Recipients {
		if strings.TrimSpace(rc.CustomerID) == "" || len(rc.CustomerID) > 200 {
			details = append(details, mailtrail.ItemError{Index: i, Field: "customer_id", Code: mailtrail.EINVALID, Message: "customer_id is required (at most 200 characters)"})
		}
		if p := mailtrail.IDProblem(rc.CustomerID, 200); p != "" {
			details = append(details, mailtrail.ItemError{Index: i, Field: "customer_id", Code: mailtrail.EINVALID, Message: "customer_id " + p})
		}
		if !ValidEmail(rc.CustomerEmail) || mailtrail.IDProblem(rc.CustomerEmail, 320) != "" {
			details = append(details, mailtrail.ItemError{Index: i, Field: "customer_email", Code: mailtrail.EINVALID, Message: "customer_email must be an email address"})
		}
	}
	if len(details) > 0 {
		return &mailtrail.Error{Code: mailtrail.EINVALID, Message: "some recipients are invalid; nothing was stored", Details: details}
	}
	return nil
}
