package httpd

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path"
	"testing"

	"github.com/mailtrail/mailtrail/internal/ingest"
	"github.com/mailtrail/mailtrail/internal/store/sqlite"
	"github.com/mailtrail/mailtrail/internal/token"
)

// FuzzClickRedirect feeds the click route any token (seeded with real ones and their
// neighbours): the answer is a 302 whose Location is byte for byte a URL recorded when
// the message was instrumented, or no Location at all. Redirects carry no referrer and
// are not indexed.
func FuzzClickRedirect(f *testing.F) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, f.TempDir()+"/m.db", sqlite.Options{Synchronous: "OFF"})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { db.Close() })
	p := ingest.New(db, ingest.Options{})
	go p.Run(ctx)
	f.Cleanup(func() { p.Close(ctx) })
	_, key, err := db.CreateOrg(ctx, "acme", "UTC")
	if err != nil {
		f.Fatal(err)
	}
	signer, err := token.NewSigner(token.Key{ID: 1, Secret: []byte("fuzz secret fuzz secret fuzz sec")})
	if err != nil {
		f.Fatal(err)
	}
	s := New(db, p, signer, nil, Options{PublicURL: "https://mt.example", TrackingWait: 1})
	links := []string{"https://shop.example.com/a?x=1&y=2", "http://blog.example.com/b#frag", "https://example.com/c"}
	html := ""
	for _, l := range links {
		html += `<a href="` + l + `">x</a>`
	}
	body, _ := json.Marshal(map[string]any{"campaign_id": "c", "customer_id": "u", "customer_email": "u@example.com", "html": html,
		"honeypot": false})
	req := httptest.NewRequest("POST", "/api/v1/messages", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	var m struct {
		Tracking struct {
			ClickURLs []string `json:"click_urls"`
			OpenURL   string   `json:"open_url"`
		} `json:"tracking"`
	}
	if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &m) != nil || len(m.Tracking.ClickURLs) != len(links) {
		f.Fatalf("instrument: %d %s", rec.Code, rec.Body.String())
	}
	allowed := map[string]bool{}
	for _, l := range links {
		allowed[l] = true
	}
	for _, u := range m.Tracking.ClickURLs {
		tok := path.Base(u)
		f.Add(tok)
		f.Add(tok[:len(tok)-1])
		f.Add(tok + "A")
		f.Add(string(append([]byte{tok[0] ^ 1}, tok[1:]...)))
	}
	// The property is not empty: a real token does redirect, to its own link.
	for i, u := range m.Tracking.ClickURLs {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest(http.MethodHead, "/api/track/click/"+path.Base(u), nil))
		if rec.Code != http.StatusFound || rec.Header().Get("Location") != links[i] {
			f.Fatalf("link %d: %d %q", i, rec.Code, rec.Header().Get("Location"))
		}
	}
	f.Add(path.Base(m.Tracking.OpenURL)) // an open token is not a click token
	f.Add("")
	f.Add("../../admin")
	f.Fuzz(func(t *testing.T, tok string) {
		req, err := http.NewRequest(http.MethodHead, "/api/track/click/"+tok, nil)
		if err != nil {
			return // not a request path at all
		}
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		loc := rec.Header().Get("Location")
		switch {
		case rec.Code == http.StatusFound:
			if !allowed[loc] {
				t.Fatalf("token %q redirected to %q, not a recorded URL", tok, loc)
			}
			if rec.Header().Get("Referrer-Policy") != "no-referrer" || rec.Header().Get("X-Robots-Tag") == "" {
				t.Fatalf("redirect headers %v", rec.Header())
			}
		case loc != "":
			t.Fatalf("status %d with Location %q", rec.Code, loc)
		}
	})
}
