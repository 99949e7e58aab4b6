package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
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

// moduleRoot returns the directory of the main module's go.mod, where the
// binaries are built from. It returns an error outside the module.
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("not inside the mailtrail module: run from the repository")
	}
	return filepath.Dir(gomod), nil
}

// build compiles the package pkg (e.g. "./cmd/mailtrail") of the module at
// root into out. It returns the compiler's output in the error on failure.
func build(ctx context.Context, root, pkg, out string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", pkg, err, b)
	}
	return nil
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago. The
// servers need their port up front (mailtrail's public URL contains it).
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// server is a started server process and where it listens.
type server struct {
	name string
	base string // http://127.0.0.1:PORT
	log  string // file holding the process's stdout and stderr
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	// logged: mailtrail with the event log (serve --event-log), whose /metrics tell the
	// log's and the projection's positions.
	logged bool
}

// startServer starts bin with args, logging to dir/server.log, and waits
// until GET base/readyz answers 200. It returns an error, with the end of
// the log, if the process exits or is not ready within readyTimeout.
func startServer(ctx context.Context, name, bin string, args []string, dir, base string, readyTimeout time.Duration) (*server, error) {
	logPath := filepath.Join(dir, "server.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	defer logFile.Close() // the child keeps its own descriptor
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = childAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	s := &server{name: name, base: base, log: logPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		cmd.Wait()
		close(s.done)
	}()
	if err := s.waitReady(ctx, readyTimeout); err != nil {
		s.stop()
		return nil, fmt.Errorf("start %s: %w\n%s", name, err, s.logTail())
	}
	return s, nil
}

// startProcess starts bin with args (a process that serves nothing: a worker), logging to
// a directory of its own under tmp; stop ends it.
func startProcess(name, bin string, args []string, tmp string) (*server, error) {
	dir, err := os.MkdirTemp(tmp, name+"-")
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(dir, "process.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	defer logFile.Close()
	cmd := exec.Command(bin, args...)
	cmd.Dir, cmd.Stdout, cmd.Stderr, cmd.SysProcAttr = dir, logFile, logFile, childAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	s := &server{name: name, log: logPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		cmd.Wait()
		close(s.done)
	}()
	return s, nil
}

func (s *server) waitReady(ctx context.Context, timeout time.Duration) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			return fmt.Errorf("exited: %v", s.cmd.ProcessState)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		resp, err := client.Get(s.base + "/readyz")
		if err != nil {
			continue
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return nil
		}
	}
	return fmt.Errorf("not ready after %v", timeout)
}

// stop asks the process to terminate (SIGTERM), kills it after 15 s, and
// waits for it to exit. It is safe to call more than once.
func (s *server) stop() {
	select {
	case <-s.done:
		return
	default:
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
}

// logTail returns the last lines of the server's log, for error messages.
func (s *server) logTail() string {
	b, err := os.ReadFile(s.log)
	if err != nil {
		return ""
	}
	lines := bytes.Split(bytes.TrimSpace(b), []byte("\n"))
	lines = lines[max(0, len(lines)-20):]
	return fmt.Sprintf("--- %s (end) ---\n%s", s.log, bytes.Join(lines, []byte("\n")))
}

// Metrics of mailtrail's event log (serve --event-log).
const (
	metricLogPosition        = "mailtrail_eventlog_position"   // last position acknowledged
	metricProjectionPosition = "mailtrail_projection_position" // last position the store applied
)

// gauges returns the values of the named metrics (without labels) of base's /metrics;
// a name the server does not export is missing from the map.
func gauges(ctx context.Context, client *http.Client, base string, names ...string) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, resp.Body)
		return nil, fmt.Errorf("GET /metrics: status %d", resp.StatusCode)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok || strings.HasPrefix(name, "#") {
			continue
		}
		for _, n := range names {
			if name == n {
				if v, err := strconv.ParseFloat(strings.TrimSpace(value), 64); err == nil {
					out[n] = v
				}
			}
		}
	}
	return out, sc.Err()
}

// hasEventLog reports whether the mailtrail at base runs with the event log.
func hasEventLog(ctx context.Context, base string) (bool, error) {
	g, err := gauges(ctx, &http.Client{Transport: &http.Transport{DisableCompression: true}, Timeout: 10 * time.Second}, base, metricLogPosition)
	if err != nil {
		return false, err
	}
	_, ok := g[metricLogPosition]
	return ok, nil
}

// waitCaughtUp waits, when s runs with the event log, until its projection has applied
// every position the log had acknowledged when it was called. It returns an error past
// timeout or when the process exits. Without the event log it returns at once.
func (s *server) waitCaughtUp(ctx context.Context, timeout time.Duration) error {
	if !s.logged {
		return nil
	}
	// Uncompressed and every 50 ms: a scrape costs the server about 2.5 ms of CPU (more
	// gzipped), which the projector it waits for would otherwise lose.
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}, Timeout: 10 * time.Second}
	deadline := time.Now().Add(timeout)
	var want float64 = -1
	for {
		g, err := gauges(ctx, client, s.base, metricLogPosition, metricProjectionPosition)
		if err == nil {
			if want < 0 {
				want = g[metricLogPosition]
			}
			if g[metricProjectionPosition] >= want {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the projection did not reach log position %.0f within %v (at %.0f; last error %v)\n%s",
				want, timeout, g[metricProjectionPosition], err, s.logTail())
		}
		select {
		case <-s.done:
			return fmt.Errorf("server exited\n%s", s.logTail())
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// logSummary counts the lines of the server's JSON log by level and keeps the first
// distinct messages of WARN and ERROR lines (with their err attribute).
type logSummary struct {
	levels   map[string]int
	notable  []string       // first distinct WARN and ERROR keys, in order
	counts   map[string]int // lines per notable key
	other    int            // lines that are not JSON (panics, the listening banner)
	panicked bool
}

func summarizeLog(path string) (logSummary, error) {
	f, err := os.Open(path)
	if err != nil {
		return logSummary{}, err
	}
	defer f.Close()
	sum := logSummary{levels: map[string]int{}, counts: map[string]int{}}
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var rec struct {
			Level  string `json:"level"`
			Msg    string `json:"msg"`
			Err    string `json:"err"`
			Route  string `json:"route"`
			Status int    `json:"status"`
		}
		if json.Unmarshal(line, &rec) != nil || rec.Level == "" {
			sum.other++
			if bytes.HasPrefix(line, []byte("panic:")) || bytes.HasPrefix(line, []byte("fatal error:")) {
				sum.panicked = true
				sum.notable = append(sum.notable, string(line))
			}
			continue
		}
		sum.levels[rec.Level]++
		if rec.Level == "WARN" || rec.Level == "ERROR" {
			key := rec.Level + " " + rec.Msg
			if rec.Route != "" {
				key += " " + rec.Route
			}
			if rec.Status != 0 {
				key += fmt.Sprintf(" status %d", rec.Status)
			}
			if rec.Err != "" {
				key += ": " + rec.Err
			}
			if len(key) > 200 {
				key = key[:200] + "…"
			}
			if !seen[key] && len(sum.notable) < 12 {
				sum.notable = append(sum.notable, key)
			}
			seen[key] = true
			sum.counts[key]++
		}
	}
	return sum, sc.Err()
}
