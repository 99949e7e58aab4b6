package eventlog

// keyTable is the dedupe index's table: for each key appended and not yet applied, where
// it is (its segment, its place in the segment's keys, and its event's place in the
// segment's ids). It holds no key: a slot names the key's place in its segment, which
// holds the key already, and its hash (key.hash, as the filter takes it). A slot is 24
// bytes, where a Go map of the keys took 40 per entry plus its control bytes.
//
// Open addressing with linear probing, at most 3/4 full, removal by shifting the slots
// after it back (no tombstones: keys pass through the table by the million, and it never
// degrades or needs a rebuild). Inserting or removing a segment's keys, the Sink fetches
// a window of their slots together first (fetch), as the filter does its blocks
// (filterWindow): a table of millions of keys is far larger than the CPU's caches.
//
// Not safe for concurrent use: the Sink guards it with its mutex.
type keyTable struct {
	slots   []keySlot // len a power of two, or 0
	n       int
	fetched uint64
}

type keySlot struct {
	h    uint64 // the key's hash
	seg  uint64 // its segment's number + 1; 0: the slot is empty
	kidx uint32 // its place in the segment's keys
	idx  uint32 // its event's place in the segment's ids
}

// minKeyTable is the smallest table, in slots.
const minKeyTable = 1024

// at returns the key a slot names: segs[0] is segment number base.
func (sl *keySlot) at(segs []segment, base uint64) key {
	return segs[sl.seg-1-base].keys[sl.kidx]
}

// find returns the index of the slot holding k (hash h), or -1.
func (t *keyTable) find(h uint64, k key, segs []segment, base uint64) int {
	if t.n == 0 {
		return -1
	}
	mask := uint64(len(t.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		sl := &t.slots[i]
		if sl.seg == 0 {
			return -1
		}
		if sl.h == h && sl.at(segs, base) == k {
			return int(i)
		}
	}
}

// put records that k (hash h) is segment seg's kidx-th key, its event the idx-th: the
// segment's keys[kidx] must be k already. A slot holding k takes the new place.
func (t *keyTable) put(h uint64, k key, seg uint64, kidx, idx uint32, segs []segment, base uint64) {
	if i := t.find(h, k, segs, base); i >= 0 {
		sl := &t.slots[i]
		sl.seg, sl.kidx, sl.idx = seg+1, kidx, idx
		return
	}
	if (t.n+1)*4 > len(t.slots)*3 {
		t.grow()
	}
	t.place(keySlot{h: h, seg: seg + 1, kidx: kidx, idx: idx})
	t.n++
}

// place puts a slot in the first empty one from its hash's.
func (t *keyTable) place(s keySlot) {
	mask := uint64(len(t.slots) - 1)
	i := s.h & mask
	for t.slots[i].seg != 0 {
		i = (i + 1) & mask
	}
	t.slots[i] = s
}

// grow doubles the table (minKeyTable slots at first).
func (t *keyTable) grow() {
	old := t.slots
	t.slots = make([]keySlot, max(minKeyTable, 2*len(old)))
	for _, s := range old {
		if s.seg != 0 {
			t.place(s)
		}
	}
}

// remove forgets k (hash h) if its slot names segment seg: a key appended again in a
// later segment stays.
func (t *keyTable) remove(h uint64, k key, seg uint64, segs []segment, base uint64) {
	found := t.find(h, k, segs, base)
	if found < 0 || t.slots[found].seg != seg+1 {
		return
	}
	mask := uint64(len(t.slots) - 1)
	i := uint64(found)
	// Shift back every later slot of the run that may move into the hole: one whose
	// hash's slot is not in the cyclic range (hole, its place], so that a probe from its
	// hash's slot still reaches it without crossing an empty slot.
	for j := (i + 1) & mask; t.slots[j].seg != 0; j = (j + 1) & mask {
		if (j-t.slots[j].h)&mask >= (j-i)&mask {
			t.slots[i] = t.slots[j]
			i = j
		}
	}
	t.slots[i] = keySlot{}
	t.n--
}

// fetch reads the first slot of each hash's probe (at most filterWindow hashes), so that
// they are in the cache for the puts or removes that follow.
func (t *keyTable) fetch(hs []uint64) {
	if len(t.slots) == 0 {
		return
	}
	mask := uint64(len(t.slots) - 1)
	var x uint64
	for _, h := range hs {
		x |= t.slots[h&mask].seg
	}
	t.fetched = x // used, so the loads stay
}
