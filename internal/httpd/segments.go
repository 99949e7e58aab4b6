package httpd

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/segment"
)

// Segments answers segment rules (internal/segment's Index).
type Segments interface {
	Evaluate(orgID string, r *segment.Rule, now time.Time, candidates []string) (*segment.Result, error)
	Match(orgID string, r *segment.Rule, now time.Time, customer string) (bool, error)
	// RefreshHorizons reads the organizations' retention again (after a change of it).
	RefreshHorizons(ctx context.Context) error
}

// Limits of a segment request.
const (
	maxCandidates   = 10_000_000
	maxSegmentBody  = 1 << 30 // NDJSON candidate streams
	defaultIDsLimit = 1000
	maxIDsLimit     = 100_000
)

const ndjson = "application/x-ndjson"

// evaluateSegment answers POST /api/v1/segments/evaluate.
//
// Body: the rule itself, or {"rule": …, "candidates": [ids]}; or, with Content-Type
// application/x-ndjson, the rule on the first line and one candidate id per line after it
// (a JSON string or {"customer_id": …}). Query: customer_id (one customer: match or not),
// ids=none (count only), limit and cursor (pages of ids). Accept: application/x-ndjson
// streams every id, one {"customer_id": …} per line, then {"count": N}.
func (s *Server) evaluateSegment(w http.ResponseWriter, r *http.Request) error {
	if s.opt.Segments == nil {
		return mailtrail.Errorf(mailtrail.EUNAVAILABLE, "segments are not enabled")
	}
	org := principalFrom(r.Context()).org
	rule, cands, err := s.readSegmentRequest(w, r)
	if err != nil {
		return err
	}
	return s.answerSegment(w, r, org, rule, cands, "")
}

// answerSegment evaluates rule for org (over cands when not nil) and answers as the query
// asks: one customer's match, the count, a page of ids, every id as NDJSON, or, with
// format=csv, every id as a CSV download (named after the saved segment name, if any).
func (s *Server) answerSegment(w http.ResponseWriter, r *http.Request, org *mailtrail.Organization, rule *segment.Rule, cands []string, name string) error {
	q := r.URL.Query()
	format := q.Get("format")
	if format != "" && format != "json" && format != "csv" {
		return mailtrail.Errorf(mailtrail.EINVALID, "format must be json or csv")
	}
	now := s.now()
	if c := q.Get("customer_id"); c != "" || q.Has("customer_id") {
		if c == "" {
			return mailtrail.Errorf(mailtrail.EINVALID, "customer_id must not be empty")
		}
		ok, err := s.opt.Segments.Match(org.ID, rule, now, c)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, map[string]any{"customer_id": c, "match": ok})
		return nil
	}
	limit := defaultIDsLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxIDsLimit {
			return mailtrail.Errorf(mailtrail.EINVALID, "limit must be an integer from 1 to %d", maxIDsLimit)
		}
		limit = n
	}
	ids := q.Get("ids")
	if ids != "" && ids != "none" && ids != "page" {
		return mailtrail.Errorf(mailtrail.EINVALID, "ids must be none or page")
	}
	res, err := s.opt.Segments.Evaluate(org.ID, rule, now, cands)
	if err != nil {
		return err
	}
	switch {
	case format == "csv":
		streamCSV(w, res, name)
	case ids == "none":
		writeJSON(w, http.StatusOK, map[string]any{"count": res.Count()})
	case ids == "" && acceptsNDJSON(r):
		streamIDs(w, res)
	default:
		page := make([]string, 0, min(limit, res.Count()))
		next, err := res.Page(segment.Cursor(q.Get("cursor")), limit, func(id string) error { page = append(page, id); return nil })
		if err != nil {
			return err
		}
		body := map[string]any{"count": res.Count(), "customer_ids": page}
		if next != "" {
			body["next_cursor"] = string(next)
		}
		writeJSON(w, http.StatusOK, body)
	}
	return nil
}

func acceptsNDJSON(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		if mt, _, err := mime.ParseMediaType(strings.TrimSpace(part)); err == nil && mt == ndjson {
			return true
		}
	}
	return false
}

// streamIDs writes every id of res as NDJSON, then a trailer line with the count.
func streamIDs(w http.ResponseWriter, res *segment.Result) {
	w.Header().Set("Content-Type", ndjson)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Segment-Count", strconv.Itoa(res.Count()))
	w.WriteHeader(http.StatusOK)
	bw := bufio.NewWriterSize(w, 64<<10)
	line := make([]byte, 0, 128)
	_, _ = res.Page("", 0, func(id string) error {
		line = append(line[:0], `{"customer_id":`...)
		line = appendJSONString(line, id)
		line = append(line, "}\n"...)
		_, err := bw.Write(line)
		return err // a client gone: stop
	})
	bw.WriteString(`{"count":` + strconv.Itoa(res.Count()) + "}\n")
	bw.Flush()
}

// streamCSV writes every id of res as a CSV download: a customer_id header, one id a row
// (cells a spreadsheet would read as a formula get a leading apostrophe).
func streamCSV(w http.ResponseWriter, res *segment.Result, name string) {
	file := "segment.csv"
	if name != "" {
		file = "segment-" + safeFileName(name) + ".csv"
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+file+`"`)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Segment-Count", strconv.Itoa(res.Count()))
	w.WriteHeader(http.StatusOK)
	bw := bufio.NewWriterSize(w, 64<<10)
	cw := csv.NewWriter(bw)
	_ = cw.Write([]string{"customer_id"})
	row := make([]string, 1)
	_, _ = res.Page("", 0, func(id string) error {
		row[0] = csvCell(id)
		return cw.Write(row) // a client gone: stop
	})
	cw.Flush()
	bw.Flush()
}

// safeFileName keeps the letters, digits, - and _ of name (others become -), at most 60.
func safeFileName(name string) string {
	b := make([]byte, 0, len(name))
	for _, c := range []byte(name) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_':
			b = append(b, c)
		default:
			b = append(b, '-')
		}
		if len(b) == 60 {
			break
		}
	}
	return string(b)
}

// appendJSONString appends s as a JSON string; plain ASCII ids take the short path.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// readSegmentRequest reads the rule and the candidates (nil: none given) of a request.
func (s *Server) readSegmentRequest(w http.ResponseWriter, r *http.Request) (*segment.Rule, []string, error) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt == ndjson {
		return readNDJSONCandidates(http.MaxBytesReader(w, r.Body, maxSegmentBody))
	}
	var raw json.RawMessage
	if err := decodeJSON(w, r, s.opt.MaxBody, &raw); err != nil {
		return nil, nil, err
	}
	var top map[string]json.RawMessage
	if json.Unmarshal(raw, &top) != nil {
		return nil, nil, mailtrail.Errorf(mailtrail.EINVALID, "/: expected an object: a rule, or {\"rule\": …, \"candidates\": […]}")
	}
	if _, ok := top["rule"]; !ok {
		rule, err := segment.Parse(raw)
		return rule, nil, err
	}
	for k := range top {
		if k != "rule" && k != "candidates" {
			return nil, nil, mailtrail.Errorf(mailtrail.EINVALID, "/%s: unknown field (rule, candidates)", k)
		}
	}
	rule, err := segment.ParseAt(top["rule"], "/rule")
	if err != nil {
		return nil, nil, err
	}
	var cands []string
	if c, ok := top["candidates"]; ok {
		if err := json.Unmarshal(c, &cands); err != nil || cands == nil {
			return nil, nil, mailtrail.Errorf(mailtrail.EINVALID, "/candidates: expected an array of customer ids")
		}
		if len(cands) > maxCandidates {
			return nil, nil, mailtrail.Errorf(mailtrail.ETOOLARGE, "more than %d candidates", maxCandidates)
		}
	}
	return rule, cands, nil
}

// readNDJSONCandidates reads a rule line then one candidate id per line.
func readNDJSONCandidates(body io.Reader) (*segment.Rule, []string, error) {
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	if !sc.Scan() {
		return nil, nil, scanError(sc.Err(), "the first line must be the rule")
	}
	rule, err := segment.Parse(sc.Bytes())
	if err != nil {
		return nil, nil, err
	}
	cands := []string{}
	line := 1
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var id string
		if b[0] == '{' {
			var v struct {
				CustomerID string `json:"customer_id"`
			}
			if json.Unmarshal(b, &v) != nil || v.CustomerID == "" {
				return nil, nil, mailtrail.Errorf(mailtrail.EINVALID, "line %d: expected a customer id (a JSON string or {\"customer_id\": …})", line)
			}
			id = v.CustomerID
		} else if json.Unmarshal(b, &id) != nil || id == "" {
			return nil, nil, mailtrail.Errorf(mailtrail.EINVALID, "line %d: expected a customer id (a JSON string or {\"customer_id\": …})", line)
		}
		if len(cands) == maxCandidates {
			return nil, nil, mailtrail.Errorf(mailtrail.ETOOLARGE, "more than %d candidates", maxCandidates)
		}
		cands = append(cands, id)
	}
	if err := sc.Err(); err != nil {
		return nil, nil, scanError(err, "")
	}
	return rule, cands, nil
}

func scanError(err error, empty string) error {
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return mailtrail.Errorf(mailtrail.ETOOLARGE, "request body over %d bytes", mbe.Limit)
	case errors.Is(err, bufio.ErrTooLong):
		return mailtrail.Errorf(mailtrail.EINVALID, "a line over 16 MiB")
	case err != nil:
		return mailtrail.Errorf(mailtrail.EINVALID, "reading the body: %v", sanitizeJSONError(err))
	}
	return mailtrail.Errorf(mailtrail.EINVALID, "%s", empty)
}
