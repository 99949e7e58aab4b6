package httpd

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/mailtrail/mailtrail"
)

// statusOf maps error codes to HTTP statuses: the one table of it.
var statusOf = map[string]int{
	mailtrail.EINVALID:      http.StatusBadRequest,
	mailtrail.ENOTFOUND:     http.StatusNotFound,
	mailtrail.ECONFLICT:     http.StatusConflict,
	mailtrail.EUNAUTHORIZED: http.StatusUnauthorized,
	mailtrail.EFORBIDDEN:    http.StatusForbidden,
	mailtrail.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	mailtrail.EUNAVAILABLE:  http.StatusServiceUnavailable,
	mailtrail.EINTERNAL:     http.StatusInternalServerError,
}

// errorBody is the one JSON shape of every error answer.
type errorBody struct {
	Error *mailtrail.Error `json:"error"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// writeError answers err in the error shape. Internal errors are logged once, with the
// route, and shown as "internal error".
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code := mailtrail.ErrorCode(err)
	status, ok := statusOf[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	var e *mailtrail.Error
	if !errors.As(err, &e) {
		s.log.ErrorContext(r.Context(), "request failed", slog.String("route", r.Pattern), slog.String("err", err.Error()))
		e = &mailtrail.Error{Code: mailtrail.EINTERNAL, Message: "internal error"}
	}
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
		if err != error(e) { // a cause below the domain error (a full disk): the operator must see it
			s.log.WarnContext(r.Context(), "request refused: unavailable", slog.String("route", r.Pattern), slog.String("err", err.Error()))
		}
	}
	writeJSON(w, status, errorBody{Error: e})
}

// handlerFunc is a handler that returns its failure instead of answering it: every error
// a route returns reaches the client through one sink (handle), in the error shape. A
// handler returns an error only before it has written anything; once it has answered
// (a stream, a CSV export), it returns nil or cuts the answer short itself.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// handle adapts h to http.Handler: the error h returns is answered by writeError (status
// from statusOf, the JSON error body, Retry-After on 503; internal errors logged once). An
// error returned after h already answered is a bug of h: it is logged, and the answer
// stays as written.
func (s *Server) handle(h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		err := h(w, r)
		if err == nil {
			return
		}
		if sw, ok := w.(*statusWriter); ok && sw.status != 0 {
			s.log.ErrorContext(r.Context(), "handler failed after answering", slog.String("route", r.Pattern), slog.String("err", err.Error()))
			return
		}
		s.writeError(w, r, err)
	}
}

// answers adapts a handler that writes every answer itself, errors included, to a route
// of the table: the tracking routes, which never answer JSON to a recipient.
func answers(h http.HandlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		h(w, r)
		return nil
	}
}

// decodeJSON reads a JSON body of at most limit bytes into v. Too large → ETOOLARGE,
// malformed → EINVALID.
func decodeJSON(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return mailtrail.Errorf(mailtrail.ETOOLARGE, "request body over %d bytes", limit)
		}
		return mailtrail.Errorf(mailtrail.EINVALID, "malformed JSON body: %v", sanitizeJSONError(err))
	}
	if dec.More() {
		return mailtrail.Errorf(mailtrail.EINVALID, "malformed JSON body: trailing data")
	}
	return nil
}

// sanitizeJSONError keeps decoder messages but never echoes request bytes at length.
func sanitizeJSONError(err error) string {
	msg := err.Error()
	if len(msg) > 200 {
		msg = msg[:200]
	}
	return msg
}

// timeRange reads the optional RFC 3339 query parameters since and until into their
// destinations; EINVALID names the bad one.
func timeRange(q url.Values, since, until *time.Time) error {
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"since", since}, {"until", until}} {
		if v := q.Get(p.name); v != "" {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return mailtrail.Errorf(mailtrail.EINVALID, "%s must be an RFC 3339 time", p.name)
			}
			*p.dst = t
		}
	}
	return nil
}

// pageLimit reads ?limit= of a listing: 0 (the store's default) when absent, else 1 to 1000.
func pageLimit(q url.Values) (int, error) {
	v := q.Get("limit")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 1000 {
		return 0, mailtrail.Errorf(mailtrail.EINVALID, "limit must be 1 to 1000")
	}
	return n, nil
}
