//go:build unix

package flock

import (
	"errors"
	"os"
	"syscall"
)

// TryExclusive takes an exclusive flock on f without waiting; ErrLocked when another
// open file description holds one (another process, or another open of the same file in
// this one). The kernel releases it when the process ends, however it ends.
func TryExclusive(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.EWOULDBLOCK):
			return ErrLocked
		}
		return err
	}
}
