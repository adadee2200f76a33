//go:build !race

// The race detector makes sync.Pool drop items at random, so allocation counts are only
// meaningful without it; make test runs these tests in a separate pass without -race.

package wire_test

import (
	"testing"

	"github.com/gogibson/gogibson/generated"
	"github.com/gogibson/gogibson/wire"
)

func TestEncodingAllocatesNothing(t *testing.T) {
	key, val := []byte("user:1"), []byte("alice")
	buf := make([]byte, 0, 64)
	if n := testing.AllocsPerRun(100, func() { buf = wire.AppendRequest(buf[:0], 1, []byte("0"), key, val) }); n != 0 {
		t.Errorf("AppendRequest into a reused buffer: %v allocs, want 0", n)
	}
	if n := testing.AllocsPerRun(100, func() {
		req := wire.NewRequest(1, "SET", 0)
		req.AppendInt(0)
		req.AppendString("user:1")
		req.AppendBytes(val)
		_ = req.Frame()
		req.Release()
	}); n != 0 {
		t.Errorf("pooled Request: %v allocs, want 0", n)
	}
}

// TestTypedCommandAllocations: with a transport that allocates nothing, a GET allocates
// only its returned value and a SET nothing at all.
func TestTypedCommandAllocations(t *testing.T) {
	get := &cannedExec{reply: []byte{6, 0, 0, 5, 0, 0, 0, 'h', 'e', 'l', 'l', 'o'}, frame: make([]byte, 0, 64)}
	set := &cannedExec{reply: []byte{6, 0, 0, 5, 0, 0, 0, 'h', 'e', 'l', 'l', 'o'}, frame: make([]byte, 0, 64)}
	ctx := t.Context()
	gc, sc := &generated.Commands{Executor: get}, &generated.Commands{Executor: set}
	val := []byte("hello")
	if n := testing.AllocsPerRun(200, func() {
		if v, err := gc.Get(ctx, "user:1"); err != nil || string(v) != "hello" {
			t.Fatal(v, err)
		}
	}); n != 1 {
		t.Errorf("Get allocates %v times, want 1 (the value)", n)
	}
	if n := testing.AllocsPerRun(200, func() {
		if err := sc.Set(ctx, "user:1", val, 0); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("Set allocates %v times, want 0", n)
	}
}
