package instrument

import "strings"

// text rewrites the plain-text part: http(s) URLs become click URLs (when
// clicks are tracked) and the unsubscribe placeholder becomes the
// unsubscribe URL.
func (r *rewriter) text(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 256)
	at := 0 // s[:at] is written
	for i := 0; i < len(s); {
		j := strings.IndexAny(s[i:], "{hH")
		if j < 0 {
			break
		}
		i += j
		if n := placeholderAt(s[i:]); n > 0 {
			b.WriteString(s[at:i])
			b.WriteString(r.unsub)
			i += n
			at = i
			continue
		}
		if !r.trackClicks || !urlStart(s, i) {
			i++
			continue
		}
		end := urlEnd(s, i)
		u := s[i:end]
		if hasPlaceholder(u) {
			b.WriteString(s[at:i])
			b.WriteString(replacePlaceholder(u, r.unsub))
		} else if dest, ok := trackableURL(u); ok {
			b.WriteString(s[at:i])
			b.WriteString(r.track(dest))
		} else {
			i = end
			continue
		}
		i = end
		at = i
	}
	b.WriteString(s[at:])
	return b.String()
}

// urlStart reports whether an http:// or https:// URL starts at s[i]: the
// scheme, in any case, not glued to a preceding word.
func urlStart(s string, i int) bool {
	if i > 0 && isWordByte(s[i-1]) {
		return false
	}
	return hasPrefixFold(s[i:], "http://") || hasPrefixFold(s[i:], "https://")
}

// isWordByte reports whether c is an ASCII letter or digit.
func isWordByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// urlEnd returns the end of the URL that starts at s[i]. It stops at white
// space, '<', '>' or '"'. Unless the URL is enclosed in angle brackets
// ("<https://x>"), punctuation that ends a sentence is not part of it, nor a
// closing bracket that has no opening one in the URL.
func urlEnd(s string, i int) int {
	end := i
	for end < len(s) {
		c := s[end]
		if c <= ' ' || c == '<' || c == '>' || c == '"' || c == 0x7f || strings.HasPrefix(s[end:], "\u00a0") {
			break
		}
		end++
	}
	if i > 0 && s[i-1] == '<' && end < len(s) && s[end] == '>' {
		return end
	}
	for end > i {
		switch c := s[end-1]; c {
		case '.', ',', ';', ':', '!', '?', '\'':
			end--
			continue
		case ')', ']', '}':
			if strings.Count(s[i:end], opening(c)) < strings.Count(s[i:end], string(c)) {
				end--
				continue
			}
		}
		break
	}
	return end
}

// opening returns the opening bracket of the closing bracket c.
func opening(c byte) string {
	switch c {
	case ')':
		return "("
	case ']':
		return "["
	}
	return "{"
}
