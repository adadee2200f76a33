package wire

import (
	"encoding/binary"
	"io"
)

// DefaultMaxReplySize is the largest reply payload a Reader accepts when MaxReplySize is 0:
// 64 MiB, above the reference server's 40 960 000-byte KVAL cap and any sane value.
const DefaultMaxReplySize = 64 << 20

const minReadSize = 16 << 10

// Reader is a streaming reply parser, the counterpart of aiogibson's and hiredis' reader:
// feed it bytes in any split (Feed) or let it read from a connection (Fill), and take whole
// replies with Next. A zero Reader is ready to use. It is not safe for concurrent use.
type Reader struct {
	// MaxReplySize caps a reply's declared payload size; a larger one is ErrProtocol and is
	// never allocated. Zero means DefaultMaxReplySize.
	MaxReplySize int

	buf []byte
	off int // start of the unparsed bytes
	err error
}

func (r *Reader) max() int {
	if r.MaxReplySize > 0 {
		return r.MaxReplySize
	}
	return DefaultMaxReplySize
}

// Feed appends p to the buffered input. Replies returned earlier by Next become invalid.
func (r *Reader) Feed(p []byte) {
	r.compact()
	r.buf = append(r.buf, p...)
}

// Buffered returns the number of bytes received but not yet returned as replies.
func (r *Reader) Buffered() int { return len(r.buf) - r.off }

// Reset discards buffered input and any error, keeping the buffer for reuse.
func (r *Reader) Reset() {
	r.buf, r.off, r.err = r.buf[:0], 0, nil
}

// maxIdleBuffer is the largest buffer a Reader keeps once everything in it has been
// returned: a connection that received one huge reply does not hold its size for ever.
const maxIdleBuffer = 1 << 20

func (r *Reader) compact() {
	if r.off == len(r.buf) && cap(r.buf) > maxIdleBuffer {
		r.buf, r.off = nil, 0
		return
	}
	if r.off == 0 {
		return
	}
	n := copy(r.buf, r.buf[r.off:])
	r.buf, r.off = r.buf[:n], 0
}

// Fill reads once from src into the buffer. The buffer grows with the bytes that actually
// arrive: at most doubling per read, and never past the declared size of the reply being
// received, so a peer that declares a huge reply and sends little costs little. Replies
// returned earlier by Next become invalid. It returns what src.Read returned.
func (r *Reader) Fill(src io.Reader) (int, error) {
	r.compact()
	want, total := len(r.buf)+minReadSize, 0
	if len(r.buf) >= HeaderSize {
		if size := uint64(binary.LittleEndian.Uint32(r.buf[3:7])); size <= uint64(r.max()) {
			total = HeaderSize + int(size)
			if missing := total - len(r.buf); missing > 0 {
				want = len(r.buf) + min(minReadSize, missing)
			}
		}
	}
	if cap(r.buf) < want {
		if next := 2 * cap(r.buf); total > want {
			if next+next/2 >= total {
				next = total // one last step instead of a doubling just short of it
			}
			want = max(want, min(total, next))
		}
		grown := make([]byte, len(r.buf), want)
		copy(grown, r.buf)
		r.buf = grown
	}
	n, err := src.Read(r.buf[len(r.buf):cap(r.buf)])
	r.buf = r.buf[:len(r.buf)+n]
	return n, err
}

// Next returns the next complete reply. ok is false when more input is needed. A malformed
// reply (unknown code or encoding, a size above MaxReplySize, a number that is not 4 or 8
// bytes, a KVAL body that does not add up) returns an ErrProtocol error, and so does every
// later call: the stream cannot be trusted after it. Next allocates nothing; Data points into
// the buffer.
func (r *Reader) Next() (rep Reply, ok bool, err error) {
	if r.err != nil {
		return Reply{}, false, r.err
	}
	b := r.buf[r.off:]
	if len(b) < HeaderSize {
		return Reply{}, false, nil
	}
	code := Code(binary.LittleEndian.Uint16(b))
	enc := Encoding(b[2])
	size := binary.LittleEndian.Uint32(b[3:7])
	if err := r.checkHeader(code, enc, size); err != nil {
		r.err = err
		return Reply{}, false, err
	}
	end := HeaderSize + int(size)
	if len(b) < end {
		return Reply{}, false, nil
	}
	rep = Reply{Code: code, Encoding: enc, Data: b[HeaderSize:end:end]}
	if err := checkPayload(rep); err != nil {
		r.err = err
		return Reply{}, false, err
	}
	r.off += end
	return rep, true, nil
}

func (r *Reader) checkHeader(code Code, enc Encoding, size uint32) error {
	switch {
	case code > CodeKVal:
		return Errorf(ErrProtocol, "", "unknown reply code %d", code)
	case enc != EncPlain && enc != EncNumber:
		return Errorf(ErrProtocol, "", "unexpected reply encoding %s", enc)
	case uint64(size) > uint64(r.max()):
		return Errorf(ErrProtocol, "", "reply of %d bytes exceeds the %d-byte limit", size, r.max())
	}
	return nil
}

func checkPayload(rep Reply) error {
	if rep.Encoding == EncNumber {
		if rep.Code != CodeVal {
			return Errorf(ErrProtocol, "", "%s reply with number encoding", rep.Code)
		}
		if len(rep.Data) != 8 && len(rep.Data) != 4 {
			return Errorf(ErrProtocol, "", "number of %d bytes", len(rep.Data))
		}
	}
	if rep.Code == CodeKVal {
		return checkKVal(rep.Data)
	}
	return nil
}

// checkKVal walks a KVAL body once so that iterating over it later cannot fail.
func checkKVal(b []byte) error {
	if len(b) < 4 {
		return Errorf(ErrProtocol, "", "KVAL body of %d bytes has no count", len(b))
	}
	count := binary.LittleEndian.Uint32(b)
	b = b[4:]
	for i := uint32(0); i < count; i++ {
		var ok bool
		var enc Encoding
		var val []byte
		if _, enc, val, b, ok = splitEntry(b); !ok {
			return Errorf(ErrProtocol, "", "KVAL entry %d of %d is truncated", i+1, count)
		}
		if enc != EncPlain && enc != EncNumber {
			return Errorf(ErrProtocol, "", "KVAL entry %d has encoding %s", i+1, enc)
		}
		if enc == EncNumber && len(val) != 8 && len(val) != 4 {
			return Errorf(ErrProtocol, "", "KVAL entry %d holds a number of %d bytes", i+1, len(val))
		}
	}
	if len(b) != 0 {
		return Errorf(ErrProtocol, "", "KVAL body has %d bytes after its %d entries", len(b), count)
	}
	return nil
}

// splitEntry cuts one KVAL entry off b: key length, key, encoding, value length, value.
func splitEntry(b []byte) (key []byte, enc Encoding, val, rest []byte, ok bool) {
	if len(b) < 4 {
		return nil, 0, nil, nil, false
	}
	kl := uint64(binary.LittleEndian.Uint32(b))
	b = b[4:]
	if uint64(len(b)) < kl+5 {
		return nil, 0, nil, nil, false
	}
	key, enc = b[:kl:kl], Encoding(b[kl])
	b = b[kl+1:]
	vl := uint64(binary.LittleEndian.Uint32(b))
	b = b[4:]
	if uint64(len(b)) < vl {
		return nil, 0, nil, nil, false
	}
	return key, enc, b[:vl:vl], b[vl:], true
}
