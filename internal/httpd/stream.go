package httpd

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/mailtrail/mailtrail"
)

// StreamStore is what the event stream needs from the store.
type StreamStore interface {
	// StreamHead returns the position of the organization's latest event.
	StreamHead(ctx context.Context, orgID string) (int64, error)
	// EventsAfter returns the events past a position that pass f, and the position read up to.
	EventsAfter(ctx context.Context, orgID string, after int64, f mailtrail.StreamFilter, limit int) ([]mailtrail.SeqEvent, int64, error)
	// StreamRecent returns the position to read after to begin with the last n events
	// that pass f.
	StreamRecent(ctx context.Context, orgID string, f mailtrail.StreamFilter, n int) (int64, error)
	// StreamEnd returns the position of the store's latest event, of any organization:
	// no stream position was ever given past it.
	StreamEnd(ctx context.Context) (int64, error)
}

const (
	streamPage      = 500              // events read from the store at a time
	streamHeartbeat = 15 * time.Second // comment lines that keep proxies from closing an idle stream
	streamRetryMS   = 3000             // the reconnection delay the stream asks of clients
	maxRecent       = 1000             // the recent parameter's largest value
)

// streamFilter reads the type (repeatable or comma-separated) and campaign_id parameters.
func streamFilter(r *http.Request) (mailtrail.StreamFilter, error) {
	q := r.URL.Query()
	f := mailtrail.StreamFilter{CampaignID: q.Get("campaign_id")}
	for _, v := range q["type"] {
		for _, name := range strings.Split(v, ",") {
			if name = strings.TrimSpace(name); name == "" {
				continue
			}
			t, err := mailtrail.ParseEventType(name)
			if err != nil {
				return f, err
			}
			f.Types = append(f.Types, t)
		}
	}
	return f, nil
}

// streamStart returns the position a stream resumes after: the Last-Event-ID header, else
// the last_event_id parameter; ok is false when neither is given. recent is the recent
// parameter (0 when absent), which a resumption ignores.
func streamStart(r *http.Request) (pos int64, ok bool, recent int, err error) {
	if v := r.URL.Query().Get("recent"); v != "" {
		recent, err = strconv.Atoi(strings.TrimSpace(v))
		if err != nil || recent < 0 || recent > maxRecent {
			return 0, false, 0, mailtrail.Errorf(mailtrail.EINVALID, "recent must be a number of events from 0 to %d", maxRecent)
		}
	}
	v := r.Header.Get("Last-Event-ID")
	if v == "" {
		v = r.URL.Query().Get("last_event_id")
	}
	if v == "" {
		return 0, false, recent, nil
	}
	pos, err = strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || pos < 0 {
		return 0, false, 0, mailtrail.Errorf(mailtrail.EINVALID, "Last-Event-ID must be the id of an event of this stream")
	}
	return pos, true, recent, nil
}

// ServeStream serves the event stream of org exactly as GET /api/v1/stream does (same
// parameters and Last-Event-ID): the dashboard authenticates by its session, then answers
// through this.
func (s *Server) ServeStream(w http.ResponseWriter, r *http.Request, org *mailtrail.Organization) {
	s.handle(s.stream)(w, asPrincipal(r, org))
}

// stream serves GET /api/v1/stream: the organization's events as Server-Sent Events. Each
// event's id is its stream position; a client that reconnects with Last-Event-ID gets
// every event after it (read from the store) and then the live tail, without a gap or a
// repeat. Without one, the stream starts at the events committed from now on, or with
// the last recent=N events that pass the filters.
func (s *Server) stream(w http.ResponseWriter, r *http.Request) error {
	org := principalFrom(r.Context()).org
	if s.opt.Stream == nil {
		return mailtrail.Errorf(mailtrail.EUNAVAILABLE, "the event stream is not available")
	}
	f, err := streamFilter(r)
	if err != nil {
		return err
	}
	pos, resume, recent, err := streamStart(r)
	if err != nil {
		return err
	}
	// Subscribe before reading the store: a commit after this wakes the loop below, a
	// commit before it is in the store; reading by position never repeats an event.
	sub := s.opt.Stream.Subscribe(org.ID)
	defer sub.Cancel()
	switch {
	case resume:
		// Positions past the store's end were never given out (another server's, or this
		// one's before a restore): new events would take positions at or below it and the
		// stream would stay silent, so the client is told instead.
		var end int64
		if end, err = s.store.StreamEnd(r.Context()); err == nil && pos > end {
			err = mailtrail.Errorf(mailtrail.EINVALID, "Last-Event-ID %d is past the last event of this server (%d): reconnect without it to receive the events from now on, or with last_event_id=0 to replay every stored event", pos, end)
		}
	case recent > 0:
		pos, err = s.store.StreamRecent(r.Context(), org.ID, f, recent)
	default:
		pos, err = s.store.StreamHead(r.Context(), org.ID)
	}
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return nil
	}
	rc := http.NewResponseController(w)
	extendDeadlines(w)
	if _, err := w.Write([]byte("retry: " + strconv.Itoa(streamRetryMS) + "\n\n")); err != nil {
		return nil
	}
	_ = rc.Flush()
	beat := time.NewTicker(streamHeartbeat)
	defer beat.Stop()
	var buf []byte
	for {
		evs, next, err := s.store.EventsAfter(r.Context(), org.ID, pos, f, streamPage)
		if err != nil {
			if r.Context().Err() == nil {
				s.log.ErrorContext(r.Context(), "event stream read failed", slog.String("err", err.Error()))
			}
			return nil
		}
		if len(evs) > 0 {
			extendDeadlines(w)
			buf = buf[:0]
			for i := range evs {
				b, err := json.Marshal(&evs[i].Event)
				if err != nil {
					s.log.ErrorContext(r.Context(), "event stream encode failed", slog.String("err", err.Error()))
					return nil
				}
				buf = strconv.AppendInt(append(buf, "id: "...), evs[i].Seq, 10)
				buf = append(append(append(buf, "\ndata: "...), b...), "\n\n"...)
			}
			if _, err := w.Write(buf); err != nil {
				return nil
			}
			if err := rc.Flush(); err != nil {
				return nil
			}
		}
		pos = next
		if len(evs) == streamPage {
			continue // more to replay
		}
		select {
		case <-sub.C:
		case <-beat.C:
			extendDeadlines(w)
			if _, err := w.Write([]byte(": keepalive\n\n")); err != nil {
				return nil
			}
			if err := rc.Flush(); err != nil {
				return nil
			}
		case <-sub.Done():
			return nil
		case <-r.Context().Done():
			return nil
		}
	}
}
