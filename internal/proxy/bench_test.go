package proxy_test

import (
	"bufio"
	"encoding/binary"
	"io"
	"testing"

	"github.com/gogibson/gogibson/internal/proxy"
)

// BenchmarkProxyGet: one client sending one GET at a time (Seq) or 64 pipelined in one write
// (Batch64) through the proxy to a Ring of three in-process servers; b.N counts GETs.
// In-process, the servers, the proxy and the client share the CPUs: compare shapes and
// allocations here, throughput with gibson bench against separate processes (BENCHMARKS.md).
func BenchmarkProxyGet(b *testing.B) {
	for _, burst := range []int{1, 64} {
		name := map[int]string{1: "Seq", 64: "Batch64"}[burst]
		b.Run(name, func(b *testing.B) {
			f := newFixture(b, proxy.Config{})
			nc := f.dial(b)
			exchange(b, nc, [][]byte{frame(1, "0", "k:1", "value")})
			var batch []byte
			for range burst {
				batch = append(batch, frame(3, "k:1")...)
			}
			br := bufio.NewReaderSize(nc, 64<<10)
			hdr := make([]byte, 7)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i += burst {
				if _, err := nc.Write(batch); err != nil {
					b.Fatal(err)
				}
				for range burst {
					if _, err := io.ReadFull(br, hdr); err != nil {
						b.Fatal(err)
					}
					if _, err := br.Discard(int(binary.LittleEndian.Uint32(hdr[3:]))); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
