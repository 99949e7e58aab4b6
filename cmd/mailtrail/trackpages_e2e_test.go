package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// A broken or expired click link answers a small HTML page (never JSON, never a redirect),
// and the recipient pages speak the recipient's language.
func TestRecipientPages(t *testing.T) {
	h := newHarness(t)
	_, key := h.org("acme")
	m := h.instrument(key, "c", "u1")
	click := m.Tracking.ClickURLs[0]
	get := func(u, lang string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", u, nil)
		if lang != "" {
			req.Header.Set("Accept-Language", lang)
		}
		resp, err := h.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	broken := []string{
		click[:len(click)-3] + "xyz", // a token whose signature fails
		h.srv.URL + "/api/track/click/" + strings.Repeat("A", 40),
		h.srv.URL + "/api/track/click/a/../b", // a path the mux would clean
	}
	for _, u := range broken {
		resp, body := get(u, "")
		if resp.StatusCode != 404 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || resp.Header.Get("Location") != "" ||
			!strings.Contains(body, "This link does not work") || strings.Contains(body, `"error"`) {
			t.Errorf("%s: %d %q %q\n%s", u, resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Location"), body)
		}
	}
	if resp, body := get(broken[0], "fr-FR,fr;q=0.9,en;q=0.8"); !strings.Contains(body, "Ce lien ne fonctionne pas") || resp.Header.Get("Content-Language") != "fr" {
		t.Errorf("French broken link page: %s", body)
	}
	// A valid link still redirects.
	if resp, _ := get(click, "de"); resp.StatusCode != 302 || resp.Header.Get("Location") != m.Links[0] {
		t.Errorf("valid click: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	for lang, want := range map[string][]string{
		"":                   {`lang="en"`, "Confirm that you no longer want to receive these emails.", ">Unsubscribe</button>"},
		"fr":                 {`lang="fr"`, "Confirmez que vous ne souhaitez plus recevoir ces e-mails.", ">Me désinscrire</button>"},
		"de-DE,de;q=0.9":     {`lang="de"`, "Bestätigen Sie, dass Sie diese E-Mails nicht mehr erhalten möchten.", ">Abmelden</button>"},
		"es-419":             {`lang="es"`, "Confirme que ya no desea recibir estos correos.", ">Darme de baja</button>"},
		"pt-BR, en;q=0.1":    {`lang="en"`},
		"en;q=0.2, es;q=0.8": {`lang="es"`},
	} {
		resp, body := get(m.Tracking.UnsubscribeURL, lang)
		for _, w := range want {
			if resp.StatusCode != 200 || !strings.Contains(body, w) {
				t.Errorf("unsubscribe page for %q lacks %q:\n%s", lang, w, body)
			}
		}
	}
	// The confirmation after the button, in German.
	req, _ := http.NewRequest("POST", m.Tracking.UnsubscribeURL, strings.NewReader("List-Unsubscribe=One-Click"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept-Language", "de")
	resp, err := h.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), "Sie sind abgemeldet") {
		t.Errorf("unsubscribed in German: %d %s", resp.StatusCode, b)
	}
	if got := h.report(key, "c").Counts.Unsubscribed; got != 1 {
		t.Errorf("unsubscribed %d", got)
	}
}
