package httpd

import (
	"encoding/json"
	"io"
	"net/http"

	"github.com/mailtrail/mailtrail/internal/message"
)

// MaxRecipients is the largest batch of POST /api/v1/messages.
const MaxRecipients = message.MaxRecipients

type messagesRequest struct {
	CampaignID    string              `json:"campaign_id"`
	CampaignName  string              `json:"campaign_name"`
	Subject       string              `json:"subject"`
	CustomerID    string              `json:"customer_id"`
	CustomerEmail string              `json:"customer_email"`
	HTML          string              `json:"html"`
	Text          string              `json:"text"`
	TrackOpens    *bool               `json:"track_opens"`
	TrackClicks   *bool               `json:"track_clicks"`
	Honeypot      *bool               `json:"honeypot"`
	Recipients    []message.Recipient `json:"recipients"`
	Topic         string              `json:"topic"`
}

// createMessages is POST /api/v1/messages: one message (its recipient at the top level)
// or a batch (recipients), stored by the messages service, then answered with each
// recipient's instrumented copy: the batch streamed, one copy at a time.
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
		req.Recipients = []message.Recipient{{CustomerID: req.CustomerID, CustomerEmail: req.CustomerEmail}}
	}
	b, err := s.msgs.Create(r.Context(), org.ID, &message.Request{CampaignID: req.CampaignID, CampaignName: req.CampaignName,
		Subject: req.Subject, HTML: req.HTML, Text: req.Text, TrackOpens: req.TrackOpens, TrackClicks: req.TrackClicks,
		Honeypot: req.Honeypot, Recipients: req.Recipients, Topic: req.Topic})
	if err != nil {
		return err
	}
	if !batch {
		mr, err := b.Instrument(0)
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
	for i := range b.Len() {
		mr, err := b.Instrument(i)
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
