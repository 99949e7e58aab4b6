package main

import (
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
)

func (h *harness) campaigns(key, query string) mailtrail.CampaignPage {
	h.t.Helper()
	var page mailtrail.CampaignPage
	if r := h.do("GET", "/api/v1/campaigns?"+query, key, nil, &page); r.StatusCode != 200 {
		h.t.Fatalf("campaigns: %d", r.StatusCode)
	}
	return page
}

// The campaign list sums the same counters as the report, searches, sorts, pages, and
// shows an organization its own campaigns only.
func TestCampaignList(t *testing.T) {
	h := geoHarness(t)
	_, key := h.org("acme")
	_, other := h.org("globex")
	postCorpus(h, key)
	h.postEvents(key, map[string]any{"event_type": "sent", "campaign_id": "Spring-Sale", "customer_id": "c1", "customer_email": "c1@example.com"},
		map[string]any{"event_type": "sent", "campaign_id": "Spring-Sale", "customer_id": "c2", "customer_email": "c2@example.com"})
	h.postEvents(other, map[string]any{"event_type": "sent", "campaign_id": "secret-launch", "customer_id": "c1", "customer_email": "c1@example.com"})

	page := h.campaigns(key, "sort=sent&order=desc")
	if page.Total != 2 || len(page.Campaigns) != 2 || page.Campaigns[0].ID != corpusCampaig || page.Campaigns[1].ID != "Spring-Sale" {
		t.Fatalf("page: %+v", page)
	}
	rep := h.report(key, corpusCampaig)
	if c := page.Campaigns[0]; c.Counts != rep.Counts || c.Rates != rep.Rates || c.HumanRates != rep.HumanRates || c.LastActive == nil {
		t.Errorf("list %+v\nreport counts %+v rates %+v human %+v", c, rep.Counts, rep.Rates, rep.HumanRates)
	}
	if p := h.campaigns(key, "sort=sent&order=asc"); p.Campaigns[0].ID != "Spring-Sale" {
		t.Errorf("ascending: %+v", p.Campaigns)
	}
	if p := h.campaigns(key, "q=sale"); p.Total != 1 || p.Campaigns[0].ID != "Spring-Sale" || p.Campaigns[0].Counts.Sent != 2 {
		t.Errorf("search: %+v", p)
	}
	// Names sort as people read them, whatever their case: "corpus" before "Spring-Sale".
	if p := h.campaigns(key, "sort=name&order=asc&limit=1&offset=1"); p.Total != 2 || len(p.Campaigns) != 1 || p.Campaigns[0].ID != "Spring-Sale" {
		t.Errorf("page 2 by name: %+v", p)
	}
	if p := h.campaigns(other, ""); p.Total != 1 || p.Campaigns[0].ID != "secret-launch" {
		t.Errorf("other org: %+v", p)
	}
	for _, sort := range mailtrail.CampaignSorts {
		if r := h.do("GET", "/api/v1/campaigns?sort="+sort, key, nil, nil); r.StatusCode != 200 {
			t.Errorf("sort=%s: %d", sort, r.StatusCode)
		}
	}
	if r := h.do("GET", "/api/v1/campaigns?sort=bogus", key, nil, nil); r.StatusCode != 400 {
		t.Errorf("bad sort: %d", r.StatusCode)
	}
}

// A campaign's name and subject come with its messages or by PATCH; its send time is its
// first sent event's quarter hour. The report and the list show them; bad input and read
// keys change nothing.
func TestCampaignNames(t *testing.T) {
	h := newHarness(t)
	orgID, key := h.org("acme")
	var m instrumented
	if r := h.do("POST", "/api/v1/messages", key, map[string]any{"campaign_id": "nov-news", "campaign_name": "November newsletter",
		"subject": "What's new in November", "customer_id": "c1", "customer_email": "c1@example.com", "html": emailHTML}, &m); r.StatusCode != 200 {
		t.Fatalf("instrument: %d", r.StatusCode)
	}
	h.instrument(key, "nov-news", "c2") // without a name: the campaign's stays
	rep := h.report(key, "nov-news")
	if rep.Name != "November newsletter" || rep.Subject != "What's new in November" || rep.SentAt != nil {
		t.Fatalf("report before sending: %q %q %v", rep.Name, rep.Subject, rep.SentAt)
	}
	sentAt := time.Date(2026, 11, 3, 9, 7, 0, 0, time.UTC)
	h.postEvents(key, map[string]any{"event_type": "sent", "message_id": m.MessageID, "occurred_at": sentAt.Add(time.Hour).Format(time.RFC3339)},
		map[string]any{"event_type": "sent", "campaign_id": "nov-news", "customer_id": "c3", "customer_email": "c3@example.com", "occurred_at": sentAt.Format(time.RFC3339)})
	rep = h.report(key, "nov-news")
	if rep.SentAt == nil || !rep.SentAt.Equal(time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC)) {
		t.Errorf("sent_at %v, want the quarter hour of the first sent event", rep.SentAt)
	}

	var ci mailtrail.CampaignInfo
	if r := h.do("PATCH", "/api/v1/campaigns/nov-news", key, map[string]any{"name": "News, November"}, &ci); r.StatusCode != 200 ||
		ci.Name != "News, November" || ci.Subject != "What's new in November" || ci.SentAt == nil || !ci.SentAt.Equal(*rep.SentAt) {
		t.Fatalf("patch: %d %+v", r.StatusCode, ci)
	}
	var k struct {
		Key    mailtrail.APIKey `json:"key"`
		Secret string           `json:"api_key"`
	}
	if r := h.do("POST", "/api/v1/admin/organizations/"+orgID+"/keys", h.admin, map[string]string{"name": "bi", "scope": "read"}, &k); r.StatusCode != 201 {
		t.Fatalf("read key: %d", r.StatusCode)
	}
	for _, tc := range []struct {
		key, campaign string
		body          any
		status        int
	}{
		{key, "nov-news", map[string]any{"subject": strings.Repeat("x", 999)}, 400},
		{key, "nov-news", map[string]any{}, 400},
		{key, "nov-news", "not an object", 400},
		{key, "no-such-campaign", map[string]any{"name": "x"}, 404},
		{k.Secret, "nov-news", map[string]any{"name": "read keys cannot"}, 403},
	} {
		if r := h.do("PATCH", "/api/v1/campaigns/"+tc.campaign, tc.key, tc.body, nil); r.StatusCode != tc.status {
			t.Errorf("PATCH %s %v: %d, want %d", tc.campaign, tc.body, r.StatusCode, tc.status)
		}
	}
	if r := h.do("POST", "/api/v1/messages", key, map[string]any{"campaign_id": "nov-news", "campaign_name": strings.Repeat("n", 201),
		"customer_id": "c9", "customer_email": "c9@example.com", "html": emailHTML}, nil); r.StatusCode != 400 {
		t.Errorf("a campaign_name too long: %d", r.StatusCode)
	}
	rep = h.report(key, "nov-news")
	if rep.Name != "News, November" || rep.Subject != "What's new in November" {
		t.Errorf("after refused changes: %q %q", rep.Name, rep.Subject)
	}

	h.postEvents(key, map[string]any{"event_type": "sent", "campaign_id": "a-promo", "customer_id": "c1", "customer_email": "c1@example.com"})
	p := h.campaigns(key, "q=november")
	if p.Total != 1 || p.Campaigns[0].ID != "nov-news" || p.Campaigns[0].Name != "News, November" || p.Campaigns[0].Subject != "What's new in November" ||
		p.Campaigns[0].SentAt == nil || !p.Campaigns[0].SentAt.Equal(*rep.SentAt) {
		t.Errorf("search by name: %+v", p)
	}
	// By name: "a-promo" (no name: its id) before "News, November".
	if p := h.campaigns(key, "sort=name&order=asc"); len(p.Campaigns) != 2 || p.Campaigns[0].ID != "a-promo" {
		t.Errorf("by name: %+v", p.Campaigns)
	}
	if p := h.campaigns(key, "sort=sent_at&order=asc"); len(p.Campaigns) != 2 || p.Campaigns[0].ID != "nov-news" {
		t.Errorf("by send time: %+v", p.Campaigns)
	}
}
