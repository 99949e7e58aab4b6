// Package lowprio runs background work at a lower CPU priority than the requests it
// follows: the calling goroutine is locked to its OS thread and that thread's nice value
// raised, so that the kernel gives a contended core to the acknowledgements first and the
// background work gets what they leave.
package lowprio

// Lower locks the calling goroutine to its OS thread and raises that thread's nice value
// by by (capped at 19, the lowest priority; by ≤ 0 changes nothing). It returns the
// nice value the thread runs at. The goroutine should run to its end on that thread: a
// locked goroutine that returns takes its thread with it, so no other goroutine ever runs
// at the lowered priority. On systems without per-thread priorities (anything but Linux)
// it locks nothing and returns ErrUnsupported.
func Lower(by int) (nice int, err error) { return lower(by) }
