package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/suppression"
)

var supBase = time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)

// supEvent is one event of customer cust (address email) at minute min after supBase,
// each in its own campaign so that every event is a message of its own.
func supEvent(typ, cust, email string, min int, meta map[string]any) map[string]any {
	e := map[string]any{"event_type": typ, "campaign_id": fmt.Sprintf("c%03d", min), "customer_id": cust, "customer_email": email,
		"occurred_at": supBase.Add(time.Duration(min) * time.Minute).Format(time.RFC3339)}
	if meta != nil {
		e["metadata"] = meta
	}
	return e
}

func softAt(cust, email string, min int) map[string]any {
	return supEvent("bounced", cust, email, min, map[string]any{"bounce_type": "soft", "reason": "452 mailbox full"})
}

func (h *harness) postEvents(key string, evs ...map[string]any) {
	h.t.Helper()
	var res struct{ Accepted int }
	if r := h.do("POST", "/api/v1/events", key, map[string]any{"events": evs}, &res); r.StatusCode != 200 {
		b, _ := io.ReadAll(r.Body)
		h.t.Fatalf("post events: %d %s", r.StatusCode, b)
	}
}

type checkAnswer struct {
	Checked    int `json:"checked"`
	Suppressed []struct {
		Email string `json:"email"`
		mailtrail.Suppression
	} `json:"suppressed"`
}

// checkReasons returns the reason of every suppressed address among emails.
func (h *harness) checkReasons(key string, emails ...string) map[string]string {
	h.t.Helper()
	var out checkAnswer
	if r := h.do("POST", "/api/v1/suppressions/check", key, map[string]any{"emails": emails}, &out); r.StatusCode != 200 || out.Checked != len(emails) {
		h.t.Fatalf("check: %d %+v", r.StatusCode, out)
	}
	m := map[string]string{}
	for _, s := range out.Suppressed {
		m[s.Email] = s.Reason
	}
	return m
}

type historyAnswer struct {
	Email       string                        `json:"email"`
	Suppression *mailtrail.Suppression        `json:"suppression"`
	History     []mailtrail.SuppressionChange `json:"history"`
}

func (h *harness) history(key, email string) historyAnswer {
	h.t.Helper()
	var out historyAnswer
	if r := h.do("GET", "/api/v1/suppressions/"+url.PathEscape(email)+"/history", key, nil, &out); r.StatusCode != 200 {
		h.t.Fatalf("history: %d", r.StatusCode)
	}
	return out
}

func actions(hist []mailtrail.SuppressionChange) string {
	var a []string
	for _, c := range hist {
		a = append(a, c.Action+":"+c.Reason)
	}
	return strings.Join(a, ",")
}

func TestSuppressionScenarios(t *testing.T) {
	h := newHarness(t)
	_, key := h.org("acme")

	// 5 soft bounces with a delivery between the 3rd and the 4th: not suppressed.
	h.postEvents(key, softAt("a", "a@example.com", 1), softAt("a", "a@example.com", 2), softAt("a", "a@example.com", 3),
		supEvent("delivered", "a", "a@example.com", 4, nil), softAt("a", "a@example.com", 5), softAt("a", "a@example.com", 6))
	// 5 consecutive arriving out of order, in separate requests: suppressed once.
	for _, m := range []int{5, 1, 4, 2, 3} {
		h.postEvents(key, softAt("b", "b@Example.COM", m))
	}
	// Hard bounce after delivered.
	h.postEvents(key, supEvent("delivered", "c", "c@example.com", 1, nil),
		supEvent("bounced", "c", "c@example.com", 2, map[string]any{"bounce_type": "hard", "reason": "550 no such user"}))
	// Soft bounces then a hard bounce: hard_bounce recorded.
	for m := 1; m <= 5; m++ {
		h.postEvents(key, softAt("d", "d@example.com", m))
	}
	if got := h.checkReasons(key, "d@example.com")["d@example.com"]; got != mailtrail.ReasonSoftBounce {
		t.Fatalf("d after 5 soft: %q", got)
	}
	h.postEvents(key, supEvent("bounced", "d", "d@example.com", 6, map[string]any{"bounce_type": "hard"}))
	// A late delivery inside a run lifts the soft-bounce suppression; machine opens and
	// bot clicks do not.
	for m := 1; m <= 5; m++ {
		h.postEvents(key, softAt("e", "e@example.com", m))
	}
	h.postEvents(key, map[string]any{"event_type": "opened", "campaign_id": "c004", "customer_id": "e", "classification": "machine",
		"occurred_at": supBase.Add(210 * time.Second).Format(time.RFC3339)})
	h.postEvents(key, map[string]any{"event_type": "clicked", "campaign_id": "c004", "customer_id": "e", "classification": "bot",
		"occurred_at": supBase.Add(211 * time.Second).Format(time.RFC3339)})
	if got := h.checkReasons(key, "e@example.com")["e@example.com"]; got != mailtrail.ReasonSoftBounce {
		t.Fatalf("machine open or bot click reset the run: %q", got)
	}
	h.postEvents(key, supEvent("delivered", "e", "e@example.com", 3, nil))
	// A complaint and an unsubscribe through the API.
	h.postEvents(key, supEvent("complained", "f", "f@example.com", 1, nil), supEvent("unsubscribed", "g", "g@example.com", 1, nil))

	got := h.checkReasons(key, "a@example.com", "b@example.com", "c@example.com", "d@example.com", "e@example.com", "f@example.com",
		"g@example.com", "nobody@example.com", "not an address")
	want := map[string]string{"b@example.com": "soft_bounce", "c@example.com": "hard_bounce", "d@example.com": "hard_bounce",
		"f@example.com": "complaint", "g@example.com": "unsubscribed"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("check:\n got %v\nwant %v", got, want)
	}
	if a := actions(h.history(key, "b@example.com").History); a != "added:soft_bounce" {
		t.Errorf("b history %s", a)
	}
	if a := actions(h.history(key, "d@example.com").History); a != "added:soft_bounce,replaced:hard_bounce" {
		t.Errorf("d history %s", a)
	}
	if a := actions(h.history(key, "e@example.com").History); a != "added:soft_bounce,lifted:soft_bounce" {
		t.Errorf("e history %s", a)
	}
	hc := h.history(key, "c@example.com")
	if s := hc.Suppression; s == nil || s.Source != "api" || s.EventID == "" || s.Detail != "550 no such user" || s.CustomerID != "c" ||
		!s.SuppressedAt.Equal(supBase.Add(2*time.Minute)) {
		t.Errorf("c suppression %+v", s)
	}

	// The organization's soft-bounce limit.
	var st mailtrail.OrgSettings
	if r := h.do("PATCH", "/api/v1/settings", key, map[string]any{"soft_bounce_limit": 2}, &st); r.StatusCode != 200 || st.SoftBounceLimit != 2 {
		t.Fatalf("settings: %d %+v", r.StatusCode, st)
	}
	if r := h.do("PATCH", "/api/v1/settings", key, map[string]any{"soft_bounce_limit": 0}, nil); r.StatusCode != 400 {
		t.Fatalf("limit 0: %d", r.StatusCode)
	}
	h.postEvents(key, softAt("h", "h@example.com", 1), softAt("h", "h@example.com", 2))
	if got := h.checkReasons(key, "h@example.com"); got["h@example.com"] != "soft_bounce" {
		t.Fatalf("limit 2: %v", got)
	}
}

func TestSuppressionAPI(t *testing.T) {
	h := newHarness(t)
	_, keyA := h.org("a")
	_, keyB := h.org("b")

	var add mailtrail.AddResult
	if r := h.do("POST", "/api/v1/suppressions", keyA, map[string]any{"suppressions": []map[string]any{
		{"email": "x1@Example.com", "note": "asked by phone"}, {"email": "x2@example.com", "reason": "list_import", "customer_id": "c2"},
	}}, &add); r.StatusCode != 200 || add.Added != 2 {
		t.Fatalf("add: %d %+v", r.StatusCode, add)
	}
	if r := h.do("POST", "/api/v1/suppressions", keyA, map[string]any{"email": "x1@example.com"}, &add); r.StatusCode != 200 || add.Existing != 1 {
		t.Fatalf("add again: %d %+v", r.StatusCode, add)
	}
	if r := h.do("POST", "/api/v1/suppressions", keyA, map[string]any{"suppressions": []map[string]any{{"email": "ok@example.com"},
		{"email": "nope"}, {"email": "y@example.com", "reason": "hard_bounce"}}}, nil); r.StatusCode != 400 {
		t.Fatalf("invalid add: %d", r.StatusCode)
	}
	// A hard bounce outranks the manual entry; the manual entry never masks it.
	h.postEvents(keyA, supEvent("bounced", "c1", "x1@example.com", 1, map[string]any{"bounce_type": "hard"}))
	// Soft bounces never replace a manual entry.
	for m := 1; m <= 5; m++ {
		h.postEvents(keyA, softAt("c2", "x2@example.com", m))
	}

	var page mailtrail.SuppressionPage
	h.do("GET", "/api/v1/suppressions?limit=1", keyA, nil, &page)
	if len(page.Suppressions) != 1 || page.NextCursor == "" {
		t.Fatalf("page 1: %+v", page)
	}
	first := page.Suppressions[0].Email
	next := page.NextCursor
	page = mailtrail.SuppressionPage{}
	h.do("GET", "/api/v1/suppressions?limit=1&cursor="+next, keyA, nil, &page)
	if len(page.Suppressions) != 1 || page.Suppressions[0].Email == first || page.NextCursor != "" {
		t.Fatalf("page 2: %+v", page)
	}
	// Listed as first spelled (x1@Example.com was added by hand before its bounce).
	for q, want := range map[string]string{"reason=hard_bounce": "x1@Example.com", "reason=list_import": "x2@example.com", "q=X2": "x2@example.com",
		"source=api&since=2026-11-01T08:00:30Z&until=2026-11-01T08:01:30Z": "x1@Example.com"} {
		page = mailtrail.SuppressionPage{}
		h.do("GET", "/api/v1/suppressions?"+q, keyA, nil, &page)
		if len(page.Suppressions) != 1 || page.Suppressions[0].Email != want {
			t.Errorf("%s: %+v", q, page.Suppressions)
		}
	}
	if r := h.do("GET", "/api/v1/suppressions?reason=bogus", keyA, nil, nil); r.StatusCode != 400 {
		t.Errorf("bogus reason: %d", r.StatusCode)
	}

	// Tenant isolation: B sees, checks, exports, removes and reads nothing of A's.
	page = mailtrail.SuppressionPage{}
	h.do("GET", "/api/v1/suppressions", keyB, nil, &page)
	if len(page.Suppressions) != 0 {
		t.Fatalf("B lists A's: %+v", page)
	}
	if got := h.checkReasons(keyB, "x1@example.com", "x2@example.com"); len(got) != 0 {
		t.Fatalf("B checks A's: %v", got)
	}
	if r := h.do("DELETE", "/api/v1/suppressions/x1@example.com?reason=test", keyB, nil, nil); r.StatusCode != 404 {
		t.Fatalf("B removes A's: %d", r.StatusCode)
	}
	if hb := h.history(keyB, "x1@example.com"); hb.Suppression != nil || len(hb.History) != 0 {
		t.Fatalf("B reads A's history: %+v", hb)
	}
	if body := h.export(keyB, ""); strings.Count(body, "\n") != 1 {
		t.Fatalf("B exports A's: %q", body)
	}
	var st mailtrail.OrgSettings
	h.do("PATCH", "/api/v1/settings", keyB, map[string]any{"soft_bounce_limit": 9}, &st)
	if h.do("GET", "/api/v1/settings", keyA, nil, &st); st.SoftBounceLimit != 5 {
		t.Fatalf("B changed A's settings: %+v", st)
	}
	if res := h.importCSV(keyB, "x3@example.com\n"); res.Added != 1 {
		t.Fatalf("B import: %+v", res)
	}
	if got := h.checkReasons(keyA, "x3@example.com"); len(got) != 0 {
		t.Fatalf("B's import reached A: %v", got)
	}
	for _, path := range []string{"/api/v1/suppressions", "/api/v1/suppressions/export", "/api/v1/suppressions/a@b.c/history", "/api/v1/settings"} {
		if r := h.do("GET", path, "", nil, nil); r.StatusCode != 401 {
			t.Errorf("GET %s without a key: %d", path, r.StatusCode)
		}
	}

	// Removal: a reason is required, and who, when and why are kept.
	if r := h.do("DELETE", "/api/v1/suppressions/x1@example.com", keyA, nil, nil); r.StatusCode != 400 {
		t.Fatalf("remove without reason: %d", r.StatusCode)
	}
	var out struct{ Removed mailtrail.Suppression }
	if r := h.do("DELETE", "/api/v1/suppressions/x1@EXAMPLE.com?reason=customer+asked", keyA, nil, &out); r.StatusCode != 200 {
		t.Fatalf("remove: %d", r.StatusCode)
	}
	// The answer is the suppression as it was, with its times.
	if removed := out.Removed; removed.Email != "x1@example.com" || removed.Reason != mailtrail.ReasonHardBounce || removed.CreatedAt.IsZero() || removed.SuppressedAt.IsZero() {
		t.Fatalf("removed: %+v", out.Removed)
	}
	hist := h.history(keyA, "x1@example.com")
	if a := actions(hist.History); hist.Suppression != nil || a != "added:manual,replaced:hard_bounce,removed:hard_bounce" {
		t.Fatalf("history after removal: %s %+v", a, hist.Suppression)
	}
	last := hist.History[2]
	if !strings.HasPrefix(last.Actor, "key:key_") || last.Note != "customer asked" || time.Since(last.At) > time.Minute {
		t.Fatalf("removal audit: %+v", last)
	}
	if r := h.do("DELETE", "/api/v1/suppressions/x1@example.com?reason=again", keyA, nil, nil); r.StatusCode != 404 {
		t.Fatalf("remove twice: %d", r.StatusCode)
	}
	if a := actions(h.history(keyA, "x2@example.com").History); a != "added:list_import" {
		t.Fatalf("soft bounces touched a list_import entry: %s", a)
	}
}

func (h *harness) importCSV(key, body string) suppression.ImportResult {
	h.t.Helper()
	req, _ := http.NewRequest("POST", h.srv.URL+"/api/v1/suppressions/import", strings.NewReader(body))
	return h.sendImport(key, req)
}

func (h *harness) sendImport(key string, req *http.Request) suppression.ImportResult {
	h.t.Helper()
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "text/csv")
	client := &http.Client{Timeout: 10 * time.Minute}
	resp, err := client.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	var res suppression.ImportResult
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		h.t.Fatalf("import: %d %s", resp.StatusCode, raw)
	}
	if err := json.Unmarshal(raw, &res); err != nil {
		h.t.Fatal(err)
	}
	return res
}

func (h *harness) export(key, query string) string {
	h.t.Helper()
	r := h.do("GET", "/api/v1/suppressions/export?"+query, key, nil, nil)
	b, _ := io.ReadAll(r.Body)
	if r.StatusCode != 200 || r.Header.Get("Content-Type") != "text/csv; charset=utf-8" {
		h.t.Fatalf("export: %d %s", r.StatusCode, b)
	}
	return string(b)
}

func TestSuppressionCSV(t *testing.T) {
	h := newHarness(t)
	orgID, key := h.org("a")
	body := "email,customer_id,reason\nok1@example.com,c1,\n\"bad\"quote@example.com,c2,\nnot-an-email,c3,\nok2@Example.com,,manual\nok3@example.com,,hard_bounce\n"
	res := h.importCSV(key, body)
	if res.Rows != 5 || res.Added != 2 || res.Rejected != 3 || len(res.Errors) != 3 || res.Errors[0].Line != 3 || res.Errors[1].Line != 4 || res.Errors[2].Line != 6 {
		t.Fatalf("import: %+v", res)
	}
	if again := h.importCSV(key, body); again.Added != 0 || again.Existing != 2 {
		t.Fatalf("import again: %+v", again)
	}
	got := h.checkReasons(key, "ok1@example.com", "ok2@example.com")
	if got["ok1@example.com"] != "list_import" || got["ok2@example.com"] != "manual" {
		t.Fatalf("check after import: %v", got)
	}
	rows, err := csv.NewReader(strings.NewReader(h.export(key, "source=csv_import"))).ReadAll()
	if err != nil || len(rows) != 3 || rows[0][0] != "email" || rows[1][1] == "" || rows[1][2] != "csv_import" {
		t.Fatalf("export: %v %v", rows, err)
	}
	// The CLI imports the same format from a file, with progress on stderr.
	f := filepath.Join(t.TempDir(), "list.csv")
	os.WriteFile(f, []byte("cli1@example.com\ncli2@example.com,manual,c9\nbroken\n"), 0o600)
	var out, errb bytes.Buffer
	h.offline(func(dir string) { // the service owns its data directory while it runs
		err = Run(context.Background(), []string{"suppression", "import", "--data-dir", dir, "--org", orgID, "--file", f}, &out, &errb)
	})
	if err != nil || !strings.Contains(errb.String(), "3 rows") || !strings.Contains(out.String(), `"added": 2`) {
		t.Fatalf("cli: %v %s %s", err, out.String(), errb.String())
	}
	if got := h.checkReasons(key, "cli2@example.com"); got["cli2@example.com"] != "manual" {
		t.Fatalf("cli import not visible: %v", got)
	}
}

// TestSuppressionImportMillion imports a 1,000,000-row file with a few bad rows through
// the API, then checks 10,000 addresses against it.
func TestSuppressionImportMillion(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000,000 rows: skipped under -short")
	}
	h := newHarness(t)
	_, key := h.org("a")
	path := filepath.Join(t.TempDir(), "million.csv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "email,reason,customer_id")
	bad := map[int]bool{2: true, 123_457: true, 999_999: true, 1_000_001: true}
	for line := 2; line <= 1_000_001; line++ {
		if bad[line] {
			fmt.Fprintf(w, "broken-row-%d,,\n", line)
			continue
		}
		fmt.Fprintf(w, "user%d@list.example.com,,cust-%d\n", line, line)
	}
	w.Flush()
	f.Close()
	start := time.Now()
	f, _ = os.Open(path)
	defer f.Close()
	req, _ := http.NewRequest("POST", h.srv.URL+"/api/v1/suppressions/import", f)
	res := h.sendImport(key, req)
	took := time.Since(start)
	if res.Rows != 1_000_000 || res.Added != 1_000_000-len(bad) || res.Rejected != len(bad) {
		t.Fatalf("import: %+v", res)
	}
	for _, e := range res.Errors {
		if !bad[e.Line] {
			t.Fatalf("error on a good line: %+v", e)
		}
	}
	t.Logf("imported 1,000,000 rows in %s (%.0f rows/s)", took.Round(time.Millisecond), 1e6/took.Seconds())
	emails := make([]string, 10000)
	for i := range emails {
		emails[i] = fmt.Sprintf("user%d@list.example.com", 3+i*97)
	}
	start = time.Now()
	got := h.checkReasons(key, emails...)
	t.Logf("checked 10,000 addresses in %s", time.Since(start).Round(time.Microsecond))
	want := 0
	for i := range emails {
		if !bad[3+i*97] {
			want++
		}
	}
	if len(got) != want {
		t.Fatalf("%d of 10,000 suppressed, want %d", len(got), want)
	}
}
