package main

import (
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
)

// rangeEvent is an event of campaign camp for customer cust at 12:00 (Paris, the test
// organization's zone) days ago, plus minutes.
func rangeEvent(typ, camp, cust string, days, minutes int) map[string]any {
	paris, _ := time.LoadLocation("Europe/Paris")
	n := time.Now().In(paris)
	at := time.Date(n.Year(), n.Month(), n.Day()-days, 12, minutes, 0, 0, paris)
	return map[string]any{"event_type": typ, "campaign_id": camp, "customer_id": cust, "customer_email": cust + "@example.com",
		"occurred_at": at.UTC().Format(time.RFC3339Nano)}
}

// parisDay is the date days ago in Paris.
func parisDay(days int) string {
	paris, _ := time.LoadLocation("Europe/Paris")
	n := time.Now().In(paris)
	return time.Date(n.Year(), n.Month(), n.Day()-days, 12, 0, 0, 0, paris).Format("2006-01-02")
}

// The campaign list filtered by send date, in the API (sent_from, sent_to) and in the
// dashboard, keeps the same campaigns; bad dates are refused naming the parameter.
func TestCampaignsSentDateFilter(t *testing.T) {
	h := newHarness(t)
	_, key := h.org("acme")
	for camp, days := range map[string]int{"old": 10, "mid": 5, "new": 1} {
		h.postEvents(key, rangeEvent("sent", camp, "a", days, 0), rangeEvent("opened", camp, "a", days, 30))
	}
	h.postEvents(key, rangeEvent("opened", "never-sent", "z", 3, 0)) // no send: left out of any date filter
	list := func(q string) []string {
		t.Helper()
		var page mailtrail.CampaignPage
		if r := h.do("GET", "/api/v1/campaigns?sort=name&order=asc&"+q, key, nil, &page); r.StatusCode != 200 {
			t.Fatalf("%s: %d", q, r.StatusCode)
		}
		var ids []string
		for _, c := range page.Campaigns {
			ids = append(ids, c.ID)
		}
		if page.Total != len(ids) {
			t.Errorf("%s: total %d for %v", q, page.Total, ids)
		}
		return ids
	}
	b := h.browser()
	b.signIn(key)
	dashRow := regexp.MustCompile(`<tr data-campaign="([^"]+)"`)
	for _, c := range []struct {
		api, dash string
		want      []string
	}{
		{"", "", []string{"mid", "never-sent", "new", "old"}},
		{"sent_from=" + parisDay(6), "from=" + parisDay(6), []string{"mid", "new"}},
		{"sent_to=" + parisDay(2), "to=" + parisDay(2), []string{"mid", "old"}},
		{"sent_from=" + parisDay(5) + "&sent_to=" + parisDay(5), "from=" + parisDay(5) + "&to=" + parisDay(5), []string{"mid"}},
		{"sent_from=" + parisDay(1) + "T11:59:00%2B01:00", "", []string{"new"}}, // RFC 3339 bounds too (a time before noon Paris)
	} {
		if got := list(c.api); !slices.Equal(got, c.want) {
			t.Errorf("API %q: %v, want %v", c.api, got, c.want)
		}
		if c.dash == "" {
			continue
		}
		resp, page := b.get("/dashboard/campaigns?sort=name&order=asc&" + c.dash)
		var got []string
		for _, m := range dashRow.FindAllStringSubmatch(page, -1) {
			got = append(got, m[1])
		}
		if resp.StatusCode != 200 || !slices.Equal(got, c.want) {
			t.Errorf("dashboard %q: %d %v, want %v", c.dash, resp.StatusCode, got, c.want)
		}
		if c.dash != "" && !strings.Contains(page, `value="`+strings.SplitN(strings.SplitN(c.dash, "=", 2)[1], "&", 2)[0]+`"`) {
			t.Errorf("dashboard %q: the date is not kept in its input", c.dash)
		}
	}
	for q, field := range map[string]string{"sent_from=yesterday": "sent_from", "sent_to=2026-13-01": "sent_to",
		"sent_from=" + parisDay(1) + "&sent_to=" + parisDay(3): "sent_from"} {
		r := h.do("GET", "/api/v1/campaigns?"+q, key, nil, nil)
		body, _ := io.ReadAll(r.Body)
		var e struct{ Error mailtrail.Error }
		_ = json.Unmarshal(body, &e)
		if r.StatusCode != 400 || e.Error.Code != "invalid" || !strings.Contains(e.Error.Message, field) {
			t.Errorf("%s: %d %s", q, r.StatusCode, body)
		}
	}
	if resp, _ := b.get("/dashboard/campaigns?from=" + parisDay(1) + "&to=" + parisDay(3)); resp.StatusCode != 400 {
		t.Errorf("dashboard, from after to: %d", resp.StatusCode)
	}
}

// The report's charts over a date range: the page's figures for the range are the API
// report's daily buckets of those days, the charts hold those days only, and the tiles
// stay the campaign's.
func TestDashboardReportRange(t *testing.T) {
	h := newHarness(t)
	_, key := h.org("acme")
	var evs []map[string]any
	for i := range 6 {
		c := fmt.Sprintf("c%d", i)
		evs = append(evs, rangeEvent("sent", "spring", c, 4, 0), rangeEvent("delivered", "spring", c, 4, 1))
		day := 4 - i%4 // opens on four days: 4, 3, 2, 1 days ago
		evs = append(evs, rangeEvent("opened", "spring", c, day, 20+i), rangeEvent("opened", "spring", c, max(1, day-1), 40))
		if i%2 == 0 {
			evs = append(evs, rangeEvent("clicked", "spring", c, day, 50))
		}
	}
	h.postEvents(key, evs...)
	rep := h.report(key, "spring")
	b := h.browser()
	b.signIn(key)
	paris, _ := time.LoadLocation("Europe/Paris")
	for _, rg := range []struct{ from, to string }{{parisDay(3), parisDay(2)}, {parisDay(2), ""}, {"", parisDay(3)}} {
		var want mailtrail.TimelineBucket
		days := 0
		for _, d := range rep.Daily {
			day := d.Start.In(paris).Format("2006-01-02")
			if (rg.from == "" || day >= rg.from) && (rg.to == "" || day <= rg.to) {
				days++
				want.Sent += d.Sent
				want.OpensTotal += d.OpensTotal
				want.HumanOpensUnique += d.HumanOpensUnique
				want.ClicksTotal += d.ClicksTotal
				want.HumanClicksUnique += d.HumanClicksUnique
			}
		}
		resp, page := b.get("/dashboard/campaigns/spring?period=daily&from=" + rg.from + "&to=" + rg.to)
		if resp.StatusCode != 200 {
			t.Fatalf("%v: %d", rg, resp.StatusCode)
		}
		for attr, v := range map[string]int64{"sent": want.Sent, "opens": want.OpensTotal, "openers": want.HumanOpensUnique,
			"clicks": want.ClicksTotal, "clickers": want.HumanClicksUnique} {
			if !strings.Contains(page, fmt.Sprintf(`data-%s="%d"`, attr, v)) {
				t.Errorf("%v: no data-%s=%d in the range's figures", rg, attr, v)
			}
		}
		if want.OpensTotal == rep.Counts.OpensTotal {
			t.Errorf("%v: the range holds every open: the test proves nothing", rg)
		}
		// The sends chart has one period a day of the range (from the first day with
		// something it draws); the tiles stay the campaign's.
		sends := page[strings.Index(page, `id="chart-sends"`):]
		sends = sends[:strings.Index(sends, "</figure>")]
		if got := strings.Count(sends, `class="hit"`); got != days {
			t.Errorf("%v: %d periods charted, want %d", rg, got, days)
		}
		if !strings.Contains(page, `<div class="tile" id="kpi-opens"><div class="label">Opened (people)</div><div class="value">`+num(rep.Counts.HumanOpensUnique)+`</div>`) {
			t.Errorf("%v: the opens tile is not the campaign's %d", rg, rep.Counts.HumanOpensUnique)
		}
	}
	for _, q := range []string{"from=yesterday", "from=" + parisDay(1) + "&to=" + parisDay(3)} {
		if resp, _ := b.get("/dashboard/campaigns/spring?" + q); resp.StatusCode != 400 {
			t.Errorf("%s: %d", q, resp.StatusCode)
		}
	}
}
