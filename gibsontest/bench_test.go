package gibsontest

import (
	"fmt"
	"io"
	"testing"

	"github.com/gogibson/gogibson/generated"
	"github.com/gogibson/gogibson/wire"
)

// BenchmarkPipelinedGet sends GETs in batches of 100 on one connection and reads the
// replies, as a pipelining client does; allocations are the server's and the reader's.
func BenchmarkPipelinedGet(b *testing.B) {
	for _, opt := range []Option{WithAddr(""), WithTCP()} {
		s, err := Start(opt)
		if err != nil {
			b.Fatal(err)
		}
		name := "unix"
		if s.network == "tcp" {
			name = "tcp"
		}
		b.Run(name, func(b *testing.B) {
			c := dial(b, s)
			c.do(generated.OpSet, "0", "bench:key", "value-of-sixteen")
			const batch = 100
			var frames []byte
			for i := 0; i < batch; i++ {
				frames = wire.AppendRequest(frames, generated.OpGet, []byte("bench:key"))
			}
			var r wire.Reader
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i += batch {
				c.send(frames)
				for n := 0; n < batch; {
					rep, ok, err := r.Next()
					if err != nil {
						b.Fatal(err)
					}
					if ok {
						if rep.Code != wire.CodeVal {
							b.Fatalf("reply %v", rep.Code)
						}
						n++
						continue
					}
					if _, err := r.Fill(c.nc); err != nil && err != io.EOF {
						b.Fatal(err)
					}
				}
			}
		})
		s.Close()
	}
}

// BenchmarkPrefixWalk times COUNT and MGET over a prefix matching 20 000 keys of 16-byte
// values (one request at a time), the walks the store's layout decides.
func BenchmarkPrefixWalk(b *testing.B) {
	s := NewServer(b)
	for i := 0; i < 20000; i++ {
		s.Set("user:"+fmt.Sprintf("%08d", i), []byte("value-of-sixteen"), 0)
	}
	for _, op := range []wire.Opcode{generated.OpCount, generated.OpMGet} {
		b.Run(op.String(), func(b *testing.B) {
			c := dial(b, s)
			frame := wire.AppendRequest(nil, op, []byte("user:"))
			var r wire.Reader
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				c.send(frame)
				for {
					rep, ok, err := r.Next()
					if err != nil {
						b.Fatal(err)
					}
					if ok {
						if rep.Code != wire.CodeVal && rep.Code != wire.CodeKVal {
							b.Fatalf("reply %v", rep.Code)
						}
						break
					}
					if _, err := r.Fill(c.nc); err != nil && err != io.EOF {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
