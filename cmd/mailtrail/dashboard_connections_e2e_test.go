package main

import (
	"html"
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
