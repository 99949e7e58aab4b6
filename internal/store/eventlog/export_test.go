package eventlog

import "slices"

// SetMinFilterKeys makes the Sink's filters start at n keys, so that a test sees them
// fill up and be built again; it returns what restores the default.
func SetMinFilterKeys(n int) (restore func()) {
	old := minFilterKeys
	minFilterKeys = n
	return func() { minFilterKeys = old }
}

// SetBuildChunk makes a filter build add the index's keys about n at a time and call
// between after each chunk; it returns what restores the default.
func SetBuildChunk(n int, between func()) (restore func()) {
	old := buildChunk
	buildChunk, betweenChunks = n, between
	return func() { buildChunk, betweenChunks = old, nil }
}

// KeyFilter, NewKeyFilter, MakeKey, Add and MayHold expose the filter to its tests.
type KeyFilter = keyFilter

func NewKeyFilter(capacity int) *keyFilter { return newKeyFilter(capacity) }

// MakeKey is a dedupe key of bytes b, or with idem an idempotency key of organization
// number org.
func MakeKey(b [16]byte, org uint32, idem bool) key {
	if idem {
		return key{b: b, org: org, kind: kindIdem}
	}
	return key{b: b, kind: kindDedupe}
}

func (f *keyFilter) Add(k key)          { f.addHash(k.hash()) }
func (f *keyFilter) MayHold(k key) bool { return f.holdsHash(k.hash()) }

// AddHashes, HoldHashes, AddHash, HoldsHash and SameBits expose the filter's windowed
// operations and their one-key versions to the test that compares them.
func (f *keyFilter) AddHashes(hs []uint64)              { f.addHashes(hs) }
func (f *keyFilter) HoldHashes(hs []uint64, out []bool) { f.holdHashes(hs, out) }
func (f *keyFilter) AddHash(h uint64)                   { f.addHash(h) }
func (f *keyFilter) HoldsHash(h uint64) bool            { return f.holdsHash(h) }
func (f *keyFilter) SameBits(g *keyFilter) bool {
	return f.n == g.n && slices.Equal(f.blocks, g.blocks)
}
