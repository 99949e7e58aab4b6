package main

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
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
	resp, page = b.post("/dashboard/segments", url.Values{"csrf": {csrf}, "rule_json": {`{"and":[{"has_done":{"event":"opened","within":{"value":3,"unit":"WEEK"}}}]}`}})
	if page = html.UnescapeString(page); resp.StatusCode != 400 || !strings.Contains(page, `/and/0/has_done/within/unit: unknown unit "WEEK"`) {
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
