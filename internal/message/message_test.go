package message_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/esp"
	"github.com/mailtrail/mailtrail/internal/instrument"
	"github.com/mailtrail/mailtrail/internal/message"
	"github.com/mailtrail/mailtrail/internal/store/sqlite"
	"github.com/mailtrail/mailtrail/internal/token"
)

var ctx = context.Background()

type fixture struct {
	db     *sqlite.DB
	signer *token.Signer
	svc    *message.Service
	org    string
}

func newFixture(t *testing.T, opt message.Options) *fixture {
	t.Helper()
	db, err := sqlite.Open(ctx, t.TempDir()+"/mailtrail.db", sqlite.Options{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	o, _, err := db.CreateOrg(ctx, "acme", "UTC")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := token.NewSigner(token.KeyFromSecret(1, []byte("a test service secret of 32 bytes or more")))
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{db: db, signer: signer, svc: message.New(db, signer, opt), org: o.ID}
}

func (f *fixture) campaigns(t *testing.T) int {
	t.Helper()
	p, err := f.db.Campaigns(ctx, f.org, mailtrail.CampaignFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return len(p.Campaigns)
}

const html = `<html><body><p>Hi</p><a href="https://shop.example/a">a</a> <a href="https://shop.example/b?x=1">b</a></body></html>`

// Bad input stores nothing and says what is wrong; a bad recipient is named by index.
func TestCreateRefusesBadInput(t *testing.T) {
	f := newFixture(t, message.Options{PublicURL: "https://mt.example"})
	ok := message.Recipient{CustomerID: "u1", CustomerEmail: "u1@example.com"}
	for _, c := range []struct {
		req  message.Request
		want string
	}{
		{message.Request{HTML: html, Recipients: []message.Recipient{ok}}, "campaign_id is required"},
		{message.Request{CampaignID: "c", Recipients: []message.Recipient{ok}}, "html or text is required"},
		{message.Request{CampaignID: "c", HTML: html}, "recipients must hold 1 to 1000 entries"},
		{message.Request{CampaignID: "c", HTML: html, Topic: strings.Repeat("t", 201), Recipients: []message.Recipient{ok}}, "topic must be at most 200 characters"},
		{message.Request{CampaignID: "c", HTML: strings.Repeat("x", 200<<10), Recipients: make([]message.Recipient, 1000)}, "send fewer recipients per request"},
		{message.Request{CampaignID: "c", HTML: html, Recipients: []message.Recipient{ok, {CustomerID: "u2", CustomerEmail: "not an address"}}}, "some recipients are invalid; nothing was stored"},
	} {
		_, err := f.svc.Create(ctx, f.org, &c.req)
		if mailtrail.ErrorCode(err) != mailtrail.EINVALID || !strings.Contains(mailtrail.ErrorMessage(err), c.want) {
			t.Errorf("%.60q: %v, want EINVALID saying %q", c.want, err, c.want)
		}
	}
	_, err := f.svc.Create(ctx, f.org, &message.Request{CampaignID: "c", HTML: html, Recipients: []message.Recipient{ok, {CustomerID: "u2", CustomerEmail: "bad"}}})
	if e, _ := err.(*mailtrail.Error); e == nil || len(e.Details) != 1 || e.Details[0].Index != 1 || e.Details[0].Field != "customer_email" {
		t.Errorf("bad recipient details: %#v", err)
	}
	if n := f.campaigns(t); n != 0 {
		t.Fatalf("%d campaigns stored after refusals", n)
	}
}

// One message: stored with the content's links, its copy instrumented under its own
// signed ids, with the List-Unsubscribe headers and the ESP custom arguments.
func TestCreateOne(t *testing.T) {
	f := newFixture(t, message.Options{PublicURL: "https://mt.example", UnsubscribeMailto: "unsub@example.com"})
	b, err := f.svc.Create(ctx, f.org, &message.Request{CampaignID: "spring", CampaignName: "Spring", Subject: "Hello", HTML: html,
		Text: "see https://shop.example/a", Topic: " news ", Recipients: []message.Recipient{{CustomerID: "u1", CustomerEmail: "u1@example.com"}}})
	if err != nil {
		t.Fatal(err)
	}
	if b.Len() != 1 {
		t.Fatalf("Len = %d", b.Len())
	}
	m, err := b.Instrument(0)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := f.db.Message(ctx, f.org, m.MessageID)
	if err != nil {
		t.Fatalf("the message is not stored: %v", err)
	}
	if stored.CampaignID != "spring" || stored.CustomerEmail != "u1@example.com" || stored.Topic != "news" || !stored.TrackOpens || !stored.TrackClicks ||
		fmt.Sprint(stored.Links) != fmt.Sprint(m.Links) || fmt.Sprint(m.Links) != "[https://shop.example/a https://shop.example/b?x=1 https://shop.example/a]" { // the text's link is one more
		t.Fatalf("stored %+v, links %v", stored, m.Links)
	}
	ref, err := token.ParseRef(m.MessageID)
	if err != nil {
		t.Fatal(err)
	}
	if got, _, err := f.signer.Verify(token.Open, strings.TrimPrefix(m.Tracking.OpenURL, "https://mt.example/api/track/open/")); err != nil || got != ref {
		t.Errorf("open URL %q does not carry the message's signed id: %v", m.Tracking.OpenURL, err)
	}
	if len(m.Tracking.ClickURLs) != 3 || m.Tracking.HoneypotURL == "" {
		t.Fatalf("tracking = %+v", m.Tracking)
	}
	for i, c := range m.Tracking.ClickURLs {
		got, link, err := f.signer.Verify(token.Click, strings.TrimPrefix(c, "https://mt.example/api/track/click/"))
		if err != nil || got != ref || link != i {
			t.Errorf("click URL %d: %v %d %v", i, got, link, err)
		}
		if !strings.Contains(m.HTML+m.Text, c) {
			t.Errorf("the content does not link %s", c)
		}
	}
	if strings.Contains(m.HTML, `href="https://shop.example/a"`) || !strings.Contains(m.Text, m.Tracking.ClickURLs[2]) {
		t.Errorf("links not rewritten:\n%s\n%s", m.HTML, m.Text)
	}
	unsub := m.Headers[instrument.HeaderListUnsubscribe]
	if !strings.HasPrefix(unsub, "<"+m.Tracking.UnsubscribeURL+">, <mailto:unsub@example.com?subject=unsubscribe+") ||
		m.Headers[instrument.HeaderListUnsubscribePost] != instrument.OneClick {
		t.Errorf("headers = %v", m.Headers)
	}
	if m.CustomArgs[esp.ArgMessageID] != m.MessageID || m.CustomArgs[esp.ArgCampaignID] != "spring" || m.CustomArgs[esp.ArgCustomerID] != "u1" {
		t.Errorf("custom args = %v", m.CustomArgs)
	}
}

// A batch: one message per recipient, each with its own ids and the same links; the
// organization's tracking domain is the base of its URLs; no pixel when opens are not
// tracked, no honeypot when asked not to.
func TestCreateBatch(t *testing.T) {
	f := newFixture(t, message.Options{PublicURL: "https://mt.example"})
	st, err := f.db.OrgSettings(ctx, f.org)
	if err != nil {
		t.Fatal(err)
	}
	st.TrackingURL = "https://click.brand.example"
	if err := f.db.UpdateOrgSettings(ctx, f.org, *st); err != nil {
		t.Fatal(err)
	}
	no := false
	rs := []message.Recipient{{CustomerID: "u1", CustomerEmail: "u1@example.com"}, {CustomerID: "u2", CustomerEmail: "u2@example.com"}, {CustomerID: "u3", CustomerEmail: "u3@example.com"}}
	b, err := f.svc.Create(ctx, f.org, &message.Request{CampaignID: "c", HTML: html, TrackOpens: &no, Honeypot: &no, Recipients: rs})
	if err != nil {
		t.Fatal(err)
	}
	if b.Len() != 3 {
		t.Fatalf("Len = %d", b.Len())
	}
	ids := map[string]bool{}
	for i := range b.Len() {
		m, err := b.Instrument(i)
		if err != nil {
			t.Fatal(err)
		}
		stored, err := f.db.Message(ctx, f.org, m.MessageID)
		if err != nil || stored.CustomerID != rs[i].CustomerID || stored.TrackOpens || len(stored.Links) != 2 {
			t.Fatalf("recipient %d: stored %+v, %v", i, stored, err)
		}
		if ids[m.MessageID] || m.CustomerID != rs[i].CustomerID {
			t.Fatalf("recipient %d: message %s for %s", i, m.MessageID, m.CustomerID)
		}
		ids[m.MessageID] = true
		if m.Tracking.OpenURL != "" || m.Tracking.HoneypotURL != "" || strings.Contains(m.HTML, "/api/track/open/") ||
			!strings.HasPrefix(m.Tracking.ClickURLs[0], "https://click.brand.example/api/track/click/") ||
			!strings.HasPrefix(m.Tracking.UnsubscribeURL, "https://click.brand.example/api/track/unsubscribe/") {
			t.Fatalf("recipient %d: tracking %+v", i, m.Tracking)
		}
	}
}
