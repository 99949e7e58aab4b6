package main

import (
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/mailtrail/mailtrail/bench/journal"
)

// pixel is the 43-byte transparent 1×1 GIF89a that mailtrail serves too.
var pixel = []byte{
	'G', 'I', 'F', '8', '9', 'a', // header
	0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, // 1×1, global colour table of 2
	0x00, 0x00, 0x00, 0xff, 0xff, 0xff, // black, white
	0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, // colour 0 is transparent
	0x2c, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, // image descriptor
	0x02, 0x02, 0x44, 0x01, 0x00, // LZW data
	0x3b, // trailer
}

// clickTarget is where every click redirects; the baseline keeps no links.
const clickTarget = "https://example.com/a"

// maxEventsBody bounds a POST /api/v1/events body.
const maxEventsBody = 16 << 20

// server is the baseline: it records each hit as one journal line and
// answers only after the line is durable.
type server struct {
	journal *journal.Journal
	log     *slog.Logger
	// sendgridKey verifies POST /webhooks/v2/sendgrid/{id}; nil answers 404.
	sendgridKey *ecdsa.PublicKey
}

// routes returns the baseline's handler.
func (s *server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	mux.HandleFunc("GET /api/track/open/{id}", s.handleOpen)
	mux.HandleFunc("GET /api/track/click/{id}", s.handleClick)
	mux.HandleFunc("POST /api/v1/events", s.handleEvents)
	mux.HandleFunc("POST /webhooks/v2/sendgrid/{id}", s.handleSendGrid)
	return mux
}

// handleOpen records the open and always serves the pixel, as mailtrail does.
func (s *server) handleOpen(w http.ResponseWriter, r *http.Request) {
	if err := s.journal.Append(hitLine("open", r)); err != nil {
		s.log.Error("record open", "err", err)
	}
	h := w.Header()
	h.Set("Content-Type", "image/gif")
	h.Set("Content-Length", strconv.Itoa(len(pixel)))
	h.Set("Cache-Control", "no-store, no-cache, must-revalidate, private")
	h.Set("Pragma", "no-cache")
	h.Set("Expires", "0")
	w.Write(pixel)
}

// handleClick records the click and redirects to the fixed target.
func (s *server) handleClick(w http.ResponseWriter, r *http.Request) {
	if err := s.journal.Append(hitLine("click", r)); err != nil {
		s.log.Error("record click", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Location", clickTarget)
	w.WriteHeader(http.StatusFound)
}

// event is the shape of one item of a POST /api/v1/events batch.
type event struct {
	EventType      string            `json:"event_type"`
	CampaignID     string            `json:"campaign_id"`
	CustomerID     string            `json:"customer_id"`
	CustomerEmail  string            `json:"customer_email"`
	ESPMessageID   string            `json:"esp_message_id"`
	OccurredAt     time.Time         `json:"occurred_at"`
	IdempotencyKey string            `json:"idempotency_key"`
	Metadata       map[string]string `json:"metadata"`
}

// handleEvents appends every event of the batch as one line and answers
// {"accepted":N} once all of them are durable.
func (s *server) handleEvents(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Events []event `json:"events"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxEventsBody))
	if err := dec.Decode(&body); err != nil {
		status := http.StatusBadRequest
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			status = http.StatusRequestEntityTooLarge
		}
		http.Error(w, "invalid body", status)
		return
	}
	buf := make([]byte, 0, 160*len(body.Events))
	for i := range body.Events {
		buf = appendEventLine(buf, &body.Events[i])
	}
	if err := s.journal.Append(buf); err != nil {
		s.log.Error("record events", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(strconv.AppendInt([]byte(`{"accepted":`), int64(len(body.Events)), 10))
	w.Write([]byte("}\n"))
}

// hitLine formats one tracking hit: kind, id, time, user agent and client IP,
// tab-separated.
func hitLine(kind string, r *http.Request) []byte {
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = r.RemoteAddr
	}
	b := make([]byte, 0, 160)
	b = append(b, kind...)
	b = append(b, '\t')
	b = append(b, r.PathValue("id")...)
	b = append(b, '\t')
	b = time.Now().UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, '\t')
	b = strconv.AppendQuote(b, r.UserAgent())
	b = append(b, '\t')
	b = append(b, ip...)
	return append(b, '\n')
}

// appendEventLine appends one event as a tab-separated line to b.
func appendEventLine(b []byte, e *event) []byte {
	b = append(b, "event\t"...)
	for _, f := range [...]string{e.EventType, e.CampaignID, e.CustomerID, e.CustomerEmail, e.ESPMessageID, e.IdempotencyKey} {
		b = strconv.AppendQuote(b, f)
		b = append(b, '\t')
	}
	b = e.OccurredAt.UTC().AppendFormat(b, time.RFC3339)
	for k, v := range e.Metadata {
		b = append(b, '\t')
		b = append(b, k...)
		b = append(b, '=')
		b = strconv.AppendQuote(b, v)
	}
	return append(b, '\n')
}
