// Package flock makes one process the owner of a directory: an exclusive, non-blocking
// lock on a file in it (the data directory's mailtrail.lock, the event log's
// eventlog.lock).
package flock

import "errors"

// ErrLocked is returned by TryExclusive when another owner holds the lock.
var ErrLocked = errors.New("locked by another process")
