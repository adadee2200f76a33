package main

import (
	"testing"
	"time"
)

func TestBucketsAreMonotoneAndTight(t *testing.T) {
	prev := -1
	for v := uint64(0); v < 1<<20; v += 1 + v/97 {
		b := bucketOf(v)
		if b < prev {
			t.Fatalf("bucketOf(%d) = %d < bucketOf of a smaller value (%d)", v, b, prev)
		}
		prev = b
		mid := bucketMid(b)
		if diff := float64(mid) - float64(v); diff > 0.04*float64(v)+1 || -diff > 0.04*float64(v)+1 {
			t.Fatalf("bucketMid(bucketOf(%d)) = %d: more than 4%% off", v, mid)
		}
	}
}

func TestQuantiles(t *testing.T) {
	var h histogram
	for i := 1; i <= 1000; i++ {
		h.record(time.Duration(i) * time.Microsecond)
	}
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 500 * time.Microsecond}, {0.9, 900 * time.Microsecond}, {0.99, 990 * time.Microsecond}, {0.999, 999 * time.Microsecond}} {
		got := h.quantile(tc.q)
		if d := got - tc.want; d > tc.want/25 || -d > tc.want/25 {
			t.Errorf("quantile(%v) = %v, want about %v", tc.q, got, tc.want)
		}
	}
	var other histogram
	other.record(time.Second)
	h.merge(&other)
	if h.total != 1001 || h.quantile(1) < 900*time.Millisecond {
		t.Errorf("after merge: total %d, max %v", h.total, h.quantile(1))
	}
}
