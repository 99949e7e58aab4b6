package main

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/mailtrail/mailtrail"
)

// scriptErrors collects what goes wrong in the pages of the browser's tab from now on:
// uncaught exceptions, and console errors of scripts and of the security policy (a
// blocked inline script or eval). Call the returned func to read them.
func scriptErrors(ctx context.Context) func() []string {
	var mu sync.Mutex
	var errs []string
	add := func(s string) {
		mu.Lock()
		errs = append(errs, s)
		mu.Unlock()
	}
	go func() {
		for ev, err := range chromedp.Events(ctx, runtime.ExceptionThrown) {
			if err != nil {
				return
			}
			d := ev.ExceptionDetails
			msg := d.Text
			if d.Exception != nil && d.Exception.Description != "" {
				msg += " " + d.Exception.Description
			}
			add(fmt.Sprintf("exception at %s:%d: %s", d.URL, d.LineNumber+1, msg))
		}
	}()
	go func() {
		for ev, err := range chromedp.Events(ctx, log.EntryAdded) {
			if err != nil {
				return
			}
			e := ev.Entry
			if e.Level == log.EntryLevelError && (e.Source == log.EntrySourceJavascript || e.Source == log.EntrySourceSecurity) {
				add(fmt.Sprintf("console %s error at %s: %s", e.Source, e.URL, e.Text))
			}
		}
	}()
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), errs...)
	}
}

// liveTiles is what the report's KPI tiles must show for rep (rates of sent emails).
func liveTiles(rep mailtrail.Report) map[string]string {
	c, all, human := rep.Counts, rep.Rates, rep.HumanRates
	return map[string]string{
		"#kpi-sent .value": num(c.Sent), "#kpi-delivered .value": num(c.Delivered),
		"#kpi-opens .value": num(c.HumanOpensUnique), "#kpi-opens .rate": pctOf(human.Open), "#kpi-opens .rate-all": pctOf(all.Open),
		"#kpi-opens .sub":    "all " + num(c.OpensUnique) + " (",
		"#kpi-clicks .value": num(c.HumanClicksUnique), "#kpi-clicks .rate": pctOf(human.Click), "#kpi-clicks .rate-all": pctOf(all.Click),
		"#kpi-clicks .sub":    "all " + num(c.ClicksUnique) + " (",
		"#kpi-bounces .value": num(c.Bounced), "#kpi-complaints .value": num(c.Complained), "#kpi-unsubscribes .value": num(c.Unsubscribed),
	}
}

var liveUpdated = regexp.MustCompile(`^Live · updated \d\d:\d\d:\d\d$`)

// The report while one watches (the demo's trickle going on in another campaign): an open
// and a click posted through the API reach the page's tiles and charts without a reload,
// until they equal the API's report; the indicator says when; a page hidden meanwhile
// catches up once it is seen again; no script fails.
func TestBrowserReportLive(t *testing.T) {
	h := newHarness(t)
	browser := newBrowser(t)
	ctx, cancel := context.WithTimeout(browser, 90*time.Second)
	defer cancel()
	errs := scriptErrors(browser)
	key := h.demoKey(t)
	const camp = "autumn-sale"
	do := tab{t, ctx}.do
	js := tab{t, ctx}.js
	waitJS := func(what, expr string) {
		t.Helper()
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(30*time.Second))); err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
	}
	tiles := func() map[string]string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]string](`Object.fromEntries(["sent", "delivered", "opens", "clicks", "bounces", "complaints", "unsubscribes"].flatMap(id =>
			[".value", ".rate", ".rate-all", ".sub"].map(s => ["#kpi-" + id + " " + s, document.querySelector("#kpi-" + id + " " + s)])).filter(e => e[1]).map(e => [e[0], e[1].textContent.trim()]))`))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	// differs lists the tiles that do not show what rep says; "" when all do.
	differs := func(got map[string]string, rep mailtrail.Report) string {
		var d []string
		for sel, want := range liveTiles(rep) {
			if g := got[sel]; g != want && !(strings.HasSuffix(sel, ".sub") && strings.Contains(g, want)) {
				d = append(d, fmt.Sprintf("%s shows %q, the API %q", sel, g, want))
			}
		}
		return strings.Join(d, "; ")
	}
	// until polls the page's tiles and the API's report until they agree and ok(report)
	// holds, within 30 seconds; it returns that report.
	until := func(what string, ok func(mailtrail.Report) bool) mailtrail.Report {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			rep := h.report(key, camp)
			diff := differs(tiles(), rep)
			if diff == "" && ok(rep) {
				return rep
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: the tiles never caught up with the API within 30s: %s (ok %v)", what, diff, ok(rep))
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	note := func() string { return fmt.Sprint(js(`document.getElementById("report-live").textContent`)) }

	do(chromedp.Navigate(h.srv.URL+"/dashboard/campaigns/"+camp),
		chromedp.WaitVisible(chromedp.CSS("#key")),
		chromedp.SendKeys(chromedp.CSS("#key"), key),
		chromedp.Click(chromedp.CSS("button.primary")),
		chromedp.WaitVisible(chromedp.CSS("#kpi-sent")))
	waitJS("the stream", `document.getElementById("report-live").textContent === "Live"`)
	rep0 := h.report(key, camp)
	if d := differs(tiles(), rep0); d != "" {
		t.Fatalf("before any new event: %s", d)
	}
	js(`window.notReloaded = true`) // a reload would lose it
	lastHit := func() int64 {
		v := js(`Number([...document.querySelectorAll("#chart-opens rect.hit")].pop().dataset.whole)`)
		f, _ := v.(float64)
		return int64(f)
	}
	if got := lastHit(); got != rep0.Counts.OpensUnique {
		t.Fatalf("the opens chart ends at %d, the API has %d who opened", got, rep0.Counts.OpensUnique)
	}

	// A new recipient opens and clicks, as a person in a desktop mail client.
	md := map[string]any{"user_agent": desktopUA, "ip": "203.0.113.50"}
	click := map[string]any{"user_agent": desktopUA, "ip": "203.0.113.50", "link_url": "https://shop.example.com/autumn"}
	h.postEvents(key,
		map[string]any{"event_type": "opened", "campaign_id": camp, "customer_id": "live-watcher-1", "metadata": md},
		map[string]any{"event_type": "clicked", "campaign_id": camp, "customer_id": "live-watcher-1", "metadata": click})
	rep1 := until("an open and a click", func(r mailtrail.Report) bool {
		return r.Counts.OpensTotal == rep0.Counts.OpensTotal+1 && r.Counts.ClicksTotal == rep0.Counts.ClicksTotal+1
	})
	shown := time.Now() // the page's last refresh began before this
	if rep1.Counts.OpensUnique != rep0.Counts.OpensUnique+1 || rep1.Counts.ClicksUnique != rep0.Counts.ClicksUnique+1 {
		t.Fatalf("the API counts %d→%d who opened, %d→%d who clicked: a new recipient should add one each",
			rep0.Counts.OpensUnique, rep1.Counts.OpensUnique, rep0.Counts.ClicksUnique, rep1.Counts.ClicksUnique)
	}
	if js(`window.notReloaded === true`) != true {
		t.Error("the page reloaded instead of updating in place")
	}
	if got := note(); !liveUpdated.MatchString(got) {
		t.Errorf("the indicator says %q", got)
	}
	if got := lastHit(); got != rep1.Counts.OpensUnique {
		t.Errorf("after the update the opens chart ends at %d, the API has %d who opened", got, rep1.Counts.OpensUnique)
	}
	// The swapped chart still answers a tap.
	do(chromedp.Click(chromedp.CSS("#chart-opens rect.hit")))
	if got, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#chart-opens .chart-readout"))); !strings.Contains(got, "All who opened") {
		t.Errorf("after the update a tap on the chart reads %q", got)
	}

	// Hidden, the page does not refresh; seen again, it catches up once.
	updates := js(`document.getElementById("report-live").dataset.updates`)
	js(`Object.defineProperty(document, "visibilityState", {configurable: true, get: () => "hidden"});
		document.dispatchEvent(new Event("visibilitychange"))`)
	h.postEvents(key, map[string]any{"event_type": "opened", "campaign_id": camp, "customer_id": "live-watcher-2", "metadata": md})
	waitJS("the event while hidden", `document.getElementById("report-live").dataset.pending === "true"`)
	// A refresh that ignored the hidden page would come 5 seconds after the last one at the
	// latest: only letting that window pass shows that none came.
	time.Sleep(time.Until(shown.Add(7 * time.Second)))
	if got := js(`document.getElementById("report-live").dataset.updates`); got != updates {
		t.Errorf("the hidden page refreshed (updates %v → %v)", updates, got)
	}
	if d := differs(tiles(), rep1); d != "" {
		t.Errorf("the hidden page changed: %s", d)
	}
	js(`delete document.visibilityState; document.dispatchEvent(new Event("visibilitychange"))`)
	if got := js(`document.visibilityState`); got != "visible" {
		t.Fatalf("the page is %v", got)
	}
	until("seen again", func(r mailtrail.Report) bool { return r.Counts.OpensUnique == rep1.Counts.OpensUnique+1 })
	waitJS("the indicator", `document.getElementById("report-live").dataset.pending === "false"`)
	if got := note(); !liveUpdated.MatchString(got) {
		t.Errorf("the indicator says %q", got)
	}
	if e := errs(); len(e) != 0 {
		t.Errorf("script errors: %v", e)
	}
}
