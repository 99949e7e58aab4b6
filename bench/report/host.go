package main

import (
	"os"
	"runtime"
	"strings"
)

func runtimeProcs() int { return runtime.GOMAXPROCS(0) }

// hostDesc names the machine: OS, architecture, CPU model when Linux tells it.
func hostDesc() string {
	d := runtime.GOOS + "/" + runtime.GOARCH + ", " + itoa(runtime.NumCPU()) + " CPUs"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				return d + " (" + strings.TrimSpace(v) + ")"
			}
		}
	}
	return d
}

func itoa(n int) string { return thousands(float64(n)) }
