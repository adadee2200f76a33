package client

import (
	"sync"
	"sync/atomic"

	"github.com/gogibson/gogibson/wire"
)

// Call states. A waiting call is completed by the reader (or by the failure of the
// connection) or abandoned by its caller; whichever side swaps the state first decides who
// owns the request afterwards.
const (
	callWaiting int32 = iota
	callDone
	callAbandoned
)

// call is one request in flight on a Conn, or one chunk of a batch: a run of frames written
// together whose replies (want of them) it collects in its own buffer. Calls are pooled and
// their signal channel and buffers are reused, so a round trip allocates nothing once warm.
type call struct {
	req   *wire.Request // nil for a batch chunk
	verb  string        // names the command (or "batch") in errors
	want  int           // replies it takes: 1 for a request
	taken int           // replies assigned to it so far; guarded by the Conn's mu
	// A batch chunk's replies, copied by the reader: each reply's code, encoding and end in
	// data. Owned by the reader until the call completes, so a caller that abandons the
	// chunk never shares memory with it.
	metas []replyMeta
	data  []byte
	size  int          // frame bytes counted against the in-flight cap
	state atomic.Int32 // callWaiting, callDone, callAbandoned
	err   error        // set before done is signalled
	// started reports that reply bytes for this call had arrived when the connection broke.
	started bool
	seq     uint64 // order of queueing on its connection
	// unsent reports that the connection broke before any byte of the frame was written.
	unsent bool
	// done receives one signal per phase: admission past the in-flight cap, then completion.
	done chan struct{}
}

var callPool = sync.Pool{New: func() any { return &call{done: make(chan struct{}, 1)} }}

type replyMeta struct {
	code wire.Code
	enc  wire.Encoding
	end  int
}

func getCall(req *wire.Request) *call {
	cl := callPool.Get().(*call)
	cl.req, cl.verb, cl.want = req, req.Verb, 1
	return cl
}

// getChunk returns a call for a batch chunk of n frames.
func getChunk(n int) *call {
	cl := callPool.Get().(*call)
	cl.verb, cl.want = "batch", n
	return cl
}

func putCall(cl *call) {
	cl.req, cl.err, cl.size, cl.started, cl.unsent, cl.seq = nil, nil, 0, false, false, 0
	cl.want, cl.taken, cl.metas, cl.data = 0, 0, cl.metas[:0], cl.data[:0]
	if cap(cl.data) > maxPooledReplies {
		cl.data, cl.metas = nil, nil // do not keep a buffer grown by one huge batch
	}
	cl.state.Store(callWaiting)
	callPool.Put(cl)
}

// maxPooledReplies bounds the reply buffer a pooled call keeps.
const maxPooledReplies = 256 << 10

// keep copies one reply of a batch chunk into the call.
func (cl *call) keep(rep wire.Reply) {
	cl.data = append(cl.data, rep.Data...)
	cl.metas = append(cl.metas, replyMeta{code: rep.Code, enc: rep.Encoding, end: len(cl.data)})
}

// reply returns the i-th reply kept by a batch chunk; its Data is valid until putCall.
func (cl *call) reply(i int) wire.Reply {
	start := 0
	if i > 0 {
		start = cl.metas[i-1].end
	}
	m := cl.metas[i]
	return wire.Reply{Code: m.code, Encoding: m.enc, Data: cl.data[start:m.end:m.end]}
}

// finish completes cl with err (nil when its reply is stored in the request). If the caller
// abandoned it, the request is released here instead and finish reports true.
func (cl *call) finish(err error) (abandoned bool) {
	cl.err = err
	if cl.state.CompareAndSwap(callWaiting, callDone) {
		cl.done <- struct{}{}
		return false
	}
	if cl.req != nil {
		cl.req.Release()
	}
	putCall(cl)
	return true
}

// tryDone takes cl's completion signal if it is there already, as when the caller read its
// own reply: cheaper than a select that also locks the context's channel.
func (cl *call) tryDone() bool {
	select {
	case <-cl.done:
		return true
	default:
		return false
	}
}

// fifo is a growable ring of calls awaiting replies, in the order their frames were queued.
type fifo struct {
	buf        []*call
	head, size int
}

func (q *fifo) len() int { return q.size }

func (q *fifo) push(cl *call) {
	if q.size == len(q.buf) {
		grown := make([]*call, max(16, 2*len(q.buf)))
		for i := 0; i < q.size; i++ {
			grown[i] = q.buf[(q.head+i)%len(q.buf)]
		}
		q.buf, q.head = grown, 0
	}
	q.buf[(q.head+q.size)%len(q.buf)] = cl
	q.size++
}

func (q *fifo) peek() *call {
	if q.size == 0 {
		return nil
	}
	return q.buf[q.head]
}

// headSeq returns the sequence number of the oldest call, or 0 when the queue is empty.
func (q *fifo) headSeq() uint64 {
	if q.size == 0 {
		return 0
	}
	return q.buf[q.head].seq
}

func (q *fifo) pop() *call {
	if q.size == 0 {
		return nil
	}
	cl := q.buf[q.head]
	q.buf[q.head] = nil
	q.head = (q.head + 1) % len(q.buf)
	q.size--
	return cl
}
