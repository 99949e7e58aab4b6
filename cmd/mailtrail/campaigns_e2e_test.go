package main

import (
	"testing"

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
	if p := h.campaigns(key, "sort=name&order=asc&limit=1&offset=1"); p.Total != 2 || len(p.Campaigns) != 1 || p.Campaigns[0].ID != corpusCampaig {
		t.Errorf("page 2 by name: %+v", p)
	}
	if p := h.campaigns(other, ""); p.Total != 1 || p.Campaigns[0].ID != "secret-launch" {
		t.Errorf("other org: %+v", p)
	}
	if r := h.do("GET", "/api/v1/campaigns?sort=bogus", key, nil, nil); r.StatusCode != 400 {
		t.Errorf("bad sort: %d", r.StatusCode)
	}
}
