package httpd

import (
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

type recipient struct {
	CustomerID    string `json:"customer_id"`
	CustomerEmail string `json:"customer_email"`
}

type messagesRequest struct {
	CampaignID    string      `json:"campaign_id"`
	CustomerID    string      `json:"customer_id"`
	CustomerEmail string      `json:"customer_email"`
	HTML          string      `json:"html"`
	Text          string      `json:"text"`
	TrackOpens    *bool       `json:"track_opens"`
	TrackClicks   *bool       `json:"track_clicks"`
	Honeypot      *bool       `json:"honeypot"`
	Recipients    []recipient `json:"recipients"`
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

func (s *Server) createMessages(w http.ResponseWriter, r *http.Request) {
	org := orgFrom(r)
	var req messagesRequest
	if err := decodeJSON(w, r, s.opt.MaxBody, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	batch := req.Recipients != nil
	if !batch {
		req.Recipients = []recipient{{CustomerID: req.CustomerID, CustomerEmail: req.CustomerEmail}}
	}
	if err := validateMessages(&req); err != nil {
		s.writeError(w, r, err)
		return
	}
	base := s.opt.PublicURL // or the organization's tracking domain
	st, err := s.store.OrgSettings(r.Context(), org.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if st.TrackingURL != "" {
		base = st.TrackingURL
	}
	trackOpens, trackClicks := req.TrackOpens == nil || *req.TrackOpens, req.TrackClicks == nil || *req.TrackClicks
	honeypot := trackClicks && (req.Honeypot == nil || *req.Honeypot)
	msgs := make([]*mailtrail.Message, 0, len(req.Recipients))
	out := make([]messageResponse, 0, len(req.Recipients))
	for _, rc := range req.Recipients {
		ref, err := token.NewRef()
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		u := &urls{base: base, signer: s.signer, ref: ref}
		mailto := ""
		if s.opt.UnsubscribeMailto != "" {
			mailto = "mailto:" + s.opt.UnsubscribeMailto + "?subject=" + url.QueryEscape("unsubscribe "+s.signer.Sign(token.Unsubscribe, ref, 0))
		}
		res, err := instrument.Rewrite(instrument.Input{HTML: req.HTML, Text: req.Text, TrackOpens: trackOpens, TrackClicks: trackClicks,
			UnsubscribeMailto: mailto, MessageID: ref.String(), Honeypot: honeypot}, u)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		msgs = append(msgs, &mailtrail.Message{ID: ref.String(), CampaignID: req.CampaignID, CustomerID: rc.CustomerID,
			CustomerEmail: rc.CustomerEmail, TrackOpens: trackOpens, TrackClicks: trackClicks, Links: res.Links})
		mr := messageResponse{MessageID: ref.String(), CampaignID: req.CampaignID, CustomerID: rc.CustomerID, HTML: res.HTML, Text: res.Text,
			Headers: res.Headers, Links: res.Links,
			CustomArgs: map[string]string{esp.ArgMessageID: ref.String(), esp.ArgCampaignID: req.CampaignID, esp.ArgCustomerID: rc.CustomerID},
			Tracking:   trackingURLs{ClickURLs: u.clicks, HoneypotURL: u.honeypot, UnsubscribeURL: u.Unsubscribe()}}
		if mr.Tracking.ClickURLs == nil {
			mr.Tracking.ClickURLs = []string{}
		}
		if trackOpens {
			mr.Tracking.OpenURL = u.Open()
		}
		out = append(out, mr)
	}
	if err := s.store.CreateMessages(r.Context(), org.ID, msgs); err != nil {
		s.writeError(w, r, err)
		return
	}
	if batch {
		writeJSON(w, http.StatusOK, map[string]any{"messages": out})
		return
	}
	writeJSON(w, http.StatusOK, out[0])
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
	if req.HTML == "" && req.Text == "" {
		return mailtrail.Errorf(mailtrail.EINVALID, "html or text is required")
	}
	if len(req.Recipients) == 0 || len(req.Recipients) > MaxRecipients {
		return mailtrail.Errorf(mailtrail.EINVALID, "recipients must hold 1 to %d entries", MaxRecipients)
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
