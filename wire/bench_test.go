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

func BenchmarkTypedGet(b *testing.B) {
	c := &generated.Commands{Executor: &cannedExec{reply: []byte{6, 0, 0, 5, 0, 0, 0, 'h', 'e', 'l', 'l', 'o'}}}
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Get(ctx, "user:1"); err != nil {
			b.Fatal(err)
		}
	}
}
