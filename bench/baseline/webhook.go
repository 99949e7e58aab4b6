package main

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// maxWebhookBody bounds a SendGrid webhook body, as mailtrail does.
const maxWebhookBody = 16 << 20

// sgEvent is the part of a SendGrid event the baseline keeps.
type sgEvent struct {
	Email       string `json:"email"`
	Timestamp   int64  `json:"timestamp"`
	Event       string `json:"event"`
	SGEventID   string `json:"sg_event_id"`
	SGMessageID string `json:"sg_message_id"`
	Type        string `json:"type"`
	Status      string `json:"status"`
	URL         string `json:"url"`
}

// parseSendGridKey decodes a SendGrid verification key (base64 of a DER public key).
func parseSendGridKey(s string) (*ecdsa.PublicKey, error) {
	der, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("sendgrid key: %w", err)
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("sendgrid key: %w", err)
	}
	ek, ok := k.(*ecdsa.PublicKey)
	if !ok {
		return nil, errors.New("sendgrid key: not an ECDSA key")
	}
	return ek, nil
}

// handleSendGrid verifies the Signed Event Webhook signature (ECDSA over timestamp + raw
// body, ±5 minutes), decodes the batch, appends one line per event and answers
// {"accepted":N} once they are durable. The connection id is not looked up.
func (s *server) handleSendGrid(w http.ResponseWriter, r *http.Request) {
	if s.sendgridKey == nil {
		http.Error(w, "no key", http.StatusNotFound)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxWebhookBody))
	if err != nil {
		http.Error(w, "body", http.StatusRequestEntityTooLarge)
		return
	}
	ts := r.Header.Get("X-Twilio-Email-Event-Webhook-Timestamp")
	sig, err := base64.StdEncoding.DecodeString(r.Header.Get("X-Twilio-Email-Event-Webhook-Signature"))
	sec, terr := strconv.ParseInt(ts, 10, 64)
	if err != nil || terr != nil || time.Since(time.Unix(sec, 0)).Abs() > 5*time.Minute {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	h := sha256.New()
	h.Write([]byte(ts))
	h.Write(body)
	if !ecdsa.VerifyASN1(s.sendgridKey, h.Sum(nil), sig) {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	var evs []sgEvent
	if err := json.Unmarshal(body, &evs); err != nil {
		http.Error(w, "invalid body", http.StatusBadRequest)
		return
	}
	buf := make([]byte, 0, 128*len(evs))
	for i := range evs {
		e := &evs[i]
		buf = append(buf, "sendgrid\t"...)
		for _, f := range [...]string{e.Event, e.SGEventID, e.SGMessageID, e.Email, e.Type, e.Status, e.URL} {
			buf = strconv.AppendQuote(buf, f)
			buf = append(buf, '\t')
		}
		buf = strconv.AppendInt(buf, e.Timestamp, 10)
		buf = append(buf, '\n')
	}
	if err := s.journal.Append(buf); err != nil {
		s.log.Error("record webhook", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(strconv.AppendInt([]byte(`{"accepted":`), int64(len(evs)), 10))
	w.Write([]byte("}\n"))
}
