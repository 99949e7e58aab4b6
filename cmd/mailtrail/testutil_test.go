package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// buildBinary compiles the real mailtrail binary into a temporary directory.
func buildBinary(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go tool is not in PATH: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "mailtrail")
	cmd := exec.Command(goBin, "build", "-o", bin, "github.com/mailtrail/mailtrail/cmd/mailtrail")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// syncBuffer is a bytes.Buffer safe for the writer goroutine of os/exec and the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// tail returns the last n bytes written.
func (b *syncBuffer) tail(n int) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.buf.String()
	if len(s) > n {
		s = "…" + s[len(s)-n:]
	}
	return s
}

// addrWriter watches the binary's stdout for its "listening on" line.
type addrWriter struct {
	mu   sync.Mutex
	line []byte
	addr chan string
	sent bool
}

func (w *addrWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.sent {
		return len(p), nil
	}
	w.line = append(w.line, p...)
	const prefix = "mailtrail listening on "
	for {
		i := bytes.IndexByte(w.line, '\n')
		if i < 0 {
			break
		}
		l := string(w.line[:i])
		w.line = w.line[i+1:]
		if strings.HasPrefix(l, prefix) {
			w.sent = true
			w.addr <- strings.TrimSpace(strings.TrimPrefix(l, prefix))
			break
		}
	}
	return len(p), nil
}

// daemon is one running mailtrail process.
type daemon struct {
	cmd    *exec.Cmd
	base   string // http://host:port
	logs   *syncBuffer
	exited chan struct{}
	err    error // cmd.Wait's result, set before exited is closed
}

// startDaemon starts `mailtrail serve` on a free port of 127.0.0.1 with dataDir and waits
// until /readyz answers 200. The process is killed at test cleanup if still running.
func startDaemon(t *testing.T, bin, dataDir, adminToken string, extra ...string) *daemon {
	t.Helper()
	return startDaemonNotify(t, bin, dataDir, adminToken, nil, extra...)
}

// startDaemonNotify is startDaemon that also calls listening (when not nil) with the
// base URL as soon as the binary prints it, before it is ready: clients that reach a
// restarted server at once, as at a fixed address.
func startDaemonNotify(t *testing.T, bin, dataDir, adminToken string, listening func(base string), extra ...string) *daemon {
	t.Helper()
	aw := &addrWriter{addr: make(chan string, 1)}
	d := &daemon{logs: &syncBuffer{}, exited: make(chan struct{})}
	// Port 0: the kernel picks a free port and the binary prints it. The public URL only
	// shapes tracking links, which this harness does not follow.
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--data-dir", dataDir, "--admin-token", adminToken,
		"--public-url", "http://127.0.0.1", "--log-level", "warn"}, extra...) // a later flag wins
	d.cmd = exec.Command(bin, args...)
	d.cmd.Stdout = aw
	d.cmd.Stderr = d.logs
	if err := d.cmd.Start(); err != nil {
		t.Fatalf("start mailtrail: %v", err)
	}
	go func() {
		d.err = d.cmd.Wait()
		close(d.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-d.exited:
		default:
			_ = d.cmd.Process.Kill()
			<-d.exited
		}
		if logs := d.logs.tail(4000); t.Failed() && logs != "" {
			t.Logf("mailtrail pid %d stderr:\n%s", d.cmd.Process.Pid, logs)
		}
	})
	select {
	case addr := <-aw.addr:
		d.base = addr // "http://host:port"
		if listening != nil {
			listening(addr)
		}
	case <-d.exited:
		t.Fatalf("mailtrail exited at start: %v\n%s", d.err, d.logs.tail(4000))
	case <-time.After(20 * time.Second):
		t.Fatalf("mailtrail did not print its address within 20s\n%s", d.logs.tail(4000))
	}
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := client.Get(d.base + "/readyz")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return d
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("mailtrail at %s not ready within 20s (last error %v)\n%s", d.base, err, d.logs.tail(4000))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (d *daemon) kill(t *testing.T) {
	t.Helper()
	if err := d.cmd.Process.Kill(); err != nil {
		t.Fatalf("kill: %v", err)
	}
	<-d.exited
}

// stop sends SIGTERM and waits up to timeout; it returns the process's exit error (nil for
// exit status 0), or an error if it did not exit in time.
func (d *daemon) stop(timeout time.Duration) error {
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return fmt.Errorf("sigterm: %w", err)
	}
	select {
	case <-d.exited:
		return d.err
	case <-time.After(timeout):
		return fmt.Errorf("no exit within %s of SIGTERM", timeout)
	}
}

// doJSON sends body (if not nil) as JSON with a bearer token and decodes a 2xx answer into
// out (if not nil). It returns the status; err is set on transport errors, on a non-2xx
// status (with the body in the message) and on an undecodable 2xx body.
func doJSON(ctx context.Context, c *http.Client, method, url, token string, body, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, fmt.Errorf("read body: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, fmt.Errorf("%s %s: %d %s", method, url, resp.StatusCode, bytes.TrimSpace(raw))
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return resp.StatusCode, fmt.Errorf("decode %s: %w", raw, err)
		}
	}
	return resp.StatusCode, nil
}
