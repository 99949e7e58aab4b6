//go:build linux

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// threadNices returns the nice value of each of a process's threads, by thread id.
func threadNices(t *testing.T, pid int) map[int]int {
	t.Helper()
	stats, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/stat", pid))
	if err != nil || len(stats) == 0 {
		t.Fatalf("threads of %d: %v", pid, err)
	}
	out := map[int]int{}
	for _, p := range stats {
		b, err := os.ReadFile(p)
		if err != nil {
			continue // a thread that ended meanwhile
		}
		s := string(b)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:]) // after the command's name
		tid, err1 := strconv.Atoi(filepath.Base(filepath.Dir(p)))
		nice, err2 := strconv.Atoi(fields[16]) // field 19 of the line
		if err1 != nil || err2 != nil {
			t.Fatalf("%s: %q", p, s)
		}
		out[tid] = nice
	}
	return out
}

// serve --event-log runs its projector on a thread of its own, lowered by
// --projector-nice, and every other thread, the main one included, at the process's
// priority.
func TestServeLowersTheProjector(t *testing.T) {
	bin := buildBinary(t)
	d := startDaemon(t, bin, t.TempDir(), crashAdmin, "--event-log", "--projector-nice", "7")
	pid := d.cmd.Process.Pid
	nices := threadNices(t, pid)
	base := nices[pid] // the main thread's, never lowered: the process's priority
	lowered, other := 0, 0
	for tid, nice := range nices {
		switch nice {
		case min(base+7, 19):
			lowered++
		case base:
			other++
		default:
			t.Errorf("thread %d runs at nice %d; want %d (the projector's) or %d", tid, nice, min(base+7, 19), base)
		}
	}
	if lowered != 1 || other == 0 {
		t.Fatalf("%d threads lowered by --projector-nice 7 and %d at nice %d; want the projector's alone lowered", lowered, other, base)
	}
}
