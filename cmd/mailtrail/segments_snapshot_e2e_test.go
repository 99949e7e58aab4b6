package main

import (
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Issue 16: a clean shutdown, and serve every --segment-snapshot-interval while it runs,
// write the segment index's snapshot; the next start, after a kill too, loads it and
// reads the events committed since from the store (ready at once, the same answers); an
// erasure (through the API or while the server is down) removes it and the next start
// builds the index from the store as before.
func TestSegmentIndexSnapshotRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the real binary; skipped with -short")
	}
	ctx := t.Context()
	bin := buildBinary(t)
	dir := filepath.Join(t.TempDir(), "data")
	snapPath := filepath.Join(dir, segmentSnapshotFile)
	c := &http.Client{Timeout: 15 * time.Second}
	d := startDaemon(t, bin, dir, crashAdmin)
	var org struct {
		ID     string `json:"id"`
		APIKey string `json:"api_key"`
	}
	if _, err := doJSON(ctx, c, http.MethodPost, d.base+"/api/v1/admin/organizations", crashAdmin, map[string]string{"name": "s"}, &org); err != nil {
		t.Fatal(err)
	}
	day := 24 * time.Hour
	post := func(d *daemon, evs ...map[string]any) {
		t.Helper()
		if _, err := doJSON(ctx, c, http.MethodPost, d.base+"/api/v1/events", org.APIKey, map[string]any{"events": evs}, nil); err != nil {
			t.Fatal(err)
		}
	}
	var evs []map[string]any
	for i := range 60 {
		cust := "cust-" + string(rune('a'+i%26)) + string(rune('a'+i/26))
		evs = append(evs, segEvent("sent", "spring", cust, time.Duration(40-i%30)*day, nil))
		if i%2 == 0 {
			evs = append(evs, segEvent("opened", "spring", cust, time.Duration(i%30)*day, nil))
		}
		if i%3 == 0 {
			evs = append(evs, segEvent("clicked", "spring", cust, time.Duration(i%20)*day, map[string]any{"link_url": "https://shop.example.com/a"}))
		}
	}
	post(d, evs...)
	rules := []string{
		`{"has_done":{"event":"opened","within":{"value":10,"unit":"DAY"}}}`,
		`{"has_not_done":{"event":"opened","within":{"value":30,"unit":"DAY"}}}`,
		`{"and":[{"has_done":{"event":"clicked","link_url":"https://shop.example.com/a"}},{"not":{"has_done":{"event":"opened","within":{"value":5,"unit":"DAY"}}}}]}`,
		`{"has_done":{"event":"sent","campaign_id":"spring","within":{"value":20,"unit":"DAY"}}}`,
	}
	answers := func(d *daemon) [][]string {
		t.Helper()
		var out [][]string
		for _, r := range rules {
			var a segAnswer
			if _, err := doJSON(ctx, c, http.MethodPost, d.base+"/api/v1/segments/evaluate?limit=1000", org.APIKey, jsonRaw(r), &a); err != nil {
				t.Fatalf("%s: %v", r, err)
			}
			out = append(out, a.CustomerIDs)
		}
		return out
	}
	loaded := func(d *daemon) string {
		t.Helper()
		return strconv.Itoa(metricValue(t, c, d.base, "mailtrail_segment_index_loaded_from_snapshot"))
	}
	// answersWith waits until the first rule's answer names cust (an event just posted).
	answersWith := func(d *daemon, cust string) [][]string {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			got := answers(d)
			if slices.Contains(got[0], cust) {
				return got
			}
			if time.Now().After(deadline) {
				t.Fatalf("the opening of %s never showed up: %v", cust, got[0])
			}
		}
	}
	exists := func() bool {
		_, err := os.Stat(snapPath)
		return !errors.Is(err, os.ErrNotExist)
	}
	var before [][]string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if before = answers(d); len(before[0]) == 10 { // i = 0, 2, 4, 6, 8, 30, …, 38
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("opened within 10 days: %v, want 10 customers", before[0])
		}
	}
	if n := len(before[0]) + len(before[1]) + len(before[2]); n == 0 || len(before[1]) == 0 {
		t.Fatalf("the rules select nothing: %v", before)
	}
	if v := loaded(d); v != "0" {
		t.Fatalf("first start: loaded_from_snapshot %s, want 0", v)
	}
	if exists() {
		t.Fatal("a snapshot exists before the first interval or stop")
	}

	// A clean stop writes the snapshot; the next start loads it, and keeps the file (a
	// start after a crash loads it too, with the events since).
	if err := d.stop(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	if !exists() {
		t.Fatal("no snapshot after a clean shutdown")
	}
	d = startDaemon(t, bin, dir, crashAdmin)
	if v := loaded(d); v != "1" {
		t.Fatalf("after a clean shutdown: loaded_from_snapshot %s, want 1\n%s", v, d.logs.tail(2000))
	}
	if got := answers(d); !slices.EqualFunc(got, before, slices.Equal) {
		t.Fatalf("answers after loading the snapshot %v, before %v", got, before)
	}
	// Events after the load show up.
	post(d, segEvent("opened", "spring", "cust-new", time.Hour, nil))
	after := answersWith(d, "cust-new")

	// A kill: the next start loads the snapshot of the last clean stop and reads the
	// events committed since from the store, with the same answers.
	d.kill(t)
	d = startDaemon(t, bin, dir, crashAdmin)
	if v := loaded(d); v != "1" {
		t.Fatalf("after a kill: loaded_from_snapshot %s, want 1 (the snapshot and the events since)\n%s", v, d.logs.tail(2000))
	}
	if got := answers(d); !slices.EqualFunc(got, after, slices.Equal) {
		t.Fatalf("answers after the kill %v, before it %v", got, after)
	}

	// Snapshots while serve runs: with a short interval the file is rewritten under
	// load; a kill after more events loads the latest and the events since.
	d.kill(t)
	d = startDaemon(t, bin, dir, crashAdmin, "--segment-snapshot-interval", "100ms")
	written := func(d *daemon) int {
		t.Helper()
		return metricValue(t, c, d.base, `mailtrail_segment_snapshots_total{result="written"}`)
	}
	for i := range 30 {
		post(d, segEvent("opened", "spring", "cust-live-"+string(rune('a'+i)), time.Duration(i)*time.Minute, nil))
	}
	for deadline := time.Now().Add(10 * time.Second); written(d) < 2; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no snapshot written while serve runs\n%s", d.logs.tail(2000))
		}
	}
	post(d, segEvent("opened", "spring", "cust-last", time.Minute, nil))
	live := answersWith(d, "cust-last")
	d.kill(t)
	d = startDaemon(t, bin, dir, crashAdmin)
	if v := loaded(d); v != "1" {
		t.Fatalf("after a kill with snapshots while running: loaded_from_snapshot %s, want 1\n%s", v, d.logs.tail(2000))
	}
	if got := answers(d); !slices.EqualFunc(got, live, slices.Equal) || len(live[0]) <= len(after[0]) {
		t.Fatalf("answers after the kill %v, before it %v", got, live)
	}
	after = live

	// An erasure through the API removes the snapshot (it names the customer's former
	// id) and no more are written: the next start builds.
	d.kill(t)
	d = startDaemon(t, bin, dir, crashAdmin, "--segment-snapshot-interval", "100ms")
	for deadline := time.Now().Add(10 * time.Second); written(d) < 1; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no snapshot written while serve runs\n%s", d.logs.tail(2000))
		}
	}
	apiErased := after[0][len(after[0])-1]
	if _, err := doJSON(ctx, c, http.MethodDelete, d.base+"/api/v1/customers/"+apiErased, org.APIKey, nil, nil); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // three intervals: none may write the file again
	if exists() {
		t.Fatal("a snapshot exists after an erasure through the API")
	}
	d.kill(t)
	d = startDaemon(t, bin, dir, crashAdmin)
	if v := loaded(d); v != "0" {
		t.Fatalf("after an erasure: loaded_from_snapshot %s, want 0", v)
	}
	after = answers(d)
	if slices.Contains(after[0], apiErased) {
		t.Fatalf("the erased customer %s is still named: %v", apiErased, after[0])
	}

	// An erasure while the server is down removes the snapshot of the clean stop before it
	// (it names the customer's former id; the store's generation moved too, see the
	// segment package's tests), and the build shows the erased customer's new id.
	if err := d.stop(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	if !exists() {
		t.Fatal("no snapshot after a clean shutdown")
	}
	erased := after[0][0]
	if out, code := runBinary(t, bin, "customer", "erase", "--data-dir", dir, "--org", org.ID, erased); code != 0 {
		t.Fatalf("customer erase: %d %s", code, out)
	}
	if exists() {
		t.Fatal("customer erase left the snapshot, which names the customer's former id")
	}
	d = startDaemon(t, bin, dir, crashAdmin)
	if v := loaded(d); v != "0" {
		t.Fatalf("after an offline erasure: loaded_from_snapshot %s, want 0", v)
	}
	got := answers(d)
	if slices.Contains(got[0], erased) || len(got[0]) != len(after[0]) {
		t.Fatalf("after the erasure of %s: %v (before %v)", erased, got[0], after[0])
	}
	if err := d.stop(30 * time.Second); err != nil {
		t.Fatal(err)
	}
}

// metricValue reads one series (name and labels, as /metrics prints them) of the
// server's metrics.
func metricValue(t *testing.T, c *http.Client, base, series string) int {
	t.Helper()
	resp, err := c.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, series+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				t.Fatalf("%s: %q", series, v)
			}
			return int(f)
		}
	}
	t.Fatalf("no %s in /metrics", series)
	return 0
}

// jsonRaw is a JSON text doJSON sends as it is.
type jsonRaw string

func (j jsonRaw) MarshalJSON() ([]byte, error) { return []byte(j), nil }
