package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// browser is a cookie-keeping client of the dashboard that does not follow redirects.
type browser struct {
	h   *harness
	c   *http.Client
	jar *cookiejar.Jar
}

func (h *harness) browser() *browser {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &browser{h: h, c: c, jar: jar}
}

func (b *browser) get(path string) (*http.Response, string) {
	b.h.t.Helper()
	resp, err := b.c.Get(b.h.srv.URL + path)
	if err != nil {
		b.h.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func (b *browser) post(path string, form url.Values) (*http.Response, string) {
	b.h.t.Helper()
	resp, err := b.c.PostForm(b.h.srv.URL+path, form)
	if err != nil {
		b.h.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(t *testing.T, page string) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no csrf field in page:\n%s", page)
	}
	return m[1]
}

// signIn signs in with key and returns the session's CSRF token.
func (b *browser) signIn(key string) string {
	t := b.h.t
	t.Helper()
	_, page := b.get("/dashboard/signin")
	resp, _ := b.post("/dashboard/signin", url.Values{"csrf": {csrfOf(t, page)}, "key": {key}, "next": {"/dashboard/campaigns"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in: %d", resp.StatusCode)
	}
	_, page = b.get("/dashboard/campaigns")
	return csrfOf(t, page)
}

func cookieOf(resp *http.Response, name string) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func TestDashboardSignInAndSession(t *testing.T) {
	h := newHarness(t)
	_, key := h.org("acme")
	b := h.browser()

	// A page without a session sends to sign in, and back after.
	resp, _ := b.get("/dashboard/campaigns?q=x")
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != "/dashboard/signin?next="+url.QueryEscape("/dashboard/campaigns?q=x") {
		t.Fatalf("no session: %d %q", resp.StatusCode, loc)
	}
	if resp, _ := b.get("/"); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/dashboard/" {
		t.Errorf("GET /: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, page := b.get("/dashboard/signin")
	for k, want := range map[string]string{"X-Frame-Options": "DENY", "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") ||
		!strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("CSP %q", csp)
	}
	if strings.Contains(page, "<script>") || strings.Contains(page, " style=") {
		t.Errorf("inline script or style in the sign-in page")
	}
	tok := csrfOf(t, page)

	// The sign-in form itself needs its token.
	if resp, _ := b.post("/dashboard/signin", url.Values{"key": {key}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("sign in without csrf: %d", resp.StatusCode)
	}
	_, page = b.get("/dashboard/signin")
	tok = csrfOf(t, page)
	resp, page = b.post("/dashboard/signin", url.Values{"csrf": {tok}, "key": {key + "x"}})
	if resp.StatusCode != http.StatusUnauthorized || cookieOf(resp, "mt_session") != nil || !strings.Contains(page, "not accepted") {
		t.Fatalf("bad key: %d", resp.StatusCode)
	}
	if strings.Contains(page, key) {
		t.Errorf("the sign-in page echoes the key")
	}
	tok = csrfOf(t, page)
	resp, _ = b.post("/dashboard/signin", url.Values{"csrf": {tok}, "key": {key}, "next": {"https://evil.example/"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/dashboard/campaigns" {
		t.Fatalf("sign in: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	c := cookieOf(resp, "mt_session")
	if c == nil || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Secure || c.Path != "/dashboard" || len(c.Value) < 43 || c.MaxAge != 12*3600 {
		t.Fatalf("session cookie: %+v", c)
	}
	resp, page = b.get("/dashboard/campaigns")
	if resp.StatusCode != 200 || !strings.Contains(page, "acme") {
		t.Fatalf("campaigns: %d", resp.StatusCode)
	}
	sessTok := csrfOf(t, page)

	// POSTs need the session's token: none, a wrong one, and the sign-in token are refused.
	for _, bad := range []url.Values{{}, {"csrf": {"wrong"}}, {"csrf": {tok}}, {"csrf": {sessTok + "x"}}} {
		if resp, _ := b.post("/dashboard/signout", bad); resp.StatusCode != http.StatusForbidden {
			t.Errorf("sign out with %v: %d", bad, resp.StatusCode)
		}
	}
	// Another browser's session token does not help a request without the session.
	other := h.browser()
	if resp, _ := other.post("/dashboard/signout", url.Values{"csrf": {sessTok}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("sign out without session: %d", resp.StatusCode)
	}
	// The header works for fetch() calls.
	req, _ := http.NewRequest("POST", h.srv.URL+"/dashboard/signout", nil)
	req.Header.Set("X-CSRF-Token", sessTok)
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/dashboard/signin" {
		t.Fatalf("sign out: %d", resp.StatusCode)
	}
	if resp, _ := b.get("/dashboard/campaigns"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("after sign out: %d", resp.StatusCode)
	}
	// The old session id is dead even if replayed.
	u, _ := url.Parse(h.srv.URL + "/dashboard/")
	b.jar.SetCookies(u, []*http.Cookie{{Name: "mt_session", Value: c.Value, Path: "/dashboard"}})
	if resp, _ := b.get("/dashboard/campaigns"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("replayed session: %d", resp.StatusCode)
	}
}

var kpiValue = regexp.MustCompile(`id="kpi-([a-z]+)"><div class="label">[^<]*</div><div class="value">([^<]*)</div>`)

// The report page shows the API's figures; another organization's campaign is a 404.
func TestDashboardReport(t *testing.T) {
	h := geoHarness(t)
	_, key := h.org("acme")
	_, otherKey := h.org("globex")
	postCorpus(h, key)
	if r := h.do("PATCH", "/api/v1/campaigns/"+corpusCampaig, key, map[string]string{"name": "Corpus launch", "subject": "Meet the corpus"}, nil); r.StatusCode != 200 {
		t.Fatalf("name the campaign: %d", r.StatusCode)
	}
	rep := h.report(key, corpusCampaig)

	b := h.browser()
	b.signIn(key)
	resp, page := b.get("/dashboard/campaigns/" + corpusCampaig)
	if resp.StatusCode != 200 {
		t.Fatalf("report page: %d", resp.StatusCode)
	}
	kpis := map[string]string{}
	for _, m := range kpiValue.FindAllStringSubmatch(page, -1) {
		kpis[m[1]] = m[2]
	}
	c := rep.Counts
	want := map[string]int64{"sent": c.Sent, "delivered": c.Delivered, "opens": c.HumanOpensUnique, "clicks": c.HumanClicksUnique,
		"bounces": c.Bounced, "complaints": c.Complained, "unsubscribes": c.Unsubscribed}
	for k, v := range want {
		if kpis[k] != strconv.FormatInt(v, 10) {
			t.Errorf("KPI %s shows %q, the API says %d", k, kpis[k], v)
		}
	}
	sent := "Sent " + rep.SentAt.Format("Mon 2 Jan 2006 at 15:04")
	for _, s := range []string{"<svg", "<title>", "Recipients who opened", "Recipients who clicked", linkA, "times in Europe/Paris",
		"<title>Corpus launch · mailtrail</title>", `<h1 class="campaign-name">Corpus launch</h1>`, "Meet the corpus", sent} {
		if !strings.Contains(page, s) {
			t.Errorf("report page lacks %q", s)
		}
	}
	// The campaign list shows the same rates.
	_, list := b.get("/dashboard/campaigns")
	if !strings.Contains(list, pctOf(rep.HumanRates.Open)) || !strings.Contains(list, pctOf(rep.Rates.Click)) || !strings.Contains(list, "Corpus launch") ||
		!strings.Contains(list, rep.SentAt.Format("2 Jan 2006")) {
		t.Errorf("campaign list lacks %s / %s", pctOf(rep.HumanRates.Open), pctOf(rep.Rates.Click))
	}
	// Rates of delivered emails: the list shows and sorts by them.
	if _, list := b.get("/dashboard/campaigns?rates=delivered"); !strings.Contains(list, pctOf(rep.HumanDeliveredRates.Open)) ||
		!strings.Contains(list, "sort=delivered_human_open_rate") {
		t.Errorf("campaign list of delivered rates lacks %s or its sort", pctOf(rep.HumanDeliveredRates.Open))
	}
	// The CSV download is the API's.
	resp, csvBody := b.get("/dashboard/campaigns/" + corpusCampaig + "/recipients.csv?activity=clicked&human=true")
	api := h.do("GET", "/api/v1/campaigns/"+corpusCampaig+"/recipients?format=csv&activity=clicked&human=true", key, nil, nil)
	apiBody, _ := io.ReadAll(api.Body)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") || csvBody != string(apiBody) || !strings.Contains(csvBody, "r08") {
		t.Errorf("csv %d %q:\n%s\napi:\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), csvBody, apiBody)
	}

	// Another organization sees neither the campaign nor its recipients.
	o := h.browser()
	o.signIn(otherKey)
	if resp, _ := o.get("/dashboard/campaigns/" + corpusCampaig); resp.StatusCode != http.StatusNotFound {
		t.Errorf("other org's report: %d", resp.StatusCode)
	}
	if resp, _ := o.get("/dashboard/campaigns/" + corpusCampaig + "/recipients.csv?activity=opened"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("other org's csv: %d", resp.StatusCode)
	}
	if _, list := o.get("/dashboard/campaigns"); strings.Contains(list, corpusCampaig) {
		t.Errorf("other org's list shows the campaign")
	}
}

// The admin token signs in to choose an organization, then switches between them.
func TestDashboardAdminSwitch(t *testing.T) {
	h := newHarness(t)
	acme, key := h.org("acme")
	globex, _ := h.org("globex")
	h.postEvents(key, map[string]any{"event_type": "sent", "campaign_id": "acme-news", "customer_id": "c1", "customer_email": "c1@example.com"})
	b := h.browser()
	_, page := b.get("/dashboard/signin")
	resp, _ := b.post("/dashboard/signin", url.Values{"csrf": {csrfOf(t, page)}, "key": {testAdmin}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/dashboard/orgs" {
		t.Fatalf("admin sign in: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := b.get("/dashboard/campaigns"); resp.Header.Get("Location") != "/dashboard/orgs" {
		t.Errorf("no org chosen: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, page = b.get("/dashboard/orgs")
	if !strings.Contains(page, acme) || !strings.Contains(page, globex) {
		t.Fatalf("orgs page lacks the organizations")
	}
	tok := csrfOf(t, page)
	if resp, _ := b.post("/dashboard/orgs", url.Values{"org": {acme}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("switch without csrf: %d", resp.StatusCode)
	}
	if resp, _ := b.post("/dashboard/orgs", url.Values{"csrf": {tok}, "org": {acme}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("switch: %d", resp.StatusCode)
	}
	if _, list := b.get("/dashboard/campaigns"); !strings.Contains(list, "acme-news") {
		t.Errorf("acme's campaigns not shown")
	}
	b.post("/dashboard/orgs", url.Values{"csrf": {tok}, "org": {globex}})
	if _, list := b.get("/dashboard/campaigns"); strings.Contains(list, "acme-news") {
		t.Errorf("globex shows acme's campaign")
	}
	// An organization's key cannot open the admin's page.
	k := h.browser()
	k.signIn(key)
	if resp, _ := k.get("/dashboard/orgs"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("orgs page with an org key: %d", resp.StatusCode)
	}
}

func pctOf(r float64) string {
	p := r * 100
	if p > 0 && p < 1 {
		return strconv.FormatFloat(p, 'f', 2, 64) + "%"
	}
	return strconv.FormatFloat(p, 'f', 1, 64) + "%"
}

// Wrong keys from one address are throttled: after 10, even the right key waits (429 with
// Retry-After); another address is not affected.
func TestDashboardSignInThrottle(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.ClientIPHeader = "X-Forwarded-For" })
	_, key := h.org("acme")
	try := func(b *browser, k, from string) *http.Response {
		t.Helper()
		_, page := b.get("/dashboard/signin")
		req, _ := http.NewRequest("POST", h.srv.URL+"/dashboard/signin",
			strings.NewReader(url.Values{"csrf": {csrfOf(t, page)}, "key": {k}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-For", from) // the test server's peer is a trusted proxy
		resp, err := b.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	b := h.browser()
	for i := range 10 {
		if resp := try(b, "mt_wrong", "198.51.100.7"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong key %d: %d", i+1, resp.StatusCode)
		}
	}
	resp := try(b, key, "198.51.100.7")
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" || cookieOf(resp, "mt_session") != nil {
		t.Fatalf("right key after 10 wrong ones: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if resp := try(h.browser(), key, "198.51.100.8"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("another address: %d", resp.StatusCode)
	}
}

// Revoking the key a session signed in with ends the session at its next request; a
// session of another key of the same organization goes on.
func TestDashboardRevokedKeyEndsSession(t *testing.T) {
	h := newHarness(t)
	orgID, key := h.org("acme")
	var second struct {
		Key struct {
			ID string `json:"id"`
		} `json:"key"`
		APIKey string `json:"api_key"`
	}
	if r := h.do("POST", "/api/v1/admin/organizations/"+orgID+"/keys", h.admin, map[string]string{"name": "second"}, &second); r.StatusCode != 201 {
		t.Fatalf("second key: %d", r.StatusCode)
	}
	b1, b2 := h.browser(), h.browser()
	tok1 := b1.signIn(key)
	b2.signIn(second.APIKey)
	if r := h.do("DELETE", "/api/v1/admin/organizations/"+orgID+"/keys/"+second.Key.ID, h.admin, nil, nil); r.StatusCode != 204 && r.StatusCode != 200 {
		t.Fatalf("revoke: %d", r.StatusCode)
	}
	if resp, _ := b2.get("/dashboard/campaigns"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/dashboard/signin") {
		t.Fatalf("after revoking its key: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := b2.get("/dashboard/campaigns"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the session came back: %d", resp.StatusCode)
	}
	if resp, _ := b1.get("/dashboard/campaigns"); resp.StatusCode != 200 {
		t.Fatalf("the other key's session: %d", resp.StatusCode)
	}
	if resp, _ := b1.post("/dashboard/suppressions", url.Values{"csrf": {tok1}, "email": {"still@example.com"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the other key's session posting: %d", resp.StatusCode)
	}
}

// A read-only key's dashboard session can look and preview segments, but not change.
func TestDashboardReadOnlyKey(t *testing.T) {
	h := newHarness(t)
	orgID, _ := h.org("acme")
	var k struct {
		APIKey string `json:"api_key"`
	}
	if r := h.do("POST", "/api/v1/admin/organizations/"+orgID+"/keys", h.admin, map[string]string{"name": "bi", "scope": "read"}, &k); r.StatusCode != 201 {
		t.Fatalf("read key: %d", r.StatusCode)
	}
	b := h.browser()
	tok := b.signIn(k.APIKey)
	if resp, _ := b.get("/dashboard/suppressions"); resp.StatusCode != 200 {
		t.Fatalf("suppressions page: %d", resp.StatusCode)
	}
	if resp, page := b.post("/dashboard/suppressions", url.Values{"csrf": {tok}, "email": {"ro@example.com"}}); resp.StatusCode != http.StatusForbidden || !strings.Contains(page, "read-only") {
		t.Fatalf("adding with a read-only key: %d", resp.StatusCode)
	}
	if resp, _ := b.post("/dashboard/signout", url.Values{"csrf": {tok}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign out: %d", resp.StatusCode)
	}
}
