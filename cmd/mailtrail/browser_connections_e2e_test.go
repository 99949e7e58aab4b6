package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// In a real browser: a connection created from the dashboard's form (its script showing
// only the chosen vendor's credential fields) gives a webhook URL that accepts a signed
// generic-vendor webhook at once, and its card then shows the webhook received.
func TestBrowserConnectionCreate(t *testing.T) {
	h := newHookHarness(t)
	_, key := h.org("acme")
	browser := newBrowser(t)
	ctx, cancel := context.WithTimeout(browser, 60*time.Second)
	defer cancel()
	do := tab{t, ctx}.do
	js := tab{t, ctx}.js
	do(chromedp.Navigate(h.srv.URL+"/dashboard/connections"),
		chromedp.WaitVisible(chromedp.CSS("#key")),
		chromedp.SendKeys(chromedp.CSS("#key"), key),
		chromedp.Click(chromedp.CSS("button.primary")),
		chromedp.WaitVisible(chromedp.CSS("#create-connection")))

	// SparkPost takes basic auth, a bearer token or the secret header; generic only a key.
	js(`(() => { const s = document.getElementById("conn-vendor"); s.value = "sparkpost"; s.dispatchEvent(new Event("change")); })()`)
	if v := js(`document.querySelector('#create-connection [data-field="username"]').hidden`); v != false {
		t.Errorf("sparkpost hides the username: %v", v)
	}
	js(`(() => { const s = document.getElementById("conn-vendor"); s.value = "generic"; s.dispatchEvent(new Event("change")); })()`)
	hidden := js(`[...document.querySelectorAll('#create-connection [data-field]')].filter(l => !l.hidden).map(l => l.dataset.field).join(",")`)
	if hidden != "signing_key" {
		t.Errorf("generic shows the fields %v", hidden)
	}
	if got := js(`document.getElementById("conn-needs").textContent`); got != "generic needs signing key." {
		t.Errorf("needs: %v", got)
	}

	const signingKey = "browser-generic-key-0123456789"
	do(chromedp.SendKeys(chromedp.CSS(`#create-connection input[name="name"]`), "Made in the browser"),
		chromedp.SendKeys(chromedp.CSS(`#create-connection input[name="signing_key"]`), signingKey),
		chromedp.Click(chromedp.CSS(`#create-connection button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("#created-url")))
	hookURL, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#created-url")))
	if err != nil {
		t.Fatal(err)
	}
	hookURL = strings.TrimSpace(hookURL)
	if !strings.HasPrefix(hookURL, h.srv.URL+"/webhooks/v2/generic/conn_") {
		t.Fatalf("webhook URL shown: %q", hookURL)
	}
	if got := js(`document.body.innerText.includes("` + signingKey + `")`); got != false {
		t.Error("the page shows the signing key")
	}
	body := genericHook("browser-1")
	if r := h.hookOK(hookURL, body, genericHeaders(signingKey, time.Now(), body)); r.Unattributed != 1 {
		t.Errorf("webhook: %+v", r)
	}
	do(chromedp.Navigate(h.srv.URL + "/dashboard/connections"))
	if got := js(`document.querySelector("section.connection").innerText`); !strings.Contains(got.(string), "requests accepted 1") ||
		strings.Contains(got.(string), "Last webhook received: never") {
		t.Errorf("the card after the webhook:\n%v", got)
	}
}
