package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/geo/geotest"
)

var update = flag.Bool("update", false, "rewrite golden files")

// Agents as the corpus sends them.
const (
	uaAppleProxy  = "Mozilla/5.0"
	uaGmailProxy  = "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
	uaYahooProxy  = "YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html"
	uaIPhoneMail  = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148"
	uaChrome      = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36"
	uaProofpoint  = "Mozilla/5.0 (compatible; Proofpoint URL Defense)"
	linkA, linkB  = "https://shop.example.com/a", "https://shop.example.com/b"
	linkC         = "https://shop.example.com/c"
	corpusCampaig = "corpus"
)

// geoHarness is a harness whose service has a small geography database of its own.
func geoHarness(t *testing.T) *harness {
	t.Helper()
	path := filepath.Join(t.TempDir(), "city.mmdb")
	if err := geotest.Write(path, []geotest.Entry{
		{Network: "203.0.113.0/24", Country: "FR", City: "Paris"},
		{Network: "198.51.100.0/24", Country: "US", City: "Boston"},
		{Network: "2001:db8::/32", Country: "DE", City: "Berlin"},
	}); err != nil {
		t.Fatal(err)
	}
	return newHarness(t, func(c *Config) { c.GeoIPDB = path; c.ClientIPHeader = "X-Forwarded-For" })
}

// labelled is one open or click of the corpus and the label it must end with.
type labelled struct {
	cust   string
	typ    string
	at     time.Duration // after the send
	ua, ip string
	link   string
	method string
	class  mailtrail.Classification
	reason string // the deciding (first) reason; "" for none
}

var corpusT0 = time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)

const dlv = time.Minute // delivery, after the send

var corpus = []labelled{
	{cust: "r01", typ: "opened", at: dlv + 2*time.Hour, ua: uaAppleProxy, ip: "17.58.63.10", class: mailtrail.Machine, reason: "apple_mpp"},
	{cust: "r02", typ: "opened", at: dlv + 3*time.Hour, ua: uaGmailProxy, ip: "66.249.84.1", class: mailtrail.Human, reason: "image_proxy:gmail"},
	{cust: "r03", typ: "opened", at: dlv + 3*time.Hour, ua: uaYahooProxy, ip: "98.136.0.1", class: mailtrail.Human, reason: "image_proxy:yahoo"},
	{cust: "r04", typ: "opened", at: dlv + 4*time.Hour, ua: desktopUA, ip: "203.0.113.77", class: mailtrail.Human},
	{cust: "r05", typ: "opened", at: dlv + 5*time.Hour, ua: uaIPhoneMail, ip: "2001:db8:1:2::5", class: mailtrail.Human},
	{cust: "r06", typ: "clicked", at: dlv + time.Hour, ua: uaProofpoint, ip: "198.51.100.9", link: linkA, class: mailtrail.Bot, reason: "scanner_ua:proofpoint"},
	{cust: "r07", typ: "clicked", at: dlv + 2*time.Hour, ua: uaChrome, ip: "40.92.1.5", link: linkB, class: mailtrail.Bot, reason: "scanner_ip:microsoft"},
	// A gateway's click seconds after delivery, the person's two hours later.
	{cust: "r08", typ: "clicked", at: dlv + 3*time.Second, ua: uaChrome, ip: "198.51.100.10", link: linkA, class: mailtrail.Bot, reason: "near_delivery"},
	{cust: "r08", typ: "clicked", at: dlv + 2*time.Hour, ua: uaChrome, ip: "198.51.100.10", link: linkA, class: mailtrail.Human},
	// Clicked before the delivery that the ESP reports later (posted in a second request).
	{cust: "r09", typ: "clicked", at: 30 * time.Second, ua: uaChrome, ip: "198.51.100.11", link: linkA, class: mailtrail.Bot, reason: "before_delivery"},
	// A sandbox following every link within two seconds; the person an hour later.
	{cust: "r10", typ: "clicked", at: dlv + time.Hour, ua: uaChrome, ip: "198.51.100.12", link: linkA, class: mailtrail.Bot, reason: "burst"},
	{cust: "r10", typ: "clicked", at: dlv + time.Hour + time.Second, ua: uaChrome, ip: "198.51.100.12", link: linkB, class: mailtrail.Bot, reason: "burst"},
	{cust: "r10", typ: "clicked", at: dlv + time.Hour + 2*time.Second, ua: uaChrome, ip: "198.51.100.12", link: linkC, class: mailtrail.Bot, reason: "burst"},
	{cust: "r10", typ: "clicked", at: dlv + 2*time.Hour, ua: uaChrome, ip: "198.51.100.12", link: linkA, class: mailtrail.Human},
	{cust: "r11", typ: "opened", at: dlv + time.Hour, ua: desktopUA, ip: "198.51.100.13", method: "HEAD", class: mailtrail.Bot, reason: "head_request"},
}

// postCorpus records the corpus through the events API: sends and deliveries (r09's
// delivery last, in its own request), then the opens and clicks with their agents.
func postCorpus(h *harness, key string) {
	h.t.Helper()
	var evs []map[string]any
	for i := 1; i <= 11; i++ {
		c := "r" + pad2(i)
		evs = append(evs, map[string]any{"event_type": "sent", "campaign_id": corpusCampaig, "customer_id": c, "customer_email": c + "@example.com",
			"occurred_at": corpusT0.Format(time.RFC3339)})
		if c != "r09" {
			evs = append(evs, map[string]any{"event_type": "delivered", "campaign_id": corpusCampaig, "customer_id": c, "occurred_at": corpusT0.Add(dlv).Format(time.RFC3339)})
		}
	}
	for _, l := range corpus {
		md := map[string]any{"user_agent": l.ua, "ip": l.ip}
		if l.link != "" {
			md["link_url"] = l.link
		}
		if l.method != "" {
			md["method"] = l.method
		}
		evs = append(evs, map[string]any{"event_type": l.typ, "campaign_id": corpusCampaig, "customer_id": l.cust,
			"occurred_at": corpusT0.Add(l.at).Format(time.RFC3339), "metadata": md})
	}
	h.postEvents(key, evs...)
}

func pad2(i int) string { return string([]byte{byte('0' + i/10), byte('0' + i%10)}) }

// classOf finds the stored open or click of a customer at a time.
func classOf(evs []mailtrail.Event, l labelled) *mailtrail.Event {
	for i := range evs {
		e := &evs[i]
		if e.CustomerID == l.cust && e.Type.String() == l.typ && e.OccurredAt.Equal(corpusT0.Add(l.at)) {
			return e
		}
	}
	return nil
}

func TestClassificationCorpus(t *testing.T) {
	h := geoHarness(t)
	_, key := h.org("acme")
	postCorpus(h, key)

	// Before the ESP reports r09's delivery, nothing says its click is a scanner's.
	r09 := corpus[9]
	if e := classOf(h.events(key, "campaign_id=corpus&type=clicked&limit=1000"), r09); e == nil || !e.IsHuman() {
		t.Fatalf("r09 before its delivery: %+v", e)
	}
	h.postEvents(key, map[string]any{"event_type": "delivered", "campaign_id": corpusCampaig, "customer_id": "r09",
		"occurred_at": corpusT0.Add(dlv).Format(time.RFC3339)})

	evs := h.events(key, "campaign_id=corpus&type=opened,clicked&limit=1000")
	if len(evs) != len(corpus) {
		t.Fatalf("%d opens and clicks stored, want %d", len(evs), len(corpus))
	}
	for _, l := range corpus {
		e := classOf(evs, l)
		if e == nil {
			t.Fatalf("%s %s at %v not stored", l.cust, l.typ, l.at)
		}
		first := ""
		if len(e.Reasons) > 0 {
			first = e.Reasons[0]
		}
		if e.Classification != l.class || first != l.reason {
			t.Errorf("%s %s at %v: %s %v, want %s with first reason %q", l.cust, l.typ, l.at, e.Classification, e.Reasons, l.class, l.reason)
		}
	}

	// Client, device, geography; the stored address is truncated (the org keeps no full IPs).
	r04 := classOf(evs, corpus[3])
	if md := r04.Metadata; md.Client != "thunderbird" || md.Device != "desktop" || md.Country != "FR" || md.City != "Paris" || md.IP != "203.0.113.0" {
		t.Errorf("r04 metadata: %+v", md)
	}
	if md := classOf(evs, corpus[4]).Metadata; md.Client != "apple_mail" || md.Device != "mobile" || md.Country != "DE" || md.IP != "2001:db8:1::" {
		t.Errorf("r05 metadata: %+v", md)
	}
	if md := classOf(evs, corpus[1]).Metadata; md.Client != "gmail" {
		t.Errorf("r02 metadata: %+v", md)
	}

	rep := h.report(key, corpusCampaig)
	want := mailtrail.Counts{Sent: 11, Delivered: 11, OpensTotal: 6, OpensUnique: 6, HumanOpensTotal: 4, HumanOpensUnique: 4,
		ClicksTotal: 9, ClicksUnique: 5, HumanClicksTotal: 2, HumanClicksUnique: 2}
	if rep.Counts != want {
		t.Fatalf("counts:\n got %+v\nwant %+v", rep.Counts, want)
	}
	if rep.HumanRates.Open != 4.0/11 || rep.Rates.Open != 6.0/11 || rep.HumanRates.ClickToOpen != 0.5 {
		t.Errorf("rates %+v human %+v", rep.Rates, rep.HumanRates)
	}
	links := map[string]mailtrail.LinkStats{}
	for _, l := range rep.Links {
		links[l.URL] = l
	}
	if a := links[linkA]; a.Total != 6 || a.Unique != 4 || a.HumanTotal != 2 || a.HumanUnique != 2 || len(a.TopClickers) != 2 ||
		!slices.Contains([]string{"r08", "r10"}, a.TopClickers[0].CustomerID) || a.TopClickers[0].HumanClicks != 1 {
		t.Errorf("link a: %+v", a)
	}
	if b := links[linkB]; b.Total != 2 || b.Unique != 2 || b.HumanTotal != 0 || b.HumanUnique != 0 || len(b.TopClickers) != 0 {
		t.Errorf("link b: %+v", b)
	}
	if !slices.Contains(rep.Breakdowns.Opens.Country, mailtrail.DimValue{Value: "FR", Total: 1, HumanTotal: 1}) ||
		!slices.Contains(rep.Breakdowns.Opens.City, mailtrail.DimValue{Value: "DE/Berlin", Total: 1, HumanTotal: 1}) ||
		!slices.Contains(rep.Breakdowns.Opens.Client, mailtrail.DimValue{Value: "gmail", Total: 1, HumanTotal: 1}) ||
		!slices.Contains(rep.Breakdowns.Clicks.Country, mailtrail.DimValue{Value: "US", Total: 8, HumanTotal: 2}) {
		t.Errorf("breakdowns: %+v", rep.Breakdowns)
	}

	// Who clicked link a, people only; who opened, as CSV.
	var page mailtrail.RecipientPage
	h.do("GET", "/api/v1/campaigns/corpus/recipients?activity=clicked&human=true&link="+linkA, key, nil, &page)
	var who []string
	for _, r := range page.Recipients {
		who = append(who, r.CustomerID)
		if r.HumanClicks == nil || *r.HumanClicks != 1 || r.FirstHumanClick == nil {
			t.Errorf("clicker %+v", r)
		}
	}
	if !slices.Equal(who, []string{"r08", "r10"}) {
		t.Errorf("human clickers of a: %v", who)
	}
	resp := h.do("GET", "/api/v1/campaigns/corpus/recipients?activity=opened&format=csv", key, nil, nil)
	rows, err := csv.NewReader(resp.Body).ReadAll()
	if err != nil || resp.Header.Get("Content-Type") != "text/csv; charset=utf-8" {
		t.Fatalf("csv: %v %s", err, resp.Header.Get("Content-Type"))
	}
	if len(rows) != 7 || rows[0][0] != "customer_id" || rows[1][0] != "r01" || rows[1][1] != "r01@example.com" {
		t.Errorf("who opened csv: %v", rows)
	}
	page = mailtrail.RecipientPage{}
	h.do("GET", "/api/v1/campaigns/corpus/recipients?activity=opened&human=true&limit=2", key, nil, &page)
	if len(page.Recipients) != 2 || page.Recipients[0].CustomerID != "r02" || page.NextCursor == "" {
		t.Errorf("human openers page 1: %+v", page)
	}
	next := page.NextCursor
	page = mailtrail.RecipientPage{}
	h.do("GET", "/api/v1/campaigns/corpus/recipients?activity=opened&human=true&limit=2&cursor="+next, key, nil, &page)
	if len(page.Recipients) != 2 || page.Recipients[0].CustomerID != "r04" || page.NextCursor != "" {
		t.Errorf("human openers page 2: %+v", page)
	}
	for _, q := range []string{"activity=bogus", "activity=bounced&bounce=firm", "activity=opened&bounce=hard", "activity=bounced&human=true"} {
		if r := h.do("GET", "/api/v1/campaigns/corpus/recipients?"+q, key, nil, nil); r.StatusCode != 400 {
			t.Errorf("%s: %d", q, r.StatusCode)
		}
	}

	// A customer's timeline, oldest first.
	var tl mailtrail.EventPage
	h.do("GET", "/api/v1/customers/r08/events", key, nil, &tl)
	var kinds []string
	for _, e := range tl.Events {
		kinds = append(kinds, e.Type.String()+":"+string(e.Classification))
	}
	if !slices.Equal(kinds, []string{"sent:", "delivered:", "clicked:bot", "clicked:human"}) {
		t.Errorf("timeline of r08: %v", kinds)
	}

	// The whole report against its golden file (message ids are random: blanked).
	for i := range rep.Links {
		for j := range rep.Links[i].TopClickers {
			rep.Links[i].TopClickers[j].MessageID = ""
		}
	}
	golden(t, "corpus_report.json", rep)
}

// golden compares v, as indented JSON, with testdata/golden/name; -update rewrites it.
func golden(t *testing.T, name string, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/mailtrail -run %s -update to create it)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := range max(len(gl), len(wl)) {
			if i >= len(gl) || i >= len(wl) || gl[i] != wl[i] {
				t.Fatalf("%s differs from the golden file at line %d:\n got  %q\n want %q", name, i+1, at(gl, i), at(wl, i))
			}
		}
	}
}

func at(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return "<end>"
}

// The honeypot through the real tracking endpoints: instrumenting hides it, only a scanner
// follows it, and the click next to it is the scanner's too.
func TestHoneypot(t *testing.T) {
	h := geoHarness(t)
	_, key := h.org("acme")
	var m struct {
		instrumented
		Tracking struct {
			ClickURLs   []string `json:"click_urls"`
			HoneypotURL string   `json:"honeypot_url"`
		} `json:"tracking"`
	}
	if r := h.do("POST", "/api/v1/messages", key, map[string]any{"campaign_id": "hp", "customer_id": "c1", "customer_email": "c1@example.com",
		"html": emailHTML}, &m); r.StatusCode != 200 {
		t.Fatalf("instrument: %d", r.StatusCode)
	}
	if m.Tracking.HoneypotURL == "" || !strings.Contains(m.HTML, `<a href="`+m.Tracking.HoneypotURL+`" style="display:none;`) ||
		!strings.Contains(m.HTML, `aria-hidden="true" tabindex="-1"></a>`) || slices.Contains(m.Tracking.ClickURLs, m.Tracking.HoneypotURL) {
		t.Fatalf("honeypot not hidden in the html or listed as a link: %q", m.HTML)
	}
	now := time.Now().UTC()
	h.postEvents(key,
		map[string]any{"event_type": "sent", "message_id": m.MessageID, "occurred_at": now.Add(-time.Hour).Format(time.RFC3339)},
		map[string]any{"event_type": "delivered", "message_id": m.MessageID, "occurred_at": now.Add(-59 * time.Minute).Format(time.RFC3339)})
	get := func(u string) *http.Response {
		req, _ := http.NewRequest("GET", u, nil)
		req.Header.Set("User-Agent", uaChrome)
		req.Header.Set("X-Forwarded-For", "203.0.113.200")
		r, err := h.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
		return r
	}
	if r := get(m.Tracking.HoneypotURL); r.StatusCode != 200 || r.Header.Get("Location") != "" {
		t.Fatalf("honeypot: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	if r := get(m.Tracking.ClickURLs[0]); r.StatusCode != 302 {
		t.Fatalf("click: %d", r.StatusCode)
	}
	if r := h.do("HEAD", m.Tracking.ClickURLs[1], "", nil, nil); r.StatusCode != 302 {
		t.Fatalf("HEAD click: %d", r.StatusCode)
	}
	evs := h.events(key, "campaign_id=hp&type=clicked")
	if len(evs) != 2 {
		t.Fatalf("%d clicks stored, want 2 (a HEAD records nothing)", len(evs))
	}
	for _, e := range evs {
		want := "near_honeypot"
		if e.Metadata.LinkIndex != nil && *e.Metadata.LinkIndex == mailtrail.HoneypotLink {
			want = "honeypot"
		}
		if e.Classification != mailtrail.Bot || !slices.Contains(e.Reasons, want) {
			t.Errorf("click %+v: %s %v, want bot for %s", e.Metadata.LinkIndex, e.Classification, e.Reasons, want)
		}
		if e.Metadata.IP != "203.0.113.0" || e.Metadata.Country != "FR" || e.Metadata.City != "Paris" {
			t.Errorf("click metadata %+v", e.Metadata)
		}
	}
	if c := h.report(key, "hp").Counts; c.ClicksTotal != 2 || c.ClicksUnique != 1 || c.HumanClicksTotal != 0 || c.HumanClicksUnique != 0 {
		t.Errorf("counts %+v", c)
	}

	// An organization that keeps full addresses stores them whole.
	var st mailtrail.OrgSettings
	if r := h.do("PATCH", "/api/v1/settings", key, map[string]any{"keep_full_ip": true}, &st); r.StatusCode != 200 || !st.KeepFullIP {
		t.Fatalf("settings: %d %+v", r.StatusCode, st)
	}
	get(m.Tracking.ClickURLs[0])
	evs = h.events(key, "campaign_id=hp&type=clicked")
	if len(evs) != 3 || evs[2].Metadata.IP != "203.0.113.200" {
		t.Errorf("with keep_full_ip: %+v", evs[len(evs)-1].Metadata)
	}
}

// Who bounced (hard or soft, with the reason), complained and unsubscribed: lists and CSV.
func TestRecipientsBouncedComplainedUnsubscribed(t *testing.T) {
	h := newHarness(t)
	_, key := h.org("acme")
	ev := func(typ, cust string, min int, meta map[string]any) map[string]any {
		e := map[string]any{"event_type": typ, "campaign_id": "spring", "customer_id": cust, "customer_email": cust + "@example.com",
			"occurred_at": supBase.Add(time.Duration(min) * time.Minute).Format(time.RFC3339)}
		if meta != nil {
			e["metadata"] = meta
		}
		return e
	}
	h.postEvents(key, ev("sent", "a", 0, nil), ev("sent", "b", 0, nil), ev("sent", "c", 0, nil), ev("sent", "d", 0, nil),
		ev("bounced", "a", 1, map[string]any{"bounce_type": "soft", "smtp_code": "452", "reason": "mailbox full"}),
		ev("bounced", "a", 2, map[string]any{"bounce_type": "hard", "smtp_code": "550", "reason": "no such user"}),
		ev("bounced", "b", 3, map[string]any{"bounce_type": "soft", "reason": "=cmd|' /C calc'!A0"}),
		ev("complained", "c", 4, map[string]any{"feedback_type": "abuse"}),
		ev("unsubscribed", "d", 5, nil))
	list := func(q string) []mailtrail.Recipient {
		t.Helper()
		var page mailtrail.RecipientPage
		if r := h.do("GET", "/api/v1/campaigns/spring/recipients?"+q, key, nil, &page); r.StatusCode != 200 {
			t.Fatalf("%s: %d", q, r.StatusCode)
		}
		return page.Recipients
	}
	got := list("activity=bounced")
	if len(got) != 2 || got[0].CustomerID != "a" || got[0].BounceType != mailtrail.BounceHard || got[0].Reason != "550 no such user" ||
		got[0].Bounced == nil || !got[0].Bounced.Equal(supBase.Add(time.Minute)) || got[1].BounceType != mailtrail.BounceSoft {
		t.Errorf("bounced: %+v", got)
	}
	if got := list("activity=bounced&bounce=soft"); len(got) != 1 || got[0].CustomerID != "b" {
		t.Errorf("soft: %+v", got)
	}
	if got := list("activity=bounced&bounce=hard"); len(got) != 1 || got[0].CustomerID != "a" {
		t.Errorf("hard: %+v", got)
	}
	if got := list("activity=complained"); len(got) != 1 || got[0].CustomerID != "c" || got[0].Reason != "abuse" || got[0].Complained == nil {
		t.Errorf("complained: %+v", got)
	}
	if got := list("activity=unsubscribed"); len(got) != 1 || got[0].CustomerID != "d" || got[0].Unsubscribed == nil {
		t.Errorf("unsubscribed: %+v", got)
	}
	resp := h.do("GET", "/api/v1/campaigns/spring/recipients?activity=bounced&format=csv", key, nil, nil)
	body, _ := io.ReadAll(resp.Body)
	want := "customer_id,customer_email,message_id,bounced_at,bounce_type,reason\n"
	if resp.StatusCode != 200 || !strings.HasPrefix(string(body), want) || !strings.Contains(string(body), ",hard,550 no such user\n") ||
		!strings.Contains(string(body), ",soft,'=cmd") || resp.Header.Get("Content-Disposition") != `attachment; filename="bounced.csv"` {
		t.Errorf("csv %d %q:\n%s", resp.StatusCode, resp.Header.Get("Content-Disposition"), body)
	}
}
