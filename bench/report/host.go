package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func runtimeProcs() int { return runtime.GOMAXPROCS(0) }

// hostDesc names the machine: OS, architecture, CPU model when Linux tells it.
func hostDesc() string {
	d := runtime.GOOS + "/" + runtime.GOARCH + ", " + strconv.Itoa(runtime.NumCPU()) + " CPUs"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				return d + " (" + strings.TrimSpace(v) + ")"
			}
		}
	}
	return d
}

// cpuSample is the machine's busy CPU time and this process's CPU time at one moment.
type cpuSample struct {
	at         time.Time
	busy, self time.Duration
	ok         bool
}

// sampleCPU reads /proc/stat (Linux) and this process's rusage.
func sampleCPU() cpuSample {
	s := cpuSample{at: time.Now()}
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return s
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return s
	}
	var jiffies int64
	for i, v := range f[1:] {
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		if i >= 8 { // guest time is already counted in user
			break
		}
		n, _ := strconv.ParseInt(v, 10, 64)
		jiffies += n
	}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return s
	}
	s.busy = time.Duration(jiffies) * (time.Second / 100) // USER_HZ is 100 on Linux
	s.self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	s.ok = true
	return s
}

// othersCPU describes the CPU other processes used between a and b: the noise of a shared
// machine, which no ratio fully removes.
func othersCPU(a, b cpuSample) string {
	if !a.ok || !b.ok || !b.at.After(a.at) {
		return "not measured (needs Linux /proc/stat)"
	}
	wall := b.at.Sub(a.at).Seconds()
	others := max(0, ((b.busy-a.busy)-(b.self-a.self)).Seconds()/wall)
	self := (b.self - a.self).Seconds() / wall
	return fmt.Sprintf("this process %.2f CPUs, other processes %.2f CPUs (of %d), averaged over %v", self, others, runtime.NumCPU(), b.at.Sub(a.at).Round(time.Second))
}
