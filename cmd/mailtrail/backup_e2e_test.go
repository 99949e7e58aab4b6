package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
)

// backupCampaign instruments n messages of campaign with one tracked link; it returns
// their ids and the path of the first message's click link.
func backupCampaign(t *testing.T, ctx context.Context, c *http.Client, base, key, campaign string, n int) ([]string, string) {
	t.Helper()
	type rcpt struct {
		CustomerID    string `json:"customer_id"`
		CustomerEmail string `json:"customer_email"`
	}
	rcpts := make([]rcpt, n)
	for i := range rcpts {
		rcpts[i] = rcpt{fmt.Sprintf("%s-c%d", campaign, i), fmt.Sprintf("%s-%d@example.com", campaign, i)}
	}
	var out struct {
		Messages []struct {
			MessageID string `json:"message_id"`
			HTML      string `json:"html"`
		} `json:"messages"`
	}
	req := map[string]any{"campaign_id": campaign, "recipients": rcpts,
		"html": `<html><body><a href="https://example.com/kept">x</a></body></html>`}
	if _, err := doJSON(ctx, c, http.MethodPost, base+"/api/v1/messages", key, req, &out); err != nil || len(out.Messages) != n {
		t.Fatalf("messages of %s: %d, %v", campaign, len(out.Messages), err)
	}
	link := regexp.MustCompile(`/api/track/click/[A-Za-z0-9_-]+`).FindString(out.Messages[0].HTML)
	if link == "" {
		t.Fatalf("no click link in %q", out.Messages[0].HTML)
	}
	ids := make([]string, n)
	for i, m := range out.Messages {
		ids[i] = m.MessageID
	}
	return ids, link
}

// backupEvent is load event k: delivered or sent, of message k mod len(msgs), at at0+k ms.
type backupEvent struct {
	EventType      string `json:"event_type"`
	MessageID      string `json:"message_id"`
	OccurredAt     string `json:"occurred_at"`
	IdempotencyKey string `json:"idempotency_key"`
}

func newBackupEvent(msgs []string, at0 time.Time, k int) backupEvent {
	key := fmt.Sprintf("%s-k-%d", msgs[0], k) // keys of one campaign's events only
	typ := "sent"
	if k%3 == 2 {
		typ = "delivered"
	}
	return backupEvent{EventType: typ, MessageID: msgs[k%len(msgs)], OccurredAt: at0.Add(time.Duration(k) * time.Millisecond).Format(time.RFC3339Nano),
		IdempotencyKey: key}
}

// campaignReport fetches a campaign's report.
func campaignReport(t *testing.T, c *http.Client, base, key, campaign string) mailtrail.Report {
	t.Helper()
	var r mailtrail.Report
	if _, err := doJSON(context.Background(), c, http.MethodGet, base+"/api/v1/campaigns/"+campaign+"/report", key, nil, &r); err != nil {
		t.Fatalf("report of %s: %v", campaign, err)
	}
	return r
}

// campaignEvents lists every event of a campaign through the API.
func campaignEvents(t *testing.T, c *http.Client, base, key, campaign string) []mailtrail.Event {
	t.Helper()
	var all []mailtrail.Event
	cursor := ""
	for {
		var page mailtrail.EventPage
		u := base + "/api/v1/events?limit=1000&campaign_id=" + campaign + "&cursor=" + url.QueryEscape(cursor)
		if _, err := doJSON(context.Background(), c, http.MethodGet, u, key, nil, &page); err != nil {
			t.Fatalf("events of %s: %v", campaign, err)
		}
		all = append(all, page.Events...)
		if page.NextCursor == "" {
			return all
		}
		cursor = page.NextCursor
	}
}

// Issue 13: mailtrail backup under ingest load, restored into a new directory and
// started: every event acknowledged before the backup began is there, a campaign's figures
// written before it equal the report of the original, the figures of the campaign under
// load equal a recount of its restored events, and a click link sent before the backup
// still redirects (the secret key came with it).
func TestBackupRestoreUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the real binary; skipped with -short")
	}
	ctx := t.Context()
	bin := buildBinary(t)
	dir := filepath.Join(t.TempDir(), "data")
	d := startDaemon(t, bin, dir, crashAdmin)
	c := &http.Client{Timeout: 15 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	var org struct {
		APIKey string `json:"api_key"`
	}
	if _, err := doJSON(ctx, c, http.MethodPost, d.base+"/api/v1/admin/organizations", crashAdmin, map[string]string{"name": "b"}, &org); err != nil {
		t.Fatal(err)
	}
	key := org.APIKey
	at0 := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)

	// Before the load: a campaign whose figures are final.
	done, link := backupCampaign(t, ctx, c, d.base, key, "done", 50)
	var evs []backupEvent
	for k := range 150 {
		evs = append(evs, newBackupEvent(done, at0, k))
	}
	if _, err := doJSON(ctx, c, http.MethodPost, d.base+"/api/v1/events", key, map[string]any{"events": evs}, nil); err != nil {
		t.Fatal(err)
	}
	for range 3 { // opens through the pixel of one message, and a click of the link
		if _, err := doJSON(ctx, c, http.MethodGet, d.base+link, "", nil, nil); err == nil {
			t.Fatal("the click link answered 2xx, want a redirect")
		}
	}
	before := campaignReport(t, c, d.base, key, "done")
	if before.Counts.Sent != 50 || before.Counts.ClicksTotal != 3 {
		t.Fatalf("report before the backup: %+v", before.Counts)
	}

	// The load: four writers post batches of new events; each remembers when its batch
	// was acknowledged.
	live, _ := backupCampaign(t, ctx, c, d.base, key, "live", 100)
	var next atomic.Int64
	type ack struct {
		first, n int
		at       time.Time
	}
	var mu sync.Mutex
	var acks []ack
	loadCtx, stopLoad := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for loadCtx.Err() == nil {
				n := 50
				first := int(next.Add(int64(n))) - n
				batch := make([]backupEvent, n)
				for i := range batch {
					batch[i] = newBackupEvent(live, at0, first+i)
				}
				if _, err := doJSON(loadCtx, c, http.MethodPost, d.base+"/api/v1/events", key, map[string]any{"events": batch}, nil); err == nil {
					mu.Lock()
					acks = append(acks, ack{first, n, time.Now()})
					mu.Unlock()
				} else if loadCtx.Err() == nil {
					t.Logf("load batch k-%d: %v", first, err)
				}
			}
		}()
	}
	for { // some acknowledged load before the backup begins
		mu.Lock()
		n := len(acks)
		mu.Unlock()
		if n >= 8 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	file := filepath.Join(t.TempDir(), "mailtrail.backup")
	began := time.Now()
	out, code := runBinary(t, bin, "backup", "--data-dir", dir, "--to", file)
	ended := time.Now()
	time.Sleep(100 * time.Millisecond) // more load after the backup, which it must not hold
	stopLoad()
	wg.Wait()
	if code != 0 {
		t.Fatalf("backup: exit %d\n%s", code, out)
	}
	var ackedBefore, ackedDuring int
	want := map[int]bool{}
	for _, a := range acks {
		switch {
		case a.at.Before(began):
			ackedBefore++
			for k := a.first; k < a.first+a.n; k++ {
				want[k] = true
			}
		case a.at.Before(ended):
			ackedDuring++
		}
	}
	t.Logf("backup took %s; batches acknowledged before it %d, during it %d, in all %d", ended.Sub(began).Round(time.Millisecond), ackedBefore, ackedDuring, len(acks))
	if err := d.stop(20 * time.Second); err != nil {
		t.Fatalf("stop: %v", err)
	}

	// Restore: refused into a directory that holds anything, then into a new one.
	if out, code := runBinary(t, bin, "restore", "--from", file, "--data-dir", dir); code == 0 || !strings.Contains(out, "is not empty") {
		t.Fatalf("restore over the original: exit %d\n%s", code, out)
	}
	restored := filepath.Join(t.TempDir(), "restored")
	if out, code := runBinary(t, bin, "restore", "--from", file, "--data-dir", restored); code != 0 {
		t.Fatalf("restore: exit %d\n%s", code, out)
	}
	if fi, err := os.Stat(filepath.Join(restored, "secret.key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("restored secret key: %v %v", fi, err)
	}
	r := startDaemon(t, bin, restored, crashAdmin)

	if after := campaignReport(t, c, r.base, key, "done"); !jsonEqual(t, after.Counts, before.Counts) {
		t.Fatalf("figures of a finished campaign after restore:\n got %+v\nwant %+v", after.Counts, before.Counts)
	}
	got := map[int]int{}
	sent, delivered := map[string]bool{}, map[string]bool{}
	for _, e := range campaignEvents(t, c, r.base, key, "live") {
		k := int(e.OccurredAt.Sub(at0) / time.Millisecond)
		if w := newBackupEvent(live, at0, k); w.MessageID != e.MessageID || w.EventType != e.Type.String() {
			t.Fatalf("restored event %+v is not load event %d", e, k)
		}
		got[k]++
		if e.Type == mailtrail.EventSent {
			sent[e.MessageID] = true
		} else {
			delivered[e.MessageID] = true
		}
	}
	for k := range want {
		if got[k] != 1 {
			t.Fatalf("event k-%d acknowledged before the backup is stored %d times in the restored store", k, got[k])
		}
	}
	for k, n := range got {
		if n != 1 {
			t.Fatalf("event k-%d stored %d times", k, n)
		}
	}
	if live := campaignReport(t, c, r.base, key, "live"); live.Counts.Sent != int64(len(sent)) || live.Counts.Delivered != int64(len(delivered)) {
		t.Fatalf("figures of the campaign under load: sent %d delivered %d, recount %d %d", live.Counts.Sent, live.Counts.Delivered, len(sent), len(delivered))
	}
	t.Logf("restored %d load events (%d acknowledged before the backup)", len(got), len(want))

	// A link sent before the backup still redirects: the secret key was restored with it.
	resp, err := c.Get(r.base + link)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "https://example.com/kept" {
		t.Fatalf("old click link after restore: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// jsonEqual compares a and b as JSON.
func jsonEqual(t *testing.T, a, b any) bool {
	t.Helper()
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	return string(ja) == string(jb)
}

// A damaged or foreign backup file is refused and the target directory is not created;
// a backup needs a store, and names a new file.
func TestRestoreRefusesDamagedBackup(t *testing.T) {
	ctx := context.Background()
	var out, errb strings.Builder
	dir := filepath.Join(t.TempDir(), "data")
	if err := Run(ctx, []string{"org", "create", "--data-dir", dir, "--name", "a"}, &out, &errb); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "b.tar")
	if err := Run(ctx, []string{"backup", "--data-dir", dir, "--to", file}, &out, &errb); err == nil || !strings.Contains(err.Error(), "secret key") {
		t.Fatalf("backup without a secret key: %v", err) // org create does not make one; serve does
	}
	t.Setenv("MAILTRAIL_SECRET_KEY", "a-secret-of-at-least-32-characters-0123")
	if err := Run(ctx, []string{"backup", "--data-dir", dir, "--to", file}, &out, &errb); err != nil {
		t.Fatal(err)
	}
	if err := Run(ctx, []string{"backup", "--data-dir", dir, "--to", file}, &out, &errb); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Fatalf("backup over an existing file: %v", err)
	}
	if err := Run(ctx, []string{"backup", "--data-dir", filepath.Join(t.TempDir(), "none"), "--to", file + "2"}, &out, &errb); err == nil || !strings.Contains(err.Error(), "no store") {
		t.Fatalf("backup of a directory without a store: %v", err)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff // inside the store's bytes
	damaged := filepath.Join(t.TempDir(), "damaged.tar")
	os.WriteFile(damaged, b, 0o600)
	target := filepath.Join(t.TempDir(), "restored")
	if err := Run(ctx, []string{"restore", "--from", damaged, "--data-dir", target}, &out, &errb); err == nil || !strings.Contains(err.Error(), "checksum mismatch") {
		t.Fatalf("restore of a damaged backup: %v", err)
	}
	notTar := filepath.Join(t.TempDir(), "x.tar")
	os.WriteFile(notTar, []byte("hello"), 0o600)
	if err := Run(ctx, []string{"restore", "--from", notTar, "--data-dir", target}, &out, &errb); err == nil || !strings.Contains(err.Error(), "not a mailtrail backup") {
		t.Fatalf("restore of a file that is not a backup: %v", err)
	}
	if _, err := os.Stat(target); !os.IsNotExist(err) {
		t.Fatalf("target directory after refused restores: %v", err)
	}
	if err := Run(ctx, []string{"restore", "--from", file, "--data-dir", target}, &out, &errb); err != nil {
		t.Fatalf("restore of the good file: %v", err)
	}
	leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(target), ".mailtrail-restore-*"))
	if len(leftovers) != 0 {
		t.Fatalf("temporary files left: %v", leftovers)
	}
}
