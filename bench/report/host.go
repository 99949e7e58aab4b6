package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"

	"time"

	"github.com/mailtrail/mailtrail/bench/load"
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

// othersCPU describes the CPU other processes used between a and b: the noise of a shared
// machine, which no ratio fully removes.
func othersCPU(a, b load.CPUSample) string {
	others := load.OthersCPU(a, b)
	if others < 0 {
		return "not measured (needs Linux /proc/stat)"
	}
	self := (b.Ours - a.Ours).Seconds() / b.At.Sub(a.At).Seconds()
	return fmt.Sprintf("this process %.2f CPUs, other processes %.2f CPUs (of %d), averaged over %v", self, others, runtime.NumCPU(), b.At.Sub(a.At).Round(time.Second))
}

// sampleCPU samples the machine and this process.
func sampleCPU() load.CPUSample { return load.SampleCPU() }
