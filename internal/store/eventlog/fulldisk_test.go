package eventlog_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/internal/store/eventlog"
)

// TestAppendAfterFullDisk: on a full disk an append fails (nothing is acknowledged that
// is not on disk), and once space is free appends succeed again without a restart — the
// embedded server turns JetStream off when a write finds no space, and the log turns it
// back on.
func TestAppendAfterFullDisk(t *testing.T) {
	if testing.Short() {
		t.Skip("mounts a tmpfs")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", dir).CombinedOutput(); err != nil {
		if os.Getenv("MAILTRAIL_REQUIRE_SERVICES") != "" {
			t.Fatalf("cannot mount a tmpfs: %v %s", err, out)
		}
		t.Skipf("cannot mount a tmpfs (needs root): %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", dir).Run() })
	var logged []string
	l := open(t, filepath.Join(dir, "log"), eventlog.Options{PublishTimeout: 500 * time.Millisecond,
		Logf: func(f string, a ...any) { logged = append(logged, fmt.Sprintf(f, a...)) }})
	ctx := context.Background()
	if _, err := l.Append(ctx, 0, "", events(0, 10)); err != nil {
		t.Fatal(err)
	}
	filler := filepath.Join(dir, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64<<10)
	for _, n := range []int{64 << 10, 4096, 512, 1} {
		for {
			if _, err := f.Write(buf[:n]); err != nil {
				if !errors.Is(err, syscall.ENOSPC) {
					t.Fatal(err)
				}
				break
			}
		}
	}
	f.Close()
	if _, err := l.Append(ctx, 0, "", events(100, 2000)); err == nil {
		t.Fatal("an append on a full disk was acknowledged")
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	var rc eventlog.Receipt
	deadline := time.Now().Add(30 * time.Second)
	for {
		if rc, err = l.Append(ctx, 0, "", events(5000, 10)); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("appends still fail once space is free: %v (server log: %q)", err, logged)
	}
	recs, err := l.Projection().Read(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[1].Pos != rc.Pos.Seq || recs[1].Events[0].ID != event(5000).ID {
		t.Fatalf("log after the full disk: %v, want the first append and the last", positions(recs))
	}
}
