package main

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
)

var matchCount = regexp.MustCompile(`<h2>([0-9,]+) customers match</h2>`)

// The segments page previews the same count as the API for the same rule; it says when
// the index is warming up, shows an invalid rule's message with its pointer, and refuses a
// POST without the CSRF token.
func TestDashboardSegments(t *testing.T) {
	h := newHarness(t)
	_, key := h.org("acme")
	_, otherKey := h.org("other")
	day := 24 * time.Hour
	h.postEvents(key,
		segEvent("sent", "spring", "a", 10*day, nil), segEvent("opened", "spring", "a", 5*day, nil),
		segEvent("sent", "spring", "b", 10*day, nil), segEvent("opened", "spring", "b", 2*day, nil), segEvent("opened", "spring", "b", day, nil),
		segEvent("sent", "winter", "c", 40*day, nil), segEvent("opened", "winter", "c", 35*day, nil))
	h.postEvents(otherKey, segEvent("sent", "spring", "z", day, nil), segEvent("opened", "spring", "z", day, nil))

	b := h.browser()
	csrf := b.signIn(key)
	resp, page := b.get("/dashboard/segments")
	if resp.StatusCode != 200 || !strings.Contains(page, `href="/dashboard/segments" aria-current="page"`) || strings.Contains(page, "<script>") {
		t.Fatalf("segments page: %d", resp.StatusCode)
	}
	form := url.Values{"csrf": {csrf}, "combine": {"and"}, "mode0": {"has_done"}, "event0": {"opened"}, "value0": {"30"}, "unit0": {"DAY"},
		"campaign0": {"spring"}}
	// Before the index is built: 503, warming up.
	if resp, page := b.post("/dashboard/segments", form); resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(page, "warming up") {
		t.Fatalf("before the build: %d", resp.StatusCode)
	}
	h.buildSegmentIndex()

	preview := func(form url.Values) (int, string) {
		t.Helper()
		resp, page := b.post("/dashboard/segments", form)
		if resp.StatusCode != 200 {
			t.Fatalf("preview %v: %d\n%s", form, resp.StatusCode, page)
		}
		m := matchCount.FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("no count in page")
		}
		return atoiComma(m[1]), html.UnescapeString(page)
	}
	// The simple builder: one condition.
	n, page := preview(form)
	api := h.segJSON(key, "", `{"has_done":{"event":"opened","campaign_id":"spring","within":{"value":30,"unit":"DAY"}}}`)
	if n != api.Count || n != 2 || !strings.Contains(page, "<code>a</code>") || !strings.Contains(page, "<code>b</code>") || strings.Contains(page, "<code>z</code>") {
		t.Errorf("builder: %d, API %d", n, api.Count)
	}
	// Two conditions with OR, a has-not-done and at least.
	form2 := url.Values{"csrf": {csrf}, "combine": {"or"}, "mode0": {"has_done"}, "event0": {"opened"}, "at_least0": {"2"},
		"mode1": {"has_not_done"}, "event1": {"opened"}, "value1": {"30"}, "unit1": {"DAY"}}
	n, _ = preview(form2)
	api = h.segJSON(key, "", `{"or":[{"has_done":{"event":"opened","at_least":2}},{"has_not_done":{"event":"opened","within":{"value":30,"unit":"DAY"}}}]}`)
	if n != api.Count || n != 2 {
		t.Errorf("or: %d, API %d", n, api.Count)
	}
	// A nested rule typed as JSON.
	nested := `{"and":[{"has_done":{"event":"sent"}},{"not":{"has_done":{"event":"opened","campaign_id":"winter"}}}]}`
	n, _ = preview(url.Values{"csrf": {csrf}, "rule_json": {nested}})
	if api = h.segJSON(key, "", nested); n != api.Count || n != 2 {
		t.Errorf("JSON rule: %d, API %d", n, api.Count)
	}
	// An invalid rule: 400 and the API's message, pointer first.
	resp, page = b.post("/dashboard/segments", url.Values{"csrf": {csrf}, "rule_json": {`{"and":[{"has_done":{"event":"opened","within":{"value":3,"unit":"FORTNIGHT"}}}]}`}})
	if page = html.UnescapeString(page); resp.StatusCode != 400 || !strings.Contains(page, `/and/0/has_done/within/unit: unknown unit "FORTNIGHT"`) {
		t.Errorf("invalid rule: %d", resp.StatusCode)
	}
	resp, page = b.post("/dashboard/segments", url.Values{"csrf": {csrf}, "event0": {"sent"}, "human0": {"1"}})
	if resp.StatusCode != 400 || !strings.Contains(html.UnescapeString(page), "/has_done/human_only") {
		t.Errorf("human_only on sent: %d", resp.StatusCode)
	}
	// Without the CSRF token: 403.
	form.Del("csrf")
	if resp, _ := b.post("/dashboard/segments", form); resp.StatusCode != http.StatusForbidden {
		t.Errorf("without CSRF: %d", resp.StatusCode)
	}
}

func atoiComma(s string) int {
	n := 0
	for _, c := range s {
		if c >= '0' && c <= '9' {
			n = n*10 + int(c-'0')
		}
	}
	return n
}

// The segments page saves the rule built under a name, lists and loads saved segments
// (back into the builder's rows), exports a saved segment's ids as the API's CSV and
// deletes it; the campaign fields offer the organization's campaigns and the windows a
// WEEK unit; a read-only key loads and exports but cannot save nor delete.
func TestDashboardSavedSegments(t *testing.T) {
	h := newHarness(t)
	orgID, key := h.org("acme")
	_, otherKey := h.org("other")
	day := 24 * time.Hour
	h.postEvents(key,
		segEvent("sent", "spring", "a", 10*day, nil), segEvent("opened", "spring", "a", 8*day, nil),
		segEvent("sent", "spring", "b", 10*day, nil), segEvent("opened", "spring", "b", 2*day, nil),
		segEvent("sent", "winter", "c", 40*day, nil), segEvent("opened", "winter", "c", 35*day, nil))
	h.postEvents(otherKey, segEvent("sent", "autumn", "z", day, nil))
	h.buildSegmentIndex()

	b := h.browser()
	csrf := b.signIn(key)
	_, page := b.get("/dashboard/segments")
	for _, want := range []string{`<datalist id="campaign-ids"><option value="spring"><option value="winter"></datalist>`, `list="campaign-ids"`,
		`<option value="WEEK">weeks</option>`, "None yet"} {
		if !strings.Contains(page, want) && !strings.Contains(page, strings.Replace(want, `"spring"><option value="winter"`, `"winter"><option value="spring"`, 1)) {
			t.Errorf("segments page lacks %s", want)
		}
	}
	if strings.Contains(page, "autumn") {
		t.Errorf("another organization's campaign is offered")
	}

	form := url.Values{"csrf": {csrf}, "combine": {"and"}, "mode0": {"has_done"}, "event0": {"opened"}, "value0": {"1"}, "unit0": {"WEEK"},
		"campaign0": {"spring"}, "name": {"Spring openers"}}
	if resp, page := b.post("/dashboard/segments/save", url.Values{"csrf": {csrf}, "event0": {"opened"}, "name": {""}}); resp.StatusCode != 400 || !strings.Contains(page, "Name the segment") {
		t.Errorf("save without a name: %d", resp.StatusCode)
	}
	resp, _ := b.post("/dashboard/segments/save", form)
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || loc != "/dashboard/segments?load=Spring+openers&saved=1" {
		t.Fatalf("save: %d %q", resp.StatusCode, loc)
	}
	var saved mailtrail.SavedSegment
	if r := h.do("GET", "/api/v1/segments/Spring%20openers", key, nil, &saved); r.StatusCode != 200 ||
		string(saved.Rule) != `{"has_done":{"campaign_id":"spring","event":"opened","within":{"unit":"WEEK","value":1}}}` {
		t.Fatalf("the API reads %d %s", r.StatusCode, saved.Rule)
	}
	// Loaded: the rows hold the rule again, previewed; one customer opened spring this week.
	resp, page = b.get(loc)
	page = html.UnescapeString(page)
	for _, want := range []string{"Saved as “Spring openers”.", `<h2>1 customers match</h2>`, "<code>b</code>", `id="loaded">Spring openers<`,
		`name="campaign0" value="spring"`, `<option value="WEEK" selected>weeks</option>`, `<option value="opened" selected>opened</option>`,
		`href="/dashboard/segments?load=Spring%20openers">Spring openers</a>`} {
		if !strings.Contains(page, want) {
			t.Errorf("loaded page lacks %q", want)
		}
	}
	if resp.StatusCode != 200 {
		t.Errorf("loaded: %d", resp.StatusCode)
	}
	// A rule the rows cannot show is loaded as JSON.
	nested := `{"not":{"has_done":{"event":"opened"}}}`
	if resp, _ := b.post("/dashboard/segments/save", url.Values{"csrf": {csrf}, "rule_json": {nested}, "name": {"Never opened"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save JSON: %d", resp.StatusCode)
	}
	if _, page := b.get("/dashboard/segments?load=Never+opened"); !strings.Contains(html.UnescapeString(page), nested+"</textarea>") {
		t.Errorf("nested rule not loaded as JSON")
	}
	// Export: the API's CSV of the saved segment.
	resp, body := b.get("/dashboard/segments/export.csv?name=Spring+openers")
	if resp.StatusCode != 200 || body != "customer_id\nb\n" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
		t.Errorf("export: %d %q", resp.StatusCode, body)
	}
	// Without the token, or with a read-only key, nothing is saved nor deleted.
	if resp, _ := b.post("/dashboard/segments/save", url.Values{"event0": {"sent"}, "name": {"x"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("save without csrf: %d", resp.StatusCode)
	}
	ro := h.browser()
	roTok := ro.signIn(h.readKey(orgID))
	if _, page := ro.get("/dashboard/segments?load=Spring+openers"); !strings.Contains(page, "<code>b</code>") || strings.Contains(page, `id="save-segment"`) ||
		strings.Contains(page, `action="/dashboard/segments/delete"`) {
		t.Errorf("read-only page: save or delete offered, or not loaded")
	}
	if resp, _ := ro.get("/dashboard/segments/export.csv?name=Spring+openers"); resp.StatusCode != 200 {
		t.Errorf("read-only export: %d", resp.StatusCode)
	}
	if resp, _ := ro.post("/dashboard/segments/save", url.Values{"csrf": {roTok}, "event0": {"sent"}, "name": {"x"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("read-only save: %d", resp.StatusCode)
	}
	if resp, _ := ro.post("/dashboard/segments/delete", url.Values{"csrf": {roTok}, "name": {"Spring openers"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("read-only delete: %d", resp.StatusCode)
	}
	// Delete.
	resp, _ = b.post("/dashboard/segments/delete", url.Values{"csrf": {csrf}, "name": {"Spring openers"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
	if _, page := b.get(resp.Header.Get("Location")); !strings.Contains(html.UnescapeString(page), "Deleted “Spring openers”.") || strings.Contains(page, "load=Spring") {
		t.Errorf("after delete the list still has it")
	}
	if r := h.do("GET", "/api/v1/segments/Spring%20openers", key, nil, nil); r.StatusCode != 404 {
		t.Errorf("the API still has it: %d", r.StatusCode)
	}
}
