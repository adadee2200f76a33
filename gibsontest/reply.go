package gibsontest

import (
	"bytes"
	"encoding/binary"

	"github.com/gogibson/gogibson/wire"
)

// Reply encoding (docs/protocol.md §3). Every helper appends to the connection's output buffer.

// appendStatus appends a code-only reply: 8 bytes, size 1, one 0x00 data byte.
func appendStatus(out []byte, c wire.Code) []byte {
	return append(out, byte(c), byte(c>>8), 0, 1, 0, 0, 0, 0)
}

func appendHeader(out []byte, c wire.Code, e wire.Encoding, size int) []byte {
	out = append(out, byte(c), byte(c>>8), byte(e))
	return binary.LittleEndian.AppendUint32(out, uint32(size))
}

// appendNumber appends VAL with an 8-byte little-endian signed number.
func appendNumber(out []byte, v int64) []byte {
	out = append(out, byte(wire.CodeVal), 0, byte(wire.EncNumber), 8, 0, 0, 0)
	return binary.LittleEndian.AppendUint64(out, uint64(v))
}

// appendValue appends VAL plain with b.
func appendValue(out, b []byte) []byte {
	return append(appendHeader(out, wire.CodeVal, wire.EncPlain, len(b)), b...)
}

// item appends VAL with it's value: numbers as numbers, LZF decompressed.
func (r *request) item(it *header) {
	switch it.enc {
	case wire.EncNumber:
		r.out = appendNumber(r.out, it.num())
	case wire.EncLZF:
		if it.rawLen() > lzfPiece { // expanded outside the lock (stream.go)
			r.stream = r.valueStream(it)
			return
		}
		r.out = appendHeader(r.out, wire.CodeVal, wire.EncPlain, it.rawLen())
		r.out = lzfDecompress(r.out, r.st.value(it))
	default:
		b := r.st.value(it) // written after the lock is released when large (retain.go)
		r.out = appendHeader(r.out, wire.CodeVal, wire.EncPlain, len(b))
		r.plain(b)
	}
}

// kvalWriter builds a KVAL reply in place: header and count are patched by finish.
type kvalWriter struct {
	start int
	count uint32
}

func beginKVal(out []byte) ([]byte, kvalWriter) {
	w := kvalWriter{start: len(out)}
	return append(out, make([]byte, wire.HeaderSize+4)...), w
}

func (w *kvalWriter) key(out []byte, k string) []byte {
	w.count++
	out = binary.LittleEndian.AppendUint32(out, uint32(len(k)))
	return append(out, k...)
}

// text appends one pair with a plain value.
func (w *kvalWriter) text(out []byte, k, v string) []byte {
	out = append(w.key(out, k), byte(wire.EncPlain))
	out = binary.LittleEndian.AppendUint32(out, uint32(len(v)))
	return append(out, v...)
}

// number appends one pair with an 8-byte number value.
func (w *kvalWriter) number(out []byte, k string, v int64) []byte {
	out = append(w.key(out, k), byte(wire.EncNumber), 8, 0, 0, 0)
	return binary.LittleEndian.AppendUint64(out, uint64(v))
}

// body is the size of the body built so far.
func (w *kvalWriter) body(out []byte) int {
	return len(out) - w.start - wire.HeaderSize
}

// finish patches the header; it reports false (and drops the reply) when the body is
// larger than maxBody, in which case the server closes the connection without a reply.
func (w *kvalWriter) finish(out []byte, maxBody int64) ([]byte, bool) {
	body := w.body(out)
	if int64(body) > maxBody {
		return out[:w.start], false
	}
	h := out[w.start:]
	h[0], h[1], h[2] = byte(wire.CodeKVal), 0, byte(wire.EncPlain)
	binary.LittleEndian.PutUint32(h[3:], uint32(body))
	binary.LittleEndian.PutUint32(h[7:], w.count)
	return out, true
}

// finishKVal completes a KVAL reply built in r.out (STATS), or closes the connection
// when it is too large.
func (r *request) finishKVal(w kvalWriter) action {
	out, ok := w.finish(r.out, r.s.cfg.MaxResponseSize)
	r.out = out
	if !ok {
		return actClose
	}
	return actReply
}

// cutAtNUL returns key up to its first 0x00: the reference server rebuilds keys as C
// strings in prefix walks, so MGET and KEYS report them cut there.
func cutAtNUL(key []byte) []byte {
	if i := bytes.IndexByte(key, 0); i >= 0 {
		return key[:i]
	}
	return key
}
