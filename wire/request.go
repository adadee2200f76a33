package wire

import (
	"encoding/binary"
	"strconv"
	"sync"
)

// Separator is the byte between request arguments. Arguments other than the last cannot
// contain it.
const Separator = ' '

// AppendRequest appends the frame of one request to dst and returns the extended slice:
// the uint32 length (opcode plus payload), the uint16 opcode, then args joined by single
// spaces. It does not validate args; see Limits for the checks the typed commands apply.
// It allocates only when dst lacks capacity.
func AppendRequest(dst []byte, op Opcode, args ...[]byte) []byte {
	n := 2
	for i, a := range args {
		if i > 0 {
			n++
		}
		n += len(a)
	}
	dst = binary.LittleEndian.AppendUint32(dst, uint32(n))
	dst = binary.LittleEndian.AppendUint16(dst, uint16(op))
	for i, a := range args {
		if i > 0 {
			dst = append(dst, Separator)
		}
		dst = append(dst, a...)
	}
	return dst
}

// Flags describe a request to the executor that carries it.
type Flags uint8

const (
	// FlagReadOnly marks commands that change nothing on the server; a client may retry them.
	FlagReadOnly Flags = 1 << iota
	// FlagIdempotent marks commands that have the same effect when repeated.
	FlagIdempotent
	// FlagPrefix marks commands that act on every key under a prefix.
	FlagPrefix
	// FlagCloses marks commands after whose reply the server closes the connection (END).
	FlagCloses
)

// Request is one request frame being built, and the storage for its reply once an executor
// has run it. Requests are pooled: get one with NewRequest and give it back with Release.
// A Request is not safe for concurrent use.
type Request struct {
	// Op is the request's opcode.
	Op Opcode
	// Flags are the command's flags from the spec.
	Flags Flags
	// Verb names the command in errors.
	Verb string

	frame []byte
	nargs int
	args  Args
	reply Reply
	data  []byte
}

// maxPooledBuffer bounds the buffers a released Request keeps, so one huge value does not
// pin memory in the pool.
const maxPooledBuffer = 64 << 10

var requestPool = sync.Pool{New: func() any { return &Request{frame: make([]byte, 0, 128)} }}

// NewRequest returns an empty request for op from the pool.
func NewRequest(op Opcode, verb string, flags Flags) *Request {
	r := requestPool.Get().(*Request)
	r.Reset(op, verb, flags)
	return r
}

// Reset empties r and makes it a request for op, keeping its buffer; a batch reuses one
// Request this way for all its commands.
func (r *Request) Reset(op Opcode, verb string, flags Flags) {
	r.Op, r.Verb, r.Flags = op, verb, flags
	r.frame = binary.LittleEndian.AppendUint16(append(r.frame[:0], 0, 0, 0, 0), uint16(op))
	r.nargs = 0
	r.args = Args{}
	r.reply = Reply{}
}

func (r *Request) sep() {
	if r.nargs > 0 {
		r.frame = append(r.frame, Separator)
	}
	r.args.add(len(r.frame))
	r.nargs++
}

// AppendString appends one argument.
func (r *Request) AppendString(s string) {
	r.sep()
	r.frame = append(r.frame, s...)
}

// AppendBytes appends one argument.
func (r *Request) AppendBytes(b []byte) {
	r.sep()
	r.frame = append(r.frame, b...)
}

// AppendInt appends one decimal integer argument.
func (r *Request) AppendInt(n int64) {
	r.sep()
	r.frame = strconv.AppendInt(r.frame, n, 10)
}

// Frame returns the complete frame, length field filled in. It stays valid until Release.
func (r *Request) Frame() []byte {
	binary.LittleEndian.PutUint32(r.frame, uint32(len(r.frame)-4))
	return r.frame
}

// SetFrame replaces the request's frame with a copy of frame (a whole frame, as built by
// AppendRequest).
func (r *Request) SetFrame(frame []byte) {
	r.frame = append(r.frame[:0], frame...)
	r.nargs = -1
	r.args = Args{}
}

// CopyFrame makes r's frame a copy of src's, with where its arguments are (see Args), for a
// request sent again elsewhere (a Ring sends one to every shard).
func (r *Request) CopyFrame(src *Request) {
	r.SetFrame(src.Frame())
	r.args = src.args
}

// Args returns where r's arguments are in its frame, as they were appended; empty after
// SetFrame.
func (r *Request) Args() Args { return r.args }

// Arg returns r's i-th argument (from 0, in wire order) and whether it has one. The bytes
// are r's own, valid until r is reset or released.
func (r *Request) Arg(i int) ([]byte, bool) { return r.args.Arg(r.frame, i) }

// SetReply stores a copy of rep in the request, so that rep's buffer may be reused.
func (r *Request) SetReply(rep Reply) {
	r.data = append(r.data[:0], rep.Data...)
	r.reply = Reply{Code: rep.Code, Encoding: rep.Encoding, Data: r.data}
}

// Reply returns the reply stored by SetReply; its Data is valid until Release.
func (r *Request) Reply() Reply { return r.reply }

// Release returns r to the pool. Neither r nor anything it returned may be used afterwards.
func (r *Request) Release() {
	if cap(r.frame) > maxPooledBuffer {
		r.frame = make([]byte, 0, 128)
	}
	if cap(r.data) > maxPooledBuffer {
		r.data = nil
	}
	r.reply = Reply{}
	requestPool.Put(r)
}
