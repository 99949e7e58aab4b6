package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
)

// jsonStr is s as a JSON string literal, bytes kept as they are (json.Marshal would
// replace invalid UTF-8 before the server could see it).
func jsonStr(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20:
			fmt.Fprintf(&b, `\u%04x`, c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// The table of bad inputs: every one is answered 400 with code invalid and the field
// named, and changes nothing (no event, message, campaign or suppression stored).
func TestBadInputTable(t *testing.T) {
	h := newHarness(t)
	_, key := h.org("acme")
	long := func(n int) string { return strings.Repeat("a", n) }
	ev := func(field, value string) string { // one event with one field set to a raw JSON value
		return `{"event_type":"clicked","campaign_id":"c","customer_id":"u1",` + jsonStr(field) + `:` + value + `}`
	}
	meta := func(field, value string) string {
		return `{"event_type":"clicked","campaign_id":"c","customer_id":"u1","metadata":{` + jsonStr(field) + `:` + value + `}}`
	}
	msg := func(campaign, customer, email, html, text string) string {
		return `{"campaign_id":` + jsonStr(campaign) + `,"customer_id":` + jsonStr(customer) + `,"customer_email":` + jsonStr(email) +
			`,"html":` + jsonStr(html) + `,"text":` + jsonStr(text) + `}`
	}
	manyLinks := "<html><body>" + strings.Repeat(`<a href="https://shop.example/x">x</a>`, mailtrail.HoneypotLink+1) + "</body></html>"
	longURL := "https://shop.example/" + long(mailtrail.MaxURLBytes)
	future := time.Now().Add(10 * time.Minute).UTC().Format(time.RFC3339)
	cases := []struct {
		name, path, body, field string
	}{
		{"campaign_id with NUL", "/api/v1/events", ev("campaign_id", jsonStr("c\x00x")), "campaign_id"},
		{"customer_id with a control character", "/api/v1/events", ev("customer_id", jsonStr("u\x01")), "customer_id"},
		{"customer_id not UTF-8", "/api/v1/events", ev("customer_id", jsonStr("u\xff")), "customer_id"},
		{"customer_id with U+FFFD", "/api/v1/events", ev("customer_id", `"u\ufffd"`), "customer_id"},
		{"customer_email with NUL", "/api/v1/events", ev("customer_email", jsonStr("a\x00@example.com")), "customer_email"},
		{"message_id with NUL", "/api/v1/events", ev("message_id", jsonStr("m\x00")), "message_id"},
		{"esp_message_id with a newline", "/api/v1/events", ev("esp_message_id", jsonStr("e\n1")), "esp_message_id"},
		{"esp_message_id too long", "/api/v1/events", ev("esp_message_id", jsonStr(long(257))), "esp_message_id"},
		{"idempotency_key too long", "/api/v1/events", ev("idempotency_key", jsonStr(long(257))), "idempotency_key"},
		{"idempotency_key with NUL", "/api/v1/events", ev("idempotency_key", jsonStr("k\x00")), "idempotency_key"},
		{"year 0000", "/api/v1/events", ev("occurred_at", `"0000-01-01T00:00:00Z"`), "occurred_at"},
		{"year 0001", "/api/v1/events", ev("occurred_at", `"0001-01-01T00:00:00Z"`), "occurred_at"},
		{"year 1969", "/api/v1/events", ev("occurred_at", `"1969-12-31T23:59:59Z"`), "occurred_at"},
		{"year 1999", "/api/v1/events", ev("occurred_at", `"1999-12-31T23:59:59Z"`), "occurred_at"},
		{"10 minutes in the future", "/api/v1/events", ev("occurred_at", jsonStr(future)), "occurred_at"},
		{"link_url over 8 KiB", "/api/v1/events", meta("link_url", jsonStr(longURL)), "metadata.link_url"},
		{"link_url with a control character", "/api/v1/events", meta("link_url", jsonStr("https://shop.example/\x7f")), "metadata.link_url"},
		{"vendor_event_id too long", "/api/v1/events", meta("vendor_event_id", jsonStr(long(257))), "metadata.vendor_event_id"},
		{"reason too long", "/api/v1/events", meta("reason", jsonStr(long(mailtrail.MaxTextBytes+1))), "metadata.reason"},
		{"user_agent with NUL", "/api/v1/events", meta("user_agent", jsonStr("UA\x00")), "metadata.user_agent"},
		{"city too long", "/api/v1/events", meta("city", jsonStr(long(mailtrail.MaxTextBytes+1))), "metadata.city"},
		{"raw too long", "/api/v1/events", meta("raw", jsonStr(long(mailtrail.MaxRawBytes))), "metadata.raw"},
		{"suppression email with NUL", "/api/v1/suppressions", `{"email":` + jsonStr("a\x00@example.com") + `}`, "email"},
		{"suppression email not UTF-8", "/api/v1/suppressions", `{"email":` + jsonStr("\xffa@example.com") + `}`, "email"},
		{"suppression customer_id with a control character", "/api/v1/suppressions", `{"email":"a@example.com","customer_id":` + jsonStr("c\x1b") + `}`, "customer_id"},
		{"suppression note with NUL", "/api/v1/suppressions", `{"email":"a@example.com","note":` + jsonStr("n\x00") + `}`, "note"},
		{"message campaign_id with NUL", "/api/v1/messages", msg("c\x00", "u1", "u1@example.com", "<p>hi</p>", ""), "campaign_id"},
		{"message customer_id not UTF-8", "/api/v1/messages", msg("c", "u\xfe", "u1@example.com", "<p>hi</p>", ""), "customer_id"},
		{"message customer_email with a control character", "/api/v1/messages", msg("c", "u1", "u1\x02@example.com", "<p>hi</p>", ""), "customer_email"},
		{"html link over 8 KiB", "/api/v1/messages", msg("c", "u1", "u1@example.com", `<a href="`+longURL+`">x</a>`, ""), "html"},
		{"text link over 8 KiB", "/api/v1/messages", msg("c", "u1", "u1@example.com", "", "Go to "+longURL+" now"), "text"},
		{"more than 65,535 links", "/api/v1/messages", msg("c", "u1", "u1@example.com", manyLinks, ""), "html"},
	}
	for _, c := range cases {
		var e struct{ Error mailtrail.Error }
		r := h.do("POST", c.path, key, c.body, &e)
		named := strings.Contains(e.Error.Message, c.field)
		for _, d := range e.Error.Details {
			named = named || d.Field == c.field
		}
		if r.StatusCode != 400 || e.Error.Code != "invalid" || !named {
			t.Errorf("%s: %d %+v, want 400 naming %s", c.name, r.StatusCode, e.Error, c.field)
		}
	}

	// CSV import: such rows are rejected by line, naming the column; good rows are kept.
	res := h.importCSV(key, "email,customer_id,note\n"+"a\x01@example.com,,\n"+"b@example.com,c\x00,\n"+"c@example.com,,n\x00\n"+"\xffd@example.com,,\n"+"ok@example.com,,\n")
	if res.Added != 1 || res.Rejected != 4 || len(res.Errors) != 4 {
		t.Fatalf("CSV import: %+v, want 1 added and 4 rejected", res)
	}
	for i, want := range []string{"email", "customer_id", "note", "email"} {
		if !strings.HasPrefix(res.Errors[i].Message, want+" ") {
			t.Errorf("CSV row %d: %q does not name %s", res.Errors[i].Line, res.Errors[i].Message, want)
		}
	}

	// Nothing else was stored.
	if evs := h.events(key, ""); len(evs) != 0 {
		t.Fatalf("bad input stored %d events", len(evs))
	}
	var sup struct {
		Suppressions []json.RawMessage `json:"suppressions"`
	}
	if r := h.do("GET", "/api/v1/suppressions", key, nil, &sup); r.StatusCode != 200 || len(sup.Suppressions) != 1 {
		b, _ := io.ReadAll(r.Body)
		t.Fatalf("suppressions after bad input: %d %s", r.StatusCode, b)
	}
	if page := h.campaigns(key, ""); len(page.Campaigns) != 0 {
		t.Fatalf("bad input created campaigns: %+v", page.Campaigns)
	}

	// The edges are accepted: 2000-01-01, 5 minutes ahead less a little, a link of 8 KiB.
	edge := "https://shop.example/" + long(mailtrail.MaxURLBytes-len("https://shop.example/"))
	for _, body := range []string{
		ev("occurred_at", `"2000-01-01T00:00:00Z"`),
		ev("occurred_at", jsonStr(time.Now().Add(4*time.Minute).UTC().Format(time.RFC3339))),
		meta("link_url", jsonStr(edge)),
	} {
		if r := h.do("POST", "/api/v1/events", key, body, nil); r.StatusCode != 200 {
			b, _ := io.ReadAll(r.Body)
			t.Errorf("edge %.80s: %d %s", body, r.StatusCode, b)
		}
	}
	var m instrumented
	if r := h.do("POST", "/api/v1/messages", key, msg("edge", "u1", "u1@example.com", `<a href="`+edge+`">x</a>`, ""), &m); r.StatusCode != 200 || len(m.Links) != 1 {
		t.Fatalf("a link of exactly %d bytes: %d", mailtrail.MaxURLBytes, r.StatusCode)
	}
}

// A link with non-ASCII characters is redirected to its URI form: the Location header
// carries percent-encoded UTF-8, never raw bytes.
func TestClickLocationIsASCII(t *testing.T) {
	h := newHarness(t)
	_, key := h.org("acme")
	var m instrumented
	html := `<a href="https://bücher.example/straße?q=ü ö">x</a>`
	if r := h.do("POST", "/api/v1/messages", key, map[string]any{"campaign_id": "iri", "customer_id": "u1", "customer_email": "u1@example.com", "html": html}, &m); r.StatusCode != 200 {
		t.Fatalf("instrument: %d", r.StatusCode)
	}
	resp, err := h.client.Get(m.Tracking.ClickURLs[0])
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	want := "https://b%C3%BCcher.example/stra%C3%9Fe?q=%C3%BC%20%C3%B6"
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != want {
		t.Fatalf("%d Location %q, want %q", resp.StatusCode, resp.Header.Get("Location"), want)
	}
}
