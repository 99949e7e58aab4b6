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

// The connections page lists the organization's connections with their webhook URLs,
// never their secrets, and not another organization's.
func TestDashboardConnections(t *testing.T) {
	h := newHarness(t)
	_, key := h.org("acme")
	_, otherKey := h.org("other")
	var mine, theirs mailtrail.Connection
	if r := h.do("POST", "/api/v1/connections", key, map[string]any{"vendor": "postmark", "name": "pm-prod", "username": "u", "password": "very-secret-password"}, &mine); r.StatusCode != 201 {
		t.Fatalf("create: %d", r.StatusCode)
	}
	if r := h.do("POST", "/api/v1/connections", otherKey, map[string]any{"vendor": "sendgrid", "name": "their-sg", "signing_key": newSGKey(t).pub}, &theirs); r.StatusCode != 201 {
		t.Fatalf("create other: %d", r.StatusCode)
	}
	b := h.browser()
	b.signIn(key)
	resp, page := b.get("/dashboard/connections")
	if resp.StatusCode != 200 {
		t.Fatalf("connections page: %d", resp.StatusCode)
	}
	page = html.UnescapeString(page)
	for _, want := range []string{"pm-prod", "postmark", `data-copy="` + mine.WebhookURL + `"`, "enabled", "never", `href="/dashboard/connections" aria-current="page"`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	for _, not := range []string{"their-sg", theirs.ID, "very-secret-password", "<script>", "style="} {
		if strings.Contains(page, not) {
			t.Errorf("page shows %q", not)
		}
	}
	if !strings.HasPrefix(mine.WebhookURL, h.srv.URL+"/webhooks/v2/postmark/conn_") {
		t.Errorf("webhook URL %q", mine.WebhookURL)
	}
}

// A webhook refused for its signature, and one with an event matching no sent message,
// show on the connection's card as counts and recent errors; a connection without errors
// says so. Neither the payload's address nor the key shows.
func TestDashboardConnectionsWebhookHealth(t *testing.T) {
	h := newHookHarness(t)
	_, key := h.org("acme")
	const signingKey = "generic-key-0123456789"
	bad := h.connection(key, map[string]any{"vendor": "generic", "name": "gen-prod", "signing_key": signingKey})
	h.connection(key, map[string]any{"vendor": "generic", "name": "gen-quiet", "signing_key": signingKey})
	now := time.Now()
	body := mustJSON(map[string]any{"events": []map[string]any{{"event_id": "health-1", "event_type": "delivered",
		"occurred_at": now.Add(-time.Minute).UTC().Format(time.RFC3339), "customer_email": "nobody-sent@example.com"}}})
	if code, b := h.hook(bad.WebhookURL, body, genericHeaders("wrong-key", now, body)); code != 401 {
		t.Fatalf("bad signature: %d %s", code, b)
	}
	if r := h.hookOK(bad.WebhookURL, body, genericHeaders(signingKey, now, body)); r.Unattributed != 1 {
		t.Fatalf("webhook: %+v, want 1 unattributed", r)
	}

	var got struct {
		WebhookHealth struct {
			Counts       map[string]int64
			RecentErrors []struct{ Kind, Message string } `json:"recent_errors"`
		} `json:"webhook_health"`
	}
	if r := h.do("GET", "/api/v1/connections/"+bad.ID, key, nil, &got); r.StatusCode != 200 {
		t.Fatalf("get connection: %d", r.StatusCode)
	}
	wh := got.WebhookHealth
	if wh.Counts["signature_failures"] != 1 || wh.Counts["unattributed_events"] != 1 || wh.Counts["accepted_requests"] != 1 ||
		len(wh.RecentErrors) != 2 || wh.RecentErrors[0].Kind != "unattributed" || wh.RecentErrors[1].Kind != "signature" {
		t.Errorf("webhook_health = %+v", wh)
	}

	b := h.browser()
	b.signIn(key)
	resp, page := b.get("/dashboard/connections")
	if resp.StatusCode != 200 {
		t.Fatalf("connections page: %d", resp.StatusCode)
	}
	page = html.UnescapeString(page)
	i := strings.Index(page, "gen-quiet")
	if i < 0 {
		t.Fatal("page lacks the quiet connection")
	}
	card, quiet := page[:i], page[i:] // connections are listed oldest first
	for _, want := range []string{"gen-prod", `requests accepted <span class="strong">1</span>`, `signature failures <span class="strong">1</span>`,
		`unattributed events <span class="strong">1</span>`, `other errors <span class="strong">0</span>`,
		`<span class="badge off">signature</span>`, "webhook credentials or signature invalid",
		`<span class="badge warn">unattributed</span>`, "1 event could not be matched to a sent message"} {
		if !strings.Contains(card, want) {
			t.Errorf("card lacks %q", want)
		}
	}
	if strings.Index(card, "1 event could not be matched") > strings.Index(card, "webhook credentials or signature invalid") {
		t.Error("recent errors are not newest first")
	}
	if strings.Contains(card, "No errors since") || !strings.Contains(quiet, "No errors since") {
		t.Error(`"No errors since" is not on the quiet connection only`)
	}
	for _, not := range []string{"nobody-sent@example.com", signingKey, "wrong-key", "style="} {
		if strings.Contains(page, not) {
			t.Errorf("page shows %q", not)
		}
	}
}

// genericHook is a generic-vendor webhook body with one delivered event for an address
// never sent to (accepted, counted as unattributed).
func genericHook(id string) []byte {
	return mustJSON(map[string]any{"events": []map[string]any{{"event_id": id, "event_type": "delivered",
		"occurred_at": time.Now().Add(-time.Minute).UTC().Format(time.RFC3339), "customer_email": "nobody@example.com"}}})
}

// A connection created from the dashboard's form works at once: its webhook URL, shown
// with the setup steps, accepts a signed webhook. Refused forms (no CSRF token, a
// read-only key, missing credentials) change nothing and never echo a credential;
// rotating switches the key, disabling refuses webhooks until enabling.
func TestDashboardConnectionEdit(t *testing.T) {
	h := newHookHarness(t)
	orgID, key := h.org("acme")
	_, otherKey := h.org("other")
	b := h.browser()
	tok := b.signIn(key)
	countConns := func() int {
		var l struct{ Connections []connOut }
		h.do("GET", "/api/v1/connections", key, nil, &l)
		return len(l.Connections)
	}

	_, page := b.get("/dashboard/connections")
	for _, want := range []string{`id="create-connection"`, `<option value="generic" data-fields="signing_key"`, "generic</strong>: signing key",
		`<option value="sparkpost" data-fields="signing_key username password bearer_token"`} {
		if !strings.Contains(html.UnescapeString(page), html.UnescapeString(want)) {
			t.Errorf("page lacks %s", want)
		}
	}
	const signingKey = "dash-generic-key-0123456789"
	form := url.Values{"csrf": {tok}, "vendor": {"generic"}, "name": {"From the dashboard"}, "signing_key": {signingKey}}
	// Refused: no token; missing credentials (the message names the field, not a value).
	noTok := url.Values{"vendor": {"generic"}, "name": {"x"}, "signing_key": {signingKey}}
	if resp, _ := b.post("/dashboard/connections", noTok); resp.StatusCode != http.StatusForbidden {
		t.Errorf("create without csrf: %d", resp.StatusCode)
	}
	resp, page := b.post("/dashboard/connections", url.Values{"csrf": {tok}, "vendor": {"generic"}, "name": {"bad"}, "bearer_token": {"tok-should-not-echo"}})
	if page = html.UnescapeString(page); resp.StatusCode != 400 || !strings.Contains(page, "generic connection needs signing_key") ||
		strings.Contains(page, "tok-should-not-echo") || !strings.Contains(page, `name="name" value="bad"`) {
		t.Errorf("missing credentials: %d\n%s", resp.StatusCode, page)
	}
	if n := countConns(); n != 0 {
		t.Fatalf("refused forms created %d connections", n)
	}

	// Created: the page shows the URL and the steps; the URL takes a signed webhook.
	resp, _ = b.post("/dashboard/connections", form)
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/dashboard/connections?created=conn_") {
		t.Fatalf("create: %d %q", resp.StatusCode, loc)
	}
	_, page = b.get(loc)
	m := regexp.MustCompile(`<code id="created-url">([^<]+)</code>`).FindStringSubmatch(page)
	if m == nil || !strings.Contains(page, "Sign each request with HMAC-SHA256") || strings.Contains(page, signingKey) {
		t.Fatalf("created page lacks the URL or the steps, or shows the key:\n%s", page)
	}
	hookURL := html.UnescapeString(m[1])
	if !strings.HasPrefix(hookURL, h.srv.URL+"/webhooks/v2/generic/conn_") {
		t.Fatalf("webhook URL %q", hookURL)
	}
	body := genericHook("dash-1")
	if r := h.hookOK(hookURL, body, genericHeaders(signingKey, time.Now(), body)); r.Unattributed != 1 {
		t.Errorf("webhook: %+v", r)
	}
	if code, _ := h.hook(hookURL, body, genericHeaders("wrong-key", time.Now(), body)); code != 401 {
		t.Errorf("wrong key: %d", code)
	}
	id := hookURL[strings.LastIndex(hookURL, "/")+1:]

	// Another organization cannot touch it; a read-only session is refused.
	ob := h.browser()
	otok := ob.signIn(otherKey)
	if resp, _ := ob.post("/dashboard/connections/"+id+"/disable", url.Values{"csrf": {otok}}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("other organization disables: %d", resp.StatusCode)
	}
	ro := h.browser()
	rtok := ro.signIn(h.readKey(orgID))
	if _, page := ro.get("/dashboard/connections"); strings.Contains(page, `id="create-connection"`) || strings.Contains(page, "/rotate") {
		t.Errorf("read-only page offers changes")
	}
	for _, p := range []string{"/dashboard/connections", "/dashboard/connections/" + id + "/disable", "/dashboard/connections/" + id + "/rotate"} {
		f := url.Values{"csrf": {rtok}, "vendor": {"generic"}, "name": {"ro"}, "signing_key": {"k"}}
		if resp, _ := ro.post(p, f); resp.StatusCode != http.StatusForbidden {
			t.Errorf("read-only POST %s: %d", p, resp.StatusCode)
		}
	}
	if resp, _ := b.post("/dashboard/connections/"+id+"/disable", url.Values{}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("disable without csrf: %d", resp.StatusCode)
	}
	if code, _ := h.hook(hookURL, body, genericHeaders(signingKey, time.Now(), body)); code != 200 || countConns() != 1 {
		t.Fatalf("refused changes changed the connection: %d", code)
	}

	// Rotate with no grace: the new key only.
	const newKey = "dash-generic-key-rotated-987654"
	resp, _ = b.post("/dashboard/connections/"+id+"/rotate", url.Values{"csrf": {tok}, "signing_key": {newKey}, "grace": {"0"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("rotate: %d", resp.StatusCode)
	}
	if _, page := b.get(resp.Header.Get("Location")); !strings.Contains(html.UnescapeString(page), "“From the dashboard” has new credentials") || strings.Contains(page, newKey) {
		t.Errorf("rotated page")
	}
	body = genericHook("dash-2")
	if code, _ := h.hook(hookURL, body, genericHeaders(signingKey, time.Now(), body)); code != 401 {
		t.Errorf("old key after rotation: %d", code)
	}
	h.hookOK(hookURL, body, genericHeaders(newKey, time.Now(), body))
	if resp, _ := b.post("/dashboard/connections/"+id+"/rotate", url.Values{"csrf": {tok}, "grace": {"0"}}); resp.StatusCode != 400 {
		t.Errorf("rotate without a key: %d", resp.StatusCode)
	}

	// Disable, then enable.
	resp, _ = b.post("/dashboard/connections/"+id+"/disable", url.Values{"csrf": {tok}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("disable: %d", resp.StatusCode)
	}
	if _, page := b.get(resp.Header.Get("Location")); !strings.Contains(page, `<span class="badge off">disabled</span>`) || !strings.Contains(page, "/enable") {
		t.Errorf("disabled page")
	}
	body = genericHook("dash-3")
	if code, _ := h.hook(hookURL, body, genericHeaders(newKey, time.Now(), body)); code != 404 {
		t.Errorf("webhook to a disabled connection: %d", code)
	}
	if resp, _ := b.post("/dashboard/connections/"+id+"/enable", url.Values{"csrf": {tok}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("enable: %d", resp.StatusCode)
	}
	h.hookOK(hookURL, body, genericHeaders(newKey, time.Now(), body))
}
