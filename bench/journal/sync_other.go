//go:build !linux

package journal

import "os"

// datasync flushes f with fsync where fdatasync is not available.
func datasync(f *os.File) error { return f.Sync() }
