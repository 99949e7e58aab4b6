//go:build linux

package lowprio

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// threadNice reads a thread's nice value from /proc (field 19 of its stat line).
func threadNice(t *testing.T, tid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/self/task/%d/stat", tid))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:]) // after the command's name
	n, err := strconv.Atoi(fields[16])                            // field 19 of the line
	if err != nil {
		t.Fatalf("stat %q: %v", s, err)
	}
	return n
}

// Lower raises the nice value of the calling goroutine's thread alone, caps it at 19,
// and keeps the goroutine on that thread.
func TestLowerOneThread(t *testing.T) {
	base := threadNice(t, unix.Gettid())
	type result struct {
		nice, before, after, read int
		err                       error
	}
	run := func(by int) result {
		ch := make(chan result)
		go func() {
			var r result
			r.before = unix.Gettid()
			r.nice, r.err = Lower(by)
			for range 100 { // a locked goroutine stays on its thread
				runtime.Gosched()
			}
			r.after = unix.Gettid()
			r.read = threadNice(t, r.after)
			ch <- r
		}() // returns locked: its thread ends with it
		return <-ch
	}
	r := run(5)
	if r.err != nil {
		t.Fatal(r.err)
	}
	if want := min(base+5, 19); r.nice != want || r.read != want {
		t.Fatalf("Lower(5) from nice %d: says %d, the thread runs at %d; want %d", base, r.nice, r.read, want)
	}
	if r.before != r.after {
		t.Fatalf("the goroutine moved from thread %d to %d: it must stay locked to the lowered thread", r.before, r.after)
	}
	if got := threadNice(t, unix.Gettid()); got != base {
		t.Fatalf("the test's own thread runs at nice %d after another thread was lowered; want %d", got, base)
	}
	if r := run(100); r.err != nil || r.nice != 19 || r.read != 19 {
		t.Fatalf("Lower(100): nice %d, thread %d, %v; want 19 (the lowest priority)", r.nice, r.read, r.err)
	}
	if r := run(0); r.err != nil || r.nice != base || r.read != base {
		t.Fatalf("Lower(0): nice %d, thread %d, %v; want %d unchanged", r.nice, r.read, r.err, base)
	}
}
