package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

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

	// Add: the form is above the list, and the address added is at its top at once.
	if resp, _ := b.post("/dashboard/suppressions", url.Values{"csrf": {tok}, "email": {"abe@example.com"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("add abe: %d", resp.StatusCode)
	}
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
	form, table := strings.Index(page, `id="add-suppression"`), strings.Index(page, "<table")
	const cell = `<td class="strong name" data-label="Address">`
	// The address shows as first spelled (pat@Example.com), and is the one just added.
	first, second := strings.Index(page, cell+`pat@Example.com`), strings.Index(page, cell+`abe@example.com`)
	if form < 0 || form > table || first < table || second < first || !strings.Contains(page, `<tr class="just-added">`+"\n"+`  `+cell+`pat@Example.com`) {
		t.Errorf("the form is not above the list, or the address added is not at its top: form %d table %d pat %d abe %d", form, table, first, second)
	}
	if !strings.Contains(page, `id="sup-total">2 suppressed addresses, newest first.`) {
		t.Errorf("total count missing:\n%s", page)
	}
	resp, _ = b.post("/dashboard/suppressions", url.Values{"csrf": {tok}, "email": {"abe@example.com"}})
	if _, page := b.get(resp.Header.Get("Location")); !strings.Contains(page, "abe@example.com was suppressed already") || !strings.Contains(page, `id="sup-total">2 suppressed`) {
		t.Errorf("adding twice:\n%s", page)
	}
	if _, page := b.get("/dashboard/suppressions?q=abe"); !strings.Contains(page, `id="sup-total">1 suppression matches these filters`) {
		t.Errorf("filtered total:\n%s", page)
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
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") || csvBody != string(apiBody) || !strings.Contains(csvBody, "pat@Example.com,") { // as first spelled
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
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("import: %d\n%s", resp.StatusCode, page)
	}
	job := resp.Header.Get("Location")
	b.waitImport(job)
	_, page = b.get(job)
	for _, s := range []string{`id="import-added">2<`, `id="import-rejected">1<`, "line 3", "list.csv"} {
		if !strings.Contains(page, s) {
			t.Errorf("import result lacks %q:\n%s", s, page)
		}
	}
	if got := h.checkReasons(key, "a@example.com", "b@example.com"); got["a@example.com"] != mailtrail.ReasonListImport || got["b@example.com"] != mailtrail.ReasonListImport {
		t.Errorf("after import the API checks %v", got)
	}
}

// importStatus is the JSON of an import's page.
type importStatus struct {
	State     string `json:"state"`
	Percent   int    `json:"percent"`
	BytesRead int64  `json:"bytes_read"`
	Size      int64  `json:"size"`
	Rows      int    `json:"rows"`
	Added     int    `json:"added"`
	Existing  int    `json:"existing"`
	Rejected  int    `json:"rejected"`
	Errors    []struct {
		Line    int    `json:"line"`
		Message string `json:"message"`
	} `json:"errors"`
	Error string `json:"error"`
}

// importJSON reads the status of the import at path (its page).
func (b *browser) importJSON(path string) (int, importStatus) {
	b.h.t.Helper()
	resp, body := b.get(path + ".json")
	var s importStatus
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal([]byte(body), &s); err != nil {
			b.h.t.Fatalf("%s: %v", body, err)
		}
	}
	return resp.StatusCode, s
}

// waitImport polls the import at path until it is no longer running.
func (b *browser) waitImport(path string) importStatus {
	b.h.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		code, s := b.importJSON(path)
		if code != http.StatusOK {
			b.h.t.Fatalf("import %s: %d", path, code)
		}
		if s.State != "running" {
			return s
		}
		if time.Now().After(deadline) {
			b.h.t.Fatalf("import still running after 60 s: %+v", s)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A CSV of 2,000 addresses and a few bad rows imports in the background: the form leads
// to the import's page, whose status ends with the file's counts; the API then checks
// every address; another organization cannot see the import; a form without the
// session's token imports nothing.
func TestDashboardSuppressionImport(t *testing.T) {
	h := newHarness(t)
	_, key := h.org("acme")
	_, otherKey := h.org("globex")
	b, other := h.browser(), h.browser()
	tok := b.signIn(key)
	other.signIn(otherKey)

	var csv strings.Builder
	csv.WriteString("email,reason,note\n")
	var emails []string
	for i := range 2000 {
		if i%500 == 250 {
			csv.WriteString("not-an-address,,bad\n")
		}
		e := fmt.Sprintf("list%d@example.com", i)
		emails = append(emails, e)
		fmt.Fprintf(&csv, "%s,,row %d\n", e, i)
	}
	if resp, _ := b.uploadCSV("", "list.csv", csv.String()); resp.StatusCode != http.StatusForbidden {
		t.Errorf("import without csrf: %d", resp.StatusCode)
	}
	if got := h.checkReasons(key, emails...); len(got) != 0 {
		t.Fatalf("the refused import stored %d addresses", len(got))
	}

	resp, page := b.uploadCSV(tok, "list.csv", csv.String())
	job := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(job, "/dashboard/suppressions/import/") {
		t.Fatalf("import: %d %q\n%s", resp.StatusCode, job, page)
	}
	s := b.waitImport(job)
	if s.State != "done" || s.Percent != 100 || s.Rows != 2004 || s.Added != 2000 || s.Existing != 0 || s.Rejected != 4 ||
		len(s.Errors) != 4 || s.Errors[0].Line != 252 || s.Size != int64(csv.Len()) || s.BytesRead != s.Size {
		t.Errorf("import status: %+v", s)
	}
	got := h.checkReasons(key, emails...)
	if len(got) != 2000 || got["list1999@example.com"] != mailtrail.ReasonListImport {
		t.Errorf("the API checks %d of 2000 imported addresses", len(got))
	}
	if hist := h.history(key, "list7@example.com"); len(hist.History) != 1 || hist.History[0].Actor != "dashboard" {
		t.Errorf("history: %+v", hist.History)
	}
	if got := h.checkReasons(otherKey, emails[:10]...); len(got) != 0 {
		t.Errorf("globex has acme's import: %v", got)
	}
	_, page = b.get(job)
	for _, want := range []string{`id="import-progress" max="100" value="100" data-state="done"`, `id="import-rows">2,004<`,
		`id="import-added">2,000<`, `id="import-rejected">4<`, "line 252"} {
		if !strings.Contains(page, want) {
			t.Errorf("import page lacks %q", want)
		}
	}
	for _, p := range []string{job, job + ".json"} {
		if resp, _ := other.get(p); resp.StatusCode != http.StatusNotFound {
			t.Errorf("globex GET %s: %d", p, resp.StatusCode)
		}
	}

	// Importing it again is safe: everything is already suppressed.
	resp, _ = b.uploadCSV(tok, "list.csv", csv.String())
	if s := b.waitImport(resp.Header.Get("Location")); s.State != "done" || s.Added != 0 || s.Existing != 2000 || s.Rejected != 4 {
		t.Errorf("second import: %+v", s)
	}
}
