package esp

import (
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strings"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/esp/bouncemail"
)

// headerMessageIDB is the header carrying our message id on every email we instrument.
const headerMessageIDB = bouncemail.HeaderMessageID

// safeURLB parses raw and reports whether it is an https URL with no userinfo, on the
// default port, whose lower-cased host passes hostOK. Backslashes, spaces and control
// characters are refused outright: URL parsers disagree about them, and the host we
// check must be the host the fetcher dials.
func safeURLB(raw string, hostOK func(host string) bool) bool {
	if raw == "" || strings.ContainsAny(raw, "\\ \t\r\n") {
		return false
	}
	for _, r := range raw {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.User != nil || u.Opaque != "" || strings.Contains(u.Host, "@") {
		return false
	}
	if p := u.Port(); p != "" && p != "443" {
		return false
	}
	host := u.Hostname()
	return host != "" && host == strings.ToLower(host) && hostOK(host)
}

// dnsLabelsB reports whether s is made of non-empty labels of [a-z0-9-] separated by dots.
func dnsLabelsB(s string) bool {
	if s == "" {
		return false
	}
	for _, l := range strings.Split(s, ".") {
		if l == "" {
			return false
		}
		for _, r := range l {
			if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' {
				return false
			}
		}
	}
	return true
}

// parseTimeB reads a vendor timestamp: RFC 3339 (with or without fraction), OCI's
// "2019-04-19T21:26:00.310+0000", or Postgres-style "2024-02-22 23:41:11.894719+00".
// The result is in UTC; ok is false when s matches none.
func parseTimeB(s string) (t time.Time, ok bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999-0700", "2006-01-02 15:04:05.999999999-07", "2006-01-02 15:04:05.999999999Z07:00"} {
		if t, err := time.Parse(layout, strings.TrimSpace(s)); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// firstTimeB returns the first of the timestamps that parses, else fallback, in UTC.
func firstTimeB(fallback time.Time, stamps ...string) time.Time {
	for _, s := range stamps {
		if t, ok := parseTimeB(s); ok {
			return t
		}
	}
	return fallback.UTC()
}

// contentKeyB is the dedupe key for vendors that give no event id: the vendor name and a
// hash of the event's identifying content.
func contentKeyB(vendor string, parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return vendor + ":h:" + hex.EncodeToString(sum[:16])
}

// newEventB returns an event of type t from vendor with the fields every webhook event
// shares.
func newEventB(vendor string, t mailtrail.EventType, at time.Time, vendorEventID string) mailtrail.Event {
	e := mailtrail.Event{Type: t, OccurredAt: at.UTC(), Source: mailtrail.SourceWebhook}
	e.Metadata.Vendor = vendor
	e.Metadata.VendorEventID = vendorEventID
	return e
}

// applyArgsB sets the attribution a vendor echoed back: our custom arguments looked up by
// get (ArgMessageID, ArgCampaignID, ArgCustomerID), then our message-id header when the
// argument is missing.
func applyArgsB(e *mailtrail.Event, get func(name string) string) {
	e.MessageID = strings.TrimSpace(get(ArgMessageID))
	e.CampaignID = strings.TrimSpace(get(ArgCampaignID))
	e.CustomerID = strings.TrimSpace(get(ArgCustomerID))
	if e.MessageID == "" {
		e.MessageID = strings.TrimSpace(get(headerMessageIDB))
	}
}

// trimAnglesB strips spaces and the angle brackets of a Message-ID.
func trimAnglesB(s string) string {
	return strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(s), "<"), ">"))
}

// RegisterB adds the vendors of this half of the package to r: ses (certificates fetched
// through f), resend, ocimail and smtp.
func RegisterB(r Registry, f Fetcher) {
	r.Register(NewSES(f))
	r.Register(NewResend())
	r.Register(NewOCIMail())
	r.Register(NewSMTP())
}
