//go:build unix

package flock

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// A second open of a locked file cannot take the lock until the first is closed.
func TestTryExclusive(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	open := func() *os.File {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	a, b := open(), open()
	defer b.Close()
	if err := TryExclusive(a); err != nil {
		t.Fatalf("first lock: %v", err)
	}
	if err := TryExclusive(b); !errors.Is(err, ErrLocked) {
		t.Fatalf("second lock while the first is held: %v, want ErrLocked", err)
	}
	a.Close()
	if err := TryExclusive(b); err != nil {
		t.Fatalf("lock after the owner closed: %v", err)
	}
}
