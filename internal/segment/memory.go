package segment

import "unsafe"

// MemoryBytes estimates the bytes the index holds: every bitmap's size, 12 bytes per
// logged event (with the logs' spare capacity), and each customer's id with its map entry.
// It leaves out Go's allocator overhead and the campaign and link maps (small), so the Go
// heap is somewhat larger. It walks every bitmap under each organization's read lock:
// call it at most every few seconds.
func (x *Index) MemoryBytes() int64 {
	x.mu.RLock()
	orgs := make([]*Org, 0, len(x.orgs))
	for _, o := range x.orgs {
		orgs = append(orgs, o)
	}
	x.mu.RUnlock()
	var n int64
	for _, o := range orgs {
		n += o.memoryBytes()
	}
	return n
}

// perCustomer is a customer's fixed cost: its string header in ext and its map entry
// (key header, value, bucket overhead).
const perCustomer = int64(unsafe.Sizeof("")) + 48

func (o *Org) memoryBytes() int64 {
	o.mu.RLock()
	defer o.mu.RUnlock()
	n := int64(o.universe.GetSizeInBytes())
	for _, s := range o.series {
		for _, b := range s {
			n += int64(b.GetSizeInBytes())
		}
	}
	const entrySize = int64(unsafe.Sizeof(entry{}))
	for _, l := range o.logs {
		n += entrySize * int64(cap(l.sorted)+cap(l.tail))
	}
	for _, id := range o.ext {
		n += perCustomer + int64(len(id))
	}
	return n
}

// LoadError returns why Build failed, or nil (also while it runs).
func (x *Index) LoadError() error {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.failed
}
