package main

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// mountTmpfs mounts a tmpfs of size (e.g. "16m") on a new directory and unmounts it at the
// end of the test (after every cleanup registered later, such as the harness's). It skips
// the test where mounting is refused (not root, no CAP_SYS_ADMIN).
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs (needs root): %v %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", dir, err, out)
		}
	})
	return dir
}

// fillDisk writes a file until the file system is full and returns its path.
func fillDisk(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "filler")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("fill: %v", err)
			}
			break
		}
	}
	// The last partial blocks too, so that no write of a page can land.
	for _, n := range []int{4096, 512, 1} {
		for {
			if _, err := f.Write(buf[:n]); err != nil {
				break
			}
		}
	}
	return p
}

// truncateWAL empties the store's WAL (a TRUNCATE checkpoint from another connection) so
// that the next write must grow a file: a WAL reused from its start would take a small
// write even on a full disk.
func truncateWAL(t *testing.T, dbPath string) {
	t.Helper()
	c, err := sql.Open("sqlite", "file:"+dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// A checkpoint that meets a reader or the writer in the store (the projector, the
	// segment indexer) answers busy: it is tried again, as SQLite's busy handler would.
	var busy, frames, done int
	for try := 0; ; try++ {
		err := c.QueryRowContext(context.Background(), "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &frames, &done)
		if err != nil || busy == 0 {
			if err != nil {
				t.Fatalf("checkpoint: %v", err)
			}
			return
		}
		if try == 100 {
			t.Fatalf("checkpoint: busy after %d tries", try+1)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// On a full disk every write path answers 503 with Retry-After (never 500, never 2xx),
// stores nothing, /readyz answers 503 and a metric counts the failures; once space is free
// again the first write succeeds and /readyz is ready.
func TestFullDiskAnswers503(t *testing.T) {
	dir := mountTmpfs(t, "24m")
	h := newHarness(t, func(c *Config) { c.DataDir = dir })
	_, key := h.org("acme")
	m := h.instrument(key, "c1", "u1")
	if st := storeReadiness(h); st != "ok" {
		t.Fatalf("readyz before: store %q", st)
	}

	truncateWAL(t, filepath.Join(dir, "mailtrail.db"))
	filler := fillDisk(t, dir)

	bigHTML := "<p>" + strings.Repeat("<a href=\"https://shop.example.com/x\">x</a> ", 2000) + "</p>"
	recipients := make([]map[string]string, 200)
	for i := range recipients {
		recipients[i] = map[string]string{"customer_id": "r" + strconv.Itoa(i), "customer_email": "r" + strconv.Itoa(i) + "@example.com"}
	}
	events := make([]map[string]any, 2000)
	for i := range events {
		events[i] = map[string]any{"event_type": "sent", "campaign_id": "c2", "customer_id": "e" + strconv.Itoa(i)}
	}
	writes := []struct {
		name, method, path, bearer string
		body                       any
	}{
		{"organization", "POST", "/api/v1/admin/organizations", h.admin, map[string]string{"name": "full"}},
		{"messages", "POST", "/api/v1/messages", key, map[string]any{"campaign_id": "c2", "html": bigHTML, "recipients": recipients}},
		{"suppressions", "POST", "/api/v1/suppressions", key, map[string]any{"email": "blocked@example.com", "reason": "manual"}},
		{"events", "POST", "/api/v1/events", key, map[string]any{"events": events}},
	}
	for _, w := range writes {
		r := h.do(w.method, w.path, w.bearer, w.body, nil)
		if r.StatusCode != 503 || r.Header.Get("Retry-After") == "" {
			t.Errorf("%s on a full disk: %d, Retry-After %q; want 503 with Retry-After", w.name, r.StatusCode, r.Header.Get("Retry-After"))
		}
	}
	if r := h.postForm(m.Tracking.UnsubscribeURL, false); r.StatusCode != 503 || r.Header.Get("Retry-After") == "" {
		t.Errorf("unsubscribe on a full disk: %d, Retry-After %q", r.StatusCode, r.Header.Get("Retry-After"))
	}
	if r := h.do("GET", "/readyz", "", nil, nil); r.StatusCode != 503 || storeReadiness(h) == "ok" {
		t.Errorf("readyz with writes failing: %d, store %q; want 503, not ok", r.StatusCode, storeReadiness(h))
	}
	if line := h.metric("mailtrail_store_unavailable_total"); line == "" || strings.HasSuffix(line, " 0") {
		t.Errorf("metric: %q, want a count above 0", line)
	}

	if r := h.do("GET", "/readyz", "", nil, nil); r.StatusCode != 503 || storeReadiness(h) == "ok" {
		t.Errorf("readyz again with the disk still full: %d, store %q; want 503, not ok", r.StatusCode, storeReadiness(h))
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	// Readiness comes back by itself (its own probe write), with no client write.
	if st := storeReadiness(h); st != "ok" {
		t.Errorf("readyz once space is free: store %q, want ok", st)
	}
	var sup struct {
		Suppressions []struct{ Email string } `json:"suppressions"`
	}
	h.do("GET", "/api/v1/suppressions", key, nil, &sup)
	if len(sup.Suppressions) != 0 {
		t.Errorf("a refused write was stored: %+v", sup.Suppressions)
	}
	if r := h.do("POST", "/api/v1/suppressions", key, map[string]any{"email": "blocked@example.com", "reason": "manual"}, nil); r.StatusCode/100 != 2 {
		t.Fatalf("suppression once space is free: %d", r.StatusCode)
	}
	if r := h.postForm(m.Tracking.UnsubscribeURL, false); r.StatusCode != 200 {
		t.Errorf("unsubscribe once space is free: %d", r.StatusCode)
	}
}

// storeReadiness is the store's entry of /readyz's checks (the in-process harness runs no
// background parts, so the answer as a whole is 503 there).
func storeReadiness(h *harness) string {
	h.t.Helper()
	var out struct {
		Checks map[string]string `json:"checks"`
	}
	h.do("GET", "/readyz", "", nil, &out)
	return out.Checks["store"]
}
