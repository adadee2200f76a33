//go:build !race

// Allocation counts of batches; like alloc_test.go, only meaningful without the race detector.

package wire_test

import (
	"fmt"
	"testing"

	"github.com/gogibson/gogibson/generated"
	"github.com/gogibson/gogibson/wire"
)

const batchSize = 64

// warmBatch returns a batch on a fake Batcher that allocates nothing once warm, and the
// 64 keys and the 64 replies (VAL "hello" each) for it.
func warmBatch() (*generated.BatchCommands, *fakeBatcher, []string, []byte) {
	fb := &fakeBatcher{}
	bc := &generated.BatchCommands{}
	generated.InitBatch(bc, fb, wire.Limits{})
	keys := make([]string, batchSize)
	var replies []byte
	for i := range keys {
		keys[i] = fmt.Sprintf("user:%d", i)
		replies = append(replies, 6, 0, 0, 5, 0, 0, 0, 'h', 'e', 'l', 'l', 'o')
	}
	return bc, fb, keys, replies
}

// TestBatchGetAllocations: a reused batch of 64 GETs allocates the 64 values and nothing
// else per run once warm: no handles, no requests.
func TestBatchGetAllocations(t *testing.T) {
	bc, fb, keys, replies := warmBatch()
	var r wire.Reader
	handles := make([]*generated.ValueHandle, batchSize)
	run := func() {
		generated.ResetBatch(bc)
		fb.reset()
		for i, k := range keys {
			handles[i] = bc.Get(k)
		}
		fb.deliverAll(t, &r, replies)
		for _, h := range handles {
			if v, err := h.Result(); err != nil || string(v) != "hello" {
				t.Fatalf("Result: %q, %v", v, err)
			}
		}
	}
	run()
	if n := testing.AllocsPerRun(50, run); n != batchSize {
		t.Errorf("a warm batch of %d GETs allocates %v times per run, want %d (the values)", batchSize, n, batchSize)
	}
}

// TestBatchSetAllocations: a reused batch of 64 SETs allocates nothing once warm.
func TestBatchSetAllocations(t *testing.T) {
	bc, fb, keys, replies := warmBatch()
	var r wire.Reader
	val := []byte("hello")
	handles := make([]*generated.StoredHandle, batchSize)
	run := func() {
		generated.ResetBatch(bc)
		fb.reset()
		for i, k := range keys {
			handles[i] = bc.Set(k, val, 0)
		}
		fb.deliverAll(t, &r, replies)
		for _, h := range handles {
			if err := h.Err(); err != nil {
				t.Fatal(err)
			}
		}
	}
	run()
	if n := testing.AllocsPerRun(50, run); n != 0 {
		t.Errorf("a warm batch of %d SETs allocates %v times per run, want 0", batchSize, n)
	}
}
