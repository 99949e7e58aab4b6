package dashboard

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/segment"
)

// SegmentEvaluator answers segment rules as POST /api/v1/segments/evaluate does
// (internal/segment's Index, the API's Options.Segments).
type SegmentEvaluator interface {
	Evaluate(orgID string, r *segment.Rule, now time.Time, candidates []string) (*segment.Result, error)
}

const (
	maxConditions = 5  // rows of the simple builder
	segmentSample = 20 // customer ids shown with a preview
)

var segmentUnits = []string{string(segment.Minute), string(segment.Hour), string(segment.Day), string(segment.Week), string(segment.Month), string(segment.Year)}

// condRow is one row of the simple builder, as the form sent it.
type condRow struct {
	Index                                       int
	Mode, Event, Value, Unit, Campaign, AtLeast string
	Human                                       bool
}

type segmentsData struct {
	Combine   string // and, or
	Rows      []condRow
	Advanced  string // a rule typed as JSON; when set, it is used instead of the rows
	Types     []string
	Units     []string
	Rule      string // the rule previewed, as JSON (what the API takes)
	Error     string // an invalid rule: the message, JSON pointer first
	Warming   string // the segment index is not ready
	Previewed bool
	Count     int
	Sample    []string

	Name      string                   // the name to save under (the one loaded, if any)
	Loaded    string                   // the saved segment shown
	Notice    string                   // what was just saved or deleted
	Saved     []mailtrail.SavedSegment // the organization's saved segments
	CanSave   bool                     // saved segments are enabled
	ReadOnly  bool                     // a read-only key: no saving nor deleting
	Campaigns []string                 // recently active campaign ids, for the pickers
}

func (h *Handler) newSegmentsData(r *http.Request) segmentsData {
	d := segmentsData{Combine: "and", Units: segmentUnits}
	for _, t := range mailtrail.EventTypes {
		d.Types = append(d.Types, t.String())
	}
	f := r.PostForm
	if f.Get("combine") == "or" {
		d.Combine = "or"
	}
	d.Advanced = strings.TrimSpace(f.Get("rule_json"))
	for i := range maxConditions {
		p := strconv.Itoa(i)
		row := condRow{Index: i, Mode: f.Get("mode" + p), Event: f.Get("event" + p), Value: strings.TrimSpace(f.Get("value" + p)),
			Unit: f.Get("unit" + p), Campaign: strings.TrimSpace(f.Get("campaign" + p)), AtLeast: strings.TrimSpace(f.Get("at_least" + p)),
			Human: f.Get("human"+p) != ""}
		if row.Mode == "" {
			row.Mode = "has_done"
		}
		if row.Unit == "" {
			row.Unit = string(segment.Day)
		}
		d.Rows = append(d.Rows, row)
	}
	return d
}

// builtRule turns the rows that name an event into the rule's JSON (errors as the API's,
// JSON pointer first).
func (d *segmentsData) builtRule() ([]byte, error) {
	var nodes []map[string]any
	for _, row := range d.Rows {
		if row.Event == "" {
			continue
		}
		c := map[string]any{"event": row.Event}
		if row.Value != "" {
			n, err := strconv.Atoi(row.Value)
			if err != nil {
				return nil, mailtrail.Errorf(mailtrail.EINVALID, "condition %d: within must be a whole number", row.Index+1)
			}
			c["within"] = map[string]any{"value": n, "unit": row.Unit}
		}
		if row.Campaign != "" {
			c["campaign_id"] = row.Campaign
		}
		if row.Human {
			c["human_only"] = true
		}
		if row.AtLeast != "" {
			n, err := strconv.Atoi(row.AtLeast)
			if err != nil {
				return nil, mailtrail.Errorf(mailtrail.EINVALID, "condition %d: at least must be a whole number", row.Index+1)
			}
			c["at_least"] = n
		}
		mode := "has_done"
		if row.Mode == "has_not_done" {
			mode = "has_not_done"
		}
		nodes = append(nodes, map[string]any{mode: c})
	}
	switch len(nodes) {
	case 0:
		return nil, mailtrail.Errorf(mailtrail.EINVALID, "Choose an event for at least one condition, or type a rule as JSON.")
	case 1:
		return json.Marshal(nodes[0])
	}
	return json.Marshal(map[string]any{d.Combine: nodes})
}

func (h *Handler) segmentsPage(w http.ResponseWriter, r *http.Request) {
	rq := from(r)
	if h.opt.Segments == nil {
		h.errorPage(w, r, rq, http.StatusNotFound, "There is no such page.")
		return
	}
	d := h.newSegmentsData(r)
	status := http.StatusOK
	q := r.URL.Query()
	if name := q.Get("load"); name != "" && h.opt.SavedSegments != nil {
		if err := h.loadSegment(r, rq, &d, name); err != nil {
			h.fail(w, r, rq, err)
			return
		}
		if q.Get("saved") == "1" {
			d.Notice = "Saved as “" + d.Loaded + "”."
		}
		if status = h.preview(r, rq, &d); status == http.StatusInternalServerError {
			h.fail(w, r, rq, errors.New(d.Error))
			return
		}
	}
	if name := q.Get("deleted"); name != "" {
		d.Notice = "Deleted “" + name + "”."
	}
	if err := h.segmentsExtras(r, rq, &d); err != nil {
		h.fail(w, r, rq, err)
		return
	}
	h.render(w, r, status, "segments", h.page(rq, "Segments", "segments", d))
}

// previewSegment evaluates the rule of the form over the organization's customers, as the
// API does without candidates: the count and the first ids.
func (h *Handler) previewSegment(w http.ResponseWriter, r *http.Request) {
	rq := from(r)
	if h.opt.Segments == nil {
		h.errorPage(w, r, rq, http.StatusNotFound, "There is no such page.")
		return
	}
	d := h.newSegmentsData(r)
	d.Name = r.PostForm.Get("name")
	status := h.preview(r, rq, &d)
	if status == http.StatusInternalServerError {
		h.fail(w, r, rq, errors.New(d.Error))
		return
	}
	if err := h.segmentsExtras(r, rq, &d); err != nil {
		h.fail(w, r, rq, err)
		return
	}
	h.render(w, r, status, "segments", h.page(rq, "Segments", "segments", d))
}

func (h *Handler) preview(r *http.Request, rq *request, d *segmentsData) int {
	raw, err := d.formRule()
	if err != nil {
		d.Error = errMessage(err)
		return http.StatusBadRequest
	}
	d.Rule = string(raw)
	rule, err := segment.Parse(raw)
	if err != nil {
		d.Error = errMessage(err)
		return http.StatusBadRequest
	}
	res, err := h.opt.Segments.Evaluate(rq.org.ID, rule, h.opt.Now(), nil)
	switch mailtrail.ErrorCode(err) {
	case "":
	case mailtrail.EUNAVAILABLE:
		d.Warming = errMessage(err)
		return http.StatusServiceUnavailable
	case mailtrail.EINVALID:
		d.Error = errMessage(err)
		return http.StatusBadRequest
	default:
		d.Error = err.Error()
		return http.StatusInternalServerError
	}
	d.Previewed, d.Count = true, res.Count()
	d.Sample = make([]string, 0, min(segmentSample, d.Count))
	if _, err := res.Page("", segmentSample, func(id string) error { d.Sample = append(d.Sample, id); return nil }); err != nil {
		d.Error = err.Error()
		return http.StatusInternalServerError
	}
	return http.StatusOK
}

func errMessage(err error) string {
	var e *mailtrail.Error
	if errors.As(err, &e) {
		return e.Message
	}
	return err.Error()
}
