package mailtrail

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// IDProblem and TextProblem answer a string of printable ASCII without their full checks.
// For every byte value, alone and between other characters, each must answer what the
// full checks answer: "" exactly when the string is valid UTF-8 without U+FFFD and
// without a control character (an id) or a NUL (a text).
func TestProblemsByteByByte(t *testing.T) {
	for c := 0; c < 256; c++ {
		for _, s := range []string{string([]byte{byte(c)}), "ab" + string([]byte{byte(c)}) + "cd"} {
			valid := utf8.ValidString(s) && !strings.ContainsRune(s, utf8.RuneError)
			control := strings.ContainsFunc(s, unicode.IsControl)
			if got := IDProblem(s, 100); (got == "") != (valid && !control) {
				t.Errorf("IDProblem(%q) = %q", s, got)
			}
			if got := TextProblem(s, 100); (got == "") != (valid && !strings.ContainsRune(s, 0)) {
				t.Errorf("TextProblem(%q) = %q", s, got)
			}
		}
	}
	for _, s := range []string{"naïve", "日本", "a\u0085b", "a\ufffdb", "tab\there", "line\nbreak"} {
		want := utf8.ValidString(s) && !strings.ContainsRune(s, utf8.RuneError) && !strings.ContainsFunc(s, unicode.IsControl)
		if got := IDProblem(s, 100); (got == "") != want {
			t.Errorf("IDProblem(%q) = %q", s, got)
		}
	}
	if IDProblem(strings.Repeat("a", 101), 100) == "" || TextProblem(strings.Repeat("a", 101), 100) == "" {
		t.Error("a string over the limit is accepted")
	}
}
