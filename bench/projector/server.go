package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Metrics read from the server.
const (
	metricLogPosition        = "mailtrail_eventlog_position"            // last position acknowledged
	metricProjectionPosition = "mailtrail_projection_position"          // last position the store applied
	metricAppended           = "mailtrail_ingest_batch_events_sum"      // events the pipeline committed (to the log)
	metricRejected           = "mailtrail_ingest_rejected_events_total" // events refused: the queue stayed full
)

// metricsReader reads the positions from the server's /metrics.
type metricsReader struct {
	base   string
	client *http.Client
}

type positions struct {
	log, proj          uint64
	appended, rejected float64
	ok                 bool // both positions were there
}

func (m *metricsReader) read(ctx context.Context) (positions, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.base+"/metrics", nil)
	if err != nil {
		return positions{}, err
	}
	resp, err := m.client.Do(req)
	if err != nil {
		return positions{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return positions{}, fmt.Errorf("GET /metrics: status %d", resp.StatusCode)
	}
	var p positions
	var seen int
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok || strings.HasPrefix(name, "#") {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil {
			continue
		}
		switch name {
		case metricLogPosition:
			p.log = uint64(v)
			seen++
		case metricProjectionPosition:
			p.proj = uint64(v)
			seen++
		case metricAppended:
			p.appended = v
		case metricRejected:
			p.rejected = v
		}
	}
	io.Copy(io.Discard, resp.Body)
	p.ok = seen == 2
	return p, sc.Err()
}

// server is the started mailtrail.
type server struct {
	base string
	log  string
	cmd  *exec.Cmd
	done chan struct{}
}

// startServer starts serve --event-log on a fresh data directory dir/data, logging to
// dir/server.log, and waits for /readyz (which includes the projector).
func startServer(ctx context.Context, bin, dir, admin string, extra []string) (*server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	logPath := filepath.Join(dir, "server.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	args := append([]string{"serve", "--event-log", "--addr", addr, "--data-dir", filepath.Join(dir, "data"),
		"--public-url", "http://" + addr, "--admin-token", admin}, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = childAttr()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{base: "http://" + addr, log: logPath, cmd: cmd, done: make(chan struct{})}
	go func() { cmd.Wait(); close(s.done) }()
	client := &http.Client{Timeout: time.Second}
	for deadline := time.Now().Add(time.Minute); ; {
		select {
		case <-s.done:
			return nil, fmt.Errorf("mailtrail exited: %v\n%s", cmd.ProcessState, s.logTail())
		case <-ctx.Done():
			s.stop()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if resp, err := client.Get(s.base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("mailtrail not ready within a minute\n%s", s.logTail())
		}
	}
}

// stop sends SIGTERM, kills after 30 s, and waits; it is safe to call more than once.
func (s *server) stop() {
	select {
	case <-s.done:
		return
	default:
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
}

func (s *server) logTail() string {
	b, _ := os.ReadFile(s.log)
	lines := bytes.Split(bytes.TrimSpace(b), []byte("\n"))
	lines = lines[max(0, len(lines)-20):]
	return fmt.Sprintf("--- %s (end) ---\n%s", s.log, bytes.Join(lines, []byte("\n")))
}

// provision creates an organization and instruments n messages (1,000 recipients per
// call, two tracked links each); it returns the organization's API key.
func provision(ctx context.Context, base, admin string, n int) (string, error) {
	var org struct {
		APIKey string `json:"api_key"`
	}
	if err := post(ctx, base+"/api/v1/admin/organizations", admin, map[string]string{"name": "bench", "timezone": "UTC"}, &org); err != nil {
		return "", fmt.Errorf("create organization: %w", err)
	}
	const html = `<html><body><a href="https://example.com/a">a</a><a href="https://example.com/b">b</a></body></html>`
	for first := 0; first < n; first += 1000 {
		var rs []map[string]string
		for i := first; i < min(first+1000, n); i++ {
			rs = append(rs, map[string]string{"customer_id": "c" + strconv.Itoa(i+1), "customer_email": "c" + strconv.Itoa(i+1) + "@example.com"})
		}
		var out struct {
			Messages []json.RawMessage `json:"messages"`
		}
		if err := post(ctx, base+"/api/v1/messages", org.APIKey, map[string]any{"campaign_id": "bench-1", "html": html,
			"track_opens": true, "track_clicks": true, "recipients": rs}, &out); err != nil {
			return "", fmt.Errorf("instrument messages: %w", err)
		}
		if len(out.Messages) != len(rs) {
			return "", fmt.Errorf("instrument messages: %d messages for %d recipients", len(out.Messages), len(rs))
		}
	}
	return org.APIKey, nil
}

// post sends body as JSON with a bearer token and decodes a 2xx answer into out.
func post(ctx context.Context, url, token string, body, out any) error {
	b, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: 2 * time.Minute}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("POST %s: status %d: %.300s", url, resp.StatusCode, rb)
	}
	return json.Unmarshal(rb, out)
}
