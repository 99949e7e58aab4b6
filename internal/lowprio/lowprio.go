// Package lowprio runs background work at a lower CPU priority than the requests it
// follows: the work runs on an OS thread of its own whose nice value is raised, so that
// the kernel gives a contended core to the acknowledgements first and the background
// work gets what they leave.
package lowprio

// Run runs fn on an OS thread whose nice value is by higher than the caller's (capped at
// 19, the lowest priority), and returns when fn does. fn is told the nice value it runs
// at, or why its thread could not be lowered (it then runs all the same, at the caller's
// priority; ErrUnsupported on systems without per-thread priorities: anything but
// Linux). With by ≤ 0 fn runs on the caller's goroutine, unlowered, and is told 0.
//
// No other goroutine ever runs on the lowered thread: fn's goroutine is locked to it and
// ends with it locked, which ends the thread. The process's main thread is never the
// one lowered (tools such as ps and top show its priority as the process's, and Go never
// ends it).
func Run(by int, fn func(nice int, err error)) {
	if by <= 0 {
		fn(0, nil)
		return
	}
	run(by, fn)
}
