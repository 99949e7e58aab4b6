package ingest

import "errors"

// ErrApplied is the answer of a store's positioned write (the projector's WriteAt) whose
// position is not past the one the store holds for that log: the record was applied
// before, so nothing of the batch was written again. It is not a failure: the caller
// reads the store's position and goes on after it.
var ErrApplied = errors.New("ingest: position already applied")
