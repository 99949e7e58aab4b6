//go:build unix

package eventlog

import (
	"errors"
	"os"
	"syscall"
)

var errWouldBlock = errors.New("locked")

// flockExclusive takes an exclusive flock on f without waiting; errWouldBlock when
// another open file description holds one (another process, or another Open of this
// one).
func flockExclusive(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.EWOULDBLOCK):
			return errWouldBlock
		}
		return err
	}
}
