// Package enrich labels opens and clicks before they are stored: classification (human,
// machine, bot) with its reasons, email client and device, country and city. It runs on
// the submitter's goroutine (ingest.Options.Enrich), never fails and never blocks, so the
// pixel and the redirect are never held up by it.
//
// What needs a message's other events (a click seconds after delivery, bursts, the
// honeypot) is decided later, in the store's transaction, by rules.ClassifyClicks.
package enrich

import (
	"net/netip"
	"strings"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/classify"
)

// ReasonReported marks a classification that the event's sender gave without reasons.
const ReasonReported = "reported"

// Geo finds the country (ISO code) and city of an address; "" when unknown.
type Geo interface {
	Lookup(ip netip.Addr) (country, city string)
}

// Enricher labels events. A nil Classifier leaves classification, client and device as
// the event came; a nil Geo leaves country and city empty.
type Enricher struct {
	Classifier *classify.Classifier
	Geo        Geo
}

// Event labels one event in place. Only opens and clicks are touched. What the event
// already carries wins: an ESP's own machine-open flag, a client's classification on
// the API, a client or country an importer supplied.
func (e *Enricher) Event(ev *mailtrail.Event) {
	if ev.Type != mailtrail.EventOpened && ev.Type != mailtrail.EventClicked {
		return
	}
	md := &ev.Metadata
	if e.Classifier != nil {
		var v classify.Verdict
		if ev.Type == mailtrail.EventOpened {
			v = e.Classifier.Open(md.UserAgent, md.IP, md.Method)
		} else {
			v = e.Classifier.Click(md.UserAgent, md.IP, md.Method)
		}
		if ev.Classification != "" && ev.Classification != mailtrail.Human && len(ev.Reasons) == 0 {
			ev.Reasons = []string{ReasonReported} // the sender's own label, kept as such
		}
		if ev.Classification == "" {
			ev.Classification = v.Class
			ev.Reasons = append(ev.Reasons, v.Reasons...)
		}
		if md.Client == "" {
			md.Client = v.Client
		}
		if md.Device == "" {
			md.Device = v.Device
		}
	}
	if e.Geo != nil && md.Country == "" && md.IP != "" {
		if a, err := netip.ParseAddr(strings.TrimSpace(md.IP)); err == nil {
			md.Country, md.City = e.Geo.Lookup(a.Unmap())
		}
	}
}
