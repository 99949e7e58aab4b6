// Command nodes measures how soon an event acknowledged by one API node of the cluster
// mode wakes an event stream (SSE) and a journey wait on another (issue 17: goal p99 <
// 200 ms). It starts a worker and two API nodes (mailtrail serve --cluster, the binary
// built from this repository) on the engines scripts/test.sh starts, opens an event
// stream on each node, then -n times: registers a journey wait on node B for a new
// customer, posts that customer's open to node A, and times, from just before the post,
// the post's acknowledgement, the stream of node A and of node B delivering the event,
// and node B's wait answering. Node A's stream is the baseline of the same run: the
// path is the same (a node sees what the workers commit, its own writes too), so the
// ratio shows what another node adds. With -load, a background client posts batches of
// 100 events to both nodes at that rate (events/s) meanwhile. It prints p50, p90, p99
// and max of each; it asserts nothing about time.
//
//	go run ./bench/nodes                 # 300 samples, idle
//	go run ./bench/nodes -load 2000      # under 2,000 events/s
//
// The engines default to the ones scripts/test.sh starts: MAILTRAIL_TEST_NATS_URL and
// MAILTRAIL_TEST_POSTGRES_DSN.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mailtrail/mailtrail/bench/load"
	"github.com/mailtrail/mailtrail/bench/pgbench"
)

const admin = "bench-nodes-admin-token-0123456789"

func main() {
	n := flag.Int("n", 300, "samples")
	rate := flag.Int("load", 0, "background events/s posted to both nodes meanwhile (0: none)")
	natsURL := flag.String("nats", os.Getenv("MAILTRAIL_TEST_NATS_URL"), "the JetStream cluster's URLs")
	dsn := flag.String("dsn", os.Getenv("MAILTRAIL_TEST_POSTGRES_DSN"), "the PostgreSQL server (a schema of the run, dropped after)")
	bin := flag.String("mailtrail", "", "the binary (default: built from ./cmd/mailtrail)")
	flag.Parse()
	if err := run(*n, *rate, *natsURL, *dsn, *bin); err != nil {
		fmt.Fprintln(os.Stderr, "nodes:", err)
		os.Exit(1)
	}
}

// proc is one process of the run.
type proc struct {
	cmd  *exec.Cmd
	base string
	log  bytes.Buffer
}

func run(n, rate int, natsURL, dsn, bin string) error {
	if natsURL == "" || dsn == "" {
		return fmt.Errorf("-nats and -dsn are needed (or MAILTRAIL_TEST_NATS_URL, _POSTGRES_DSN; scripts/test.sh prints how it starts them)")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tmp, err := os.MkdirTemp("", "mailtrail-nodes-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if bin == "" {
		bin = filepath.Join(tmp, "mailtrail")
		if out, err := exec.Command("go", "build", "-o", bin, "./cmd/mailtrail").CombinedOutput(); err != nil {
			return fmt.Errorf("go build ./cmd/mailtrail (run from the repository): %w\n%s", err, out)
		}
	}
	stream, schema := pgbench.RandomName("BENCHNODES", 4), pgbench.RandomName("bench_nodes_", 4)
	defer pgbench.DeleteStream(natsURL, stream)
	defer pgbench.DropSchema(dsn, schema)
	env := []string{"PATH=" + os.Getenv("PATH"), "MAILTRAIL_EVENT_LOG_URL=" + natsURL, "MAILTRAIL_EVENT_LOG_STREAM=" + stream,
		"MAILTRAIL_POSTGRES_DSN=" + dsn, "MAILTRAIL_POSTGRES_SCHEMA=" + schema, "MAILTRAIL_LOG_LEVEL=warn"}
	var procs []*proc
	defer func() {
		for _, p := range procs {
			p.cmd.Process.Kill()
			p.cmd.Wait()
		}
	}()
	start := func(args ...string) (*proc, error) {
		p := &proc{}
		p.cmd = exec.CommandContext(ctx, bin, args...)
		p.cmd.Env, p.cmd.Stderr = env, &p.log
		if err := p.cmd.Start(); err != nil {
			return nil, err
		}
		procs = append(procs, p)
		return p, nil
	}
	var nodes [2]*proc
	for i := range nodes {
		addr, err := freeAddr()
		if err != nil {
			return err
		}
		p, err := start("serve", "--cluster", "--addr", addr, "--data-dir", filepath.Join(tmp, fmt.Sprint("node", i)), "--admin-token", admin,
			"--secret-key", strings.Repeat("bench-nodes-", 4), "--public-url", "http://"+addr)
		if err != nil {
			return err
		}
		p.base = "http://" + addr
		if err := ready(ctx, p); err != nil {
			return fmt.Errorf("node %d: %w\n%s", i, err, p.log.String())
		}
		nodes[i] = p
	}
	if _, err := start("worker"); err != nil {
		return err
	}
	c := &http.Client{Timeout: 30 * time.Second}
	var org struct {
		APIKey string `json:"api_key"`
	}
	if err := call(ctx, c, "POST", nodes[0].base+"/api/v1/admin/organizations", admin, map[string]string{"name": "bench", "timezone": "UTC"}, &org); err != nil {
		return err
	}
	key := org.APIKey
	streams := [2]*sse{}
	for i, p := range nodes {
		if streams[i], err = openStream(ctx, p.base, key); err != nil {
			return err
		}
	}
	if rate > 0 {
		go background(ctx, c, nodes, key, rate)
	}
	// Warm up: the first event creates the campaign and org rows.
	var ack, streamA, streamB, wait []time.Duration
	for i := range n + 5 {
		cust := fmt.Sprintf("cust-%d", i)
		waited := make(chan time.Time, 1)
		go func() {
			if err := call(ctx, c, "GET", nodes[1].base+"/api/v1/customers/"+cust+"/wait?event=opened&timeout=20s", key, nil, nil); err != nil {
				fmt.Fprintln(os.Stderr, "wait:", err)
			}
			waited <- time.Now()
		}()
		time.Sleep(20 * time.Millisecond) // the wait is registered
		t0 := time.Now()
		if err := call(ctx, c, "POST", nodes[0].base+"/api/v1/events", key, map[string]any{"events": []map[string]any{{"event_type": "opened",
			"campaign_id": "bench", "customer_id": cust, "customer_email": cust + "@example.com"}}}, nil); err != nil {
			return err
		}
		tAck := time.Now()
		tA, err := streams[0].until(cust, 20*time.Second)
		if err != nil {
			return fmt.Errorf("node A's stream: %w", err)
		}
		tB, err := streams[1].until(cust, 20*time.Second)
		if err != nil {
			return fmt.Errorf("node B's stream: %w", err)
		}
		tW := <-waited
		if i >= 5 {
			ack, streamA, streamB, wait = append(ack, tAck.Sub(t0)), append(streamA, tA.Sub(t0)), append(streamB, tB.Sub(t0)), append(wait, tW.Sub(t0))
		}
		time.Sleep(time.Duration(10+rand.IntN(40)) * time.Millisecond)
	}
	fmt.Printf("%d samples, background load %d events/s; from just before POST /api/v1/events on node A:\n\n", n, rate)
	fmt.Println("| what | p50 | p90 | p99 | max | p99 / node A's stream |")
	fmt.Println("|---|---:|---:|---:|---:|---:|")
	base := quantile(streamA, 0.99)
	for _, r := range []struct {
		name string
		d    []time.Duration
	}{{"node A acknowledges", ack}, {"node A's event stream delivers it (baseline)", streamA}, {"node B's event stream delivers it", streamB}, {"node B's journey wait answers", wait}} {
		fmt.Printf("| %s | %s | %s | %s | %s | %.2f |\n", r.name, ms(quantile(r.d, 0.5)), ms(quantile(r.d, 0.9)), ms(quantile(r.d, 0.99)), ms(quantile(r.d, 1)),
			float64(quantile(r.d, 0.99))/float64(base))
	}
	return nil
}

// background posts batches of 100 events to the nodes in turn at rate events/s.
func background(ctx context.Context, c *http.Client, nodes [2]*proc, key string, rate int) {
	bodies := load.NewEventBodies(100, 64, fmt.Sprintf("%08x", rand.Uint32()))
	next := bodies.Stream()
	t := time.NewTicker(time.Second * 100 / time.Duration(rate))
	defer t.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		req, _ := http.NewRequestWithContext(ctx, "POST", nodes[i%2].base+"/api/v1/events", bytes.NewReader(next()))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		if resp, err := c.Do(req); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
}

// sse is an event stream read in the background: the time each customer's event came.
type sse struct {
	mu   sync.Mutex
	seen map[string]time.Time
	wake chan struct{}
}

func openStream(ctx context.Context, base, key string) (*sse, error) {
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/api/v1/stream", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != 200 {
		resp.Body.Close()
		return nil, fmt.Errorf("stream: %d", resp.StatusCode)
	}
	s := &sse{seen: map[string]time.Time{}, wake: make(chan struct{}, 1)}
	go func() {
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
		for sc.Scan() {
			data, ok := strings.CutPrefix(sc.Text(), "data: ")
			if !ok {
				continue
			}
			var ev struct {
				CustomerID string `json:"customer_id"`
			}
			if json.Unmarshal([]byte(data), &ev) == nil {
				s.mu.Lock()
				if _, dup := s.seen[ev.CustomerID]; !dup {
					s.seen[ev.CustomerID] = time.Now()
				}
				s.mu.Unlock()
				select {
				case s.wake <- struct{}{}:
				default:
				}
			}
		}
	}()
	return s, nil
}

// until returns when the stream delivered cust's event.
func (s *sse) until(cust string, limit time.Duration) (time.Time, error) {
	deadline := time.After(limit)
	for {
		s.mu.Lock()
		at, ok := s.seen[cust]
		s.mu.Unlock()
		if ok {
			return at, nil
		}
		select {
		case <-s.wake:
		case <-time.After(5 * time.Millisecond):
		case <-deadline:
			return time.Time{}, fmt.Errorf("no event of %s within %s", cust, limit)
		}
	}
}

func call(ctx context.Context, c *http.Client, method, url, key string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %d %s", method, url, resp.StatusCode, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

func ready(ctx context.Context, p *proc) error {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		req, _ := http.NewRequestWithContext(ctx, "GET", p.base+"/readyz", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("not ready within 60 s")
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func quantile(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(q * float64(len(s)-1))
	return s[i]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }
