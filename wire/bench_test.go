package wire_test

import (
	"testing"

	"github.com/gogibson/gogibson/generated"
	"github.com/gogibson/gogibson/wire"
)

func BenchmarkAppendRequest(b *testing.B) {
	key, val := []byte("user:12345"), []byte("some value of moderate size")
	buf := make([]byte, 0, 128)
	b.ReportAllocs()
	for b.Loop() {
		buf = wire.AppendRequest(buf[:0], 1, []byte("0"), key, val)
	}
}

func BenchmarkRequestPooled(b *testing.B) {
	val := []byte("some value of moderate size")
	b.ReportAllocs()
	for b.Loop() {
		req := wire.NewRequest(1, "SET", 0)
		req.AppendInt(0)
		req.AppendString("user:12345")
		req.AppendBytes(val)
		_ = req.Frame()
		req.Release()
	}
}

func BenchmarkReaderNext(b *testing.B) {
	one := []byte{6, 0, 0, 5, 0, 0, 0, 'h', 'e', 'l', 'l', 'o'}
	var r wire.Reader
	b.ReportAllocs()
	b.SetBytes(int64(len(one)))
	for b.Loop() {
		r.Feed(one)
		if _, ok, err := r.Next(); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}

func BenchmarkReaderKVal(b *testing.B) {
	var entries []kvEntry
	for i := 0; i < 100; i++ {
		entries = append(entries, kvEntry{"key:" + string(rune('a'+i%26)), 0, []byte("value")})
	}
	msg := kval(entries)
	var r wire.Reader
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		r.Feed(msg)
		rep, ok, err := r.Next()
		if !ok || err != nil {
			b.Fatal(ok, err)
		}
		it := rep.Entries()
		for _, _, _, ok := it.Next(); ok; _, _, _, ok = it.Next() {
		}
	}
}

// TestTypedCommandAllocations: with a transport that allocates nothing, a GET allocates
// only its returned value and a SET nothing at all.
func TestTypedCommandAllocations(t *testing.T) {
	get := &cannedExec{reply: []byte{6, 0, 0, 5, 0, 0, 0, 'h', 'e', 'l', 'l', 'o'}, frame: make([]byte, 0, 64)}
	set := &cannedExec{reply: []byte{6, 0, 0, 5, 0, 0, 0, 'h', 'e', 'l', 'l', 'o'}, frame: make([]byte, 0, 64)}
	ctx := t.Context()
	gc, sc := &generated.Commands{X: get}, &generated.Commands{X: set}
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

func BenchmarkTypedGet(b *testing.B) {
	c := &generated.Commands{X: &cannedExec{reply: []byte{6, 0, 0, 5, 0, 0, 0, 'h', 'e', 'l', 'l', 'o'}}}
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Get(ctx, "user:1"); err != nil {
			b.Fatal(err)
		}
	}
}
