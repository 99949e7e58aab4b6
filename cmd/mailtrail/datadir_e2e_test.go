package main

import (
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// runBinary runs the binary to its end (at most 60 s) and returns its combined output and
// exit code.
func runBinary(t *testing.T, bin string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("mailtrail %v did not end within 60 s:\n%s", args, out)
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("mailtrail %v: %v", args, err)
	}
	return string(out), code
}

// Issue 13: a data directory has one owner. A second serve on it exits non-zero naming the
// directory and the owner's pid; CLI verbs are refused too (a read-only one pointing at the
// API); once the owner is killed with SIGKILL (no clean exit, the lock file stays), a new
// process starts on it without anything deleted by hand.
func TestDataDirOneOwner(t *testing.T) {
	bin := buildBinary(t)
	dir := filepath.Join(t.TempDir(), "data")
	first := startDaemon(t, bin, dir, crashAdmin)
	pid := strconv.Itoa(first.cmd.Process.Pid)

	out, code := runBinary(t, bin, "serve", "--addr", "127.0.0.1:0", "--data-dir", dir, "--admin-token", crashAdmin)
	if code == 0 || !strings.Contains(out, "data directory "+dir+" is in use by mailtrail process "+pid) {
		t.Fatalf("second serve: exit %d, output:\n%s", code, out)
	}
	if strings.Count(out, "in use") != 1 || strings.Contains(out, "mailtrail: mailtrail:") {
		t.Fatalf("the error is not printed once:\n%s", out)
	}
	out, code = runBinary(t, bin, "org", "list", "--data-dir", dir)
	if code == 0 || !strings.Contains(out, "process "+pid) || !strings.Contains(out, "GET /api/v1/admin/organizations") {
		t.Fatalf("org list beside the server: exit %d, output:\n%s", code, out)
	}
	out, code = runBinary(t, bin, "org", "create", "--name", "x", "--data-dir", dir)
	if code == 0 || !strings.Contains(out, "POST /api/v1/admin/organizations") {
		t.Fatalf("org create beside the server: exit %d, output:\n%s", code, out)
	}
	// The first one still serves: nothing the refused ones did disturbed it.
	if st, err := doJSON(context.Background(), &http.Client{Timeout: 10 * time.Second}, "GET", first.base+"/api/v1/admin/organizations", crashAdmin, nil, nil); err != nil {
		t.Fatalf("first server after the refusals: %d %v", st, err)
	}

	first.kill(t)
	if _, err := os.Stat(filepath.Join(dir, lockFileName)); err != nil {
		t.Fatalf("lock file after SIGKILL: %v", err)
	}
	second := startDaemon(t, bin, dir, crashAdmin)
	if err := second.stop(20 * time.Second); err != nil {
		t.Fatalf("second owner's SIGTERM: %v", err)
	}
	if out, code := runBinary(t, bin, "org", "list", "--data-dir", dir); code != 0 {
		t.Fatalf("org list after the owner stopped: exit %d\n%s", code, out)
	}
}

// Issue 13: serve binds its port before it touches the data directory. With the port
// taken it exits non-zero and creates nothing: a missing directory stays missing, an
// empty one stays empty.
func TestServePortTakenCreatesNothing(t *testing.T) {
	bin := buildBinary(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	addr := ln.Addr().String()
	missing := filepath.Join(t.TempDir(), "data")
	out, code := runBinary(t, bin, "serve", "--addr", addr, "--data-dir", missing)
	if code == 0 || !strings.Contains(out, "listen on "+addr) {
		t.Fatalf("serve on a taken port: exit %d\n%s", code, out)
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Fatalf("data directory created by a start that failed: %v", err)
	}
	empty := t.TempDir()
	if out, code := runBinary(t, bin, "demo", "--addr", addr, "--data-dir", empty); code == 0 {
		t.Fatalf("demo on a taken port: exit 0\n%s", out)
	}
	if ents, err := os.ReadDir(empty); err != nil || len(ents) != 0 {
		t.Fatalf("empty data directory after a failed start: %v %v", ents, err)
	}
}
