package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/mailtrail/mailtrail"
)

// The unsubscribe page shows the sending organization's display name, and its logo and
// colour once set; the CSP allows https images only then. Bad values are refused with 400
// naming the field, and change nothing.
func TestUnsubscribePageBrand(t *testing.T) {
	h := newHarness(t)
	_, key := h.org("Acme Shoes")
	m := h.instrument(key, "c", "u1")
	get := func() (*http.Response, string) {
		t.Helper()
		resp, err := h.client.Get(m.Tracking.UnsubscribeURL)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	// Before any brand: the name, no image, no img-src.
	resp, body := get()
	if resp.StatusCode != 200 || !strings.Contains(body, `<span>Acme Shoes</span>`) || strings.Contains(body, "<img") ||
		strings.Contains(resp.Header.Get("Content-Security-Policy"), "img-src") {
		t.Fatalf("unbranded page: %d %q\n%s", resp.StatusCode, resp.Header.Get("Content-Security-Policy"), body)
	}
	patch := func(body map[string]any) (int, mailtrail.OrgSettings, string) {
		t.Helper()
		r := h.do("PATCH", "/api/v1/settings", key, body, nil)
		b, _ := io.ReadAll(r.Body)
		var st mailtrail.OrgSettings
		_ = json.Unmarshal(b, &st)
		return r.StatusCode, st, string(b)
	}
	logo := "https://cdn.example.com/acme/logo.png?v=2&size=s"
	if code, st, b := patch(map[string]any{"brand_logo_url": logo, "brand_color": "#C0FFEE"}); code != 200 || st.BrandLogoURL != logo || st.BrandColor != "#c0ffee" {
		t.Fatalf("patch: %d %s", code, b)
	}
	resp, body = get()
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.HasSuffix(csp, "; img-src https:") || !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("CSP with a logo: %q", csp)
	}
	for _, want := range []string{`<img src="https://cdn.example.com/acme/logo.png?v=2&amp;size=s"`, `<span>Acme Shoes</span>`, `--brand:#c0ffee;--ink:#1f2933`} {
		if !strings.Contains(body, want) {
			t.Errorf("branded page lacks %q:\n%s", want, body)
		}
	}
	// The confirmation after the button is branded too.
	req, _ := http.NewRequest("POST", m.Tracking.UnsubscribeURL, strings.NewReader("List-Unsubscribe=One-Click"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	pr, err := h.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	pb, _ := io.ReadAll(pr.Body)
	pr.Body.Close()
	if pr.StatusCode != 200 || !strings.Contains(string(pb), "You are unsubscribed") || !strings.Contains(string(pb), `<span>Acme Shoes</span>`) || !strings.Contains(string(pb), "--brand:#c0ffee") {
		t.Errorf("branded confirmation: %d\n%s", pr.StatusCode, pb)
	}
	// Refused, naming the field; nothing changes.
	for _, c := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"brand_color": "red"}, "brand_color"},
		{map[string]any{"brand_color": "#12345g"}, "brand_color"},
		{map[string]any{"brand_color": "#c0ffee; background:url(x)"}, "brand_color"},
		{map[string]any{"brand_logo_url": "http://cdn.example.com/logo.png"}, "brand_logo_url"},
		{map[string]any{"brand_logo_url": "javascript:alert(1)"}, "brand_logo_url"},
		{map[string]any{"brand_logo_url": "https://cdn.example.com/" + strings.Repeat("a", 2048)}, "brand_logo_url"},
		{map[string]any{"brand_logo_url": `https://cdn.example.com/a"onerror="x`}, "brand_logo_url"},
		{map[string]any{"brand_color": "#000000", "brand_logo_url": "http://x.example/l.png"}, "brand_logo_url"},
	} {
		code, _, b := patch(c.body)
		var e struct{ Error mailtrail.Error }
		_ = json.Unmarshal([]byte(b), &e)
		if code != 400 || e.Error.Code != "invalid" || !strings.Contains(e.Error.Message, c.field) {
			t.Errorf("%v: %d %s", c.body, code, b)
		}
	}
	var st mailtrail.OrgSettings
	if r := h.do("GET", "/api/v1/settings", key, nil, &st); r.StatusCode != 200 || st.BrandLogoURL != logo || st.BrandColor != "#c0ffee" {
		t.Errorf("after refusals: %+v", st)
	}
	// Clearing both: the page is unbranded again, the name stays.
	if code, _, b := patch(map[string]any{"brand_logo_url": "", "brand_color": ""}); code != 200 {
		t.Fatalf("clear: %d %s", code, b)
	}
	resp, body = get()
	if strings.Contains(body, "<img") || strings.Contains(resp.Header.Get("Content-Security-Policy"), "img-src") || strings.Contains(body, "c0ffee") ||
		!strings.Contains(body, `<span>Acme Shoes</span>`) {
		t.Errorf("cleared brand:\n%s", body)
	}
	// An invalid link knows no organization: no name at all.
	if r, err := h.client.Get(m.Tracking.UnsubscribeURL[:len(m.Tracking.UnsubscribeURL)-4] + "AAAA"); err == nil {
		b, _ := io.ReadAll(r.Body)
		r.Body.Close()
		if r.StatusCode != 404 || strings.Contains(string(b), "Acme") {
			t.Errorf("invalid link: %d\n%s", r.StatusCode, b)
		}
	}
}
