package dashboard

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/store/sqlite"
	"github.com/mailtrail/mailtrail/internal/suppression"
)

// heldStore is the real SQLite store whose additions wait until open is closed (or their
// context ends): it holds imports in the running state for as long as a test needs.
type heldStore struct {
	*sqlite.DB
	open chan struct{}
}

func (s heldStore) AddSuppressions(ctx context.Context, orgID string, in []mailtrail.SuppressionInput, source, actor string) (mailtrail.AddResult, error) {
	select {
	case <-s.open:
	case <-ctx.Done():
		return mailtrail.AddResult{}, ctx.Err()
	}
	return s.DB.AddSuppressions(ctx, orgID, in, source, actor)
}

type importEnv struct {
	t      *testing.T
	db     *sqlite.DB
	h      *Handler
	srv    *httptest.Server
	tmp    string // the handler's TempDir
	orgs   map[string]*mailtrail.Organization
	keys   map[string]string
	opened chan struct{} // close to let held additions through
}

// newImportEnv serves a dashboard over a real SQLite file store with two organizations,
// acme and globex. With held, additions wait for env.opened to be closed.
func newImportEnv(t *testing.T, held bool) *importEnv {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "m.db"), sqlite.Options{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	e := &importEnv{t: t, db: db, tmp: t.TempDir(), orgs: map[string]*mailtrail.Organization{}, keys: map[string]string{}, opened: make(chan struct{})}
	if !held {
		close(e.opened)
	}
	for _, name := range []string{"acme", "globex"} {
		org, key, err := db.CreateOrg(ctx, name, "UTC")
		if err != nil {
			t.Fatal(err)
		}
		e.orgs[name], e.keys[name] = org, key
	}
	e.h = New(Options{Store: db, Suppressions: suppression.NewService(heldStore{DB: db, open: e.opened}), TempDir: e.tmp})
	e.srv = httptest.NewServer(e.h)
	t.Cleanup(func() {
		e.srv.Close()
		e.h.Close()
		db.Close()
	})
	return e
}

// tab is a browser tab: it keeps cookies and does not follow redirects.
type tab struct {
	e    *importEnv
	c    *http.Client
	csrf string
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// signIn opens a tab signed in as the organization name ("" for none).
func (e *importEnv) signIn(name string) *tab {
	e.t.Helper()
	jar, _ := cookiejar.New(nil)
	tb := &tab{e: e, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	if name == "" {
		return tb
	}
	_, page := tb.get("/dashboard/signin")
	m := csrfInput.FindStringSubmatch(page)
	if m == nil {
		e.t.Fatalf("no csrf in the sign-in page:\n%s", page)
	}
	resp, err := tb.c.PostForm(e.srv.URL+"/dashboard/signin", url.Values{"csrf": {m[1]}, "key": {e.keys[name]}})
	if err != nil || resp.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("sign in: %v %v", resp, err)
	}
	resp.Body.Close()
	_, page = tb.get("/dashboard/suppressions")
	if m = csrfInput.FindStringSubmatch(page); m == nil {
		e.t.Fatalf("no csrf in the suppressions page:\n%s", page)
	}
	tb.csrf = m[1]
	return tb
}

func (tb *tab) get(path string) (*http.Response, string) {
	tb.e.t.Helper()
	resp, err := tb.c.Get(tb.e.srv.URL + path)
	if err != nil {
		tb.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// upload posts body as the import form's file, with the tab's CSRF token when csrf.
func (tb *tab) upload(body string, csrf bool) (*http.Response, string) {
	tb.e.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if csrf {
		_ = mw.WriteField("csrf", tb.csrf)
	}
	fw, _ := mw.CreateFormFile("file", "list.csv")
	_, _ = io.WriteString(fw, body)
	_ = mw.Close()
	resp, err := tb.c.Post(tb.e.srv.URL+importPath, mw.FormDataContentType(), &buf)
	if err != nil {
		tb.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// start uploads body and returns the import page's path the answer redirects to.
func (tb *tab) start(body string) string {
	tb.e.t.Helper()
	resp, page := tb.upload(body, true)
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, importPath+"/") {
		tb.e.t.Fatalf("import: %d %q\n%s", resp.StatusCode, loc, page)
	}
	return loc
}

// status reads the import's JSON.
func (tb *tab) status(job string) (int, importStatus) {
	tb.e.t.Helper()
	resp, body := tb.get(job + ".json")
	var s importStatus
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal([]byte(body), &s); err != nil {
			tb.e.t.Fatalf("%s: %v", body, err)
		}
	}
	return resp.StatusCode, s
}

// wait polls the import until it is no longer running.
func (tb *tab) wait(job string) importStatus {
	tb.e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, s := tb.status(job)
		if code != http.StatusOK {
			tb.e.t.Fatalf("status of %s: %d", job, code)
		}
		if s.State != importRunning {
			return s
		}
		if time.Now().After(deadline) {
			tb.e.t.Fatalf("import still running after 30 s: %+v", s)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// importCSV has n good addresses user<i>@example.com behind a header and bad rows at
// every 700th line; it returns the bad rows' lines.
func importCSV(n int) (string, []int) {
	var b strings.Builder
	b.WriteString("email,reason,note\n")
	line, bad := 1, []int(nil)
	for i := range n {
		if i > 0 && i%700 == 0 {
			line++
			bad = append(bad, line)
			b.WriteString("not-an-address,,bad\n")
		}
		line++
		fmt.Fprintf(&b, "user%d@example.com,,row %d\n", i, i)
	}
	line++
	bad = append(bad, line)
	b.WriteString("last@example.com,hard_bounce,\n") // a reason an import may not set
	return b.String(), bad
}

func (e *importEnv) count(org, source string) int {
	e.t.Helper()
	n, cursor := 0, ""
	for {
		p, err := e.db.Suppressions(context.Background(), e.orgs[org].ID, mailtrail.SuppressionFilter{Source: source, Cursor: cursor, Limit: 1000})
		if err != nil {
			e.t.Fatal(err)
		}
		n += len(p.Suppressions)
		if p.NextCursor == "" {
			return n
		}
		cursor = p.NextCursor
	}
}

// A CSV import runs in the background: the form redirects to its page, whose JSON follows
// it to the end; the counts equal the file's rows and the store; only its organization
// sees it; the uploaded copy is removed.
func TestImportInBackground(t *testing.T) {
	e := newImportEnv(t, false)
	ctx := context.Background()
	pre := []mailtrail.SuppressionInput{{Email: "user3@example.com", Reason: mailtrail.ReasonManual}, {Email: "user1500@example.com", Reason: mailtrail.ReasonManual}}
	if _, err := e.db.AddSuppressions(ctx, e.orgs["acme"].ID, pre, mailtrail.SuppressSourceManual, "test"); err != nil {
		t.Fatal(err)
	}
	acme, globex, nobody := e.signIn("acme"), e.signIn("globex"), e.signIn("")

	// Without the session's token nothing is imported.
	if resp, _ := acme.c.Post(e.srv.URL+importPath, "text/csv", strings.NewReader("email\nx@example.com\n")); resp.StatusCode != http.StatusForbidden {
		t.Errorf("import without a form: %d", resp.StatusCode)
	}
	if resp, _ := acme.upload("email\nx@example.com\n", false); resp.StatusCode != http.StatusForbidden {
		t.Errorf("import without csrf: %d", resp.StatusCode)
	}
	if resp, _ := nobody.upload("email\nx@example.com\n", false); resp.StatusCode != http.StatusForbidden {
		t.Errorf("import without a session: %d", resp.StatusCode)
	}
	if n := e.count("acme", mailtrail.SuppressSourceCSV); n != 0 {
		t.Fatalf("refused imports stored %d addresses", n)
	}

	body, badLines := importCSV(2000)
	job := acme.start(body)
	s := acme.wait(job)
	want := importStatus{ID: strings.TrimPrefix(job, importPath+"/"), File: "list.csv", State: importDone, Percent: 100,
		BytesRead: int64(len(body)), Size: int64(len(body))}
	want.Rows, want.Added, want.Existing, want.Rejected = 2000+len(badLines), 1998, 2, len(badLines)
	got := s
	got.Errors = nil
	if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
		t.Errorf("status\n got %+v\nwant %+v", got, want)
	}
	var lines []int
	for _, re := range s.Errors {
		lines = append(lines, re.Line)
	}
	if fmt.Sprint(lines) != fmt.Sprint(badLines) || !strings.Contains(s.Errors[len(s.Errors)-1].Message, "reason") {
		t.Errorf("rejected rows %v, want lines %v: %+v", lines, badLines, s.Errors)
	}
	if n := e.count("acme", mailtrail.SuppressSourceCSV); n != 1998 {
		t.Errorf("%d addresses imported, the import says 1998", n)
	}
	if n := e.count("globex", ""); n != 0 {
		t.Errorf("globex has %d suppressions", n)
	}
	hist, sup, err := e.db.SuppressionHistory(ctx, e.orgs["acme"].ID, "user1999@example.com")
	if err != nil || sup == nil || sup.Reason != mailtrail.ReasonListImport || len(hist) != 1 || hist[0].Actor != actor {
		t.Errorf("history of an imported address: %v %+v %+v", err, sup, hist)
	}

	// The finished page: the bar full, the counts, the rejected rows, no refresh.
	resp, page := acme.get(job)
	for _, s := range []string{`id="import-progress" max="100" value="100" data-state="done"`, `id="import-percent" class="strong">100%<`,
		`id="import-rows">2,003<`, `id="import-added">1,998<`, `id="import-existing">2<`, `id="import-rejected">3<`,
		fmt.Sprintf("line %d<", badLines[0]), "/dashboard/suppressions?source=csv_import", "list.csv"} {
		if !strings.Contains(page, s) {
			t.Errorf("finished page lacks %q", s)
		}
	}
	if resp.StatusCode != http.StatusOK || strings.Contains(page, `http-equiv="refresh"`) {
		t.Errorf("finished page: %d, refresh %v", resp.StatusCode, strings.Contains(page, `http-equiv="refresh"`))
	}

	// Only acme sees it; without a session, sign in first.
	for _, p := range []string{job, job + ".json"} {
		if resp, _ := globex.get(p); resp.StatusCode != http.StatusNotFound {
			t.Errorf("globex GET %s: %d", p, resp.StatusCode)
		}
		if resp, _ := nobody.get(p); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/dashboard/signin") {
			t.Errorf("no session GET %s: %d %q", p, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	if resp, _ := acme.get(importPath + "/nope.json"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown import: %d", resp.StatusCode)
	}

	// Importing the same file again adds nothing.
	s = acme.wait(acme.start(body))
	if s.State != importDone || s.Added != 0 || s.Existing != 2000 || s.Rejected != len(badLines) {
		t.Errorf("second import: %+v", s)
	}
	if left, _ := os.ReadDir(e.tmp); len(left) != 0 {
		t.Errorf("uploads left behind: %v", left)
	}
}

// While imports run their page refreshes itself; a third running import of an
// organization is refused with 429, another organization's is not; Close stops imports.
func TestImportLimitAndClose(t *testing.T) {
	e := newImportEnv(t, true)
	acme, globex := e.signIn("acme"), e.signIn("globex")
	body, _ := importCSV(1200)
	j1, j2 := acme.start(body), acme.start("email\nsolo@example.com\n")

	resp, page := acme.get(j1)
	for _, s := range []string{`<noscript><meta http-equiv="refresh" content="1"></noscript>`, `data-state="running"`,
		`data-status="` + j1 + `.json"`, `/dashboard/assets/import.js`} {
		if !strings.Contains(page, s) {
			t.Errorf("running page lacks %q", s)
		}
	}
	if resp.StatusCode != http.StatusOK || strings.Contains(page, "Rejected rows") {
		t.Errorf("running page: %d\n%s", resp.StatusCode, page)
	}
	resp, page = acme.upload("email\nthird@example.com\n", true)
	if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(page, "An import is already running") {
		t.Errorf("third import: %d\n%s", resp.StatusCode, page)
	}
	jg := globex.start("email\ng@example.com\n")

	close(e.opened)
	for _, j := range []struct {
		tb    *tab
		path  string
		added int
	}{{acme, j1, 1200}, {acme, j2, 1}, {globex, jg, 1}} {
		if s := j.tb.wait(j.path); s.State != importDone || s.Added != j.added {
			t.Errorf("%s: %+v", j.path, s)
		}
	}
	if n := e.count("acme", ""); n != 1201 {
		t.Errorf("acme has %d suppressions, want 1201 (the refused import stored?)", n)
	}
	acme.start("email\nfourth@example.com\n") // the slots are free again

	// Close stops a held import: it fails with what to do, and later imports are refused.
	e2 := newImportEnv(t, true)
	tb := e2.signIn("acme")
	job := tb.start(body)
	closed := make(chan struct{})
	go func() { e2.h.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(30 * time.Second):
		t.Fatal("Close did not return")
	}
	if s := tb.wait(job); s.State != importFailed || s.Added != 0 || !strings.Contains(s.Error, "import the file again") {
		t.Errorf("stopped import: %+v", s)
	}
	if resp, _ := tb.upload(body, true); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("import after Close: %d", resp.StatusCode)
	}
	if left, _ := os.ReadDir(e2.tmp); len(left) != 0 {
		t.Errorf("uploads left behind: %v", left)
	}
}
