package main

import (
	"html"
	"strings"
	"testing"

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
	if r := h.do("POST", "/api/v1/connections", otherKey, map[string]any{"vendor": "sendgrid", "name": "their-sg", "signing_key": "k"}, &theirs); r.StatusCode != 201 {
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
