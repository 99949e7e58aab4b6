package esp

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"strings"
	"time"

	"github.com/mailtrail/mailtrail"
)

// Window is how far a signed timestamp may be from the time of arrival, either way, for
// the vendors that sign every delivery attempt afresh (Resend/Svix, generic).
const Window = 5 * time.Minute

// Retry horizons: how old a signed timestamp may be for the vendors whose retries repeat
// the original signed request instead of signing it again. With a ±Window check, an
// outage longer than Window would turn every retry into a 401 and lose the events. Within
// a horizon it is dedupe that stops a replay: the vendor's event id (SendGrid, SNS: inside
// the signature) is a durable dedupe key, and Mailgun's token is remembered by the caller
// (see MailgunToken). The future side stays Window (clock skew). See docs/webhooks.md.
const (
	// MailgunHorizon: Mailgun retries "during 8 hours" (5 m, 10 m, 15 m, 1 h, 2 h, 4 h)
	// with the signature block of the first attempt; plus an hour of margin.
	MailgunHorizon = 9 * time.Hour
	// SendGridHorizon: SendGrid retries for up to 24 h and does not document that a retry
	// is signed again; the signature covers the whole body with its sg_event_ids. Plus an
	// hour of margin.
	SendGridHorizon = 25 * time.Hour
	// SNSHorizon: a Notification's signed Timestamp is its publish time and every
	// delivery attempt repeats it. SNS's retry policy ends 3,600 s after the first
	// attempt, but the first attempt itself can wait (a throttled subscription's backlog),
	// and the signature covers the MessageId we dedupe on; a day bounds it.
	SNSHorizon = 24 * time.Hour
)

// errUnauthorized is the one answer to every failed credential check: it says nothing
// about which part failed.
func errUnauthorized() error {
	return mailtrail.Errorf(mailtrail.EUNAUTHORIZED, "webhook credentials or signature invalid")
}

// errMalformed wraps a parse failure in an EINVALID error.
func errMalformed(what string) error {
	return mailtrail.Errorf(mailtrail.EINVALID, "malformed %s payload", what)
}

// equal compares two secrets in constant time (for equal lengths; the length itself is
// not secret).
func equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// hmacSHA256 returns HMAC-SHA256(key, parts...).
func hmacSHA256(key []byte, parts ...[]byte) []byte {
	m := hmac.New(sha256.New, key)
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)
}

// withinWindow reports whether ts is within Window of now.
func withinWindow(ts, now time.Time) bool {
	return withinHorizon(ts, now, Window)
}

// withinHorizon reports whether ts is at most past before now and at most Window after it.
func withinHorizon(ts, now time.Time, past time.Duration) bool {
	d := now.Sub(ts)
	return d <= past && d >= -Window
}

// eachCredential calls ok with c and, during a rotation, with c.Previous; it reports
// whether any call accepted. Both are always tried so the timing does not tell which.
func eachCredential(c Credentials, ok func(Credentials) bool) bool {
	good := ok(c)
	if c.Previous != nil {
		if ok(*c.Previous) {
			good = true
		}
	}
	return good
}

// checkBasicOrBearer accepts an Authorization header that carries the connection's
// basic-auth user and password, or its bearer token. Empty configured secrets never match.
func checkBasicOrBearer(h string, c Credentials) bool {
	return eachCredential(c, func(c Credentials) bool {
		switch {
		case strings.HasPrefix(h, "Basic ") && c.Username != "" && c.Password != "":
			raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(h, "Basic "))
			if err != nil {
				return false
			}
			user, pass, found := strings.Cut(string(raw), ":")
			u := equal(user, c.Username)
			p := equal(pass, c.Password)
			return found && u && p
		case strings.HasPrefix(h, "Bearer ") && c.BearerToken != "":
			return equal(strings.TrimPrefix(h, "Bearer "), c.BearerToken)
		}
		return false
	})
}
