package ingest

import "errors"

// The answers of a store's positioned write (the projector's WriteAt: the log's records
// after one position up to another, with the position they reach) that wrote nothing
// because the store's position for that log is not the one the write starts after. Neither
// is a failure of the store: the caller reads the store's position and goes on after it.
var (
	// ErrApplied: the store's position is the write's last position or past it; every
	// record of the batch was applied before.
	ErrApplied = errors.New("ingest: position already applied")
	// ErrPositionMoved: the store's position is another one before the write's last (a
	// part of the batch was applied before, or records before it were not); applying the
	// batch would count some of its records twice or skip others.
	ErrPositionMoved = errors.New("ingest: the projection's position is not where the write starts")
)
