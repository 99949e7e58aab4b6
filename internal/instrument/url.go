package instrument

import (
	"net/url"
	"strings"
)

// Spellings of the unsubscribe placeholder.
var placeholders = [...]string{"{{unsubscribe_url}}", "{{ unsubscribe_url }}"}

// placeholderAt returns the length of the placeholder that starts s, or 0.
func placeholderAt(s string) int {
	for _, p := range placeholders {
		if strings.HasPrefix(s, p) {
			return len(p)
		}
	}
	return 0
}

// hasPlaceholder reports whether s holds the unsubscribe placeholder.
func hasPlaceholder(s string) bool {
	for _, p := range placeholders {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}

// replacePlaceholder replaces every unsubscribe placeholder in s with with.
func replacePlaceholder(s, with string) string {
	for _, p := range placeholders {
		s = strings.ReplaceAll(s, p, with)
	}
	return s
}

// templateMarkers are the delimiters of template languages (Handlebars,
// Liquid, Mailchimp merge tags, ERB, AMPscript, Go). A URL holding one was not
// rendered yet: tracking it would freeze the placeholder in the link table.
var templateMarkers = [...]string{"{{", "}}", "{%", "%}", "*|", "|*", "%%", "<%", "%>", "[[", "]]"}

// trackableURL returns the destination to record for an href or a URL found
// in text, and whether it is an absolute http(s) URL worth tracking. Like a
// browser, it trims surrounding whitespace and drops tabs and newlines. The
// scheme is lower-cased; the rest is kept as written.
func trackableURL(v string) (string, bool) {
	s := strings.Trim(v, " \t\n\r\f\v")
	if strings.ContainsAny(s, "\t\n\r") {
		s = strings.NewReplacer("\t", "", "\n", "", "\r", "").Replace(s)
	}
	var scheme string
	switch {
	case hasPrefixFold(s, "http://"):
		scheme = "http"
	case hasPrefixFold(s, "https://"):
		scheme = "https"
	default:
		return "", false
	}
	s = scheme + s[len(scheme):]
	for _, m := range templateMarkers {
		if strings.Contains(s, m) {
			return "", false
		}
	}
	p, err := url.Parse(s)
	if err != nil || p.Host == "" || p.Hostname() == "" {
		return "", false
	}
	return s, true
}

// nextPlaceholder returns the index and length of the first placeholder in
// s, or -1, 0.
func nextPlaceholder(s string) (int, int) {
	for at := 0; ; {
		i := strings.Index(s[at:], "{{")
		if i < 0 {
			return -1, 0
		}
		at += i
		if n := placeholderAt(s[at:]); n > 0 {
			return at, n
		}
		at++
	}
}
