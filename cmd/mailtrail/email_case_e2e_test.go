package main

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
)

// An address is one address whatever its case (issue 12). SparkPost documents rcpt_to
// lower-cased: a hard bounce of a message sent to Mixed.Case@Example.com must suppress
// the CRM's own spelling, and a delivery naming only the lower-cased address must find
// the CRM's message.
func TestEmailCaseSparkPost(t *testing.T) {
	h := newHookHarness(t)
	_, key := h.org("acme")
	c := h.connection(key, map[string]any{"vendor": "sparkpost", "name": "sp", "bearer_token": "sp-token"})
	const crm = "Mixed.Case@Example.com"
	var m instrumented
	if r := h.do("POST", "/api/v1/messages", key, map[string]any{"campaign_id": "spring", "customer_id": "u_mc",
		"customer_email": crm, "html": emailHTML}, &m); r.StatusCode != 200 {
		t.Fatalf("instrument: %d", r.StatusCode)
	}
	now := time.Now().UTC().Truncate(time.Second)
	ts := func(ago time.Duration) string { return fmt.Sprint(now.Add(-ago).Unix()) }
	hdr := http.Header{"Authorization": {"Bearer sp-token"}}

	// A delivery of SparkPost's documented shape without our metadata (a relay that
	// stripped it, a template sent outside the API): only the lower-cased rcpt_to.
	delivery := mustJSON([]map[string]any{{"msys": map[string]any{"message_event": map[string]any{
		"type": "delivery", "event_id": "92356927693813851", "timestamp": ts(2 * time.Minute), "rcpt_to": "mixed.case@example.com",
		"transmission_id": "65832150921904138", "message_id": "0e0d94b7-9085-4e3c-ab30-e3f2cd9c273e", "delv_method": "esmtp"}}}})
	if res := h.hookOK(c.WebhookURL, delivery, hdr); res.Accepted != 1 || res.Unattributed != 0 {
		t.Fatalf("lower-cased delivery: %+v, want attributed", res)
	}
	evs := h.events(key, "campaign_id=spring&type=delivered")
	if len(evs) != 1 || evs[0].MessageID != m.MessageID || evs[0].CustomerID != "u_mc" {
		t.Fatalf("delivery attributed to %+v, want message %s", evs, m.MessageID)
	}

	// The hard bounce (bounce_class 10), rcpt_to lower-cased as SparkPost documents it.
	bounce := mustJSON([]map[string]any{{"msys": map[string]any{"message_event": map[string]any{
		"type": "bounce", "event_id": "92356927693813856", "bounce_class": "10", "error_code": "550",
		"raw_reason": "550 5.1.1 Recipient address rejected: User unknown", "reason": "550 5.1.1 ...@... Recipient address rejected",
		"rcpt_to": "mixed.case@example.com", "timestamp": ts(time.Minute), "transmission_id": "65832150921904138",
		"message_id": "0e0d94b7-9085-4e3c-ab30-e3f2cd9c273e", "rcpt_meta": map[string]any{"mt_message_id": m.MessageID}}}}})
	if res := h.hookOK(c.WebhookURL, bounce, hdr); res.Accepted != 1 {
		t.Fatalf("bounce: %+v", res)
	}
	got := h.checkReasons(key, crm, "mixed.case@example.com", "MIXED.CASE@EXAMPLE.COM", "other@example.com")
	for _, e := range []string{crm, "mixed.case@example.com", "MIXED.CASE@EXAMPLE.COM"} {
		if got[e] != mailtrail.ReasonHardBounce {
			t.Errorf("check %s: %q, want hard_bounce (all: %v)", e, got[e], got)
		}
	}
	if len(got) != 3 {
		t.Errorf("check: %v", got)
	}
	// One row, shown as the CRM spelled it.
	var page mailtrail.SuppressionPage
	if r := h.do("GET", "/api/v1/suppressions", key, nil, &page); r.StatusCode != 200 || len(page.Suppressions) != 1 || page.Suppressions[0].Email != crm {
		t.Fatalf("list: %d %+v", r.StatusCode, page.Suppressions)
	}
	if hist := h.history(key, "MIXED.case@example.com"); hist.Suppression == nil || actions(hist.History) != "added:hard_bounce" {
		t.Fatalf("history by another spelling: %+v", hist)
	}
}

// Import, export, the check and removal treat an address in any case as one.
func TestEmailCaseImportExport(t *testing.T) {
	h := newHarness(t)
	_, key := h.org("acme")
	if res := h.importCSV(key, "email\nOther.Person@Example.com\n"); res.Added != 1 {
		t.Fatalf("import: %+v", res)
	}
	if res := h.importCSV(key, "email\nOTHER.PERSON@example.com\nother.person@EXAMPLE.COM\n"); res.Added != 0 || res.Existing != 2 {
		t.Fatalf("import of other spellings: %+v, want existing", res)
	}
	var add struct{ Added, Existing int }
	if r := h.do("POST", "/api/v1/suppressions", key, map[string]any{"email": "other.person@example.com"}, &add); r.StatusCode != 200 || add.Existing != 1 {
		t.Fatalf("add another spelling: %d %+v", r.StatusCode, add)
	}
	if got := h.checkReasons(key, "other.person@example.com"); got["other.person@example.com"] != mailtrail.ReasonListImport {
		t.Fatalf("check: %v", got)
	}
	csv := h.export(key, "")
	if strings.Count(csv, "\n") != 2 || !strings.Contains(csv, "\nOther.Person@Example.com,") {
		t.Fatalf("export shows one row, first spelling:\n%s", csv)
	}
	if r := h.do("DELETE", "/api/v1/suppressions/"+url.PathEscape("OTHER.person@example.com")+"?reason=asked", key, nil, nil); r.StatusCode != 200 {
		t.Fatalf("remove by another spelling: %d", r.StatusCode)
	}
	if got := h.checkReasons(key, "Other.Person@Example.com"); len(got) != 0 {
		t.Fatalf("after removal: %v", got)
	}
}
