package main

import (
	"bytes"
	"fmt"
	"image/gif"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/mailtrail/mailtrail/bench/journal"
)

func TestPixelIsTransparentGIF(t *testing.T) {
	if len(pixel) != 43 {
		t.Fatalf("pixel is %d bytes, want 43", len(pixel))
	}
	img, err := gif.Decode(bytes.NewReader(pixel))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 1 || b.Dy() != 1 {
		t.Fatalf("pixel is %v, want 1×1", b)
	}
	if _, _, _, a := img.At(0, 0).RGBA(); a != 0 {
		t.Fatalf("pixel alpha %d, want transparent", a)
	}
}

func newTestServer(t *testing.T) (*httptest.Server, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "events.log")
	j, err := journal.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	s := &server{journal: j, log: slog.New(slog.DiscardHandler)}
	srv := httptest.NewServer(s.routes())
	t.Cleanup(func() {
		srv.Close()
		j.Close()
	})
	return srv, path
}

func TestRoutes(t *testing.T) {
	srv, path := newTestServer(t)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	resp, err := client.Get(srv.URL + "/api/track/open/tok1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/gif" ||
		resp.Header.Get("Cache-Control") != "no-store, no-cache, must-revalidate, private" ||
		resp.Header.Get("Pragma") != "no-cache" || resp.Header.Get("Expires") != "0" {
		t.Errorf("open: %d %v", resp.StatusCode, resp.Header)
	}

	resp, err = client.Get(srv.URL + "/api/track/click/tok2")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != clickTarget {
		t.Errorf("click: %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}

	body := `{"events":[{"event_type":"sent","customer_id":"c1","occurred_at":"2026-11-27T10:00:00Z","idempotency_key":"k-1"},` +
		`{"event_type":"clicked","customer_id":"c2","occurred_at":"2026-11-27T10:00:00Z","metadata":{"link_url":"https://example.com/a"}}]}`
	resp, err = client.Post(srv.URL+"/api/v1/events", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	out.ReadFrom(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || strings.TrimSpace(out.String()) != `{"accepted":2}` {
		t.Errorf("events: %d %q", resp.StatusCode, out.String())
	}

	// Every answer came after its lines were written.
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "open\ttok1\t") || !strings.HasPrefix(lines[1], "click\ttok2\t") {
		t.Errorf("journal:\n%s", b)
	}
}

func TestJournalConcurrentAppends(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.log")
	j, err := journal.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			if err := j.Append(fmt.Appendf(nil, "line %d\n", i)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), "\n"); n != 200 {
		t.Errorf("journal has %d lines, want 200", n)
	}
	if err := j.Append([]byte("late\n")); err != journal.ErrClosed {
		t.Errorf("Append after Close = %v, want journal.ErrClosed", err)
	}
}
