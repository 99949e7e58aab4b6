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

// savedSegments returns Options.SavedSegments; EUNAVAILABLE when there is none.
func (s *Server) savedSegments() (SavedSegments, error) {
	if s.opt.SavedSegments == nil {
		return nil, mailtrail.Errorf(mailtrail.EUNAVAILABLE, "saved segments are not enabled")
	}
	return s.opt.SavedSegments, nil
}

// saveSegment answers POST /api/v1/segments: {"name": …, "rule": …} stores the rule
// (validated as evaluate does) under the name; 201 when the name is new, 200 when its rule
// was replaced.
func (s *Server) saveSegment(w http.ResponseWriter, r *http.Request) error {
	st, err := s.savedSegments()
	if err != nil {
		return err
	}
	var body struct {
		Name string          `json:"name"`
		Rule json.RawMessage `json:"rule"`
	}
	if err := decodeJSON(w, r, s.opt.MaxBody, &body); err != nil {
		return err
	}
	name, err := mailtrail.CheckSegmentName(body.Name)
	if err != nil {
		return err
	}
	rule, err := savedRule(body.Rule)
	if err != nil {
		return err
	}
	seg, created, err := st.SaveSegment(r.Context(), principalFrom(r.Context()).orgID(), name, rule)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, seg)
	return nil
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
func (s *Server) listSavedSegments(w http.ResponseWriter, r *http.Request) error {
	st, err := s.savedSegments()
	if err != nil {
		return err
	}
	segs, err := st.SavedSegments(r.Context(), principalFrom(r.Context()).orgID())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"segments": segs})
	return nil
}

// getSavedSegment answers GET /api/v1/segments/{name}.
func (s *Server) getSavedSegment(w http.ResponseWriter, r *http.Request) error {
	st, err := s.savedSegments()
	if err != nil {
		return err
	}
	seg, err := st.SavedSegment(r.Context(), principalFrom(r.Context()).orgID(), r.PathValue("name"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, seg)
	return nil
}

// deleteSavedSegment answers DELETE /api/v1/segments/{name} with 204.
func (s *Server) deleteSavedSegment(w http.ResponseWriter, r *http.Request) error {
	st, err := s.savedSegments()
	if err != nil {
		return err
	}
	if err := st.DeleteSavedSegment(r.Context(), principalFrom(r.Context()).orgID(), r.PathValue("name")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// evaluateSavedSegment answers POST /api/v1/segments/{name}/evaluate: the saved rule,
// evaluated and answered as POST /api/v1/segments/evaluate does (same query parameters,
// format=csv included); the body is empty or {"candidates": [ids]}.
func (s *Server) evaluateSavedSegment(w http.ResponseWriter, r *http.Request) error {
	return s.savedSegment(w, r, principalFrom(r.Context()).org, r.PathValue("name"))
}

// ServeSavedSegment evaluates org's segment saved under name and answers as POST
// /api/v1/segments/{name}/evaluate does: the dashboard authenticates by its session, then
// answers through this (its CSV export).
func (s *Server) ServeSavedSegment(w http.ResponseWriter, r *http.Request, org *mailtrail.Organization, name string) {
	s.handle(func(w http.ResponseWriter, r *http.Request) error { return s.savedSegment(w, r, org, name) })(w, r)
}

// savedSegment evaluates org's segment saved under name and answers (ServeSavedSegment).
func (s *Server) savedSegment(w http.ResponseWriter, r *http.Request, org *mailtrail.Organization, name string) error {
	st, err := s.savedSegments()
	if err != nil {
		return err
	}
	if s.opt.Segments == nil {
		return mailtrail.Errorf(mailtrail.EUNAVAILABLE, "segments are not enabled")
	}
	var cands []string
	if r.Body != nil && r.Method == http.MethodPost {
		raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.opt.MaxBody))
		if err != nil {
			return scanError(err, "")
		}
		if len(bytes.TrimSpace(raw)) > 0 {
			var body struct {
				Candidates *[]string `json:"candidates"`
			}
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&body); err != nil || body.Candidates == nil {
				return mailtrail.Errorf(mailtrail.EINVALID, "the body must be empty or {\"candidates\": [customer ids]}")
			}
			if len(*body.Candidates) > maxCandidates {
				return mailtrail.Errorf(mailtrail.ETOOLARGE, "more than %d candidates", maxCandidates)
			}
			cands = *body.Candidates
		}
	}
	seg, err := st.SavedSegment(r.Context(), org.ID, name)
	if err != nil {
		return err
	}
	rule, err := segment.Parse(seg.Rule)
	if err != nil {
		return err
	}
	return s.answerSegment(w, r, org, rule, cands, seg.Name)
}
