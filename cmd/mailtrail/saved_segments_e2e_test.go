package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
)

// readKey creates a read-only API key for the organization orgID.
func (h *harness) readKey(orgID string) string {
	h.t.Helper()
	var k struct {
		APIKey string `json:"api_key"`
	}
	if r := h.do("POST", "/api/v1/admin/organizations/"+orgID+"/keys", h.admin, map[string]string{"name": "bi", "scope": "read"}, &k); r.StatusCode != 201 {
		h.t.Fatalf("read key: %d", r.StatusCode)
	}
	return k.APIKey
}

// A segment saved under a name is listed, evaluated by its name (JSON and CSV) as the same
// rule is by POST /segments/evaluate, replaced by saving again, and deleted; a read-only
// key lists and evaluates but cannot save or delete; another organization sees none of it.
func TestSavedSegments(t *testing.T) {
	h := newHarness(t)
	orgID, key := h.org("acme")
	_, otherKey := h.org("other")
	readKey := h.readKey(orgID)
	day := 24 * time.Hour
	h.postEvents(key,
		segEvent("sent", "spring", "a", 10*day, nil), segEvent("opened", "spring", "a", 5*day, nil),
		segEvent("sent", "spring", "b", 10*day, nil), segEvent("opened", "spring", "b", 9*day, nil),
		segEvent("sent", "spring", "=cmd", 10*day, nil), segEvent("opened", "spring", "=cmd", 2*day, nil))
	h.buildSegmentIndex()

	week := json.RawMessage(`{"has_done": {"event": "opened", "within": {"value": 1, "unit": "WEEK"}}}`)
	var saved mailtrail.SavedSegment
	if r := h.do("POST", "/api/v1/segments", key, map[string]any{"name": " Openers this week ", "rule": week}, &saved); r.StatusCode != 201 ||
		saved.Name != "Openers this week" || string(saved.Rule) != `{"has_done":{"event":"opened","within":{"value":1,"unit":"WEEK"}}}` {
		t.Fatalf("save: %d %+v", r.StatusCode, saved)
	}
	// Bad input changes nothing.
	for _, body := range []map[string]any{
		{"name": "", "rule": week},
		{"name": "a/b", "rule": week},
		{"name": "x"},
		{"name": "x", "rule": json.RawMessage(`{"has_done": {"event": "opened", "within": {"value": 1, "unit": "FORTNIGHT"}}}`)},
	} {
		var e struct{ Error mailtrail.Error }
		if r := h.do("POST", "/api/v1/segments", key, body, &e); r.StatusCode != 400 || e.Error.Code != mailtrail.EINVALID {
			t.Errorf("%v: %d %+v", body, r.StatusCode, e)
		}
	}
	// A read-only key may not save nor delete.
	if r := h.do("POST", "/api/v1/segments", readKey, map[string]any{"name": "ro", "rule": week}, nil); r.StatusCode != http.StatusForbidden {
		t.Errorf("save with a read key: %d", r.StatusCode)
	}
	esc := "/api/v1/segments/" + url.PathEscape("Openers this week")
	if r := h.do("DELETE", esc, readKey, nil, nil); r.StatusCode != http.StatusForbidden {
		t.Errorf("delete with a read key: %d", r.StatusCode)
	}
	var list struct {
		Segments []mailtrail.SavedSegment `json:"segments"`
	}
	for _, k := range []string{key, readKey} {
		if r := h.do("GET", "/api/v1/segments", k, nil, &list); r.StatusCode != 200 || len(list.Segments) != 1 || list.Segments[0].Name != "Openers this week" {
			t.Fatalf("list: %d %+v", r.StatusCode, list)
		}
	}
	if r := h.do("GET", "/api/v1/segments", otherKey, nil, &list); r.StatusCode != 200 || len(list.Segments) != 0 {
		t.Errorf("the other organization lists %+v", list)
	}
	if r := h.do("POST", esc+"/evaluate", otherKey, nil, nil); r.StatusCode != 404 {
		t.Errorf("the other organization evaluates it: %d", r.StatusCode)
	}

	// Evaluate by name: the same answer as the rule itself, for a read key too.
	want := h.segJSON(key, "", string(week))
	var got segAnswer
	if r := h.do("POST", esc+"/evaluate", readKey, nil, &got); r.StatusCode != 200 || got.Count != 2 || !slices.Equal(got.CustomerIDs, want.CustomerIDs) {
		t.Fatalf("evaluate by name: %d %+v, want %+v", r.StatusCode, got, want)
	}
	if r := h.do("POST", esc+"/evaluate?ids=none", key, map[string]any{"candidates": []string{"a", "b"}}, &got); r.StatusCode != 200 || got.Count != 1 {
		t.Fatalf("evaluate by name with candidates: %d %+v", r.StatusCode, got)
	}
	// CSV: every id, a formula-like one defused.
	r := h.do("POST", esc+"/evaluate?format=csv", key, nil, nil)
	csvBody, _ := io.ReadAll(r.Body)
	if r.StatusCode != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") || string(csvBody) != "customer_id\na\n'=cmd\n" ||
		!strings.Contains(r.Header.Get("Content-Disposition"), `filename="segment-Openers-this-week.csv"`) || r.Header.Get("X-Segment-Count") != "2" {
		t.Fatalf("csv: %d %q %q", r.StatusCode, r.Header, csvBody)
	}
	r = h.do("POST", "/api/v1/segments/evaluate?format=csv", key, string(week), nil)
	if csvRaw, _ := io.ReadAll(r.Body); string(csvRaw) != string(csvBody) {
		t.Errorf("csv of the rule: %q", csvRaw)
	}
	if r := h.do("POST", esc+"/evaluate?format=xml", key, nil, nil); r.StatusCode != 400 {
		t.Errorf("format=xml: %d", r.StatusCode)
	}

	// Saving under the same name replaces the rule.
	month := json.RawMessage(`{"has_done": {"event": "opened", "within": {"value": 1, "unit": "MONTH"}}}`)
	if r := h.do("POST", "/api/v1/segments", key, map[string]any{"name": "Openers this week", "rule": month}, &saved); r.StatusCode != 200 || !strings.Contains(string(saved.Rule), "MONTH") {
		t.Fatalf("replace: %d %+v", r.StatusCode, saved)
	}
	if r := h.do("POST", esc+"/evaluate?ids=none", key, nil, &got); r.StatusCode != 200 || got.Count != 3 {
		t.Fatalf("after replacing: %+v", got)
	}
	if r := h.do("GET", esc, readKey, nil, &saved); r.StatusCode != 200 || !strings.Contains(string(saved.Rule), "MONTH") {
		t.Fatalf("get: %d %+v", r.StatusCode, saved)
	}

	// Delete.
	if r := h.do("DELETE", esc, key, nil, nil); r.StatusCode != http.StatusNoContent {
		t.Fatalf("delete: %d", r.StatusCode)
	}
	if r := h.do("DELETE", esc, key, nil, nil); r.StatusCode != http.StatusNotFound {
		t.Errorf("delete twice: %d", r.StatusCode)
	}
	if r := h.do("POST", esc+"/evaluate", key, nil, nil); r.StatusCode != http.StatusNotFound {
		t.Errorf("evaluate a deleted segment: %d", r.StatusCode)
	}
}
