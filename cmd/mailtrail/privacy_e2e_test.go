package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
)

// privacyScene instruments one email to each of two customers of campaign "promo",
// records their send, an open and a click through the tracking routes (which store the
// client's IP and user agent) and the first customer's one-click unsubscribe.
func (h *harness) privacyScene(key string) (first, second instrumented) {
	h.t.Helper()
	first, second = h.instrument(key, "promo", "cust-1"), h.instrument(key, "promo", "cust-2")
	at := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	for i, m := range []instrumented{first, second} {
		h.postEvents(key, map[string]any{"event_type": "sent", "message_id": m.MessageID, "occurred_at": at.Format(time.RFC3339),
			"idempotency_key": "s" + m.MessageID, "esp_message_id": "esp-" + string(rune('a'+i))})
		if r := h.do("GET", m.Tracking.OpenURL, "", nil, nil); r.StatusCode != 200 {
			h.t.Fatalf("pixel: %d", r.StatusCode)
		}
		if r := h.do("GET", m.Tracking.ClickURLs[0], "", nil, nil); r.StatusCode != 302 {
			h.t.Fatalf("click: %d", r.StatusCode)
		}
	}
	if r := h.postForm(first.Tracking.UnsubscribeURL, false); r.StatusCode != 200 {
		h.t.Fatalf("unsubscribe: %d", r.StatusCode)
	}
	return first, second
}

func errorCode(t *testing.T, r io.Reader) string {
	t.Helper()
	var body struct {
		Error *mailtrail.Error `json:"error"`
	}
	if err := json.NewDecoder(r).Decode(&body); err != nil || body.Error == nil {
		t.Fatalf("not a JSON error body: %v", err)
	}
	return body.Error.Code
}

func TestEraseCustomerAPI(t *testing.T) {
	h := newHarness(t)
	_, key := h.org("acme")
	_, keyB := h.org("other")
	first, second := h.privacyScene(key)

	reportBefore := h.do("GET", "/api/v1/campaigns/promo/report", key, nil, nil)
	before, _ := io.ReadAll(reportBefore.Body)
	if h.report(key, "promo").Counts.Sent != 2 {
		t.Fatalf("report before: %s", before)
	}
	if got := h.checkReasons(key, "cust-1@example.com"); got["cust-1@example.com"] != mailtrail.ReasonUnsubscribed {
		t.Fatalf("not suppressed before the erase: %v", got)
	}

	// No key: 401. Another organization's key: 404, and nothing changes.
	if r := h.do("DELETE", "/api/v1/customers/cust-1", "", nil, nil); r.StatusCode != 401 {
		t.Fatalf("without a key: %d", r.StatusCode)
	}
	if r := h.do("DELETE", "/api/v1/customers/cust-1", keyB, nil, nil); r.StatusCode != 404 || errorCode(t, r.Body) != mailtrail.ENOTFOUND {
		t.Fatalf("another organization's key: %d", r.StatusCode)
	}
	if n := len(h.events(key, "customer_id=cust-1")); n != 4 {
		t.Fatalf("cust-1 has %d events after another organization's erase, want 4", n)
	}
	if r := h.do("DELETE", "/api/v1/customers/nobody", key, nil, nil); r.StatusCode != 404 || errorCode(t, r.Body) != mailtrail.ENOTFOUND {
		t.Fatalf("unknown customer: %d", r.StatusCode)
	}

	var res mailtrail.EraseResult
	if r := h.do("DELETE", "/api/v1/customers/cust-1", key, nil, &res); r.StatusCode != 200 || r.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("erase: %d", r.StatusCode)
	}
	if want := (mailtrail.EraseResult{Events: 4, Messages: 1, Suppressions: 1}); res != want {
		t.Fatalf("erase result %+v, want %+v", res, want)
	}
	// Idempotent: the id is gone.
	if r := h.do("DELETE", "/api/v1/customers/cust-1", key, nil, nil); r.StatusCode != 404 || errorCode(t, r.Body) != mailtrail.ENOTFOUND {
		t.Fatalf("second erase: %d", r.StatusCode)
	}

	// The figures are the same; where the report names the customer (top clickers), it
	// names the erased one's new id.
	after, _ := io.ReadAll(h.do("GET", "/api/v1/campaigns/promo/report", key, nil, nil).Body)
	if bytes.Contains(after, []byte("cust-1")) {
		t.Fatalf("the report still names the erased customer: %s", after)
	}
	erasedID := regexp.MustCompile(`erased:[0-9a-f]{16}`)
	if !bytes.Equal(before, erasedID.ReplaceAll(after, []byte("cust-1"))) {
		t.Fatalf("report changed by the erase:\nbefore %s\nafter  %s", before, after)
	}
	if n := len(h.events(key, "customer_id=cust-1")); n != 0 {
		t.Fatalf("the CRM's id still finds %d events", n)
	}
	evs := h.events(key, "campaign_id=promo")
	if len(evs) != 7 {
		t.Fatalf("%d events in the campaign, want 7", len(evs))
	}
	for _, e := range evs {
		switch e.MessageID {
		case first.MessageID:
			if e.CustomerEmail != "" || e.Metadata.IP != "" || e.Metadata.UserAgent != "" || e.CustomerID == "cust-1" {
				t.Errorf("erased event keeps personal data: %+v", e)
			}
			if e.Type == mailtrail.EventClicked && e.Metadata.LinkURL != first.Links[0] {
				t.Errorf("erased click lost its link: %+v", e)
			}
		case second.MessageID:
			if e.CustomerEmail != "cust-2@example.com" || e.Type != mailtrail.EventSent && e.Metadata.IP == "" {
				t.Errorf("the other customer's event changed: %+v", e)
			}
		}
	}
	if m, err := h.app.db.Message(context.Background(), "", first.MessageID); err != nil || m.CustomerEmail != "" {
		t.Fatalf("erased message: %+v %v", m, err)
	}

	// Still suppressed, in any case of the domain; listed and exported as a hash.
	if got := h.checkReasons(key, "cust-1@example.com", "cust-1@EXAMPLE.COM", "cust-2@example.com"); len(got) != 2 ||
		got["cust-1@example.com"] != mailtrail.ReasonUnsubscribed || got["cust-1@EXAMPLE.COM"] != mailtrail.ReasonUnsubscribed {
		t.Fatalf("check after the erase: %v", got)
	}
	var page mailtrail.SuppressionPage
	h.do("GET", "/api/v1/suppressions", key, nil, &page)
	if len(page.Suppressions) != 1 || page.Suppressions[0].Email != "" || page.Suppressions[0].EmailHash != mailtrail.EmailHash("cust-1@example.com") {
		t.Fatalf("listing after the erase: %+v", page)
	}
	if csv := h.export(key, ""); strings.Contains(csv, "cust-1") || !strings.Contains(csv, mailtrail.EmailHash("cust-1@example.com")) {
		t.Fatalf("export after the erase: %q", csv)
	}

	// The CLI verb, on the same data directory: refused while the service owns it, then
	// run with the service stopped.
	var out, errb bytes.Buffer
	orgID := evs[0].OrgID
	err := Run(context.Background(), []string{"customer", "erase", "--data-dir", h.app.cfg.DataDir, "--org", orgID, "cust-2"}, &out, &errb)
	if err == nil || !strings.Contains(err.Error(), "in use by mailtrail process") || !strings.Contains(err.Error(), "DELETE /api/v1/customers/{id}") {
		t.Fatalf("customer erase beside the running service: %v", err)
	}
	h.offline(func(dir string) {
		if err := Run(context.Background(), []string{"customer", "erase", "--data-dir", dir, "--org", orgID}, &out, &errb); err == nil {
			t.Fatal("customer erase without an id succeeded")
		}
		if err := Run(context.Background(), []string{"customer", "erase", "--data-dir", dir, "cust-2"}, &out, &errb); err == nil {
			t.Fatal("customer erase without --org succeeded")
		}
		if err := Run(context.Background(), []string{"customer", "erase", "--data-dir", dir, "--org", orgID, "cust-2"}, &out, &errb); err != nil {
			t.Fatalf("customer erase: %v %s", err, errb.String())
		}
	})
	var cli mailtrail.EraseResult
	if err := json.Unmarshal(out.Bytes(), &cli); err != nil || cli.Events != 3 || cli.Messages != 1 {
		t.Fatalf("customer erase output %q: %v", out.String(), err)
	}
	if r := h.do("DELETE", "/api/v1/customers/cust-2", key, nil, nil); r.StatusCode != 404 {
		t.Fatalf("API erase after the CLI's: %d", r.StatusCode)
	}
	h.offline(func(dir string) {
		if err := Run(context.Background(), []string{"customer", "erase", "--data-dir", dir, "--org", orgID, "cust-2"}, &out, &errb); err == nil {
			t.Fatal("second CLI erase succeeded")
		}
	})
}

func TestRetentionJob(t *testing.T) {
	h := newHarness(t)
	_, key := h.org("acme")
	_, keyB := h.org("forever")
	h.privacyScene(key)
	h.privacyScene(keyB)
	if r := h.do("PATCH", "/api/v1/settings", key, map[string]any{"retention_days": 3}, nil); r.StatusCode != 400 {
		t.Fatalf("retention_days 3: %d", r.StatusCode)
	}
	if r := h.do("PATCH", "/api/v1/settings", key, map[string]any{"retention_days": 7}, nil); r.StatusCode != 200 {
		t.Fatalf("retention_days 7: %d", r.StatusCode)
	}
	reportA, _ := io.ReadAll(h.do("GET", "/api/v1/campaigns/promo/report", key, nil, nil).Body)
	reportB, _ := io.ReadAll(h.do("GET", "/api/v1/campaigns/promo/report", keyB, nil, nil).Body)

	job := newRetentionJob(h.app)
	var logs bytes.Buffer
	job.log = slog.New(slog.NewJSONHandler(&logs, nil))
	if n, _, err := job.once(context.Background()); err != nil || n != 0 {
		t.Fatalf("deleted %d events younger than the retention (%v)", n, err)
	}
	job.now = func() time.Time { return time.Now().Add(8 * 24 * time.Hour) }
	if n, _, err := job.once(context.Background()); err != nil || n != 7 {
		t.Fatalf("deleted %d events 8 days later, want acme's 7 (%v)", n, err)
	}
	if n := len(h.events(key, "")); n != 0 {
		t.Errorf("acme keeps %d raw events past its retention", n)
	}
	if n := len(h.events(keyB, "")); n != 7 {
		t.Errorf("the organization without retention has %d events, want 7", n)
	}
	if got, _ := io.ReadAll(h.do("GET", "/api/v1/campaigns/promo/report", key, nil, nil).Body); !bytes.Equal(got, reportA) {
		t.Errorf("report changed by retention:\nbefore %s\nafter  %s", reportA, got)
	}
	if got, _ := io.ReadAll(h.do("GET", "/api/v1/campaigns/promo/report", keyB, nil, nil).Body); !bytes.Equal(got, reportB) {
		t.Error("the other organization's report changed")
	}
	metrics, _ := io.ReadAll(h.do("GET", "/metrics", "", nil, nil).Body)
	if !strings.Contains(string(metrics), "mailtrail_retention_deleted_events_total 7\n") {
		t.Errorf("metric missing or wrong:\n%s", metrics)
	}
	if !strings.Contains(logs.String(), `"deleted_events":7`) || strings.Contains(logs.String(), "@") || strings.Contains(logs.String(), "127.0.0.1") {
		t.Errorf("retention log: %s", logs.String())
	}
}
