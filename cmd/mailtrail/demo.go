package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/webhooksig"
)

const demoHTML = `<!doctype html><html><body style="font-family:sans-serif">
<h1>Autumn collection</h1><p>Hello, our new collection is here.</p>
<p><a href="https://shop.example.com/autumn">Shop the collection</a></p>
<p><a href="https://shop.example.com/sale?utm_source=email">See the sale</a> · <a href="https://blog.example.com/lookbook">Lookbook</a></p>
<p style="font-size:12px"><a href="{{unsubscribe_url}}">Unsubscribe</a></p></body></html>`

// runDemo creates (or reuses) the "Demo" organization, fills it with a generated history
// the first time, prints how to sign in, and keeps a trickle of live events going.
func runDemo(ctx context.Context, a *app, out io.Writer) error {
	orgs, err := a.st.Orgs(ctx)
	if err != nil {
		return err
	}
	var orgID, key string
	for _, o := range orgs {
		if o.Name == "Demo" {
			orgID = o.ID
		}
	}
	fresh := orgID == ""
	if fresh {
		org, k, err := a.st.CreateOrg(ctx, "Demo", "Europe/Paris")
		if err != nil {
			return err
		}
		orgID, key = org.ID, k
	} else {
		_, k, err := a.st.CreateAPIKey(ctx, orgID, "demo", mailtrail.ScopeAll)
		if err != nil {
			return err
		}
		key = k
	}
	if fresh {
		fmt.Fprintln(out, "generating demo history…")
		if err := demoHistory(ctx, a, orgID, key); err != nil {
			return err
		}
	}
	fmt.Fprintf(out, "\nDemo organization %s is ready.\n  API key:     %s\n  Admin token: %s\n  Dashboard:   %s/dashboard/ (sign in with the API key)\n  Try:         curl -H 'Authorization: Bearer %s' %s/api/v1/campaigns/autumn-sale/report\n\n",
		orgID, key, a.cfg.AdminToken, a.cfg.PublicURL, key, a.cfg.PublicURL)
	go demoTrickle(ctx, a, key)
	return nil
}

type demoMessage struct {
	MessageID string `json:"message_id"`
}

// demoAPI calls the API handler as a client would, with the demo's key; body is JSON,
// raw bytes (with headers) or nil. It returns an error unless the status is want.
func demoAPI(a *app, key, method, path string, body any, hdr http.Header, want int, out any) error {
	var b []byte
	switch v := body.(type) {
	case nil:
	case []byte:
		b = v
	default:
		var err error
		if b, err = json.Marshal(v); err != nil {
			return err
		}
	}
	req := httptest.NewRequest(method, path, bytes.NewReader(b))
	for k, v := range hdr {
		req.Header[k] = v
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	rec := httptest.NewRecorder()
	a.server.ServeHTTP(rec, req)
	if rec.Code != want {
		return fmt.Errorf("demo: %s %s: %d %s", method, path, rec.Code, rec.Body.String())
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(rec.Body.Bytes(), out)
}

// demoInstrument instruments recipients through the real API handler.
// demoNames are the display names and subjects of the demo's campaigns.
var demoNames = map[string][2]string{
	"welcome-series":      {"Welcome series", "Welcome to Acme: here is 10% off your first order"},
	"autumn-sale":         {"Autumn sale", "Autumn sale: up to 40% off coats and boots"},
	"newsletter-november": {"November newsletter", "What's new in November"},
	"live-demo":           {"Live demo traffic", "A trickle of live events"},
}

func demoInstrument(a *app, key, campaign string, n int) ([]demoMessage, error) {
	var all []demoMessage
	for start := 0; start < n; start += 500 {
		var rcpts []map[string]string
		for i := start; i < min(n, start+500); i++ {
			rcpts = append(rcpts, map[string]string{"customer_id": fmt.Sprintf("cust-%05d", i), "customer_email": fmt.Sprintf("customer%05d@example.com", i)})
		}
		var res struct{ Messages []demoMessage }
		body := map[string]any{"campaign_id": campaign, "campaign_name": demoNames[campaign][0], "subject": demoNames[campaign][1],
			"html": demoHTML, "recipients": rcpts}
		if err := demoAPI(a, key, http.MethodPost, "/api/v1/messages", body, nil, http.StatusOK, &res); err != nil {
			return nil, err
		}
		all = append(all, res.Messages...)
	}
	return all, nil
}

// The demo's ESP connection: a relay posting mailtrail's generic webhook format, signed
// with a key that is fixed because it is demo data.
const (
	demoConnName   = "Demo relay"
	demoSigningKey = "demo-signing-key-not-a-secret"
)

// demoConnection returns the id of the demo's connection, creating it the first time.
func demoConnection(a *app, key string) (string, error) {
	var list struct{ Connections []mailtrail.Connection }
	if err := demoAPI(a, key, http.MethodGet, "/api/v1/connections", nil, nil, http.StatusOK, &list); err != nil {
		return "", err
	}
	for _, c := range list.Connections {
		if c.Name == demoConnName {
			return c.ID, nil
		}
	}
	var c mailtrail.Connection
	body := map[string]string{"vendor": "generic", "name": demoConnName, "signing_key": demoSigningKey}
	if err := demoAPI(a, key, http.MethodPost, "/api/v1/connections", body, nil, http.StatusCreated, &c); err != nil {
		return "", err
	}
	return c.ID, nil
}

// demoDelivered posts a signed generic webhook saying the message was delivered.
func demoDelivered(a *app, connID, messageID string, at time.Time) error {
	body, _ := json.Marshal(map[string]any{"events": []map[string]string{{"event_id": "demo-dlv-" + messageID,
		"event_type": "delivered", "occurred_at": at.UTC().Format(time.RFC3339), "message_id": messageID}}})
	hdr := http.Header{"Content-Type": {"application/json"}, "X-Mailtrail-Signature": {webhooksig.Sign([]byte(demoSigningKey), at, body)}}
	return demoAPI(a, "", http.MethodPost, "/webhooks/v2/generic/"+connID, body, hdr, http.StatusOK, nil)
}

// demoPeople are the mail clients of the demo's recipients: the agent of an open and of
// a click.
var demoPeople = []struct{ open, click string }{
	{"Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)", "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Mobile Safari/537.36"},
	{"Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148", "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1"},
	{"Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148", "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"},
	{"Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928; Pro)", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0"},
	{"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0", "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:131.0) Gecko/20100101 Firefox/131.0"},
	{"YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Safari/605.1.15"},
	{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36"},
}

// demoPlaces are where the demo's recipients read their mail (documentation addresses).
var demoPlaces = []struct{ ip, country, city string }{
	{"203.0.113.10", "FR", "Paris"}, {"203.0.113.77", "FR", "Lyon"}, {"198.51.100.4", "US", "New York"}, {"198.51.100.90", "US", "Austin"},
	{"192.0.2.15", "DE", "Berlin"}, {"192.0.2.80", "GB", "London"}, {"2001:db8:4::7", "CA", "Toronto"},
}

var demoLinks = []string{"https://shop.example.com/autumn", "https://shop.example.com/sale?utm_source=email", "https://blog.example.com/lookbook"}

func demoHistory(ctx context.Context, a *app, orgID, key string) error {
	r := rand.New(rand.NewPCG(42, 7))
	now := time.Now().UTC()
	campaigns := []struct {
		name string
		n    int
		ago  time.Duration
	}{{"welcome-series", 800, 9 * 24 * time.Hour}, {"autumn-sale", 3000, 4 * 24 * time.Hour}, {"newsletter-november", 2000, 30 * time.Hour}}
	for _, c := range campaigns {
		msgs, err := demoInstrument(a, key, c.name, c.n)
		if err != nil {
			return err
		}
		var evs []*mailtrail.Event
		for _, m := range msgs {
			sent := now.Add(-c.ago).Add(time.Duration(r.IntN(3600)) * time.Second)
			ev := func(t mailtrail.EventType, at time.Time, src mailtrail.Source) *mailtrail.Event {
				if at.After(now) { // history ends now: a later open of the series happened just now
					at = now.Add(-time.Duration(1+r.IntN(300)) * time.Second)
				}
				e := &mailtrail.Event{OrgID: orgID, MessageID: m.MessageID, Type: t, OccurredAt: at, Source: src}
				e.DedupeKey = fmt.Sprintf("demo:%s:%d:%d", m.MessageID, t, at.UnixNano())
				return e
			}
			evs = append(evs, ev(mailtrail.EventSent, sent, mailtrail.SourceAPI))
			p := r.Float64()
			switch {
			case p < 0.02:
				b := ev(mailtrail.EventBounced, sent.Add(time.Minute), mailtrail.SourceWebhook)
				b.Metadata.BounceType, b.Metadata.SMTPCode, b.Metadata.Reason = mailtrail.BounceHard, "550 5.1.1", "mailbox does not exist"
				evs = append(evs, b)
				continue
			case p < 0.04:
				b := ev(mailtrail.EventBounced, sent.Add(2*time.Minute), mailtrail.SourceWebhook)
				b.Metadata.BounceType, b.Metadata.SMTPCode, b.Metadata.Reason = mailtrail.BounceSoft, "452 4.2.2", "mailbox full"
				evs = append(evs, b)
				continue
			}
			delivered := sent.Add(time.Duration(5+r.IntN(60)) * time.Second)
			if p < 0.07 { // greylisted first: the ESP's "will retry" notice, then the delivery
				d := ev(mailtrail.EventDeferred, delivered, mailtrail.SourceWebhook)
				d.Metadata.SMTPCode, d.Metadata.Reason = "451 4.7.1", "greylisted, try again later"
				evs = append(evs, d)
				delivered = delivered.Add(5 * time.Minute)
			}
			evs = append(evs, ev(mailtrail.EventDelivered, delivered, mailtrail.SourceWebhook))
			if r.Float64() < 0.25 { // Apple Mail privacy prefetch: the classifier knows the proxy
				o := ev(mailtrail.EventOpened, sent.Add(time.Duration(1+r.IntN(10))*time.Minute), mailtrail.SourceTracking)
				o.Metadata.UserAgent, o.Metadata.IP = "Mozilla/5.0", fmt.Sprintf("17.58.%d.%d", r.IntN(256), 1+r.IntN(254))
				evs = append(evs, o)
			}
			if r.Float64() < 0.35 {
				evs = append(evs, demoReader(r, ev, sent, now)...)
			}
			if r.Float64() < 0.04 { // a mail gateway's sandbox following every link at once
				for i := range demoLinks {
					cl := ev(mailtrail.EventClicked, delivered.Add(time.Duration(2000+300*i)*time.Millisecond), mailtrail.SourceTracking)
					cl.Metadata.LinkURL, cl.Metadata.LinkIndex = demoLinks[i], &i
					cl.Metadata.UserAgent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36"
					cl.Metadata.IP = "40.92.12.7"
					evs = append(evs, cl)
				}
			}
		}
		for start := 0; start < len(evs); start += 2000 {
			if _, err := a.pipeline.Submit(ctx, evs[start:min(len(evs), start+2000)]); err != nil {
				return fmt.Errorf("demo events: %w", err)
			}
		}
	}
	return nil
}

// demoReader returns what one person who reads the message does, as in a real campaign:
// a first open hours after the send, often opening again over the following days (a few
// many times), some clicking once or again on one or more links at later opens, a few
// unsubscribing or complaining days later. Nothing happens after now.
func demoReader(r *rand.Rand, ev func(mailtrail.EventType, time.Time, mailtrail.Source) *mailtrail.Event, sent, now time.Time) []*mailtrail.Event {
	var out []*mailtrail.Event
	person := demoPeople[r.IntN(len(demoPeople))]
	place := demoPlaces[r.IntN(len(demoPlaces))]
	first := sent.Add(time.Duration(r.ExpFloat64()*8*3600) * time.Second)
	if first.After(now) {
		first = now.Add(-time.Minute)
	}
	// Opens: half open once, a third two or three times, the rest four to seven times.
	var opens int
	switch p := r.Float64(); {
	case p < 0.5:
		opens = 1
	case p < 0.85:
		opens = 2 + r.IntN(2)
	default:
		opens = 4 + r.IntN(4)
	}
	times := []time.Time{first}
	at := first
	for range opens - 1 {
		// The next look: minutes later (the same session), or hours to two days later.
		gap := time.Duration(2+r.IntN(30)) * time.Minute
		if r.IntN(2) == 0 {
			gap = time.Duration(1+r.IntN(48)) * time.Hour
		}
		if at = at.Add(gap); at.After(now) {
			break
		}
		times = append(times, at)
	}
	for _, t := range times {
		o := ev(mailtrail.EventOpened, t, mailtrail.SourceTracking)
		o.Metadata.UserAgent = person.open
		// The demo has no geography database: it says where the person is, as --geoip-db
		// would.
		o.Metadata.IP, o.Metadata.Country, o.Metadata.City = place.ip, place.country, place.city
		out = append(out, o)
	}
	// Clicks: three in ten readers click, after an open; a third of them come back to click
	// again (the same link or another) at a later open.
	if r.Float64() < 0.3 {
		clicks := 1
		if r.Float64() < 0.35 {
			clicks += 1 + r.IntN(3)
		}
		link := r.IntN(len(demoLinks))
		for k := range clicks {
			t := times[min(k, len(times)-1)].Add(time.Duration(20+r.IntN(600)) * time.Second)
			if k >= len(times) {
				t = t.Add(time.Duration(k) * 7 * time.Minute)
			}
			if t.After(now) {
				break
			}
			if r.IntN(3) == 0 {
				link = r.IntN(len(demoLinks))
			}
			i := link
			cl := ev(mailtrail.EventClicked, t, mailtrail.SourceTracking)
			cl.Metadata.LinkURL, cl.Metadata.LinkIndex, cl.Metadata.UserAgent = demoLinks[i], &i, person.click
			cl.Metadata.IP, cl.Metadata.Country, cl.Metadata.City = place.ip, place.country, place.city
			out = append(out, cl)
		}
	}
	// A few leave days later (from a later mail's link, or their client's button); fewer
	// complain.
	later := first.Add(time.Duration(24+r.IntN(4*24)) * time.Hour)
	if d := now.Sub(first); later.After(now) && d > 0 {
		later = first.Add(time.Duration(r.Int64N(int64(d))))
	}
	if p := r.Float64(); p < 0.015 {
		out = append(out, ev(mailtrail.EventUnsubscribed, later, mailtrail.SourceTracking))
	} else if p < 0.018 {
		out = append(out, ev(mailtrail.EventComplained, later, mailtrail.SourceWebhook))
	}
	return out
}

// demoTrickle keeps live events coming: every few seconds a recipient of the newsletter
// opens it through the real pixel handler.
func demoTrickle(ctx context.Context, a *app, key string) {
	msgs, err := demoInstrument(a, key, "live-demo", 200)
	if err != nil {
		a.log.Error("demo trickle", "err", err.Error())
		return
	}
	connID, err := demoConnection(a, key)
	if err != nil {
		a.log.Error("demo connection", "err", err.Error())
		return
	}
	if err := demoDelivered(a, connID, msgs[0].MessageID, time.Now()); err != nil && ctx.Err() == nil {
		a.log.Warn("demo delivery webhook not stored", "err", err.Error())
	}
	sent := make([]*mailtrail.Event, 0, len(msgs))
	for _, m := range msgs {
		sent = append(sent, &mailtrail.Event{MessageID: m.MessageID, Type: mailtrail.EventSent, Source: mailtrail.SourceAPI,
			OccurredAt: time.Now().Add(-time.Hour), DedupeKey: "demo:live-sent:" + m.MessageID})
	}
	if _, err := a.pipeline.Submit(ctx, sent); err != nil {
		a.log.Warn("demo trickle sends not stored", "err", err.Error())
	}
	r := rand.New(rand.NewPCG(9, 9))
	t := time.NewTicker(3 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		m := msgs[r.IntN(len(msgs))]
		if r.IntN(3) == 0 { // the relay reports a delivery through the webhook route
			if err := demoDelivered(a, connID, m.MessageID, time.Now()); err != nil && ctx.Err() == nil {
				a.log.Warn("demo delivery webhook not stored", "err", err.Error())
			}
			continue
		}
		ev := &mailtrail.Event{MessageID: m.MessageID, Type: mailtrail.EventOpened, Source: mailtrail.SourceTracking}
		if r.IntN(4) == 0 {
			i := r.IntN(len(demoLinks))
			ev.Type, ev.Metadata.LinkURL, ev.Metadata.LinkIndex = mailtrail.EventClicked, demoLinks[i], &i
		}
		if _, err := a.pipeline.Submit(ctx, []*mailtrail.Event{ev}); err != nil && ctx.Err() == nil {
			a.log.Warn("demo trickle event not stored", "err", err.Error())
		}
	}
}
