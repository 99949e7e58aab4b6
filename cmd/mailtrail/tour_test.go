package main

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// readmeTour returns the ```sh block of README.md's "Five-minute tour".
func readmeTour(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "\n## Five-minute tour\n")
	if !ok {
		t.Fatal("README.md has no \"## Five-minute tour\" section")
	}
	_, rest, ok = strings.Cut(rest, "\n```sh\n")
	block, _, ok2 := strings.Cut(rest, "\n```\n")
	if !ok || !ok2 {
		t.Fatal("the tour has no ```sh block")
	}
	return block + "\n"
}

// TestReadmeTour runs README.md's tour as it is written, with bash and curl, in a
// temporary directory, against the real binary on a free port (the tour reads $PORT).
// Only `go build` is replaced: a function copies the binary this test built to the path
// the tour names. Then it checks what each step printed.
func TestReadmeTour(t *testing.T) {
	for _, tool := range []string{"bash", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("MAILTRAIL_REQUIRE_SERVICES") != "" {
				t.Fatalf("%s is needed by the README tour test: %v", tool, err)
			}
			t.Skipf("%s not installed", tool)
		}
	}
	bin := buildBinary(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	dir := t.TempDir()
	script := "set -e\n" +
		`go() { [ "$1 $2" = "build -o" ] && cp "$MAILTRAIL_TEST_BIN" "$3"; }` + "\n" +
		readmeTour(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PORT="+strconv.Itoa(port), "MAILTRAIL_TEST_BIN="+bin)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // the server too is killed if the tour fails
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 30 * time.Second // the server drains after the tour's kill, then closes the pipes
	var stdout, stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	t.Cleanup(func() {
		if cmd.Process != nil {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		}
	})
	err = cmd.Run()
	out := stdout.tail(1 << 20)
	if err != nil {
		t.Fatalf("the tour failed: %v\nstdout:\n%s\nstderr:\n%s", err, out, stderr.tail(4000))
	}
	logs := stderr.tail(1 << 20)
	if !strings.Contains(logs, "stopped cleanly") {
		t.Errorf("the tour's kill did not stop the server cleanly:\n%s", logs)
	}
	if _, err := os.Stat(filepath.Join(dir, "tour-data", "mailtrail.db")); err != nil {
		t.Errorf("the tour's data directory: %v", err)
	}
	for _, want := range []string{
		`"name":"Acme","timezone":"Europe/Paris"`,
		`"accepted":1,"duplicates":0`, // the sent event
		`"accepted":0,"duplicates":1`, // its retry
		"open: 200 image/gif",         // the pixel of the instrumented html
		"click: 302 https://shop.example.com/sale",
		"\ncust-42,ann@example.com,", // who opened (people only)
		`"event_type":"clicked"`,     // the customer's timeline
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the tour's output lacks %q", want)
		}
	}
	var report struct {
		Counts map[string]int `json:"counts"`
	}
	var timeline struct {
		Events []struct {
			Type           string   `json:"event_type"`
			CustomerID     string   `json:"customer_id"`
			Classification string   `json:"classification"`
			Reasons        []string `json:"classification_reasons"`
		} `json:"events"`
	}
	for _, l := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(l, `{"campaign_id":"spring-sale",`) && strings.Contains(l, `"timezone"`):
			if err := json.Unmarshal([]byte(l), &report); err != nil {
				t.Fatalf("report: %v", err)
			}
		case strings.HasPrefix(l, `{"events":[`) && timeline.Events == nil:
			if err := json.Unmarshal([]byte(l), &timeline); err != nil {
				t.Fatalf("timeline: %v", err)
			}
		}
	}
	want := map[string]int{"sent": 1, "opens_total": 1, "human_opens_total": 1, "clicks_total": 1, "human_clicks_total": 0}
	for k, v := range want {
		if got, ok := report.Counts[k]; !ok || got != v {
			t.Errorf("report counts[%s] = %d (present %v), want %d; counts %v", k, got, ok, v, report.Counts)
		}
	}
	var types []string
	for _, e := range timeline.Events {
		types = append(types, e.Type)
		if e.CustomerID != "cust-42" {
			t.Errorf("timeline event of %q, want cust-42", e.CustomerID)
		}
		if e.Type == "clicked" && (e.Classification != "bot" || strings.Join(e.Reasons, ",") != "near_send") {
			t.Errorf("the click seconds after the send: %s %v, want bot for near_send as the README says", e.Classification, e.Reasons)
		}
	}
	if got := strings.Join(types, ","); !strings.Contains(got, "sent") || !strings.Contains(got, "opened") || !strings.Contains(got, "clicked") {
		t.Errorf("timeline types %s, want sent, opened, clicked", got)
	}
	if t.Failed() {
		t.Logf("stdout:\n%s", out)
	}
}

// TestGenericExample runs the shell example of internal/esp/GENERIC.md (create a generic
// connection with its own signing key, sign and post one event) against the real binary,
// and checks that the event was accepted and stored.
func TestGenericExample(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "openssl"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("MAILTRAIL_REQUIRE_SERVICES") != "" {
				t.Fatalf("%s is needed by the GENERIC.md example test: %v", tool, err)
			}
			t.Skipf("%s not installed", tool)
		}
	}
	b, err := os.ReadFile("../../internal/esp/GENERIC.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ := strings.Cut(string(b), "Example (shell), end to end")
	_, rest, ok := strings.Cut(rest, "\n```sh\n")
	block, _, ok2 := strings.Cut(rest, "\n```\n")
	if !ok || !ok2 {
		t.Fatal("GENERIC.md has no end-to-end ```sh example")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	bin := buildBinary(t)
	d := startOpsDaemon(t, bin, "--addr", addr, "--public-url", "http://"+addr) // later flags win
	ctx := context.Background()
	c := &http.Client{Timeout: 10 * time.Second}
	var org struct {
		APIKey string `json:"api_key"`
	}
	if _, err := doJSON(ctx, c, "POST", d.base+"/api/v1/admin/organizations", testAdmin, map[string]string{"name": "Relay", "timezone": "UTC"}, &org); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, "bash", "-e", "-c", block)
	cmd.Env = append(os.Environ(), "MT="+d.base, "KEY="+org.APIKey)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the example failed: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), `"accepted":1`) {
		t.Fatalf("the signed event was not accepted: %s", out)
	}
	var page struct {
		Events []struct {
			Type, Email string
		} `json:"events"`
	}
	if _, err := doJSON(ctx, c, "GET", d.base+"/api/v1/events?type=delivered", org.APIKey, nil, &page); err != nil {
		t.Fatal(err)
	}
	if len(page.Events) != 1 {
		t.Fatalf("stored delivered events: %+v, want the example's one", page.Events)
	}
}
