package httpd

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/esp"
	"github.com/mailtrail/mailtrail/internal/instrument"
	"github.com/mailtrail/mailtrail/internal/token"
)

// MaxRecipients is the largest batch of POST /api/v1/messages.
const MaxRecipients = 1000

// MaxAnswerContent bounds (len(html) + len(text)) × recipients of one POST
// /api/v1/messages: the instrumented copies the answer carries (streamed, one at a time).
// It bounds the time a request takes; 100 KiB of HTML fits 1,000 recipients.
const MaxAnswerContent = 128 << 20

type recipient struct {
	CustomerID    string `json:"customer_id"`
	CustomerEmail string `json:"customer_email"`
}

type messagesRequest struct {
	CampaignID    string      `json:"campaign_id"`
	CampaignName  string      `json:"campaign_name"`
	Subject       string      `json:"subject"`
	CustomerID    string      `json:"customer_id"`
	CustomerEmail string      `json:"customer_email"`
	HTML          string      `json:"html"`
	Text          string      `json:"text"`
	TrackOpens    *bool       `json:"track_opens"`
	TrackClicks   *bool       `json:"track_clicks"`
	Honeypot      *bool       `json:"honeypot"`
	Recipients    []recipient `json:"recipients"`
	Topic         string      `json:"topic"`
}

type trackingURLs struct {
	OpenURL        string   `json:"open_url,omitempty"`
	ClickURLs      []string `json:"click_urls"`
	HoneypotURL    string   `json:"honeypot_url,omitempty"`
	UnsubscribeURL string   `json:"unsubscribe_url"`
}

type messageResponse struct {
	MessageID  string            `json:"message_id"`
	CampaignID string            `json:"campaign_id"`
	CustomerID string            `json:"customer_id"`
	HTML       string            `json:"html"`
	Text       string            `json:"text"`
	Headers    map[string]string `json:"headers"`
	CustomArgs map[string]string `json:"custom_args"`
	Links      []string          `json:"links"`
	Tracking   trackingURLs      `json:"tracking"`
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

func validEmail(s string) bool {
	at := strings.LastIndexByte(s, '@')
	return at > 0 && at < len(s)-1 && len(s) <= 320 && !strings.ContainsAny(s, " \t\r\n<>,")
}

func (s *Server) createMessages(w http.ResponseWriter, r *http.Request) error {
	org := principalFrom(r.Context()).org
	release, err := s.admitBody(r, s.opt.MaxBody, 4)
	if err != nil {
		return err
	}
	defer release() // held while the answer streams: it holds a copy of the HTML per recipient in turn
	var req messagesRequest
	if err := readBounded(w, r, s.opt.MaxBody, MaxRecipients, &req); err != nil {
		return err
	}
	batch := req.Recipients != nil
	if !batch {
		req.Recipients = []recipient{{CustomerID: req.CustomerID, CustomerEmail: req.CustomerEmail}}
	}
	if err := validateMessages(&req); err != nil {
		return err
	}
	base := s.opt.PublicURL // or the organization's tracking domain
	st, err := s.store.OrgSettings(r.Context(), org.ID)
	if err != nil {
		return err
	}
	if st.TrackingURL != "" {
		base = st.TrackingURL
	}
	in := instrument.Input{HTML: req.HTML, Text: req.Text, TrackOpens: req.TrackOpens == nil || *req.TrackOpens,
		TrackClicks: req.TrackClicks == nil || *req.TrackClicks}
	in.Honeypot = in.TrackClicks && (req.Honeypot == nil || *req.Honeypot)
	// Every recipient gets the same content, so the same links: the messages are stored
	// first (a 2xx means durable), then each one is instrumented again as its answer is
	// written, so that memory holds one instrumented copy at a time, not one per recipient.
	refs := make([]token.Ref, len(req.Recipients))
	msgs := make([]*mailtrail.Message, len(req.Recipients))
	var links []string
	for i, rc := range req.Recipients {
		if refs[i], err = token.NewRef(); err != nil {
			return err
		}
		if i == 0 {
			mr, err := s.instrumentOne(in, base, refs[i], req.CampaignID, rc)
			if err != nil {
				return err
			}
			links = mr.Links
		}
		msgs[i] = &mailtrail.Message{ID: refs[i].String(), CampaignID: req.CampaignID, CampaignName: req.CampaignName, Subject: req.Subject, CustomerID: rc.CustomerID,
			CustomerEmail: rc.CustomerEmail, TrackOpens: in.TrackOpens, TrackClicks: in.TrackClicks, Links: links, Topic: req.Topic}
	}
	if err := s.store.CreateMessages(r.Context(), org.ID, msgs); err != nil {
		return err
	}
	msgs = nil
	if !batch {
		mr, err := s.instrumentOne(in, base, refs[0], req.CampaignID, req.Recipients[0])
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, mr)
		return nil
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	io.WriteString(w, `{"messages":[`)
	for i, rc := range req.Recipients {
		mr, err := s.instrumentOne(in, base, refs[i], req.CampaignID, rc)
		if err != nil { // cannot happen: the same input was instrumented before the commit
			s.log.ErrorContext(r.Context(), "instrument after commit failed", "route", r.Pattern, "err", err.Error())
			return nil // the answer is cut short: a client sees malformed JSON, never a partial success
		}
		if i > 0 {
			io.WriteString(w, ",")
		}
		if enc.Encode(mr) != nil {
			return nil // the client went away; the messages are stored
		}
	}
	io.WriteString(w, "]}\n")
	return nil
}

// instrumentOne instruments the content for one recipient under its message ref.
func (s *Server) instrumentOne(in instrument.Input, base string, ref token.Ref, campaignID string, rc recipient) (*messageResponse, error) {
	u := &urls{base: base, signer: s.signer, ref: ref}
	in.MessageID = ref.String()
	if s.opt.UnsubscribeMailto != "" {
		in.UnsubscribeMailto = "mailto:" + s.opt.UnsubscribeMailto + "?subject=" + url.QueryEscape("unsubscribe "+s.signer.Sign(token.Unsubscribe, ref, 0))
	}
	res, err := instrument.Rewrite(in, u)
	if err != nil {
		return nil, err
	}
	mr := &messageResponse{MessageID: ref.String(), CampaignID: campaignID, CustomerID: rc.CustomerID, HTML: res.HTML, Text: res.Text,
		Headers: res.Headers, Links: res.Links,
		CustomArgs: map[string]string{esp.ArgMessageID: ref.String(), esp.ArgCampaignID: campaignID, esp.ArgCustomerID: rc.CustomerID},
		Tracking:   trackingURLs{ClickURLs: u.clicks, HoneypotURL: u.honeypot, UnsubscribeURL: u.Unsubscribe()}}
	if mr.Tracking.ClickURLs == nil {
		mr.Tracking.ClickURLs = []string{}
	}
	if in.TrackOpens {
		mr.Tracking.OpenURL = u.Open()
	}
	return mr, nil
}

func validateMessages(req *messagesRequest) error {
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
		if !validEmail(rc.CustomerEmail) || mailtrail.IDProblem(rc.CustomerEmail, 320) != "" {
			details = append(details, mailtrail.ItemError{Index: i, Field: "customer_email", Code: mailtrail.EINVALID, Message: "customer_email must be an email address"})
		}
	}
	if len(details) > 0 {
		return &mailtrail.Error{Code: mailtrail.EINVALID, Message: "some recipients are invalid; nothing was stored", Details: details}
	}
	return nil
}
