package load

import (
	"os"
	"runtime"
	"testing"
)

// TestSampleCPU: on Linux two samples around busy work see this process's CPU and the
// machine's, and a pid that is not running makes the sample unknown.
func TestSampleCPU(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("/proc")
	}
	a := SampleCPU(os.Getpid())
	x := 0
	for i := range 50_000_000 {
		x += i % 7
	}
	_ = x
	b := SampleCPU(os.Getpid())
	if !a.OK || !b.OK || b.Ours <= a.Ours || b.Busy < a.Busy {
		t.Fatalf("samples %+v then %+v: want both known, ours and busy growing", a, b)
	}
	if o := OthersCPU(a, b); o < 0 {
		t.Fatalf("OthersCPU = %v, want a measure", o)
	}
	if s := SampleCPU(1 << 30); s.OK {
		t.Fatal("a sample with a pid that does not exist is known")
	}
	if OthersCPU(a, SampleCPU(1<<30)) != -1 {
		t.Fatal("OthersCPU of an unknown sample is not -1")
	}
}
