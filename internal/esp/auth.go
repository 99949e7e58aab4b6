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

// Window is how far a signed timestamp may be from the time of arrival, either way.
const Window = 5 * time.Minute

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
	d := now.Sub(ts)
	return d <= Window && d >= -Window
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
