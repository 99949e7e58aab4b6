package main

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/mailtrail/mailtrail"
)

// uploadCSV posts a CSV file to the dashboard's import form.
func (b *browser) uploadCSV(csrf, name, body string) (*http.Response, string) {
	b.h.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if csrf != "" {
		_ = mw.WriteField("csrf", csrf)
	}
	fw, _ := mw.CreateFormFile("file", name)
	_, _ = io.WriteString(fw, body)
	_ = mw.Close()
	resp, err := b.c.Post(b.h.srv.URL+"/dashboard/suppressions/import", mw.FormDataContentType(), &buf)
	if err != nil {
		b.h.t.Fatal(err)
	}
	defer resp.Body.Close()
	page, _ := io.ReadAll(resp.Body)
	return resp, string(page)
}

// Adding and removing an address through the pages changes what the API checks.
func TestDashboardSuppressions(t *testing.T) {
	h := newHarness(t)
	_, key := h.org("acme")
	_, otherKey := h.org("globex")
	b := h.browser()
	tok := b.signIn(key)

	resp, page := b.get("/dashboard/suppressions")
	if resp.StatusCode != 200 || !strings.Contains(page, "No suppressed addresses") || !strings.Contains(page, `href="/dashboard/suppressions" aria-current="page"`) {
		t.Fatalf("empty page: %d\n%s", resp.StatusCode, page)
	}
	// Without the session's token nothing changes.
	if resp, _ := b.post("/dashboard/suppressions", url.Values{"email": {"x@example.com"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("add without csrf: %d", resp.StatusCode)
	}
	if resp, _ := b.post("/dashboard/suppressions/remove", url.Values{"email": {"x@example.com"}, "why": {"w"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("remove without csrf: %d", resp.StatusCode)
	}
	if resp, _ := b.uploadCSV("", "a.csv", "email\ny@example.com\n"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("import without csrf: %d", resp.StatusCode)
	}
	if got := h.checkReasons(key, "x@example.com", "y@example.com"); len(got) != 0 {
		t.Fatalf("refused forms changed the store: %v", got)
	}

	// Add.
	resp, _ = b.post("/dashboard/suppressions", url.Values{"csrf": {tok}, "email": {"pat@Example.com"}, "note": {"asked by phone"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("add: %d", resp.StatusCode)
	}
	if got := h.checkReasons(key, "pat@example.com"); got["pat@example.com"] != mailtrail.ReasonManual {
		t.Fatalf("after add the API checks %v", got)
	}
	if got := h.checkReasons(otherKey, "pat@example.com"); len(got) != 0 {
		t.Errorf("another organization sees the suppression: %v", got)
	}
	_, page = b.get(resp.Header.Get("Location"))
	if !strings.Contains(page, "pat@example.com is suppressed") || !strings.Contains(page, "asked by phone") {
		t.Errorf("list after add:\n%s", page)
	}
	if resp, _ := b.post("/dashboard/suppressions", url.Values{"csrf": {tok}, "email": {"not an address"}}); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("bad address: %d", resp.StatusCode)
	}
	// Filters.
	if _, page := b.get("/dashboard/suppressions?reason=hard_bounce"); strings.Contains(page, "pat@example.com") {
		t.Errorf("reason filter shows a manual suppression")
	}
	if _, page := b.get("/dashboard/suppressions?source=manual&q=pat"); !strings.Contains(page, "asked by phone") {
		t.Errorf("source filter lost it")
	}
	if resp, _ := b.get("/dashboard/suppressions?reason=nope"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown reason: %d", resp.StatusCode)
	}

	// Export is the API's CSV.
	resp, csvBody := b.get("/dashboard/suppressions/export.csv")
	api := h.do("GET", "/api/v1/suppressions/export", key, nil, nil)
	apiBody, _ := io.ReadAll(api.Body)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") || csvBody != string(apiBody) || !strings.Contains(csvBody, "pat@example.com") {
		t.Errorf("export %d:\n%s\napi:\n%s", resp.StatusCode, csvBody, apiBody)
	}

	// Remove needs a reason, then lifts the suppression.
	if resp, _ := b.post("/dashboard/suppressions/remove", url.Values{"csrf": {tok}, "email": {"pat@example.com"}}); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("remove without a reason: %d", resp.StatusCode)
	}
	resp, _ = b.post("/dashboard/suppressions/remove", url.Values{"csrf": {tok}, "email": {"pat@example.com"}, "why": {"opted in again"},
		"back": {"/dashboard/suppressions?reason=manual"}})
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.Contains(loc, "reason=manual") {
		t.Fatalf("remove: %d %q", resp.StatusCode, loc)
	}
	if got := h.checkReasons(key, "pat@example.com"); len(got) != 0 {
		t.Fatalf("after remove the API checks %v", got)
	}
	var hist struct {
		History []mailtrail.SuppressionChange `json:"history"`
	}
	h.do("GET", "/api/v1/suppressions/pat@example.com/history", key, nil, &hist)
	if raw, _ := json.Marshal(hist.History); !strings.Contains(string(raw), "dashboard") || !strings.Contains(string(raw), "opted in again") {
		t.Errorf("history lacks the dashboard's removal: %s", raw)
	}
	if resp, _ := b.post("/dashboard/suppressions/remove", url.Values{"csrf": {tok}, "email": {"pat@example.com"}, "why": {"again"}}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("remove twice: %d", resp.StatusCode)
	}

	// Import: good rows are stored, the bad row is shown by line.
	resp, page = b.uploadCSV(tok, "list.csv", "email,note\na@example.com,one\nnot-an-address,two\nb@example.com,three\n")
	if resp.StatusCode != 200 {
		t.Fatalf("import: %d\n%s", resp.StatusCode, page)
	}
	for _, s := range []string{`id="import-added">2<`, `id="import-rejected">1<`, "line 3", "list.csv"} {
		if !strings.Contains(page, s) {
			t.Errorf("import result lacks %q:\n%s", s, page)
		}
	}
	if got := h.checkReasons(key, "a@example.com", "b@example.com"); got["a@example.com"] != mailtrail.ReasonListImport || got["b@example.com"] != mailtrail.ReasonListImport {
		t.Errorf("after import the API checks %v", got)
	}
}
