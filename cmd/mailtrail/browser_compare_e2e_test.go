package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/mailtrail/mailtrail"
)

// The comparison in a real browser: three campaigns ticked in the campaign list, each
// campaign's rates on the page equal to its report's (sent, then delivered), its curve
// ending at its report's people who opened (clicked) when its first 72 hours are over.
func TestBrowserDashboardCompare(t *testing.T) {
	h := newHarness(t)
	browser := newBrowser(t)
	ctx, cancel := context.WithTimeout(browser, 60*time.Second)
	defer cancel()
	key := h.demoKey(t)
	ids := []string{"welcome-series", "autumn-sale", "newsletter-november"}
	do := tab{t, ctx}.do
	text := tab{t, ctx}.text
	do(chromedp.Navigate(h.srv.URL+"/dashboard/campaigns"),
		chromedp.WaitVisible(chromedp.CSS("#key")),
		chromedp.SendKeys(chromedp.CSS("#key"), key),
		chromedp.Click(chromedp.CSS("button.primary")),
		chromedp.WaitVisible(chromedp.CSS("#compare-form")))
	for _, id := range ids {
		do(chromedp.Click(chromedp.CSS(`tr[data-campaign="` + id + `"] input.pick-box`)))
	}
	do(chromedp.Click(chromedp.CSS("#compare-form button")), chromedp.WaitVisible(chromedp.CSS("#compare-opens")))
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); !strings.Contains(loc, "/dashboard/compare?") {
		t.Fatalf("the form went to %s", loc)
	}
	check := func(basis string) {
		t.Helper()
		for _, id := range ids {
			rep := h.report(key, id)
			all, human := rep.Rates, rep.HumanRates
			if basis == "delivered" {
				all, human = rep.DeliveredRates, rep.HumanDeliveredRates
			}
			row := `table.compare tr[data-campaign="` + id + `"] `
			for sel, want := range map[string]float64{
				`td[data-rate="open"] b`: human.Open, `td[data-rate="click"] b`: human.Click, `td[data-rate="bounce"]`: all.Bounce,
				`td[data-rate="complaint"]`: all.Complaint, `td[data-rate="unsubscribe"]`: all.Unsubscribe, `td[data-rate="delivery"]`: float64(rep.Counts.Delivered) / float64(rep.Counts.Sent),
			} {
				if got := text(row + sel); got != pctOf(want) {
					t.Errorf("%s, rates of %s: %s shows %s, the API's is %s", id, basis, sel, got, pctOf(want))
				}
			}
			if got := text(row + `td[data-label="Sent"]`); got != num(rep.Counts.Sent) {
				t.Errorf("%s: sent %s, API %d", id, got, rep.Counts.Sent)
			}
			// Each curve ends at the API's hourly human uniques summed over the first 72
			// hours from the hour of the send (or until now).
			base := rep.SentAt.Truncate(time.Hour)
			var wantOpens, wantClicks int64
			for _, b := range rep.Hourly {
				if b.Start.Before(base.Add(72 * time.Hour)) {
					wantOpens += b.HumanOpensUnique
					wantClicks += b.HumanClicksUnique
				}
			}
			for fig, want := range map[string]int64{"compare-opens": wantOpens, "compare-clicks": wantClicks} {
				v, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#`+fig+` rect.hit")].map(r => r.dataset.parts.split(" ")[[...document.querySelectorAll("table.compare tbody tr")].findIndex(r => r.dataset.campaign == "`+id+`")]).filter(v => v != "-")`))
				if err != nil {
					t.Fatal(err)
				}
				if len(v) == 0 || v[len(v)-1] != fmt.Sprint(want) {
					t.Errorf("%s %s: curve %v, want it to end at %d", id, fig, v, want)
				}
				if time.Since(base) > 73*time.Hour && len(v) != 72 {
					t.Errorf("%s %s: %d hours charted, want 72", id, fig, len(v))
				}
			}
			if wantOpens == 0 || wantClicks == 0 {
				t.Errorf("%s: nothing to compare (%d, %d)", id, wantOpens, wantClicks)
			}
		}
	}
	// The API's comparison answers each campaign's report.
	var cmp struct{ Campaigns []mailtrail.Report }
	if r := h.do("GET", "/api/v1/campaigns/compare?ids="+strings.Join(ids, ","), key, nil, &cmp); r.StatusCode != 200 || len(cmp.Campaigns) != len(ids) {
		t.Fatalf("compare API: %d, %d reports", r.StatusCode, len(cmp.Campaigns))
	}
	for i, id := range ids {
		if rep := h.report(key, id); cmp.Campaigns[i].CampaignID != id || cmp.Campaigns[i].Counts != rep.Counts || cmp.Campaigns[i].HumanRates != rep.HumanRates {
			t.Errorf("compare API, %s: %+v, report %+v", id, cmp.Campaigns[i].Counts, rep.Counts)
		}
	}
	for q, want := range map[string]int{"ids=autumn-sale": 400, "ids=a,b,c,d,e": 400, "ids=autumn-sale,autumn-sale": 400, "ids=autumn-sale,nope": 404} {
		if r := h.do("GET", "/api/v1/campaigns/compare?"+q, key, nil, nil); r.StatusCode != want {
			t.Errorf("compare API %s: %d, want %d", q, r.StatusCode, want)
		}
	}
	check("sent")
	do(chromedp.Click(chromedp.CSS(`.seg a[href$="rates=delivered"]`)), chromedp.WaitVisible(chromedp.CSS(`table.compare[data-basis="delivered"]`)))
	check("delivered")
	if keys, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#compare-opens .legend .key").length`)); keys != len(ids) {
		t.Errorf("legend has %d keys", keys)
	}
	do(chromedp.Click(chromedp.CSS(`.seg a[href$="rates=sent"]`)), chromedp.WaitVisible(chromedp.CSS(`table.compare[data-basis="sent"]`)))
	dir := screenshotDir(t)
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "compare.png"), buf, 0o644); err != nil {
		t.Fatal(err)
	}
	// On a phone nothing is wider than the screen: the table becomes cards, the charts
	// scroll inside theirs.
	do(chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile), chromedp.Reload(),
		chromedp.WaitVisible(chromedp.CSS("#compare-opens")))
	if w, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`document.documentElement.scrollWidth - window.innerWidth`)); err != nil || w != 0 {
		t.Errorf("the comparison is %v px wider than a phone (%v)", w, err)
	}
	// One campaign, or five, is refused with a page that says why.
	b := h.browser()
	b.signIn(key)
	for _, q := range []string{"c=autumn-sale", "c=a&c=b&c=c&c=d&c=e", "c=autumn-sale&c=autumn-sale"} {
		if resp, page := b.get("/dashboard/compare?" + q); resp.StatusCode != 400 || !strings.Contains(page, "two to four") {
			t.Errorf("%s: %d", q, resp.StatusCode)
		}
	}
	if resp, _ := b.get("/dashboard/compare?c=autumn-sale&c=nope"); resp.StatusCode != 404 {
		t.Errorf("an unknown campaign: %d", resp.StatusCode)
	}
}
