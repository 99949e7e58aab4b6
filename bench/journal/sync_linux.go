package journal

import (
	"os"
	"syscall"
)

// datasync flushes f's data (not all of its metadata) with fdatasync(2).
func datasync(f *os.File) error { return syscall.Fdatasync(int(f.Fd())) }
