package main

import (
	"math/bits"
	"time"
)

// histogram records latencies in log-linear buckets: exact below 64 ns, then 32 buckets
// per power of two (at most about 3% error). Recording is one index computation and an
// increment; each caller owns one and they are merged at the end.
type histogram struct {
	counts   [64 * 32]uint64
	total    uint64
	sum      time.Duration // for the mean
	min, max time.Duration // exact, not bucketed
}

const subBits = 5

func bucketOf(v uint64) int {
	if v < 1<<(subBits+1) {
		return int(v)
	}
	shift := bits.Len64(v) - (subBits + 1)
	return shift<<subBits + int(v>>shift)
}

// bucketMid returns the middle of bucket i's range.
func bucketMid(i int) uint64 {
	if i < 1<<(subBits+1) {
		return uint64(i)
	}
	shift := i>>subBits - 1
	m := uint64(i&(1<<subBits-1) + 1<<subBits)
	lo, hi := m<<shift, (m+1)<<shift-1
	return lo + (hi-lo)/2
}

func (h *histogram) record(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.counts[bucketOf(uint64(d))]++
	if h.total == 0 || d < h.min {
		h.min = d
	}
	h.max = max(h.max, d)
	h.sum += d
	h.total++
}

func (h *histogram) merge(o *histogram) {
	if o.total == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.total == 0 || o.min < h.min {
		h.min = o.min
	}
	h.max = max(h.max, o.max)
	h.sum += o.sum
	h.total += o.total
}

// mean returns the average latency, 0 without samples.
func (h *histogram) mean() time.Duration {
	if h.total == 0 {
		return 0
	}
	return h.sum / time.Duration(h.total)
}

// quantile returns the latency below which a fraction q of the samples lie, within the
// exact min and max (a bucket's middle may lie beyond them).
func (h *histogram) quantile(q float64) time.Duration {
	if h.total == 0 {
		return 0
	}
	rank := uint64(q*float64(h.total) + 0.5)
	rank = min(max(rank, 1), h.total)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return min(max(time.Duration(bucketMid(i)), h.min), h.max)
		}
	}
	return h.max
}
