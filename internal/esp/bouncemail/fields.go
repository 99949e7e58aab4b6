package bouncemail

import (
	"bufio"
	"bytes"
	"net/textproto"
	"strings"
)

// field is one "Name: value" line of a delivery-status or feedback-report body, unfolded.
type field struct{ name, value string }

// blocks splits a delivery-status or feedback-report body into its blocks of fields
// (RFC 3464 §2.1: groups separated by blank lines). Folded lines are joined with one
// space; lines that are not fields are skipped. Duplicate names are kept in order.
func blocks(body string) [][]field {
	var out [][]field
	var cur []field
	for _, line := range strings.Split(strings.ReplaceAll(body, "\r\n", "\n"), "\n") {
		if strings.TrimSpace(line) == "" {
			if len(cur) > 0 {
				out = append(out, cur)
				cur = nil
			}
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			if len(cur) > 0 {
				cur[len(cur)-1].value += " " + strings.TrimSpace(line)
			}
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		cur = append(cur, field{textproto.CanonicalMIMEHeaderKey(strings.TrimSpace(name)), strings.TrimSpace(value)})
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// get returns the first value of the field called name (canonical form), or "".
func get(b []field, name string) string {
	for _, f := range b {
		if f.name == name {
			return f.value
		}
	}
	return ""
}

// all returns every value of the field called name.
func all(b []field, name string) []string {
	var vs []string
	for _, f := range b {
		if f.name == name {
			vs = append(vs, f.value)
		}
	}
	return vs
}

// isRecipientBlock reports whether b is a DSN per-recipient block.
func isRecipientBlock(b []field) bool {
	return get(b, "Final-Recipient") != "" || get(b, "Original-Recipient") != "" || get(b, "Action") != ""
}

// afterType drops the "type;" prefix of address-type, mta-name-type and diagnostic-type
// values ("rfc822; bob@example.com", "smtp; 550 …", "dns; mx.example.com").
func afterType(v string) string {
	if t, rest, ok := strings.Cut(v, ";"); ok && !strings.ContainsAny(t, " <@") {
		return strings.TrimSpace(rest)
	}
	return strings.TrimSpace(v)
}

// firstWord returns v up to the first space or comment.
func firstWord(v string) string {
	v = strings.TrimSpace(v)
	if i := strings.IndexAny(v, " \t("); i >= 0 {
		v = v[:i]
	}
	return v
}

func newBufReader(b []byte) *bufio.Reader { return bufio.NewReader(bytes.NewReader(b)) }
