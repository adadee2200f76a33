package wire

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// FuzzReader feeds arbitrary bytes, in arbitrary pieces, through Fill and Feed. The reader
// must never panic, never hold a buffer larger than the reply limit needs, and never return
// a reply it has not fully received: the replies returned, re-encoded, are a prefix of the
// input.
func FuzzReader(f *testing.F) {
	f.Add([]byte{5, 0, 0, 1, 0, 0, 0, 0, 6, 0, 0, 3, 0, 0, 0, 'b', 'a', 'r'}, uint8(3))
	f.Add([]byte{7, 0, 0, 14, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 'k', 0, 1, 0, 0, 0, 'v'}, uint8(1))
	f.Add([]byte{6, 0, 2, 8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0}, uint8(7))
	f.Add([]byte{6, 0, 0, 0xff, 0xff, 0xff, 0x0f}, uint8(2))
	const limit = 1 << 12
	f.Fuzz(func(t *testing.T, in []byte, chunk uint8) {
		step := int(chunk%16) + 1
		for _, useFill := range []bool{false, true} {
			r := Reader{MaxReplySize: limit}
			src := &chunked{b: in, step: step}
			var got []byte
			for {
				if useFill {
					if n, _ := r.Fill(src); n == 0 {
						break
					}
				} else {
					p := src.next()
					if p == nil {
						break
					}
					r.Feed(p)
				}
				if cap(r.buf) > HeaderSize+limit+minReadSize && useFill {
					t.Fatalf("buffer grew to %d bytes with a %d-byte limit", cap(r.buf), limit)
				}
				for {
					rep, ok, err := r.Next()
					if err != nil || !ok {
						break
					}
					if len(rep.Data) > limit {
						t.Fatalf("reply of %d bytes over the %d limit", len(rep.Data), limit)
					}
					got = binary.LittleEndian.AppendUint16(got, uint16(rep.Code))
					got = append(got, byte(rep.Encoding))
					got = binary.LittleEndian.AppendUint32(got, uint32(len(rep.Data)))
					got = append(got, rep.Data...)
					if rep.Code == CodeKVal {
						it := rep.Entries()
						for n := 0; ; n++ {
							if _, _, _, ok := it.Next(); !ok {
								if n != rep.Len() {
									t.Fatalf("validated KVAL yielded %d of %d entries", n, rep.Len())
								}
								break
							}
						}
					}
				}
			}
			if !bytes.HasPrefix(in, got) {
				t.Fatalf("replies %x are not a prefix of the input %x", got, in)
			}
		}
	})
}

type chunked struct {
	b    []byte
	step int
}

func (c *chunked) next() []byte {
	if len(c.b) == 0 {
		return nil
	}
	n := min(c.step, len(c.b))
	p := c.b[:n]
	c.b = c.b[n:]
	return p
}

func (c *chunked) Read(p []byte) (int, error) {
	q := c.next()
	if q == nil {
		return 0, nil
	}
	return copy(p, q), nil
}
