//go:build !unix

package main

import (
	"errors"
	"os"
)

var errLocked = errors.New("locked by another process")

// flockExclusive is not implemented off Unix: mailtrail is built and run on Linux, and a
// data directory there has one owner. Elsewhere the ownership is not enforced.
func flockExclusive(*os.File) error { return nil }
