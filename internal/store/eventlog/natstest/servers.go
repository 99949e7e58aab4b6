package natstest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The cluster's servers as scripts/nats-cluster.sh runs them in its directory
// (MAILTRAIL_TEST_NATS_DIR): server I is named mt-nI, with its pid in nI.pid and its
// configuration in nI.conf. Tests that kill and restart them use these.

// Dir returns the directory the script ran the cluster in (MAILTRAIL_TEST_NATS_DIR), as
// URL returns its URLs.
func Dir(t testing.TB) string {
	t.Helper()
	return setting(t, "MAILTRAIL_TEST_NATS_DIR")
}

// ServerPID returns the pid of the cluster's server named name (mt-nI) and its number I.
func ServerPID(t testing.TB, dir, name string) (pid, num int) {
	t.Helper()
	num, err := strconv.Atoi(strings.TrimPrefix(name, "mt-n"))
	if err != nil {
		t.Fatalf("server name %q", name)
	}
	b, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("n%d.pid", num)))
	if err != nil {
		t.Fatal(err)
	}
	if pid, err = strconv.Atoi(strings.TrimSpace(string(b))); err != nil {
		t.Fatal(err)
	}
	return pid, num
}

// KillServer kills the cluster's server named name with SIGKILL and returns its number,
// for RestartServer.
func KillServer(t testing.TB, dir, name string) int {
	t.Helper()
	pid, num := ServerPID(t, dir, name)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	return num
}

// RestartServer starts the cluster's server num again, as the script started it, and
// records its pid for the script's stop.
func RestartServer(t testing.TB, dir string, num int) {
	t.Helper()
	cmd := exec.Command(filepath.Join(dir, "nats-server"), "-c", filepath.Join(dir, fmt.Sprintf("n%d.conf", num)),
		"-l", filepath.Join(dir, fmt.Sprintf("n%d.log", num)))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // outlives the test binary, as the script's do
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("n%d.pid", num)), []byte(strconv.Itoa(cmd.Process.Pid)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	go cmd.Wait()
}

// WaitCurrent waits (up to a minute) until the stream has a leader and every replica
// is current again, as after a restarted server caught up; it fails t otherwise.
func WaitCurrent(t testing.TB, url, stream string, replicas int) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(250 * time.Millisecond) {
		info, err := Info(url, stream)
		current := 0
		if err == nil && info.Cluster != nil {
			for _, p := range info.Cluster.Replicas {
				if p.Current && !p.Offline {
					current++
				}
			}
			if info.Cluster.Leader != "" && current == replicas-1 {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the stream's replicas did not catch up: %+v, %v", info, err)
		}
	}
}
