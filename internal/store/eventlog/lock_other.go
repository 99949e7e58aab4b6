//go:build !unix

package eventlog

import (
	"errors"
	"os"
)

var errWouldBlock = errors.New("locked")

// flockExclusive is not implemented off Unix: mailtrail runs on Linux. Elsewhere the
// ownership of the directory is not enforced.
func flockExclusive(*os.File) error { return nil }
