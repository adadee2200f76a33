package gibsontest

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
)

func lzfSize(in []byte) int {
	var h lzfTable
	out := make([]byte, len(in)-4+8)
	return h.compress(in, out, len(in)-4)
}

// The reference server reported these META sizes for compressed runs (docs/protocol.md §5.8,
// testdata/transcripts); liblzf's algorithm reproduces them.
func TestLZFSizesMatchReference(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
	}{
		{strings.Repeat("z", 5000), 63},
		{strings.Repeat("a", 5000), 63},
		{strings.Repeat("a", 4097), 54},
		{strings.Repeat("b", 101), 9},
		{strings.Repeat("v", 2096127), 23826},
	} {
		if got := lzfSize([]byte(tc.in)); got != tc.want {
			t.Errorf("compressed size of %d×%q = %d, want %d", len(tc.in), tc.in[0], got, tc.want)
		}
	}
}

func TestLZFRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var h lzfTable
	for i := 0; i < 300; i++ {
		n := 5 + rng.IntN(20000)
		in := make([]byte, n)
		alphabet := 1 + rng.IntN(255)
		for j := range in {
			if j > 10 && rng.IntN(4) == 0 {
				in[j] = in[j-1-rng.IntN(min(j, 9000))]
			} else {
				in[j] = byte(rng.IntN(alphabet))
			}
		}
		out := make([]byte, n+8)
		c := h.compress(in, out, n-4)
		if c == 0 {
			if alphabet < 4 {
				t.Fatalf("input %d of %d bytes over %d symbols did not compress", i, n, alphabet)
			}
			continue
		}
		if c > n-4 {
			t.Fatalf("compressed %d bytes to %d, over the %d limit", n, c, n-4)
		}
		if got := lzfDecompress(nil, out[:c]); !bytes.Equal(got, in) {
			t.Fatalf("round trip of input %d (%d bytes) differs", i, n)
		}
	}
	random := make([]byte, 5000)
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	if c := h.compress(random, make([]byte, 5000+8), 5000-4); c != 0 {
		t.Errorf("5000 random bytes compressed to %d bytes; want no compression", c)
	}
}
