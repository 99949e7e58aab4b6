package load

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// CPUSample is the machine's busy CPU time and the CPU time of this process and of some
// child processes (the servers under test) at one moment: two samples tell how much
// other processes used in between, the noise of a shared machine.
type CPUSample struct {
	At         time.Time
	Busy, Ours time.Duration
	OK         bool // false when the machine does not tell (not Linux)
}

// userHZ is the unit of /proc's CPU times on Linux.
const userHZ = 100

// SampleCPU reads /proc/stat, this process's rusage and each of pids' /proc stat.
func SampleCPU(pids ...int) CPUSample {
	s := CPUSample{At: time.Now()}
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
	s.Busy = time.Duration(jiffies) * (time.Second / userHZ)
	s.Ours = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	for _, pid := range pids {
		d, err := ProcessCPU(pid)
		if err != nil {
			return s
		}
		s.Ours += d
	}
	s.OK = true
	return s
}

// OthersCPU returns the CPUs that processes other than ours used on average between a and
// b, or -1 when unknown.
func OthersCPU(a, b CPUSample) float64 {
	if !a.OK || !b.OK || !b.At.After(a.At) {
		return -1
	}
	return max(0, ((b.Busy-a.Busy)-(b.Ours-a.Ours)).Seconds()/b.At.Sub(a.At).Seconds())
}

// ProcessCPU returns the user + system CPU time of process pid from /proc.
func ProcessCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The fields after the command (which may hold spaces) start after the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("bad /proc stat")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, errors.New("bad /proc stat")
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+s) * (time.Second / userHZ), nil
}

// CommandCPU returns the CPU time (user + system) of every process whose command name
// (/proc/PID/comm) is name, e.g. "postgres" (a server's backends) or "nats-server". A
// process that ended before the call is not counted: take both samples of a phase while
// its processes run.
func CommandCPU(name string) time.Duration {
	dirs, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	var total time.Duration
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		if err != nil || strings.TrimSpace(string(comm)) != name {
			continue
		}
		if c, err := ProcessCPU(pid); err == nil {
			total += c
		}
	}
	return total
}

// SelfCPU returns this process's CPU time (user + system).
func SelfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// LoadAverage returns /proc/loadavg's 1, 5 and 15 minute averages as "load average 1.20,
// 0.95, 0.80", or "unknown" where the machine does not tell.
func LoadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return fmt.Sprintf("load average %s, %s, %s", f[0], f[1], f[2])
}
