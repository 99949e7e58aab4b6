package bouncemail

import (
	"strings"

	"github.com/mailtrail/mailtrail"
)

// softPermanent lists RFC 3463 codes of class 5 that say nothing against the address:
// the mailbox exists but is full, the message is too big or was refused for its content or
// the sender's reputation, or the sending MTA gave up retrying. Suppressing the address
// at once would be wrong, so they count as soft (five in a row still suppress).
// Keys are "subject.detail".
var softPermanent = map[string]bool{
	"2.2": true, // mailbox full
	"2.3": true, // message length exceeds administrative limit
	"3.1": true, // mail system full
	"3.2": true, // system not accepting network messages
	"3.4": true, // message too big for system
	"4.5": true, // mail system congestion
	"4.7": true, // delivery time expired
	"5.3": true, // too many recipients
}

// Classify returns the bounce type that an RFC 3463 status ("5.1.1") and an SMTP
// diagnostic ("550 5.1.1 user unknown") say, or "" when neither carries a code.
// Class 4 is soft; class 5 is hard except the codes in softPermanent and every X.6.X
// (media) and X.7.X (security or policy: blocks, spam, DMARC) code, which are soft.
// The status wins over the diagnostic; a bare 3-digit reply code is used last.
func Classify(status, diagnostic string) mailtrail.BounceType {
	code := status
	if !isEnhanced(code) {
		code = Enhanced(diagnostic)
	}
	if code != "" {
		class, rest, _ := strings.Cut(code, ".")
		subject, detail, _ := strings.Cut(rest, ".")
		switch {
		case class == "4":
			return mailtrail.BounceSoft
		case subject == "6" || subject == "7" || softPermanent[subject+"."+detail]:
			return mailtrail.BounceSoft
		default:
			return mailtrail.BounceHard
		}
	}
	switch basic := Basic(diagnostic); {
	case strings.HasPrefix(basic, "4"):
		return mailtrail.BounceSoft
	case strings.HasPrefix(basic, "5"):
		return mailtrail.BounceHard
	}
	return ""
}

// Enhanced returns the first RFC 3463 status code ("5.1.1") found in s, or "".
func Enhanced(s string) string {
	for _, w := range strings.FieldsFunc(s, codeSep) {
		if isEnhanced(w) {
			return w
		}
	}
	return ""
}

// Basic returns the first SMTP reply code ("550") found in s, or "". Multi-line replies
// write it as "550-5.1.1"; that form is found too.
func Basic(s string) string {
	for _, w := range strings.FieldsFunc(s, func(r rune) bool { return codeSep(r) || r == '-' }) {
		if len(w) == 3 && (w[0] == '4' || w[0] == '5') && isDigits(w[1:]) {
			return w
		}
	}
	return ""
}

func codeSep(r rune) bool {
	return r == ' ' || r == '\t' || r == ';' || r == ',' || r == '(' || r == ')' || r == '[' || r == ']' || r == '#' || r == ':' || r == '<' || r == '>'
}

// isEnhanced reports whether s is a class.subject.detail status with class 2, 4 or 5.
func isEnhanced(s string) bool {
	s = strings.TrimPrefix(s, "#")
	parts := strings.Split(s, ".")
	if len(parts) != 3 || len(parts[0]) != 1 || !strings.ContainsAny(parts[0], "245") {
		return false
	}
	return len(parts[1]) >= 1 && len(parts[1]) <= 3 && isDigits(parts[1]) &&
		len(parts[2]) >= 1 && len(parts[2]) <= 3 && isDigits(parts[2])
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}
