package mailtrail

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Limits on what clients send, the same on every door (API, CSV import, dashboard). The
// OpenAPI document states them.
const (
	// MaxIDBytes bounds an identifier that is not a campaign or customer id: message,
	// ESP message and vendor event ids, idempotency keys.
	MaxIDBytes = 256
	// MaxURLBytes bounds a link URL, tracked or reported.
	MaxURLBytes = 8192
	// MaxTextBytes bounds each free-text metadata field (reason, user agent, client, …).
	MaxTextBytes = 1024
	// MaxRawBytes bounds metadata.raw, the vendor's payload kept as it came.
	MaxRawBytes = 16384
)

// MinEventTime is the earliest occurred_at accepted: no email event predates it, and
// years such as 0000, 0001 or 1969 are clock or parsing errors.
var MinEventTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// IDProblem returns why s cannot be an identifier or an address of at most max bytes, or
// "" when it can: invalid UTF-8, U+FFFD (what invalid UTF-8 becomes when JSON is decoded:
// two distinct ids would merge into one), NUL or any other control character.
func IDProblem(s string, max int) string {
	if len(s) > max {
		return fmt.Sprintf("is %d bytes; the limit is %d", len(s), max)
	}
	if printableASCII(s) {
		return "" // nearly every id: valid UTF-8 without U+FFFD or a control character
	}
	if !utf8.ValidString(s) || strings.ContainsRune(s, utf8.RuneError) {
		return "is not valid UTF-8"
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return fmt.Sprintf("holds the control character %U", r)
		}
	}
	return ""
}

// printableASCII reports whether every byte of s is printable ASCII (0x20 to 0x7E): such
// a string is valid UTF-8 and holds no control character and no U+FFFD. One pass, where
// the checks it stands for take three.
func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}

// TextProblem returns why s cannot be a free-text value of at most max bytes, or "" when
// it can: invalid UTF-8 or a NUL. Other characters, newlines among them, are kept.
func TextProblem(s string, max int) string {
	if len(s) > max {
		return fmt.Sprintf("is %d bytes; the limit is %d", len(s), max)
	}
	if printableASCII(s) {
		return ""
	}
	if !utf8.ValidString(s) || strings.ContainsRune(s, utf8.RuneError) {
		return "is not valid UTF-8"
	}
	if strings.IndexByte(s, 0) >= 0 {
		return "holds a NUL character"
	}
	return ""
}

// TimeProblem returns why t cannot be an event's occurred_at given the time now, or ""
// when it can: before MinEventTime, or more than MaxFutureSkew after now.
func TimeProblem(t, now time.Time) string {
	if t.Before(MinEventTime) {
		return "is before 2000-01-01T00:00:00Z"
	}
	if t.After(now.Add(MaxFutureSkew)) {
		return "is more than 5 minutes in the future"
	}
	return ""
}

// MaxFutureSkew is how far in the future an occurred_at may be: clocks differ a little,
// events do not happen later than they are reported.
const MaxFutureSkew = 5 * time.Minute
