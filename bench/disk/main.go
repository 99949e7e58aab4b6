// Command disk measures the store's size per instrumented message and per event, for
// the sizing in docs/deploy.md. It builds the binary, runs `mailtrail serve` on a fresh
// data directory, instruments -messages emails through POST /api/v1/messages (1,000
// recipients per call, 10 campaigns, 2 tracked links, one new customer each), sums the
// data directory after a clean stop, then does the same again and adds their events
// through POST /api/v1/events (every message sent; 97 % delivered, 3 % hard bounces; 40 %
// opened, 8 % clicked; batches of 5,000). It prints the sizes and bytes per message and
// per event; it asserts nothing.
//
//	go run ./bench/disk [-messages 100000]
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
)

const admin = "disk-bench-admin-token-0123456789"

func main() {
	n := flag.Int("messages", 100_000, "emails instrumented (a multiple of 1,000)")
	flag.Parse()
	tmp, err := os.MkdirTemp("", "mailtrail-disk-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "mailtrail")
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/mailtrail").CombinedOutput(); err != nil {
		log.Fatalf("go build: %v\n%s", err, out)
	}
	msgsOnly, _ := run(bin, filepath.Join(tmp, "a"), *n, false)
	withEvents, events := run(bin, filepath.Join(tmp, "b"), *n, true)
	fmt.Printf("| messages | events | store, messages only | store, with events | bytes per message | bytes per event |\n|---:|---:|---:|---:|---:|---:|\n")
	fmt.Printf("| %d | %d | %.1f MB | %.1f MB | %.0f | %.0f |\n", *n, events, float64(msgsOnly)/1e6, float64(withEvents)/1e6,
		float64(msgsOnly)/float64(*n), float64(withEvents-msgsOnly)/float64(events))
}

// run starts the binary on dir, provisions it and returns the data directory's size after
// a clean stop and the number of events posted.
func run(bin, dir string, n int, events bool) (size int64, posted int) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, "serve", "--addr", addr, "--data-dir", dir, "--admin-token", admin, "--log-level", "warn")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		log.Fatal(err)
	}
	base := "http://" + addr
	for start := time.Now(); ; time.Sleep(100 * time.Millisecond) {
		if r, err := http.Get(base + "/readyz"); err == nil && r.StatusCode == 200 {
			r.Body.Close()
			break
		}
		if time.Since(start) > 30*time.Second {
			log.Fatal("not ready within 30 s")
		}
	}
	var org struct {
		APIKey string `json:"api_key"`
	}
	post(base+"/api/v1/admin/organizations", admin, map[string]string{"name": "Disk", "timezone": "UTC"}, &org)
	html := `<html><body><p>Hello</p><a href="https://shop.example.com/sale?utm=1">Sale</a> <a href="https://shop.example.com/new">New</a> <a href="{{unsubscribe_url}}">Unsubscribe</a></body></html>`
	var ids []string
	for b := 0; b < n/1000; b++ {
		rs := make([]map[string]string, 1000)
		for i := range rs {
			k := strconv.Itoa(b*1000 + i)
			rs[i] = map[string]string{"customer_id": "cust-" + k, "customer_email": "user" + k + "@example.com"}
		}
		var out struct {
			Messages []struct {
				MessageID string `json:"message_id"`
			} `json:"messages"`
		}
		post(base+"/api/v1/messages", org.APIKey, map[string]any{"campaign_id": "camp-" + strconv.Itoa(b%10), "html": html,
			"text": "Sale: https://shop.example.com/sale", "recipients": rs}, &out)
		for _, m := range out.Messages {
			ids = append(ids, m.MessageID)
		}
	}
	if events {
		rng := rand.New(rand.NewPCG(1, 2))
		var evs []map[string]any
		ev := func(typ, id, key, at string, meta map[string]string) {
			e := map[string]any{"event_type": typ, "message_id": id, "idempotency_key": key, "occurred_at": at}
			if meta != nil {
				e["metadata"] = meta
			}
			evs = append(evs, e)
		}
		for i, id := range ids {
			k := strconv.Itoa(i)
			ev("sent", id, "s"+k, "2026-12-01T10:00:00Z", nil)
			if rng.Float64() < 0.97 {
				ev("delivered", id, "d"+k, "2026-12-01T10:00:05Z", nil)
			} else {
				ev("bounced", id, "b"+k, "2026-12-01T10:00:05Z", map[string]string{"bounce_type": "hard"})
			}
			if rng.Float64() < 0.4 {
				ev("opened", id, "o"+k, fmt.Sprintf("2026-12-01T12:%02d:00Z", i%60), nil)
			}
			if rng.Float64() < 0.08 {
				ev("clicked", id, "c"+k, fmt.Sprintf("2026-12-01T12:%02d:30Z", i%60), map[string]string{"link_url": "https://shop.example.com/sale?utm=1"})
			}
		}
		for i := 0; i < len(evs); i += 5000 {
			post(base+"/api/v1/events", org.APIKey, map[string]any{"events": evs[i:min(i+5000, len(evs))]}, nil)
		}
		posted = len(evs)
		time.Sleep(8 * time.Second) // the customer indexer catches up (it runs every second)
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		log.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		log.Fatalf("mailtrail did not stop cleanly: %v", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range entries {
		if info, err := e.Info(); err == nil {
			size += info.Size()
		}
	}
	return size, posted
}

// post sends body as JSON with a bearer token and decodes a 2xx answer into out.
func post(url, token string, body, out any) {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", url, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: 2 * time.Minute}).Do(req)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		var e bytes.Buffer
		e.ReadFrom(resp.Body)
		log.Fatalf("POST %s: %d %s", url, resp.StatusCode, e.String())
	}
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			log.Fatal(err)
		}
	}
}
