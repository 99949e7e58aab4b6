package lowprio

import (
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"
)

func lower(by int) (int, error) {
	// getpriority(2)'s system call returns 20 - nice, so that no nice value is negative.
	p, err := unix.Getpriority(unix.PRIO_PROCESS, 0)
	if err != nil {
		return 0, fmt.Errorf("lowprio: getpriority: %w", err)
	}
	nice := 20 - p
	if by <= 0 {
		return nice, nil
	}
	runtime.LockOSThread()
	nice = min(nice+by, 19)
	// On Linux a thread's id is a process id for setpriority(2): this thread alone.
	if err := unix.Setpriority(unix.PRIO_PROCESS, unix.Gettid(), nice); err != nil {
		return 20 - p, fmt.Errorf("lowprio: setpriority: %w", err)
	}
	return nice, nil
}
