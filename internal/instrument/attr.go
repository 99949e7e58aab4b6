package instrument

import (
	"bytes"
	"html"
	"strings"
)

// rawAttr is where one attribute sits in the raw bytes of a start tag.
type rawAttr struct {
	key              string // lower-cased, NUL as U+FFFD: as the tokenizer reports it
	keyStart         int
	valStart, valEnd int  // the value without its quotes
	end              int  // end of the attribute, closing quote included
	quote            byte // '"' or '\'', 0 if unquoted or without value
	dup              bool // a repeated key, which the tokenizer ignores
}

// isSpace reports whether c is HTML white space as the tokenizer sees it.
func isSpace(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f'
}

// scanAttrs returns the attributes of the raw start tag b ("<a ...>").
//
// x/net/html reports attribute values decoded but not where they are in the
// raw bytes, which we need to rewrite one value in place. This is a port of
// the tokenizer's readTag (x/net/html token.go) over a complete tag, so it
// finds the same attributes; the caller checks that the keys agree.
func scanAttrs(b []byte, dst []rawAttr) []rawAttr {
	n := len(b)
	i := 2 // "<" and the first letter of the name
	// readTagName
	for i < n {
		c := b[i]
		if isSpace(c) {
			i++
			break
		}
		if c == '/' || c == '>' {
			break
		}
		i++
	}
	skip := func() {
		for i < n && isSpace(b[i]) {
			i++
		}
	}
	skip()
	var seen [8]string
	names := seen[:0]
	for i < n && b[i] != '>' {
		a := rawAttr{keyStart: i}
		// readTagAttrKey
		keyEnd := n
	key:
		for i < n {
			c := b[i]
			i++
			switch c {
			case '=':
				if a.keyStart+1 == i {
					continue
				}
				fallthrough
			case ' ', '\n', '\r', '\t', '\f', '/', '>':
				i--
				keyEnd = i
				break key
			}
		}
		if i >= n {
			keyEnd = n
		}
		// readTagAttrVal
		a.valStart, a.valEnd, a.end = i, i, keyEnd
		scanVal(b, &i, &a)
		if keyEnd > a.keyStart {
			k := bytes.ReplaceAll(b[a.keyStart:keyEnd], []byte{0}, []byte("\ufffd"))
			a.key = asciiLower(k)
			for _, s := range names {
				if s == a.key {
					a.dup = true
				}
			}
			if !a.dup {
				names = append(names, a.key)
			}
			dst = append(dst, a)
		}
		skip()
	}
	return dst
}

// scanVal is the tokenizer's readTagAttrVal: it reads "= value" at *i, if any.
func scanVal(b []byte, i *int, a *rawAttr) {
	n := len(b)
	for *i < n && isSpace(b[*i]) {
		*i++
	}
	if *i >= n {
		return
	}
	c := b[*i]
	*i++
	if c == '/' {
		return
	}
	if c != '=' {
		*i--
		return
	}
	for *i < n && isSpace(b[*i]) {
		*i++
	}
	a.end = *i
	if *i >= n {
		return
	}
	q := b[*i]
	*i++
	switch q {
	case '>':
		*i--
		a.valStart, a.valEnd, a.end = *i, *i, *i
	case '"', '\'':
		a.valStart = *i
		for *i < n {
			c := b[*i]
			*i++
			if c == q {
				a.valEnd = *i - 1
				a.quote = q
				a.end = *i
				return
			}
		}
		a.valEnd, a.end = *i, *i
	default:
		a.valStart = *i - 1
		for *i < n {
			c := b[*i]
			*i++
			if isSpace(c) {
				a.valEnd = *i - 1
				a.end = a.valEnd
				return
			}
			if c == '>' {
				*i--
				a.valEnd = *i
				a.end = *i
				return
			}
		}
		a.valEnd, a.end = *i, *i
	}
}

// asciiLower lower-cases ASCII letters only, as the tokenizer does.
func asciiLower(b []byte) string {
	s := []byte(string(b))
	for i, c := range s {
		if 'A' <= c && c <= 'Z' {
			s[i] = c + 'a' - 'A'
		}
	}
	return string(s)
}

// attrValue returns v ready to replace the value of a (quotes included when
// the original value had none and v needs them).
func attrValue(v string, quote byte) string {
	e := html.EscapeString(v) // escapes both quote characters
	if quote != 0 || (e != "" && !strings.ContainsAny(e, " \t\n\r\f\"'=<>`")) {
		return e
	}
	return `"` + e + `"`
}
