//go:build !race

package client

import (
	"context"
	"testing"
	"time"

	"github.com/gogibson/gogibson/generated"
	"github.com/gogibson/gogibson/wire"
)

// fixedHandler answers from preallocated replies, so the in-process fake allocates nothing
// and testing.AllocsPerRun, which counts every goroutine's allocations, sees only the
// client's.
func fixedHandler() handlerFunc {
	val := valReply([]byte("value"))
	ok := codeReply(wire.CodeOK)
	return func(op wire.Opcode, payload []byte) ([]byte, bool) {
		if op == generated.OpGet || op == generated.OpSet {
			return val, false
		}
		return ok, false
	}
}

func TestAllocs(t *testing.T) {
	s := newFakeServer(t, fixedHandler())
	conn := dialFake(t, s)
	cl := dialClient(t, s.addr)
	value := []byte("value")
	// A cancellable context must cost nothing extra: a lone caller reading its own reply
	// watches it through read deadlines, not context.AfterFunc.
	withTimeout, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	withCancel, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	for _, x := range []struct {
		name string
		cmds *generated.Commands
		ctx  context.Context
	}{
		{"Conn", &conn.cmds, context.Background()},
		{"Client", &cl.cmds, context.Background()},
		{"Conn with a deadline", &conn.cmds, withTimeout},
		{"Client with a cancellable context", &cl.cmds, withCancel},
	} {
		ctx := x.ctx
		get := testing.AllocsPerRun(500, func() {
			if v, err := x.cmds.Get(ctx, "key"); err != nil || len(v) != 5 {
				t.Fatal(v, err)
			}
		})
		set := testing.AllocsPerRun(500, func() {
			if err := x.cmds.Set(ctx, "key", value, 0); err != nil {
				t.Fatal(err)
			}
		})
		ping := testing.AllocsPerRun(500, func() {
			if err := x.cmds.Ping(ctx); err != nil {
				t.Fatal(err)
			}
		})
		if get != 1 || set != 0 || ping != 0 {
			t.Errorf("%s: allocations per call: GET %v (want 1, the value), SET %v (want 0), PING %v (want 0)", x.name, get, set, ping)
		}
	}
}

// A reused batch of 64 GETs allocates nothing per Exec once warm when its values are read
// with AppendTo into a reused buffer, and the 64 values when they are read with Result; a
// batch of 64 SETs allocates nothing.
func TestBatchAllocs(t *testing.T) {
	s := newFakeServer(t, fixedHandler())
	conn := dialFake(t, s)
	cl := dialClient(t, s.addr)
	value := []byte("value")
	buf := make([]byte, 0, 64*16)
	for _, x := range []struct {
		name string
		b    *Batch
	}{{"Conn", conn.Batch()}, {"Client", cl.Batch()}} {
		b := x.b
		hs := make([]*ValueHandle, 0, 64)
		run := func(get bool, read func(h *ValueHandle)) func() {
			return func() {
				b.Reset()
				hs = hs[:0]
				for range 64 {
					if get {
						hs = append(hs, b.Get("key"))
					} else {
						b.Set("key", value, 0)
					}
				}
				if err := b.Exec(context.Background()); err != nil {
					t.Fatal(err)
				}
				buf = buf[:0]
				for _, h := range hs {
					read(h)
				}
			}
		}
		viaResult := testing.AllocsPerRun(200, run(true, func(h *ValueHandle) {
			if v, err := h.Result(); err != nil || len(v) == 0 {
				t.Fatal(v, err)
			}
		}))
		viaAppend := testing.AllocsPerRun(200, run(true, func(h *ValueHandle) {
			var err error
			if buf, err = h.AppendTo(buf); err != nil {
				t.Fatal(err)
			}
		}))
		sets := testing.AllocsPerRun(200, run(false, nil))
		if viaResult != 64 || viaAppend != 0 || sets != 0 {
			t.Errorf("%s: allocations per Exec: 64 GETs read by Result %v (want 64, the values), by AppendTo %v (want 0), 64 SETs %v (want 0)",
				x.name, viaResult, viaAppend, sets)
		}
	}
}

// A COUNT fanned out over four shards allocates only the merged number once warm: the
// parts, their requests and the workers that run them are reused.
func TestRingFanOutAllocs(t *testing.T) {
	count := []byte{byte(wire.CodeVal), 0, byte(wire.EncNumber), 8, 0, 0, 0, 25, 0, 0, 0, 0, 0, 0, 0}
	shards := map[string]string{}
	for i := range 4 {
		s := newFakeServer(t, func(wire.Opcode, []byte) ([]byte, bool) { return count, false })
		shards[string(rune('a'+i))] = s.addr
	}
	r, err := NewRing(context.Background(), RingConfig{Shards: shards, HeartbeatInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	allocs := testing.AllocsPerRun(500, func() {
		if n, err := r.Count(context.Background(), "user:"); err != nil || n != 100 {
			t.Fatal(n, err)
		}
	})
	if allocs > 1 {
		t.Errorf("COUNT over four shards: %v allocations per call; want at most 1 (the merged number)", allocs)
	}
}
