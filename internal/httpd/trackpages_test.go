package httpd

import (
	"net/http/httptest"
	"testing"
)

func TestPageLang(t *testing.T) {
	for _, tc := range []struct{ header, want string }{
		{"", "en"}, {"fr-FR,fr;q=0.9,en;q=0.8", "fr"}, {"de", "de"}, {"es-419, en;q=0.7", "es"},
		{"en;q=0.5, fr;q=0.9", "fr"}, {"pt-BR, it", "en"}, {"pt-BR, de;q=0.3", "de"}, {"fr;q=0, de;q=bogus", "en"},
		{"*", "en"}, {"EN-gb", "en"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Accept-Language", tc.header)
		if got := pageLang(r); got != tc.want {
			t.Errorf("Accept-Language %q: %s, want %s", tc.header, got, tc.want)
		}
	}
	// Every language has every page.
	for _, l := range pageLangs {
		for _, k := range []string{pageBroken, pageClickRetry, pageUnsubInvalid, pageUnsubConfirm, pageUnsubBad, pageUnsubRetry, pageUnsubDone, pageHoneypot, "button"} {
			if pageTexts[l][k][0] == "" || k != "button" && pageTexts[l][k][1] == "" {
				t.Errorf("%s lacks %s", l, k)
			}
		}
	}
}
