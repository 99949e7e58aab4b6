package httpd

import "testing"

// The unsubscribe button's text stays readable on any brand colour.
func TestInkOn(t *testing.T) {
	for c, want := range map[string]string{"#000000": "#fff", "#ffffff": "#1f2933", "#2f6fed": "#fff", "#c0ffee": "#1f2933",
		"#d1366b": "#fff", "#ffd400": "#1f2933"} {
		if got := inkOn(c); got != want {
			t.Errorf("inkOn(%s) = %s, want %s", c, got, want)
		}
	}
}
