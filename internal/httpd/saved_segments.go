package httpd

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/segment"
)

// SavedSegments keeps an organization's segment rules under names (the store).
type SavedSegments interface {
	SaveSegment(ctx context.Context, orgID, name string, rule json.RawMessage) (*mailtrail.SavedSegment, bool, error)
	SavedSegments(ctx context.Context, orgID string) ([]mailtrail.SavedSegment, error)
	SavedSegment(ctx context.Context, orgID, name string) (*mailtrail.SavedSegment, error)
	DeleteSavedSegment(ctx context.Context, orgID, name string) error
}

func (s *Server) savedSegments(w http.ResponseWriter, r *http.Request) SavedSegments {
	if s.opt.SavedSegments == nil {
		s.writeError(w, r, mailtrail.Errorf(mailtrail.EUNAVAILABLE, "saved segments are not enabled"))
	}
	return s.opt.SavedSegments
}

// saveSegment answers POST /api/v1/segments: {"name": …, "rule": …} stores the rule
// (validated as evaluate does) under the name; 201 when the name is new, 200 when its rule
// was replaced.
func (s *Server) saveSegment(w http.ResponseWriter, r *http.Request) {
	st := s.savedSegments(w, r)
	if st == nil {
		return
	}
	var body struct {
		Name string          `json:"name"`
		Rule json.RawMessage `json:"rule"`
	}
	if err := decodeJSON(w, r, s.opt.MaxBody, &body); err != nil {
		s.writeError(w, r, err)
		return
	}
	name, err := mailtrail.CheckSegmentName(body.Name)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	rule, err := savedRule(body.Rule)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	seg, created, err := st.SaveSegment(r.Context(), orgFrom(r).ID, name, rule)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, seg)
}

// savedRule validates a rule to save and returns it compacted.
func savedRule(raw json.RawMessage) (json.RawMessage, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, mailtrail.Errorf(mailtrail.EINVALID, "/rule: required")
	}
	if len(raw) > mailtrail.MaxSavedRuleBytes {
		return nil, mailtrail.Errorf(mailtrail.EINVALID, "/rule: over %d bytes", mailtrail.MaxSavedRuleBytes)
	}
	if _, err := segment.ParseAt(raw, "/rule"); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return nil, mailtrail.Errorf(mailtrail.EINVALID, "/rule: %v", err)
	}
	return buf.Bytes(), nil
}

// listSavedSegments answers GET /api/v1/segments: the organization's saved segments by name.
func (s *Server) listSavedSegments(w http.ResponseWriter, r *http.Request) {
	st := s.savedSegments(w, r)
	if st == nil {
		return
	}
	segs, err := st.SavedSegments(r.Context(), orgFrom(r).ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"segments": segs})
}

// getSavedSegment answers GET /api/v1/segments/{name}.
func (s *Server) getSavedSegment(w http.ResponseWriter, r *http.Request) {
	st := s.savedSegments(w, r)
	if st == nil {
		return
	}
	seg, err := st.SavedSegment(r.Context(), orgFrom(r).ID, r.PathValue("name"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, seg)
}

// deleteSavedSegment answers DELETE /api/v1/segments/{name} with 204.
func (s *Server) deleteSavedSegment(w http.ResponseWriter, r *http.Request) {
	st := s.savedSegments(w, r)
	if st == nil {
		return
	}
	if err := st.DeleteSavedSegment(r.Context(), orgFrom(r).ID, r.PathValue("name")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// evaluateSavedSegment answers POST /api/v1/segments/{name}/evaluate: the saved rule,
// evaluated and answered as POST /api/v1/segments/evaluate does (same query parameters,
// format=csv included); the body is empty or {"candidates": [ids]}.
func (s *Server) evaluateSavedSegment(w http.ResponseWriter, r *http.Request) {
	s.ServeSavedSegment(w, r, orgFrom(r), r.PathValue("name"))
}

// ServeSavedSegment evaluates org's segment saved under name and answers as POST
// /api/v1/segments/{name}/evaluate does: the dashboard authenticates by its session, then
// answers through this (its CSV export).
func (s *Server) ServeSavedSegment(w http.ResponseWriter, r *http.Request, org *mailtrail.Organization, name string) {
	st := s.savedSegments(w, r)
	if st == nil {
		return
	}
	if s.opt.Segments == nil {
		s.writeError(w, r, mailtrail.Errorf(mailtrail.EUNAVAILABLE, "segments are not enabled"))
		return
	}
	var cands []string
	if r.Body != nil && r.Method == http.MethodPost {
		raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.opt.MaxBody))
		if err != nil {
			s.writeError(w, r, scanError(err, ""))
			return
		}
		if len(bytes.TrimSpace(raw)) > 0 {
			var body struct {
				Candidates *[]string `json:"candidates"`
			}
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&body); err != nil || body.Candidates == nil {
				s.writeError(w, r, mailtrail.Errorf(mailtrail.EINVALID, "the body must be empty or {\"candidates\": [customer ids]}"))
				return
			}
			if len(*body.Candidates) > maxCandidates {
				s.writeError(w, r, mailtrail.Errorf(mailtrail.ETOOLARGE, "more than %d candidates", maxCandidates))
				return
			}
			cands = *body.Candidates
		}
	}
	seg, err := st.SavedSegment(r.Context(), org.ID, name)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	rule, err := segment.Parse(seg.Rule)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.answerSegment(w, r, org, rule, cands, seg.Name)
}
