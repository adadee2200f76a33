package gibsontest

import (
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
