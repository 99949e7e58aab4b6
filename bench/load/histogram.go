package load

import (
	"math"
	"math/bits"
	"time"
)

// subBits sets the histogram's precision: each power of two is split into
// 1<<subBits linear buckets, so a recorded value is off by at most 1/64
// (about 1.6%) of itself.
const subBits = 6

const (
	subCount   = 1 << subBits
	numBuckets = (64 - subBits + 1) * subCount
)

// Histogram counts latencies in log-linear buckets (in the manner of HDR
// histograms): constant memory, about 1.6% relative precision from one
// nanosecond to centuries. The zero value is empty and ready to use. It is
// not safe for concurrent use; record per goroutine and Merge.
type Histogram struct {
	counts [numBuckets]uint64
	total  uint64
	sum    time.Duration
	min    time.Duration
	max    time.Duration
}

// bucketOf returns the index of the bucket that holds v.
func bucketOf(v uint64) int {
	if v < subCount {
		return int(v)
	}
	shift := bits.Len64(v) - subBits - 1
	return (shift+1)*subCount + int(v>>uint(shift)) - subCount
}

// bucketMid returns a value in the middle of bucket i.
func bucketMid(i int) uint64 {
	if i < subCount {
		return uint64(i)
	}
	shift := uint(i/subCount - 1)
	low := uint64(i%subCount+subCount) << shift
	return low + (uint64(1)<<shift)/2
}

// Record adds one latency; negative values count as zero.
func (h *Histogram) Record(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.counts[bucketOf(uint64(d))]++
	if h.total == 0 || d < h.min {
		h.min = d
	}
	if d > h.max {
		h.max = d
	}
	h.total++
	h.sum += d
}

// Merge adds every value recorded in o to h.
func (h *Histogram) Merge(o *Histogram) {
	if o.total == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.total == 0 || o.min < h.min {
		h.min = o.min
	}
	if o.max > h.max {
		h.max = o.max
	}
	h.total += o.total
	h.sum += o.sum
}

// Count returns the number of recorded values.
func (h *Histogram) Count() uint64 { return h.total }

// Mean returns the average recorded value, or 0 if there is none.
func (h *Histogram) Mean() time.Duration {
	if h.total == 0 {
		return 0
	}
	return h.sum / time.Duration(h.total)
}

// Max returns the largest recorded value, exactly, or 0 if there is none.
func (h *Histogram) Max() time.Duration { return h.max }

// Quantile returns the value below or at which a fraction q (0..1) of the
// recorded values lie, to the histogram's precision and clamped to the
// exact minimum and maximum. It returns 0 if nothing was recorded.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.total == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.total)))
	rank = max(rank, 1)
	rank = min(rank, h.total)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			v := time.Duration(bucketMid(i))
			return min(max(v, h.min), h.max)
		}
	}
	return h.max
}
