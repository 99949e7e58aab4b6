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

type ran struct {
	nice, read int
	err        error
	tids       map[int]bool // the threads fn ran on
}

func runOnce(t *testing.T, by int, lockMain bool) ran {
	t.Helper()
	out := make(chan ran, 1)
	body := func() {
		r := ran{tids: map[int]bool{}}
		Run(by, func(nice int, err error) {
			r.nice, r.err = nice, err
			for range 100 { // fn stays on its thread
				r.tids[unix.Gettid()] = true
				runtime.Gosched()
			}
			r.read = threadNice(t, unix.Gettid())
		})
		out <- r
	}
	if lockMain {
		if tid := unix.Gettid(); tid != os.Getpid() {
			return ran{err: fmt.Errorf("TestMain's goroutine runs on thread %d, not the main thread", tid)}
		}
		// On the main thread, unlocked: the goroutine Run starts goes to this thread's
		// next slot and most likely runs on the main thread while this one waits.
		runtime.UnlockOSThread()
		body()
		runtime.LockOSThread()
	} else {
		go body()
	}
	return <-out
}

// Run lowers the thread fn runs on alone, caps its nice value at 19, keeps fn on that
// thread, and never lowers the process's main thread, even when called from it.
func TestRunLowersOneThread(t *testing.T) {
	main := os.Getpid()
	base := threadNice(t, main)
	check := func(what string, r ran, want int) {
		t.Helper()
		if r.err != nil || r.nice != want || r.read != want {
			t.Fatalf("%s: says nice %d (%v), the thread runs at %d; want %d", what, r.nice, r.err, r.read, want)
		}
		if want != base && (len(r.tids) != 1 || r.tids[main]) {
			t.Fatalf("%s: fn ran on threads %v (the main thread is %d); want one, not the main one", what, r.tids, main)
		}
		if got := threadNice(t, main); got != base {
			t.Fatalf("%s: the main thread runs at nice %d; want %d", what, got, base)
		}
	}
	check("Run(5)", runOnce(t, 5, false), min(base+5, 19))
	check("Run(100)", runOnce(t, 100, false), 19)
	check("Run(5) from the main thread", onMain(func() ran { return runOnce(t, 5, true) }), min(base+5, 19))
	if r := runOnce(t, 0, false); r.err != nil || r.read != base {
		t.Fatalf("Run(0): thread at %d, %v; want %d unchanged", r.read, r.err, base)
	}
}

// mainCalls carries functions to TestMain's goroutine, locked to the main thread.
var mainCalls = make(chan func())

func onMain(f func() ran) ran {
	out := make(chan ran, 1)
	mainCalls <- func() { out <- f() }
	return <-out
}

// An init that locks makes TestMain run on the main thread.
func init() { runtime.LockOSThread() }

func TestMain(m *testing.M) {
	code := make(chan int, 1)
	go func() { code <- m.Run() }()
	for {
		select {
		case f := <-mainCalls:
			f()
		case c := <-code:
			os.Exit(c)
		}
	}
}
