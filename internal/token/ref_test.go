package token

import (
	"bytes"
	"encoding/base64"
	"testing"

	"github.com/mailtrail/mailtrail"
)

func TestRef(t *testing.T) {
	a, b := mustRef(t), mustRef(t)
	if a == b || a == (Ref{}) {
		t.Fatalf("NewRef not random: %v %v", a, b)
	}
	s := a.String()
	if len(s) != 16 || !validAlphabet(s) {
		t.Fatalf("String = %q", s)
	}
	if got, err := ParseRef(s); err != nil || got != a {
		t.Fatalf("ParseRef(%q) = %v, %v", s, got, err)
	}
	if got := (Ref{}).String(); got != "AAAAAAAAAAAAAAAA" {
		t.Errorf("zero Ref = %q", got)
	}
	raw := a[:]
	for _, bad := range []string{
		"", s[:15], s + "A", s[:15] + "=", s + "==",
		base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xfb}, 12)), // "+" and "/"
		s[:8] + "\n" + s[8:15], s[:15] + "\n", "AAAAAAAAAAAAAAA.",
		base64.URLEncoding.EncodeToString(raw[:11]),
	} {
		if r, err := ParseRef(bad); err == nil || r != (Ref{}) || mailtrail.ErrorCode(err) != mailtrail.EINVALID {
			t.Errorf("ParseRef(%q) = %v, %v; want EINVALID", bad, r, err)
		}
	}
}
