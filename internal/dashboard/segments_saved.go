package dashboard

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/segment"
)

// SavedSegmentStore keeps an organization's segment rules under names (the store, as the
// API's /api/v1/segments uses it).
type SavedSegmentStore interface {
	SaveSegment(ctx context.Context, orgID, name string, rule json.RawMessage) (*mailtrail.SavedSegment, bool, error)
	SavedSegments(ctx context.Context, orgID string) ([]mailtrail.SavedSegment, error)
	SavedSegment(ctx context.Context, orgID, name string) (*mailtrail.SavedSegment, error)
	DeleteSavedSegment(ctx context.Context, orgID, name string) error
}

// campaignChoices is how many of the most recently active campaigns the campaign pickers
// offer (the field still takes any id typed).
const campaignChoices = 500

// segmentsExtras adds what every segments page shows besides the rule: the saved
// segments, the campaigns to pick from, whether the key may save.
func (h *Handler) segmentsExtras(r *http.Request, rq *request, d *segmentsData) error {
	d.ReadOnly = rq.org.KeyScope == mailtrail.ScopeRead
	d.CanSave = h.opt.SavedSegments != nil
	if d.CanSave {
		saved, err := h.opt.SavedSegments.SavedSegments(r.Context(), rq.org.ID)
		if err != nil {
			return err
		}
		d.Saved = saved
	}
	page, err := h.opt.Store.Campaigns(r.Context(), rq.org.ID, mailtrail.CampaignFilter{Limit: campaignChoices})
	if err != nil {
		return err
	}
	for _, c := range page.Campaigns {
		d.Campaigns = append(d.Campaigns, c.ID)
	}
	return nil
}

// formRule returns the rule of the form as JSON: the one typed, else the one built from
// the rows (errors as the API's, JSON pointer first).
func (d *segmentsData) formRule() ([]byte, error) {
	if d.Advanced != "" {
		return []byte(d.Advanced), nil
	}
	return d.builtRule()
}

// saveSegment saves the form's rule under the name given, then shows it loaded.
func (h *Handler) saveSegment(w http.ResponseWriter, r *http.Request) {
	rq := from(r)
	if h.opt.Segments == nil || h.opt.SavedSegments == nil {
		h.errorPage(w, r, rq, http.StatusNotFound, "There is no such page.")
		return
	}
	d := h.newSegmentsData(r)
	d.Name = r.PostForm.Get("name")
	fail := func(err error) {
		if mailtrail.ErrorCode(err) != mailtrail.EINVALID {
			h.fail(w, r, rq, err)
			return
		}
		d.Error = errMessage(err)
		if err := h.segmentsExtras(r, rq, &d); err != nil {
			h.fail(w, r, rq, err)
			return
		}
		h.render(w, r, http.StatusBadRequest, "segments", h.page(rq, "Segments", "segments", d))
	}
	name, err := mailtrail.CheckSegmentName(d.Name)
	if err != nil {
		fail(mailtrail.Errorf(mailtrail.EINVALID, "Name the segment: 1 to %d characters, no slash.", mailtrail.MaxSegmentName))
		return
	}
	raw, err := d.formRule()
	if err == nil && len(raw) > mailtrail.MaxSavedRuleBytes {
		err = mailtrail.Errorf(mailtrail.EINVALID, "The rule is over %d bytes.", mailtrail.MaxSavedRuleBytes)
	}
	if err == nil {
		d.Rule = string(raw)
		_, err = segment.Parse(raw)
	}
	var buf bytes.Buffer
	if err == nil && json.Compact(&buf, raw) != nil {
		err = mailtrail.Errorf(mailtrail.EINVALID, "The rule is not valid JSON.")
	}
	if err != nil {
		fail(err)
		return
	}
	if _, _, err := h.opt.SavedSegments.SaveSegment(r.Context(), rq.org.ID, name, buf.Bytes()); err != nil {
		fail(err)
		return
	}
	http.Redirect(w, r, "/dashboard/segments?"+url.Values{"load": {name}, "saved": {"1"}}.Encode(), http.StatusSeeOther)
}

// deleteSegment deletes a saved segment.
func (h *Handler) deleteSegment(w http.ResponseWriter, r *http.Request) {
	rq := from(r)
	if h.opt.SavedSegments == nil {
		h.errorPage(w, r, rq, http.StatusNotFound, "There is no such page.")
		return
	}
	name := r.PostForm.Get("name")
	if err := h.opt.SavedSegments.DeleteSavedSegment(r.Context(), rq.org.ID, name); err != nil {
		h.fail(w, r, rq, err)
		return
	}
	http.Redirect(w, r, "/dashboard/segments?"+url.Values{"deleted": {name}}.Encode(), http.StatusSeeOther)
}

// exportSegment downloads the customer ids of a saved segment as the API's CSV.
func (h *Handler) exportSegment(w http.ResponseWriter, r *http.Request) {
	rq := from(r)
	if h.opt.SegmentExport == nil {
		h.errorPage(w, r, rq, http.StatusNotFound, "There is no such page.")
		return
	}
	name := r.URL.Query().Get("name")
	r2 := r.Clone(r.Context())
	r2.URL.RawQuery = url.Values{"format": {"csv"}}.Encode()
	h.opt.SegmentExport(w, r2, rq.org, name)
}

// loadSegment fills d with the segment saved under name: its conditions in the builder's
// rows when the rule fits them, else typed as JSON.
func (h *Handler) loadSegment(r *http.Request, rq *request, d *segmentsData, name string) error {
	seg, err := h.opt.SavedSegments.SavedSegment(r.Context(), rq.org.ID, name)
	if err != nil {
		return err
	}
	d.Name, d.Loaded = seg.Name, seg.Name
	if combine, rows, ok := rowsOf(seg.Rule); ok {
		d.Combine, d.Advanced = combine, ""
		for i := range d.Rows {
			if i < len(rows) {
				rows[i].Index = i
				d.Rows[i] = rows[i]
			}
		}
		return nil
	}
	d.Advanced = string(seg.Rule)
	return nil
}

// builderCond is a condition the builder's rows can show.
type builderCond struct {
	Event  string `json:"event"`
	Within *struct {
		Value int    `json:"value"`
		Unit  string `json:"unit"`
	} `json:"within"`
	Campaign string `json:"campaign_id"`
	Human    bool   `json:"human_only"`
	AtLeast  int    `json:"at_least"`
}

// rowsOf returns the builder's rows of a rule that is one condition, or all or any of up
// to maxConditions conditions, with only the fields the rows have; ok false otherwise.
func rowsOf(rule []byte) (combine string, rows []condRow, ok bool) {
	var top map[string]json.RawMessage
	if json.Unmarshal(rule, &top) != nil || len(top) != 1 {
		return "", nil, false
	}
	nodes := []json.RawMessage{rule}
	combine = "and"
	for k, v := range top {
		if k == "and" || k == "or" {
			combine = k
			if json.Unmarshal(v, &nodes) != nil || len(nodes) > maxConditions {
				return "", nil, false
			}
		}
	}
	for _, n := range nodes {
		var node map[string]json.RawMessage
		if json.Unmarshal(n, &node) != nil || len(node) != 1 {
			return "", nil, false
		}
		for mode, v := range node {
			if mode != "has_done" && mode != "has_not_done" {
				return "", nil, false
			}
			var c builderCond
			dec := json.NewDecoder(bytes.NewReader(v))
			dec.DisallowUnknownFields()
			if dec.Decode(&c) != nil {
				return "", nil, false
			}
			row := condRow{Mode: mode, Event: c.Event, Campaign: c.Campaign, Human: c.Human, Unit: string(segment.Day)}
			if c.Within != nil {
				row.Value, row.Unit = strconv.Itoa(c.Within.Value), c.Within.Unit
			}
			if c.AtLeast > 0 {
				row.AtLeast = strconv.Itoa(c.AtLeast)
			}
			rows = append(rows, row)
		}
	}
	return combine, rows, true
}
