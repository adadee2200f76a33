package gibsontest

import "time"

// Fault injection for client tests: broken replies and slow servers.

const (
	faultMidway uint32 = 1 << iota
	faultGarble
)

// garbage replaces a reply for GarbleNextReply: a status-shaped reply with the unknown
// code 0xEEEE, which a client must reject as a protocol error.
var garbage = []byte{0xEE, 0xEE, 0, 1, 0, 0, 0, 0}

// FailNextReplyMidway makes the next reply (on any connection) be written only in part,
// after which that connection is closed.
func (s *Server) FailNextReplyMidway() { s.faults.Or(faultMidway) }

// GarbleNextReply replaces the next reply (on any connection) with 8 bytes carrying the
// unknown reply code 0xEEEE; the connection stays open.
func (s *Server) GarbleNextReply() { s.faults.Or(faultGarble) }

// SetReplyDelay delays every write of replies by d (0 turns the delay off), as a server on
// a distant host would seem to. Replies stay in order; pipelined replies written together
// are delayed once. The delay rests on Go's timers: on Linux, delays under a millisecond
// were measured to last about a millisecond (BENCHMARKS.md, "Ring").
func (s *Server) SetReplyDelay(d time.Duration) { s.delay.Store(int64(max(d, 0))) }

// takeFault clears bit and reports whether it was set.
func (s *Server) takeFault(bit uint32) bool {
	for {
		f := s.faults.Load()
		if f&bit == 0 {
			return false
		}
		if s.faults.CompareAndSwap(f, f&^bit) {
			return true
		}
	}
}

// injectFault applies a pending fault to the reply at req.out[start:].
func (s *Server) injectFault(req *request, start int, act action) action {
	if len(req.out) == start {
		return act
	}
	if s.takeFault(faultMidway) {
		n := len(req.out) - start
		req.out = req.out[:start+max(1, min(n/2, n-1))]
		return actClose
	}
	if s.takeFault(faultGarble) {
		req.out = append(req.out[:start], garbage...)
	}
	return act
}
