package enrich

import (
	"net/netip"
	"testing"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/classify"
)

type fakeGeo struct{}

func (fakeGeo) Lookup(ip netip.Addr) (string, string) {
	if ip.Is4() && ip.As4()[0] == 203 {
		return "FR", "Paris"
	}
	return "", ""
}

func newEnricher(t testing.TB) *Enricher {
	c, err := classify.New()
	if err != nil {
		t.Fatal(err)
	}
	return &Enricher{Classifier: c, Geo: fakeGeo{}}
}

func TestEnrich(t *testing.T) {
	e := newEnricher(t)
	cases := []struct {
		name    string
		ev      mailtrail.Event
		class   mailtrail.Classification
		reasons []string
		client  string
		country string
	}{
		{"apple proxy open", mailtrail.Event{Type: mailtrail.EventOpened, Metadata: mailtrail.Metadata{UserAgent: "Mozilla/5.0", IP: "17.58.1.2"}},
			mailtrail.Machine, []string{"apple_mpp"}, "apple_mail", ""},
		{"person on thunderbird", mailtrail.Event{Type: mailtrail.EventOpened, Metadata: mailtrail.Metadata{
			UserAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0", IP: "203.0.113.5"}},
			mailtrail.Human, nil, "thunderbird", "FR"},
		{"ESP machine flag kept", mailtrail.Event{Type: mailtrail.EventOpened, Classification: mailtrail.Machine, Reasons: []string{"esp_machine_open"},
			Metadata: mailtrail.Metadata{UserAgent: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148"}},
			mailtrail.Machine, []string{"esp_machine_open"}, "apple_mail", ""},
		{"sender's label without reasons", mailtrail.Event{Type: mailtrail.EventClicked, Classification: mailtrail.Bot},
			mailtrail.Bot, []string{ReasonReported}, "", ""},
		{"scanner click", mailtrail.Event{Type: mailtrail.EventClicked, Metadata: mailtrail.Metadata{UserAgent: "python-requests/2.31"}},
			mailtrail.Bot, []string{"scanner_ua:http_library"}, "", ""},
		{"a given country wins", mailtrail.Event{Type: mailtrail.EventClicked, Metadata: mailtrail.Metadata{IP: "203.0.113.5", Country: "DE"}},
			mailtrail.Human, nil, "", "DE"},
		{"delivery untouched", mailtrail.Event{Type: mailtrail.EventDelivered, Metadata: mailtrail.Metadata{UserAgent: "Mozilla/5.0", IP: "17.58.1.2"}},
			"", nil, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ev := c.ev
			e.Event(&ev)
			if ev.Classification != c.class || len(ev.Reasons) != len(c.reasons) || (len(c.reasons) > 0 && ev.Reasons[0] != c.reasons[0]) ||
				ev.Metadata.Client != c.client || ev.Metadata.Country != c.country {
				t.Errorf("got %s %v client %q country %q; want %s %v %q %q", ev.Classification, ev.Reasons, ev.Metadata.Client, ev.Metadata.Country,
					c.class, c.reasons, c.client, c.country)
			}
		})
	}
}

// BenchmarkEnrich is the enrich step's cost per open, without geography and with a
// lookup stub, so it can be read without disk noise.
func BenchmarkEnrich(b *testing.B) {
	e := newEnricher(b)
	e.Geo = nil
	ua := "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148"
	b.ReportAllocs()
	for b.Loop() {
		ev := mailtrail.Event{Type: mailtrail.EventOpened, Metadata: mailtrail.Metadata{UserAgent: ua, IP: "198.51.100.7", Method: "GET"}}
		e.Event(&ev)
	}
}
