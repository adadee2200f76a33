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

// call is one request in flight on a Conn. Calls are pooled and their signal channel is
// reused, so a round trip allocates nothing once warm.
type call struct {
	req   *wire.Request
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

func getCall(req *wire.Request) *call {
	cl := callPool.Get().(*call)
	cl.req = req
	return cl
}

func putCall(cl *call) {
	cl.req, cl.err, cl.size, cl.started, cl.unsent, cl.seq = nil, nil, 0, false, false, 0
	cl.state.Store(callWaiting)
	callPool.Put(cl)
}

// finish completes cl with err (nil when its reply is stored in the request). If the caller
// abandoned it, the request is released here instead and finish reports true.
func (cl *call) finish(err error) (abandoned bool) {
	cl.err = err
	if cl.state.CompareAndSwap(callWaiting, callDone) {
		cl.done <- struct{}{}
		return false
	}
	cl.req.Release()
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
