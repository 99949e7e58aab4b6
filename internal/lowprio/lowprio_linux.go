package lowprio

import (
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"
)

func run(by int, fn func(int, error)) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread()
		if unix.Gettid() == unix.Getpid() {
			// On the main thread: while this goroutine holds it, the goroutine that run
			// starts runs on another thread.
			run(by, fn)
			runtime.UnlockOSThread()
			return
		}
		fn(lower(by))
		// Still locked: the thread ends with this goroutine.
	}()
	<-done
}

// lower raises the calling thread's nice value by by, at most to 19.
func lower(by int) (int, error) {
	// getpriority(2)'s system call returns 20 - nice, so that no value is negative; on
	// Linux it and setpriority(2) with a thread's id concern that thread alone.
	tid := unix.Gettid()
	p, err := unix.Getpriority(unix.PRIO_PROCESS, tid)
	if err != nil {
		return 0, fmt.Errorf("lowprio: getpriority: %w", err)
	}
	nice := min(20-p+by, 19)
	if err := unix.Setpriority(unix.PRIO_PROCESS, tid, nice); err != nil {
		return 20 - p, fmt.Errorf("lowprio: setpriority: %w", err)
	}
	return nice, nil
}
