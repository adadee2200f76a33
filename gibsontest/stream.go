package gibsontest

import (
	"encoding/binary"
	"strconv"

	"github.com/gogibson/gogibson/wire"
)

// Streamed replies. A reply whose size grows with the data (MGET, KEYS, GET of a large
// compressed value) is not built under the server lock: the handler takes a snapshot
// of its entries during the walk (which releases the lock every walkHold) — keys
// copied, value bytes held by reference (store.value, with the store retained) — and
// knows the body size and count the KVAL header needs before a byte is written. The
// connection then writes the reply outside the lock in pieces of about streamChunk,
// decompressing LZF values piece by piece, and parses its next request only once the
// whole reply is written: a connection holds at most one snapshot, and one that does
// not read stops being served at its first blocked piece.

const (
	streamChunk = 64 << 10 // a streamed reply is written in pieces of about this size
	entryBlock  = 256      // snapshot entries per block: no step copies a growing array
	keyChunk    = 16 << 10 // snapshot keys are copied into chunks of this size
	lzfPiece    = 32 << 10 // an LZF value is expanded this much at a time
)

// EntryBytes is what a streamed reply's snapshot holds per entry besides its key: while a
// connection streams an MGET or KEYS reply, it holds EntryBytes plus the key length for
// each entry (value bytes are referenced, not copied), at most one such reply at a time.
const EntryBytes = 72

type streamKind uint8

const (
	streamItems streamKind = iota // MGET: KVAL, key → value
	streamKeys                    // KEYS: KVAL, index → key
	streamValue                   // GET: VAL with one LZF value
)

// entry is one snapshot entry: a key and, for MGET and GET, the value.
type entry struct {
	key  []byte // a copy, in the snapshot's key chunks
	data []byte // stored bytes by reference (store.value, retained): plain or LZF
	num  int64  // the number, or an LZF value's expanded length
	enc  wire.Encoding
}

// stream is a snapshot being taken (under s.mu) or written (outside it).
type stream struct {
	kind    streamKind
	blocks  [][]entry
	n       int    // entries
	keys    []byte // the key chunk being filled
	body    int64  // the body size the header announces
	release func()

	started bool      // header written
	i       int       // next entry to write
	lz      lzfStream // the LZF value being expanded, if any
}

// newStream starts a snapshot, in the connection's spare stream when it has one (a
// pipeline of small MGETs then allocates nothing); a KVAL body starts with its count.
// s.mu must be held.
func (r *request) newStream(kind streamKind) *stream {
	s := r.spare
	if s == nil {
		s = &stream{}
	}
	r.spare = nil
	s.kind, s.release = kind, r.st.retain()
	if kind != streamValue {
		s.body = 4
	}
	return s
}

// recycle is done, keeping s as the connection's spare if it is small.
func (r *request) recycle(s *stream) {
	s.done()
	if len(s.blocks) <= 1 && cap(s.keys) <= keyChunk {
		r.spare = s
	}
}

// done releases what the stream holds and resets it; it may be called more than once.
func (s *stream) done() {
	if s.release != nil {
		s.release()
	}
	for i := s.i; i < s.n; i++ { // entries written are cleared already
		s.blocks[i/entryBlock][i%entryBlock] = entry{}
	}
	if len(s.blocks) > 0 {
		s.blocks[0] = s.blocks[0][:0]
	}
	*s = stream{blocks: s.blocks[:min(len(s.blocks), 1)], keys: s.keys[:0]}
}

// next adds an entry. Blocks hold entryBlock entries each; the first starts small and
// grows by append, so a short reply holds little.
func (s *stream) next() *entry {
	b := s.n / entryBlock
	if b == len(s.blocks) {
		size := entryBlock
		if b == 0 {
			size = 16
		}
		s.blocks = append(s.blocks, make([]entry, 0, size))
	}
	s.blocks[b] = append(s.blocks[b], entry{})
	s.n++
	return &s.blocks[b][len(s.blocks[b])-1]
}

func (s *stream) copyKey(k []byte) []byte {
	if cap(s.keys)-len(s.keys) < len(k) {
		s.keys = make([]byte, 0, max(min(keyChunk, 2*cap(s.keys)), 256, len(k)))
	}
	at := len(s.keys)
	s.keys = append(s.keys, k...)
	return s.keys[at:len(s.keys):len(s.keys)]
}

// addItem adds key → it's value (MGET).
func (s *stream) addItem(st *store, key []byte, it *header) {
	e := s.next()
	e.key, e.enc = s.copyKey(key), it.enc
	s.body += 4 + int64(len(key)) + 1 + 4
	switch it.enc {
	case wire.EncNumber:
		e.num = it.num()
		s.body += 8
	case wire.EncLZF:
		e.data, e.num = st.value(it), int64(it.rawLen())
		s.body += e.num
	default:
		e.data = st.value(it)
		s.body += int64(len(e.data))
	}
}

// addKey adds the next index → key pair (KEYS).
func (s *stream) addKey(key []byte) {
	idx := s.n
	e := s.next()
	e.key = s.copyKey(key)
	s.body += 4 + int64(digits(idx)) + 1 + 4 + int64(len(key))
}

func digits(n int) int {
	d := 1
	for ; n >= 10; n /= 10 {
		d++
	}
	return d
}

// valueStream is a GET reply for it, an LZF value: VAL plain with the expanded bytes.
func (r *request) valueStream(it *header) *stream {
	s := r.newStream(streamValue)
	e := s.next()
	e.data, e.num, e.enc = r.st.value(it), int64(it.rawLen()), it.enc
	s.body = e.num
	return s
}

// fill appends the stream's bytes to r's output until r.pending() reaches limit or the
// stream ends, and reports whether it ended. It runs without the server lock.
func (s *stream) fill(r *request, limit int) bool {
	if !s.started {
		s.started = true
		if s.kind == streamValue {
			r.out = appendHeader(r.out, wire.CodeVal, wire.EncPlain, int(s.body))
		} else {
			r.out = appendHeader(r.out, wire.CodeKVal, wire.EncPlain, int(s.body))
			r.out = binary.LittleEndian.AppendUint32(r.out, uint32(s.n))
		}
	}
	var idx [20]byte
	for r.pending() < limit {
		if s.lz.src != nil {
			s.lz.step(r)
			continue
		}
		if s.i == s.n {
			return true
		}
		e := &s.blocks[s.i/entryBlock][s.i%entryBlock]
		switch s.kind {
		case streamKeys:
			k := strconv.AppendInt(idx[:0], int64(s.i), 10)
			r.out = binary.LittleEndian.AppendUint32(r.out, uint32(len(k)))
			r.out = append(r.out, k...)
			r.out = append(r.out, byte(wire.EncPlain))
			r.out = binary.LittleEndian.AppendUint32(r.out, uint32(len(e.key)))
			r.out = append(r.out, e.key...)
		case streamItems:
			r.out = binary.LittleEndian.AppendUint32(r.out, uint32(len(e.key)))
			r.out = append(r.out, e.key...)
			s.value(r, e)
		default:
			s.lz.start(e.data, int(e.num))
		}
		*e = entry{} // what is written is no longer held
		s.i++
	}
	return false
}

// value writes e's encoding, length and bytes (numbers as numbers, LZF expanded).
func (s *stream) value(r *request, e *entry) {
	switch e.enc {
	case wire.EncNumber:
		r.out = append(r.out, byte(wire.EncNumber), 8, 0, 0, 0)
		r.out = binary.LittleEndian.AppendUint64(r.out, uint64(e.num))
	case wire.EncLZF:
		r.out = append(r.out, byte(wire.EncPlain))
		r.out = binary.LittleEndian.AppendUint32(r.out, uint32(e.num))
		s.lz.start(e.data, int(e.num))
	default:
		r.out = append(r.out, byte(wire.EncPlain))
		r.out = binary.LittleEndian.AppendUint32(r.out, uint32(len(e.data)))
		r.plain(e.data)
	}
}

// lzfStream expands one LZF value in pieces: at most lzfPiece at a time, keeping the
// last lzfMaxOff bytes produced, which later back-references may copy from.
type lzfStream struct {
	src  []byte // nil when no value is being expanded
	pos  int
	left int    // bytes still to write
	win  []byte // produced but not yet written, after the kept history
	hist int    // how many bytes at the start of win were written already
}

func (z *lzfStream) start(src []byte, rawLen int) {
	z.src, z.pos, z.left, z.hist = src, 0, rawLen, 0
	z.win = z.win[:0]
}

// step expands the next piece and appends it to r.out. A small value is expanded
// straight into r.out in one step.
func (z *lzfStream) step(r *request) {
	if z.pos == 0 && z.left <= lzfPiece {
		at := len(r.out)
		r.out = lzfDecompress(r.out, z.src)
		r.out = fitLen(r.out, at+z.left)
		z.finish()
		return
	}
	if z.win == nil {
		z.win = make([]byte, 0, lzfMaxOff+lzfPiece+lzfMaxRef+2)
	}
	z.win, z.pos = lzfDecompressSome(z.win, z.src, z.pos, z.hist+lzfPiece)
	fresh := z.win[z.hist:]
	if len(fresh) > z.left {
		fresh = fresh[:z.left]
	}
	r.out = append(r.out, fresh...)
	z.left -= len(fresh)
	if z.pos >= len(z.src) || z.left == 0 {
		r.out = fitLen(r.out, len(r.out)+z.left) // a malformed value still fills its length
		z.finish()
		return
	}
	keep := min(len(z.win), lzfMaxOff)
	z.hist = copy(z.win, z.win[len(z.win)-keep:])
	z.win = z.win[:z.hist]
}

func (z *lzfStream) finish() {
	z.src, z.pos, z.left, z.hist = nil, 0, 0, 0
	z.win = z.win[:0] // kept for the stream's next large value; dropped with the stream
}

// fitLen makes b exactly n bytes long, padding with zeros: the announced length is kept
// even if a stored LZF value did not expand to it (never seen; it would break framing).
func fitLen(b []byte, n int) []byte {
	if len(b) >= n {
		return b[:n]
	}
	return append(b, make([]byte, n-len(b))...)
}
