package eventlog

import (
	"context"
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"time"
)

// keyFilter is a blocked Bloom filter of dedupe and idempotency keys (by their
// key.hash): holdsHash is true for every key added, and false for most others. Each key sets filterProbes bits in one
// 512-bit block (one cache line), so a lookup reads one line of memory; at its capacity,
// filterBitsPerKey bits per key, about 1 in 200 keys never added is answered "maybe"
// (TestKeyFilterFalsePositives measures it). The keys are digests already; key.hash
// mixes their words. Not safe for concurrent use: the Sink guards it with its mutex.
type keyFilter struct {
	blocks   [][8]uint64
	n        int // keys added
	capacity int // keys it was sized for
	fetched  uint64
}

const (
	filterBitsPerKey = 12
	filterProbes     = 8
)

// newKeyFilter returns an empty filter sized for capacity keys (at least one block).
func newKeyFilter(capacity int) *keyFilter {
	nb := max(1, (capacity*filterBitsPerKey+511)/512)
	return &keyFilter{blocks: make([][8]uint64, nb), capacity: capacity}
}

// probe returns the block of a key's hash and the second hash its bits come from.
func (f *keyFilter) probe(h uint64) (*[8]uint64, uint64) {
	i, _ := bits.Mul64(h, uint64(len(f.blocks))) // h's high bits pick the block
	// splitmix64's finaliser: bits independent of the block's.
	z := h + 0x9e3779b97f4a7c15
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return &f.blocks[i], z ^ z>>31
}

// addHash and holdsHash add and test one key; the Sink uses the windowed addHashes and
// holdHashes, which TestKeyFilterWindowsLikeOneKeyAtATime holds to these.
func (f *keyFilter) addHash(h uint64) {
	b, z := f.probe(h)
	setBits(b, z, h)
	f.n++
}

func (f *keyFilter) holdsHash(h uint64) bool {
	b, z := f.probe(h)
	return hasBits(b, z, h)
}

// setBits sets a key's filterProbes bits in its block b: seven from z, the second hash,
// the eighth from h's low bits (the block took its high ones).
func setBits(b *[8]uint64, z, h uint64) {
	for range filterProbes - 1 {
		bit := z & 511
		b[bit>>6] |= 1 << (bit & 63)
		z >>= 9
	}
	bit := h & 511
	b[bit>>6] |= 1 << (bit & 63)
}

// hasBits reports whether the bits setBits sets are all set.
func hasBits(b *[8]uint64, z, h uint64) bool {
	for range filterProbes - 1 {
		bit := z & 511
		if b[bit>>6]&(1<<(bit&63)) == 0 {
			return false
		}
		z >>= 9
	}
	bit := h & 511
	return b[bit>>6]&(1<<(bit&63)) != 0
}

// filterWindow is how many keys addHashes and holdHashes take at a time. A filter of
// millions of keys is far larger than the CPU's caches, so each key's block is a fetch
// from memory. One key at a time, each fetch is waited for before the next begins;
// reading a window's blocks first, in a loop of loads that do not depend on each other,
// overlaps the window's fetches (2–3× faster per key in BenchmarkKeyFilter, a filter of
// 48 MB: bench/README.md).
const filterWindow = 16

// window holds the blocks and second hashes of up to filterWindow keys.
type window struct {
	blocks [filterWindow]*[8]uint64
	zs     [filterWindow]uint64
}

// fetch fills w for the hashes hs (at most filterWindow) and reads a word of each block,
// so that the blocks are in the cache when the bits are set or tested.
func (f *keyFilter) fetch(w *window, hs []uint64) {
	for j, h := range hs {
		w.blocks[j], w.zs[j] = f.probe(h)
	}
	var x uint64
	for j := range hs {
		x |= w.blocks[j][0]
	}
	f.fetched = x // used, so the loads stay
}

// addHashes adds the keys of hashes hs, as addHash does one at a time.
func (f *keyFilter) addHashes(hs []uint64) {
	var w window
	for len(hs) > 0 {
		part := hs[:min(len(hs), filterWindow)]
		f.fetch(&w, part)
		for j, h := range part {
			setBits(w.blocks[j], w.zs[j], h)
		}
		f.n += len(part)
		hs = hs[len(part):]
	}
}

// holdHashes sets out[i] to holdsHash(hs[i]) for each hash (out is at least as long).
func (f *keyFilter) holdHashes(hs []uint64, out []bool) {
	var w window
	for i := 0; i < len(hs); i += filterWindow {
		part := hs[i:min(len(hs), i+filterWindow)]
		f.fetch(&w, part)
		for j, h := range part {
			out[i+j] = hasBits(w.blocks[j], w.zs[j], h)
		}
	}
}

// full reports whether the filter holds as many keys as it was sized for: past that,
// its false positives grow.
func (f *keyFilter) full() bool { return f.n >= f.capacity }

// bytes returns the memory its bits take.
func (f *keyFilter) bytes() int { return len(f.blocks) * 64 }

// minFilterKeys is the smallest capacity a filter is built with (6 MB of bits); tests
// make it small to see filters fill up.
var minFilterKeys = 1 << 22

// buildChunk is about how many keys (of the index, then of the store) a filter build
// adds per lock of the Sink's mutex; betweenChunks, when set (tests only), runs between
// two such locks.
var (
	buildChunk    = 4096
	betweenChunks func()
)

// filterRetry is how long KeepFilter waits after a build failed.
const filterRetry = 10 * time.Second

// excluded sets out[i] (out at least as long as keys) to whether the filter tells that
// neither the store nor the index holds any of event i's keys (eventKeys: keys[i]), so
// neither need be asked: every key the index holds entered the filter (filterAdd; a
// filter built meanwhile starts from the index). All false without a filter. Called with
// mu held.
func (s *Sink) excluded(keys [][2]key, out []bool) {
	f := s.filter
	if f == nil {
		clear(out[:len(keys)])
		return
	}
	hs := s.hashBuf[:0]
	for _, ks := range keys {
		for _, k := range ks {
			if k.kind != 0 {
				hs = append(hs, k.hash())
			}
		}
	}
	s.hashBuf = hs
	held := s.heldBuf[:0]
	held = slices.Grow(held, len(hs))[:len(hs)]
	s.heldBuf = held
	f.holdHashes(hs, held)
	j := 0
	for i, ks := range keys {
		out[i] = true
		for _, k := range ks {
			if k.kind != 0 {
				out[i] = out[i] && !held[j]
				j++
			}
		}
	}
}

// filterAdd adds appended keys (their hashes hs) to the filter and to one being built.
// Called with mu held.
func (s *Sink) filterAdd(hs []uint64) {
	if s.building != nil {
		s.building.addHashes(hs)
	}
	if s.filter != nil {
		s.filter.addHashes(hs)
		if s.filter.full() {
			select {
			case s.full <- struct{}{}:
			default:
			}
		}
	}
}

// addKeys adds keys to f, a chunk of a build. Called with mu held.
func (s *Sink) addKeys(f *keyFilter, keys []key) { f.addHashes(s.hashes(keys)) }

// KeepFilter builds the filter of the store's keys (SinkOptions.Keys), then builds it
// again, larger, each time it fills up, until ctx ends. Until the first build is done
// every key is looked up in the store, as without a filter. A failed build is reported
// (OnFilterError) and tried again; the filter in place stays meanwhile.
func (s *Sink) KeepFilter(ctx context.Context) {
	for {
		err := s.BuildFilter(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			if s.opt.OnFilterError != nil {
				s.opt.OnFilterError(err)
			}
			t := time.NewTimer(filterRetry)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-s.full:
		}
	}
}

// BuildFilter builds a filter of the keys the store holds and every key appended while it
// builds, sized for twice as many, and puts it in place of the one in use. Keys the store
// applies during the scan are covered whether the scan reads them or not: they were
// appended by this Sink after the build began, and enter the new filter, or were in its
// index (appended, not applied) when it began, and enter it unless applied before the
// scan began, which then reads them. With Shared, so are the other
// writers' appends: catchUp reads every message past the store's position when the
// build began into the index (skipMax), and the scan holds those up to it.
func (s *Sink) BuildFilter(ctx context.Context) error {
	if s.opt.Keys == nil {
		return errors.New("eventlog: no key store to build a filter from")
	}
	n, err := s.opt.Keys.CountStoredKeys(ctx)
	if err != nil {
		return fmt.Errorf("eventlog: dedupe filter: %w", err)
	}
	if s.opt.Shared {
		// catchUp reads every message past the store's position from now on (skipMax):
		// the scan below holds the keys of those up to it.
		s.tailMu.Lock()
	}
	s.mu.Lock()
	pending := s.keys.n
	s.mu.Unlock()
	f := newKeyFilter(max(2*(n+pending), minFilterKeys)) // megabytes zeroed: not under mu
	s.mu.Lock()
	s.building = f
	// The index's keys enter f below, a chunk at a time: a Write waits for one chunk at
	// most, not for millions of keys (the index holds every key appended and not yet
	// applied: millions when the store is far behind). Segments from end on are indexed
	// with f in place, so filterAdd adds their keys.
	next, end := s.base, s.base+uint64(len(s.segs))
	if s.opt.Shared {
		s.skipMax = s.opt.Applied()
	}
	s.mu.Unlock()
	if s.opt.Shared {
		s.tailMu.Unlock()
	}
	for next < end {
		s.mu.Lock()
		// A segment pruned meanwhile was applied before its prune, so before the scan
		// below begins: the scan reads its keys.
		next = max(next, s.base)
		for added := 0; next < end && added < buildChunk; next++ {
			seg := &s.segs[next-s.base]
			s.addKeys(f, seg.keys)
			added += len(seg.keys)
		}
		s.mu.Unlock()
		if betweenChunks != nil {
			betweenChunks()
		}
	}
	type stored struct {
		org string
		b   [16]byte
	}
	var batch []stored
	var keys []key
	flush := func() {
		s.mu.Lock()
		keys = keys[:0]
		for _, st := range batch {
			keys = append(keys, s.storedKey(st.org, st.b))
		}
		s.addKeys(f, keys)
		s.mu.Unlock()
		batch = batch[:0]
	}
	err = s.opt.Keys.StoredKeys(ctx, func(org string, b []byte) error {
		if len(b) != 16 { // no event's key can equal it: Seen would never find it either
			return nil
		}
		st := stored{org: org}
		copy(st.b[:], b)
		batch = append(batch, st)
		if len(batch) == buildChunk {
			flush()
		}
		return nil
	})
	flush()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.building = nil
	if err != nil {
		return fmt.Errorf("eventlog: dedupe filter: %w", err)
	}
	s.filter = f
	return nil
}

// FilterStats describes the Sink's filter.
type FilterStats struct {
	Ready    bool // built: new events are answered without the store
	Keys     int  // keys it holds
	Capacity int  // keys it was sized for
	Bytes    int  // memory of its bits
}

// Filter describes the filter in use.
func (s *Sink) Filter() FilterStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.filter == nil {
		return FilterStats{}
	}
	return FilterStats{Ready: true, Keys: s.filter.n, Capacity: s.filter.capacity, Bytes: s.filter.bytes()}
}
