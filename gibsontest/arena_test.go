package gibsontest

import (
	"math/rand/v2"
	"testing"
)

// Random records of random sizes allocated and freed: none overlaps another (each keeps
// the bytes written into it), the live counts add up, and once every record is freed
// all chunks but the current one are spares, cut again before the arena grows.
func TestArenaRandomAllocFree(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	a := newArena()
	type rec struct {
		r    recRef
		size int
		fill byte
	}
	var live []rec
	check := func(step int) {
		var sum int64
		for _, x := range live {
			b := a.bytes(x.r, 0, x.size)
			for _, c := range b {
				if c != x.fill {
					t.Fatalf("step %d: record %d (%d bytes) was overwritten", step, x.r, x.size)
				}
			}
			sum += int64(x.size)
		}
		var chunks int64
		for _, m := range a.meta {
			chunks += int64(m.live)
		}
		if sum != a.live || chunks != a.live {
			t.Fatalf("step %d: records hold %d bytes, the arena counts %d, its chunks %d", step, sum, a.live, chunks)
		}
	}
	for step := range 60000 {
		// Phases: grow with small records, shrink, grow with large ones, shrink.
		phase := step / 15000
		grow := rng.IntN(100) < 70
		if phase%2 == 1 {
			grow = rng.IntN(100) < 30
		}
		if grow || len(live) == 0 {
			size := recUnit * (2 + rng.IntN(20))
			if phase >= 2 {
				size = recUnit * (60 + rng.IntN(196))
			}
			r := a.alloc(size)
			if r == 0 {
				t.Fatal("arena full")
			}
			fill := byte(rng.IntN(255) + 1)
			b := a.bytes(r, 0, size)
			for i := range b {
				b[i] = fill
			}
			live = append(live, rec{r, size, fill})
		} else {
			i := rng.IntN(len(live))
			a.release(live[i].r, live[i].size)
			live[i] = live[len(live)-1]
			live = live[:len(live)-1]
		}
		if step%2000 == 0 {
			check(step)
		}
	}
	check(-1)
	for _, x := range live {
		a.release(x.r, x.size)
	}
	live = nil
	if len(a.spare) != len(a.chunks)-1 {
		t.Errorf("%d spare chunks of %d after freeing everything; want all but the current one", len(a.spare), len(a.chunks))
	}
	chunks := len(a.chunks)
	for range 2000 { // fits in the spares: no new chunk
		live = append(live, rec{a.alloc(1024), 1024, 0})
	}
	if len(a.chunks) != chunks {
		t.Errorf("the arena grew from %d to %d chunks with spares to cut", chunks, len(a.chunks))
	}
}
