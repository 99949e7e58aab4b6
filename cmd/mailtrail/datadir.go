package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/mailtrail/mailtrail/internal/flock"
)

// lockFileName is the file in a data directory whose exclusive lock makes a process its
// one owner. The file stays; the lock, not the file, is the ownership, so a crashed
// owner leaves nothing to delete by hand (the kernel releases the lock with the process).
const lockFileName = "mailtrail.lock"

// dirLock is the ownership of a data directory. Every process that opens the store holds
// one: each caches state (organizations, message states, the segment index) that a second
// writer would silently make wrong.
type dirLock struct{ f *os.File }

// errDirInUse says that another process owns the data directory.
type errDirInUse struct {
	dir, pid string
	hint     string // what to do instead while the owner runs (e.g. the API route); may be ""
}

func (e *errDirInUse) Error() string {
	who := "another mailtrail process"
	if e.pid != "" {
		who = "mailtrail process " + e.pid
	}
	msg := fmt.Sprintf("data directory %s is in use by %s (it holds %s): only one process may open a data directory; stop it first",
		e.dir, who, filepath.Join(e.dir, lockFileName))
	if e.hint != "" {
		msg += "; while it runs, " + e.hint
	}
	return msg
}

// lockDataDir creates dir if needed (mode 0700) and takes its ownership. It returns an
// *errDirInUse naming the directory and the owner's pid when another process holds it,
// and hint is appended to that message.
func lockDataDir(dir, hint string) (*dirLock, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	path := filepath.Join(abs, lockFileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("data directory lock: %w", err)
	}
	if err := flock.TryExclusive(f); err != nil {
		f.Close()
		if !errors.Is(err, flock.ErrLocked) {
			return nil, fmt.Errorf("data directory lock %s: %w", path, err)
		}
		b, _ := os.ReadFile(path)
		pid := strings.TrimSpace(string(b))
		if _, perr := strconv.Atoi(pid); perr != nil {
			pid = "" // the owner has not written it yet
		}
		return nil, &errDirInUse{dir: abs, pid: pid, hint: hint}
	}
	// The pid is only for the message above; a stale one is harmless.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &dirLock{f: f}, nil
}

// release gives the ownership up. The lock file stays.
func (l *dirLock) release() {
	if l == nil || l.f == nil {
		return
	}
	l.f.Close() // closing the descriptor releases the flock
	l.f = nil
}
