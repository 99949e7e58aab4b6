package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/mailtrail/mailtrail"
)

// chromiumPath finds Debian's chromium (scripts/chromium.sh installs it). Without it the
// browser tests skip, unless MAILTRAIL_REQUIRE_SERVICES is set (scripts/test.sh): then
// they fail.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("MAILTRAIL_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("MAILTRAIL_REQUIRE_SERVICES") != "" {
		t.Fatal("chromium is not installed: run scripts/chromium.sh")
	}
	t.Skip("chromium is not installed (scripts/chromium.sh installs it)")
	return ""
}

// newBrowser starts a headless Chromium with a fresh profile; the context is its first tab.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	exe := chromiumPath(t)
	profile, err := os.MkdirTemp("", "mailtrail-chromium")
	if err != nil {
		t.Fatal(err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(profile), chromedp.WindowSize(1280, 900),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancelC()
		cancelA()
		// Chromium's children can write in the profile for a moment after it stops.
		for range 50 {
			if os.RemoveAll(profile) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	// The first Run starts the browser; it must not carry a timeout (that would stop it).
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// screenshotDir is docs/screenshots with MAILTRAIL_SCREENSHOTS=1 (to refresh the README's
// pictures), else a temporary directory.
func screenshotDir(t *testing.T) string {
	if os.Getenv("MAILTRAIL_SCREENSHOTS") != "" {
		dir := filepath.Join("..", "..", "docs", "screenshots")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	return t.TempDir()
}

var demoKeyLine = regexp.MustCompile(`API key:\s+(\S+)`)

// demoKey runs the demo on the harness (its live trickle stops when the test ends) and
// returns the API key it prints.
func (h *harness) demoKey(t *testing.T) string {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	t.Cleanup(stop)
	var out bytes.Buffer
	if err := runDemo(ctx, h.app, &out); err != nil {
		t.Fatal(err)
	}
	m := demoKeyLine.FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no key in the demo's output:\n%s", out.String())
	}
	return m[1]
}

// tab drives a browser tab for a test: each call fails the test on the first error.
type tab struct {
	t   *testing.T
	ctx context.Context
}

// do runs steps in the tab.
func (b tab) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatal(err)
	}
}

// js evaluates expr in the page, awaiting it when it is a promise.
func (b tab) js(expr string) any {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[any](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// text is the trimmed text of the element sel selects.
func (b tab) text(sel string) string {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(v)
}

// The dashboard in a real browser: sign in with the demo's key, the campaign list, the
// report's KPI tiles equal to the API's, on a laptop and a phone.
func TestBrowserDashboard(t *testing.T) {
	h := newHarness(t)
	browser := newBrowser(t)
	ctx, cancel := context.WithTimeout(browser, 60*time.Second)
	defer cancel()
	h.buildSegmentIndex() // as serve does
	key := h.demoKey(t)
	rep := h.report(key, "autumn-sale")
	dir := screenshotDir(t)
	shot := func(name string, full bool) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			a := chromedp.CaptureScreenshot()
			if full {
				a = chromedp.FullScreenshot(100) // 100: PNG
			}
			buf, err := a(ctx, tg)
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(dir, name), buf, 0o644)
		})
	}
	text := tab{t, ctx}.text
	do := tab{t, ctx}.do

	js := tab{t, ctx}.js
	do(chromedp.Navigate(h.srv.URL+"/dashboard/campaigns/autumn-sale"),
		chromedp.WaitVisible(chromedp.CSS("#key")),
		shot("signin.png", false),
		chromedp.SendKeys(chromedp.CSS("#key"), key),
		chromedp.Click(chromedp.CSS("button.primary")),
		// Back on the page asked for, signed in.
		chromedp.WaitVisible(chromedp.CSS("#kpi-sent")))
	if got, want := text("#kpi-sent .value"), num(rep.Counts.Sent); got != want {
		t.Errorf("sent tile %q, API %s", got, want)
	}
	if got, want := text("#kpi-opens .value"), num(rep.Counts.HumanOpensUnique); got != want {
		t.Errorf("opens tile %q, API %s", got, want)
	}
	if got, want := text("#kpi-clicks .value"), num(rep.Counts.HumanClicksUnique); got != want {
		t.Errorf("clicks tile %q, API %s", got, want)
	}
	if title, _ := chromedp.Run(ctx, chromedp.Title()); !strings.Contains(title, "Autumn sale") {
		t.Errorf("title %q", title)
	}
	// On a laptop the seven KPI tiles make one row.
	if rows := js(`new Set([...document.querySelectorAll(".tiles .tile")].map(t => t.getBoundingClientRect().top)).size`); rows != float64(1) {
		t.Errorf("the KPI tiles take %v rows at 1280 px", rows)
	}
	// Breakdowns say Apple Mail, not apple_mail, and put Unknown last.
	if got := js(`[...document.querySelectorAll("#opens-by .dim")].map(d => [...d.querySelectorAll("tbody tr td:first-child")].map(td => td.textContent.trim()))`); true {
		tables, _ := got.([]any)
		for _, tb := range tables {
			names, _ := tb.([]any)
			for i, n := range names {
				s := fmt.Sprint(n)
				if s == "Unknown" && i != len(names)-1 || strings.Contains(s, "_") || s == "apple mail" {
					t.Errorf("breakdown names %v", names)
					break
				}
			}
		}
		if !strings.Contains(fmt.Sprint(got), "Apple Mail") {
			t.Errorf("no Apple Mail in %v", got)
		}
	}
	if got := text("#campaign-subject"); got != "Subject: "+rep.Subject {
		t.Errorf("subject %q, API %q", got, rep.Subject)
	}
	// The charts: every stacked chart's parts add up to its whole at every period (never a
	// part above its whole); the running totals end at the API's uniques and the chart of
	// every open and click sums to its totals. A tap on a period writes its figures.
	stacks := func() map[string][][]int64 {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[map[string][][]int64](`Object.fromEntries([...document.querySelectorAll("figure.chart[data-stacked]")].map(f =>
			[f.id, [...f.querySelectorAll("rect.hit")].map(r => [Number(r.dataset.whole), ...r.dataset.parts.split(" ").map(Number)])]))`))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	checkStacks := func(view string, last bool, opens, humanOpens, clicks, humanClicks int64) {
		t.Helper()
		st := stacks()
		if len(st) != 2 {
			t.Fatalf("%s: stacked charts %v", view, st)
		}
		ends := map[string][2]int64{}
		for id, cols := range st {
			var whole, people int64
			for i, c := range cols {
				if c[0] != c[1]+c[2] {
					t.Errorf("%s %s period %d: parts %v do not add up to the whole %d", view, id, i, c[1:], c[0])
				}
				if last {
					whole, people = c[0], c[1]
				} else {
					whole, people = whole+c[0], people+c[1]
				}
			}
			ends[id] = [2]int64{whole, people}
		}
		if ends["chart-opens"] != [2]int64{opens, humanOpens} || ends["chart-clicks"] != [2]int64{clicks, humanClicks} {
			t.Errorf("%s: charts end at %v, the API has opens %d/%d, clicks %d/%d", view, ends, opens, humanOpens, clicks, humanClicks)
		}
	}
	c := rep.Counts
	checkStacks("recipients", true, c.OpensUnique, c.HumanOpensUnique, c.ClicksUnique, c.HumanClicksUnique)
	do(chromedp.Click(chromedp.CSS("#chart-opens rect.hit")))
	if got := text("#chart-opens .chart-readout"); !strings.Contains(got, "People") || !strings.Contains(got, "All who opened") {
		t.Errorf("after a tap the chart reads %q", got)
	}
	do(chromedp.Navigate(h.srv.URL+"/dashboard/campaigns/autumn-sale?period=daily&count=total"), chromedp.WaitVisible(chromedp.CSS("#chart-opens")))
	checkStacks("every open and click", false, c.OpensTotal, c.HumanOpensTotal, c.ClicksTotal, c.HumanClicksTotal)
	do(chromedp.Navigate(h.srv.URL+"/dashboard/campaigns/autumn-sale"), chromedp.WaitVisible(chromedp.CSS("#kpi-sent")))
	do(shot("report.png", true),
		chromedp.Navigate(h.srv.URL+"/dashboard/campaigns"),
		chromedp.WaitVisible(chromedp.CSS("table.campaigns")),
		shot("campaigns.png", false))
	// waitJS waits until expr is true, across the page's own navigations (a poll that a
	// navigation interrupts starts again on the new page).
	waitJS := func(what, expr string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			_, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(time.Until(deadline))))
			if err == nil {
				return
			}
			if time.Now().After(deadline) || ctx.Err() != nil {
				t.Fatalf("waiting for %s: %v", what, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	// Rates of delivered emails: the toggle changes every rate of the report to the API's
	// delivered-based figures, and the choice holds on the campaign list and on return.
	do(chromedp.Navigate(h.srv.URL+"/dashboard/campaigns/autumn-sale"),
		chromedp.Click(chromedp.CSS(`.rates-basis a[href$="rates=delivered"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.tiles[data-basis="delivered"]`)))
	checkRates := func(where string) {
		t.Helper()
		dr, hdr := rep.DeliveredRates, rep.HumanDeliveredRates
		for sel, want := range map[string]float64{
			"#kpi-opens .rate": hdr.Open, "#kpi-opens .rate-all": dr.Open, "#kpi-clicks .rate": hdr.Click, "#kpi-clicks .rate-all": dr.Click,
			"#kpi-bounces .rate": dr.Bounce, "#kpi-complaints .rate": dr.Complaint, "#kpi-unsubscribes .rate": dr.Unsubscribe,
		} {
			if got := text(sel); got != pctOf(want) {
				t.Errorf("%s: %s shows %s, the API's delivered-based rate is %s", where, sel, got, pctOf(want))
			}
		}
	}
	checkRates("after the toggle")
	do(chromedp.Navigate(h.srv.URL+"/dashboard/campaigns"), chromedp.WaitVisible(chromedp.CSS("table.campaigns")))
	row := `tr[data-campaign="autumn-sale"] `
	for sel, want := range map[string]string{
		`td[data-rate="open"] b`: pctOf(rep.HumanDeliveredRates.Open), `td[data-rate="click"] b`: pctOf(rep.HumanDeliveredRates.Click),
		`td[data-rate="unsubscribe"]`: pctOf(rep.DeliveredRates.Unsubscribe), `td[data-rate="bounce"]`: pctOf(rep.DeliveredRates.Bounce),
	} {
		if got := text(row + sel); got != want {
			t.Errorf("campaign list %s: %s, the API's delivered-based rate is %s", sel, got, want)
		}
	}
	do(chromedp.Navigate(h.srv.URL+"/dashboard/campaigns/autumn-sale"), chromedp.WaitVisible(chromedp.CSS("#kpi-sent")))
	checkRates("back on the report")
	do(chromedp.Click(chromedp.CSS(`.rates-basis a[href$="rates=sent"]`)), chromedp.WaitVisible(chromedp.CSS(`.tiles[data-basis="sent"]`)))
	if got := text("#kpi-opens .rate"); got != pctOf(rep.HumanRates.Open) {
		t.Errorf("back to sent: %s, want %s", got, pctOf(rep.HumanRates.Open))
	}

	// Who bounced: the report's list leads to the hard bounces with their reasons, as many
	// as the report counts (or a first page of 100), and to the API's CSV.
	do(chromedp.Navigate(h.srv.URL+"/dashboard/campaigns/autumn-sale"),
		chromedp.Click(chromedp.CSS(`#who a[href$="recipients?activity=bounced&bounce=hard"]`)),
		chromedp.WaitVisible(chromedp.CSS("table.recipients")))
	if n := js(`document.querySelectorAll("table.recipients tbody tr").length`); n != float64(min(100, rep.Counts.BouncedHard)) {
		t.Errorf("%v hard bounces listed, the report has %d", n, rep.Counts.BouncedHard)
	}
	if got := text(`table.recipients tbody tr td[data-label="Reason"]`); got != "550 5.1.1 mailbox does not exist" {
		t.Errorf("reason %q", got)
	}
	if got := js(`fetch(document.getElementById("list-csv").href).then(r => r.text()).then(t => t.trim().split("\n").length - 1)`); got != float64(rep.Counts.BouncedHard) {
		t.Errorf("the CSV has %v rows, the report %d hard bounces", got, rep.Counts.BouncedHard)
	}
	do(shot("bounced.png", false))

	// Live events: an open appears as it is recorded; with the type and campaign filters,
	// only that campaign's clicks show.
	live := h.instrument(key, "browser-live", "browser-live-1")
	do(chromedp.Navigate(h.srv.URL + "/dashboard/live"))
	waitJS("the stream", `document.getElementById("live-status").textContent === "Live"`)
	// It opens with the last 50 events of the demo's history.
	waitJS("the recent events", `document.querySelectorAll("#live-rows tr[data-type]").length >= 50`)
	h.hit(live.Tracking.OpenURL, desktopUA)
	waitJS("the open", `[...document.querySelectorAll("#live-rows tr")].some(r => r.dataset.type === "opened" && r.textContent.includes("browser-live-1"))`)
	do(shot("live.png", false))
	js(`(() => { const s = document.getElementById("live-type"), c = document.getElementById("live-campaign");
		s.value = "clicked"; c.value = "browser-live"; c.dispatchEvent(new Event("change")); s.dispatchEvent(new Event("change")); })()`)
	waitJS("the filtered stream", `document.getElementById("live-status").textContent === "Live" && !document.querySelector("#live-rows tr[data-type]")`)
	h.hit(live.Tracking.OpenURL, desktopUA)
	h.hit(live.Tracking.ClickURLs[0], desktopUA)
	waitJS("the click", `!!document.querySelector('#live-rows tr[data-type="clicked"]')`)
	if other := js(`[...document.querySelectorAll("#live-rows tr")].filter(r => r.dataset.type !== "clicked" || r.dataset.campaign !== "browser-live").length`); other != float64(0) {
		t.Errorf("%v rows outside the filters", other)
	}

	// Suppressions: add an address, find it, remove it with a reason (confirming the
	// dialog); the API sees each change, and the audit names the reason.
	const addr = "browser-sup@example.com"
	do(chromedp.Navigate(h.srv.URL+"/dashboard/suppressions"),
		chromedp.SendKeys(chromedp.CSS(`#add-suppression input[name="email"]`), addr),
		chromedp.SendKeys(chromedp.CSS(`#add-suppression input[name="note"]`), "asked by phone"),
		chromedp.Click(chromedp.CSS(`#add-suppression button`)),
		chromedp.WaitVisible(chromedp.CSS("#notice")))
	if got := text("#notice"); got != addr+" is suppressed." {
		t.Errorf("notice after adding: %q", got)
	}
	// Newest first: the address added heads the list at once.
	if got := text("table.suppressions tbody tr:first-child td.strong"); got != addr {
		t.Errorf("the list starts with %q, not the address added", got)
	}
	do(shot("suppressions.png", false))
	if got := h.checkReasons(key, addr)[addr]; got != mailtrail.ReasonManual {
		t.Fatalf("the API's check after adding: %q", got)
	}
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			if strings.Contains(ev.Message, addr) { // the confirmation names the address
				_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
			} else {
				_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
			}
		}
	}()
	do(chromedp.Navigate(h.srv.URL+"/dashboard/suppressions?q=browser-sup"),
		chromedp.SendKeys(chromedp.CSS(`form[action="/dashboard/suppressions/remove"] input[name="why"]`), "re-subscribed on the phone"),
		chromedp.Click(chromedp.CSS(`form[action="/dashboard/suppressions/remove"] button`)),
		chromedp.WaitVisible(chromedp.CSS("#notice")))
	if got := text("#notice"); got != addr+" may be mailed again." {
		t.Errorf("notice after removing: %q", got)
	}
	if got := h.checkReasons(key, addr); len(got) != 0 {
		t.Fatalf("still suppressed after removing: %v", got)
	}
	if hist := h.history(key, addr).History; len(hist) == 0 || !strings.Contains(fmt.Sprint(hist[len(hist)-1]), "re-subscribed on the phone") {
		t.Errorf("the audit does not hold the reason: %+v", hist)
	}

	// A CSV import: uploaded from the form, followed on its progress page to the end; the
	// counts equal what the API then says.
	var csv strings.Builder
	csv.WriteString("email,reason,customer_id,note\n")
	for i := range 3000 {
		fmt.Fprintf(&csv, "import-%04d@example.com,list_import,cust-imp-%d,from the browser\n", i, i)
	}
	csv.WriteString("not-an-address,list_import,,\n,manual,,\n")
	csvPath := filepath.Join(t.TempDir(), "unsubscribes.csv")
	if err := os.WriteFile(csvPath, []byte(csv.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	do(chromedp.Navigate(h.srv.URL+"/dashboard/suppressions"),
		chromedp.SetUploadFiles(chromedp.CSS(`form[action="/dashboard/suppressions/import"] input[type="file"]`), []string{csvPath}),
		chromedp.Click(chromedp.CSS(`form[action="/dashboard/suppressions/import"] button[type="submit"]`)))
	// The end: the page as the server renders a finished import (import.js reloads once to it).
	waitJS("the import's end", `(() => { const p = document.getElementById("import-progress");
		return !!p && p.dataset.state === "done" && !!document.querySelector('a[href="/dashboard/suppressions?source=csv_import"]'); })()`)
	for sel, want := range map[string]string{"#import-rows": "3,002", "#import-added": "3,000", "#import-existing": "0", "#import-rejected": "2", "#import-percent": "100%"} {
		if got := text(sel); got != want {
			t.Errorf("%s shows %q, want %q", sel, got, want)
		}
	}
	do(shot("import.png", true))
	if got := h.checkReasons(key, "import-0000@example.com", "import-2999@example.com"); len(got) != 2 {
		t.Errorf("the API after the import: %v", got)
	}

	// CSRF and session rules as a page's script meets them: a POST without the token (or
	// with a wrong one) is refused and changes nothing; the session cookie is out of
	// script's reach; signing out ends the session.
	for _, body := range []string{"email=csrf-probe%40example.com", "email=csrf-probe%40example.com&csrf=forged"} {
		status := js(`fetch("/dashboard/suppressions", {method: "POST", headers: {"Content-Type": "application/x-www-form-urlencoded"},
			body: "` + body + `"}).then(r => r.status)`)
		if status != float64(403) {
			t.Errorf("POST %s: %v", body, status)
		}
	}
	if got := h.checkReasons(key, "csrf-probe@example.com"); len(got) != 0 {
		t.Errorf("a refused POST suppressed %v", got)
	}
	if c := js(`document.cookie`); strings.Contains(fmt.Sprint(c), "mt_session") {
		t.Errorf("the session cookie is readable by script: %v", c)
	}

	// Segments: a rule built in the form previews the count the API gives for that rule.
	do(chromedp.Navigate(h.srv.URL + "/dashboard/segments"))
	js(`(() => { const f = document.querySelector("form.segment-form");
		f.querySelector('select[name="event0"]').value = "opened";
		f.querySelector('input[name="campaign0"]').value = "autumn-sale";
		f.querySelector('input[name="human0"]').checked = true; })()`)
	do(chromedp.Click(chromedp.CSS(`form.segment-form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("section.card h2")))
	rule := fmt.Sprint(js(`document.querySelector("pre.rule").textContent`))
	if got, want := text("section.card h2"), num(int64(h.segJSON(key, "", rule).Count))+" customers match"; got != want {
		t.Errorf("segment preview %q, the API %q for %s", got, want, rule)
	}
	// Saved under a name, it is listed and loaded back, with its CSV link.
	do(chromedp.SendKeys(chromedp.CSS(`form.segment-form input[name="name"]`), "Autumn openers (people)"),
		chromedp.Click(chromedp.CSS("#save-segment")),
		chromedp.WaitVisible(chromedp.CSS("#loaded")))
	if got := text("#loaded"); got != "Autumn openers (people)" {
		t.Errorf("loaded segment %q", got)
	}
	if got := text("section.card h2"); got != num(int64(h.segJSON(key, "", rule).Count))+" customers match" {
		t.Errorf("the saved segment previews %q", got)
	}
	do(shot("segments.png", true))

	// Connections: the demo's relay, its webhook URL and a webhook received.
	waitJS("the demo relay's first webhook", `fetch("/dashboard/connections").then(r => r.text()).then(t => t.includes("Demo relay") && !t.includes("Last webhook received: <span class=\"strong\">never"))`)
	do(chromedp.Navigate(h.srv.URL+"/dashboard/connections"),
		chromedp.WaitVisible(chromedp.CSS("section.connection")),
		shot("connections.png", false))
	if got := text("section.connection .webhook code"); !strings.HasPrefix(got, "http") || !strings.Contains(got, "/webhooks/v2/generic/") {
		t.Errorf("webhook URL shown: %q", got)
	}
	// A phone.
	do(chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile),
		chromedp.Navigate(h.srv.URL+"/dashboard/campaigns/autumn-sale"),
		chromedp.WaitVisible(chromedp.CSS("#kpi-sent")),
		shot("report-phone.png", false))
	// Every page is one tap away: each navigation link lies inside the phone's screen.
	if out := js(`[...document.querySelectorAll(".nav a")].filter(a => { const r = a.getBoundingClientRect(); return r.right > window.innerWidth || r.left < 0 || r.width === 0; }).map(a => a.textContent)`); len(out.([]any)) != 0 {
		t.Errorf("navigation links off the phone's screen: %v", out)
	}
	// Nothing wider than the phone: wide tables and charts scroll inside their cards.
	if w := js(`document.documentElement.scrollWidth - window.innerWidth`); w != float64(0) {
		t.Errorf("the report is %v px wider than a phone", w)
	}
	for _, p := range []string{"campaigns", "live", "suppressions", "segments", "connections", "campaigns/autumn-sale/recipients?activity=bounced&bounce=soft"} {
		do(chromedp.Navigate(h.srv.URL+"/dashboard/"+p), chromedp.WaitVisible(chromedp.CSS("main h1")))
		if p == "campaigns" {
			do(shot("campaigns-phone.png", false))
		}
		if w := js(`document.documentElement.scrollWidth - window.innerWidth`); w != float64(0) {
			t.Errorf("%s is %v px wider than a phone", p, w)
			do(shot("phone-"+p+".png", true))
		}
	}
	do(chromedp.Click(chromedp.CSS(`.who button`)),
		chromedp.WaitVisible(chromedp.CSS("#key")),
		chromedp.Navigate(h.srv.URL+"/dashboard/suppressions"),
		chromedp.WaitVisible(chromedp.CSS("#key"))) // signed out: back to sign in
}

// num formats as the dashboard does (thousands separated by commas).
func num(n int64) string {
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
