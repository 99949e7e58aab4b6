package httpd

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/ingest"
	"github.com/mailtrail/mailtrail/internal/message"
)

// MaxEvents is the largest batch of POST /api/v1/events.
const MaxEvents = 10000

// Bounds of the metadata keys a client adds of its own (kept in metadata.extra).
const (
	maxExtraKeys  = 32
	maxExtraBytes = 4096
	// maxMetadataBytes bounds an event's metadata object as sent (its own fields and the
	// client's keys); larger is refused before it is decoded.
	maxMetadataBytes = 64 << 10
)

// eventInput is one event as a client posts it.
type eventInput struct {
	EventType      string `json:"event_type"`
	CampaignID     string `json:"campaign_id"`
	CustomerID     string `json:"customer_id"`
	CustomerEmail  string `json:"customer_email"`
	MessageID      string `json:"message_id"`
	ESPMessageID   string `json:"esp_message_id"`
	OccurredAt     string `json:"occurred_at"`
	IdempotencyKey string `json:"idempotency_key"`
	Source         string `json:"source"`
	Classification string `json:"classification"`
	// Metadata stays raw until its size is checked (maxMetadataBytes): decoded, a large
	// array of a client's own key would cost many times its bytes.
	Metadata json.RawMessage `json:"metadata"`
}

// eventsRequest is a batch {"events": [...]} or, with its fields at the top level, one event.
type eventsRequest struct {
	Events []eventInput `json:"events"`
	eventInput
}

type eventsResponse struct {
	Accepted   int      `json:"accepted"`
	Duplicates int      `json:"duplicates"`
	EventIDs   []string `json:"event_ids"`
}

func (s *Server) postEvents(w http.ResponseWriter, r *http.Request) error {
	org := principalFrom(r.Context()).org
	release, err := s.admitBody(r, s.opt.MaxBody, 1)
	if err != nil {
		return err
	}
	defer release()
	var req eventsRequest
	if err := readBounded(w, r, s.opt.MaxBody, MaxEvents, &req); err != nil {
		return err
	}
	if req.Events == nil && req.EventType != "" {
		req.Events = []eventInput{req.eventInput} // a single event
	}
	if len(req.Events) == 0 || len(req.Events) > MaxEvents {
		return mailtrail.Errorf(mailtrail.EINVALID, "events must hold 1 to %d entries", MaxEvents)
	}
	now := time.Now()
	evs := make([]*mailtrail.Event, len(req.Events))
	backing := make([]mailtrail.Event, len(req.Events)) // one allocation for the batch, not one per event
	var details []mailtrail.ItemError
	for i := range req.Events {
		if err := s.toEvent(r, org, &req.Events[i], now, &backing[i]); err != nil {
			details = append(details, *err)
			details[len(details)-1].Index = i
			continue
		}
		evs[i] = &backing[i]
	}
	if len(details) > 0 {
		return &mailtrail.Error{Code: mailtrail.EINVALID, Message: fmt.Sprintf("%d of %d events are invalid; nothing was stored", len(details), len(evs)), Details: details}
	}
	req = eventsRequest{} // the decoded body is no longer needed while the batch waits for its commit
	release()
	res, err := s.ingest.Submit(r.Context(), evs)
	if err != nil {
		return err
	}
	ids := make([]string, len(evs))
	for i, ev := range evs {
		ids[i] = ev.ID
	}
	writeJSON(w, http.StatusOK, eventsResponse{Accepted: res.Accepted, Duplicates: res.Duplicates, EventIDs: ids})
	return nil
}

func itemErr(field, format string, args ...any) *mailtrail.ItemError {
	return &mailtrail.ItemError{Field: field, Code: mailtrail.EINVALID, Message: fmt.Sprintf(format, args...)}
}

// toEvent validates one posted event into ev (zero). The organization always comes from
// the API key.
func (s *Server) toEvent(r *http.Request, org *mailtrail.Organization, in *eventInput, now time.Time, ev *mailtrail.Event) *mailtrail.ItemError {
	typ, err := mailtrail.ParseEventType(in.EventType)
	if err != nil {
		return itemErr("event_type", "event_type must be one of "+mailtrail.EventTypeNames)
	}
	*ev = mailtrail.Event{OrgID: org.ID, Type: typ, CampaignID: strings.TrimSpace(in.CampaignID), CustomerID: strings.TrimSpace(in.CustomerID),
		CustomerEmail: strings.TrimSpace(in.CustomerEmail), MessageID: in.MessageID, ESPMessageID: in.ESPMessageID}
	if len(in.Metadata) > maxMetadataBytes {
		return itemErr("metadata", "metadata is limited to %d bytes as JSON", maxMetadataBytes)
	}
	if len(in.Metadata) > 0 {
		if err := decodeMetadata(in.Metadata, &ev.Metadata); err != nil {
			return itemErr("metadata", "metadata must be an object")
		}
	}
	switch in.Source {
	case "", "api":
		ev.Source = mailtrail.SourceAPI
	case "import":
		ev.Source = mailtrail.SourceImport
	default:
		return itemErr("source", "source must be api or import")
	}
	switch c := mailtrail.Classification(in.Classification); c {
	case "", mailtrail.Human, mailtrail.Machine, mailtrail.Bot:
		if c != "" && typ != mailtrail.EventOpened && typ != mailtrail.EventClicked {
			return itemErr("classification", "classification applies to opened and clicked events only")
		}
		ev.Classification = c
	default:
		return itemErr("classification", "classification must be human, machine or bot")
	}
	if in.OccurredAt == "" {
		ev.OccurredAt = now
	} else {
		t, err := time.Parse(time.RFC3339Nano, in.OccurredAt)
		if err != nil {
			return itemErr("occurred_at", "occurred_at must be an RFC 3339 time such as 2026-11-27T10:00:00Z")
		}
		if p := mailtrail.TimeProblem(t, now); p != "" {
			return itemErr("occurred_at", "occurred_at %s", p)
		}
		ev.OccurredAt = t
	}
	if e := checkIDs(ev, in.IdempotencyKey); e != nil {
		return e
	}
	if ev.CustomerEmail != "" && !message.ValidEmail(ev.CustomerEmail) {
		return itemErr("customer_email", "customer_email must be an email address")
	}
	if ev.MessageID != "" {
		m, err := s.store.Message(r.Context(), org.ID, ev.MessageID)
		if err != nil {
			return itemErr("message_id", "message_id is not a message of this organization")
		}
		if (ev.CampaignID != "" && ev.CampaignID != m.CampaignID) || (ev.CustomerID != "" && ev.CustomerID != m.CustomerID) {
			return itemErr("message_id", "campaign_id or customer_id do not match the message")
		}
	} else if ev.CampaignID == "" || ev.CustomerID == "" {
		return itemErr("message_id", "message_id, or campaign_id and customer_id, are required")
	}
	switch typ {
	case mailtrail.EventBounced:
		if b := ev.Metadata.BounceType; b != mailtrail.BounceHard && b != mailtrail.BounceSoft {
			return itemErr("metadata.bounce_type", "bounced events need metadata.bounce_type hard or soft")
		}
	case mailtrail.EventClicked:
		if u := ev.Metadata.LinkURL; u != "" && !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
			return itemErr("metadata.link_url", "metadata.link_url must be an http(s) URL")
		}
	}
	if e := checkMetadata(&ev.Metadata); e != nil {
		return e
	}
	if x := ev.Metadata.Extra; len(x) > 0 {
		if b, _ := json.Marshal(x); len(x) > maxExtraKeys || len(b) > maxExtraBytes {
			return itemErr("metadata", "metadata keys of your own: at most %d, %d bytes as JSON", maxExtraKeys, maxExtraBytes)
		}
	}
	if in.IdempotencyKey != "" {
		ev.DedupeKey = ingest.IdempotencyPrefix + in.IdempotencyKey
	} else {
		// Without a key the content identifies the event: the same event posted twice is
		// stored once.
		meta, _ := json.Marshal(ev.Metadata)
		ev.DedupeKey = "apih:" + ev.MessageID + "\x00" + ev.CampaignID + "\x00" + ev.CustomerID + "\x00" + strconv.FormatInt(ev.OccurredAt.UnixNano(), 10) + "\x00" + string(meta)
	}
	return nil
}

func (s *Server) listEvents(w http.ResponseWriter, r *http.Request) error {
	org := principalFrom(r.Context()).org
	q := r.URL.Query()
	f := mailtrail.EventFilter{CampaignID: q.Get("campaign_id"), CustomerID: q.Get("customer_id"), Cursor: q.Get("cursor")}
	var err error
	if f.Limit, err = pageLimit(q); err != nil {
		return err
	}
	for _, t := range q["type"] {
		for _, name := range strings.Split(t, ",") {
			typ, err := mailtrail.ParseEventType(name)
			if err != nil {
				return err
			}
			f.Types = append(f.Types, typ)
		}
	}
	if err := timeRange(q, &f.Since, &f.Until); err != nil {
		return err
	}
	page, err := s.query.Events(r.Context(), org.ID, f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

func (s *Server) report(w http.ResponseWriter, r *http.Request) error {
	org := principalFrom(r.Context()).org
	tz := r.URL.Query().Get("tz")
	if tz == "" {
		tz = org.Timezone
	}
	rep, err := s.query.Report(r.Context(), org.ID, r.PathValue("campaign"), tz)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}

// checkIDs checks the identifiers of a posted event: lengths (campaign and customer ids
// 200 bytes, the others mailtrail.MaxIDBytes), valid UTF-8, no control characters. The
// error names the field.
func checkIDs(ev *mailtrail.Event, idempotencyKey string) *mailtrail.ItemError {
	for _, f := range []struct {
		name, v string
		max     int
	}{
		{"campaign_id", ev.CampaignID, 200}, {"customer_id", ev.CustomerID, 200}, {"customer_email", ev.CustomerEmail, 320},
		{"message_id", ev.MessageID, mailtrail.MaxIDBytes}, {"esp_message_id", ev.ESPMessageID, mailtrail.MaxIDBytes},
		{"idempotency_key", idempotencyKey, mailtrail.MaxIDBytes},
	} {
		if p := mailtrail.IDProblem(f.v, f.max); p != "" {
			return itemErr(f.name, "%s %s", f.name, p)
		}
	}
	return nil
}

// checkMetadata checks the lengths and characters of an event's metadata: link_url at
// most mailtrail.MaxURLBytes without control characters, ids at most MaxIDBytes, journey
// and step ids 200 bytes, free text MaxTextBytes, raw MaxRawBytes.
func checkMetadata(m *mailtrail.Metadata) *mailtrail.ItemError {
	for _, f := range []struct {
		name, v string
		max     int
		id      bool
	}{
		{"link_url", m.LinkURL, mailtrail.MaxURLBytes, true}, {"vendor_event_id", m.VendorEventID, mailtrail.MaxIDBytes, true},
		{"journey_id", m.JourneyID, 200, true}, {"step_id", m.StepID, 200, true},
		{"smtp_code", m.SMTPCode, mailtrail.MaxTextBytes, false}, {"reason", m.Reason, mailtrail.MaxTextBytes, false},
		{"feedback_type", m.FeedbackType, mailtrail.MaxTextBytes, false}, {"user_agent", m.UserAgent, mailtrail.MaxTextBytes, false},
		{"ip", m.IP, mailtrail.MaxTextBytes, false}, {"client", m.Client, mailtrail.MaxTextBytes, false},
		{"device", m.Device, mailtrail.MaxTextBytes, false}, {"country", m.Country, mailtrail.MaxTextBytes, false},
		{"city", m.City, mailtrail.MaxTextBytes, false}, {"vendor", m.Vendor, mailtrail.MaxTextBytes, false},
		{"method", m.Method, mailtrail.MaxTextBytes, false},
	} {
		p := mailtrail.TextProblem(f.v, f.max)
		if f.id {
			p = mailtrail.IDProblem(f.v, f.max)
		}
		if p != "" {
			return itemErr("metadata."+f.name, "metadata.%s %s", f.name, p)
		}
	}
	if len(m.Raw) > mailtrail.MaxRawBytes {
		return itemErr("metadata.raw", "metadata.raw is %d bytes; the limit is %d", len(m.Raw), mailtrail.MaxRawBytes)
	}
	return nil
}
