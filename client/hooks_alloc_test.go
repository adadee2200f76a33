//go:build !race

package client

import (
	"context"
	"testing"
)

// A hook that passes everything through adds no allocation to a call: its Cmd is pooled.
func TestHookAllocs(t *testing.T) {
	s := newFakeServer(t, fixedHandler())
	pass := HookFuncs{Process: func(next ProcessFunc) ProcessFunc {
		return func(ctx context.Context, cmd *Cmd) error { return next(ctx, cmd) }
	}}
	cl := dialClient(t, s.addr, WithHooks(pass, pass))
	ctx := context.Background()
	value := []byte("value")
	get := testing.AllocsPerRun(500, func() {
		if v, err := cl.Get(ctx, "key"); err != nil || len(v) != 5 {
			t.Fatal(v, err)
		}
	})
	set := testing.AllocsPerRun(500, func() {
		if err := cl.Set(ctx, "key", value, 0); err != nil {
			t.Fatal(err)
		}
	})
	if get != 1 || set != 0 {
		t.Errorf("with two pass-through hooks: GET %v allocations (want 1, the value), SET %v (want 0)", get, set)
	}
}
