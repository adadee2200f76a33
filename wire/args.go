package wire

import "bytes"

// Args records where a request's first MaxArgs arguments start in its frame, as they are
// appended, so that what routes or observes a request (hooks, a Ring, a batch) reads its key,
// prefix or limit without parsing the frame again. The zero Args holds none.
type Args struct {
	start [MaxArgs]uint32
	n     uint8 // arguments appended, at most 255 counted
}

// MaxArgs is how many arguments Args records; no Gibson command has more than 3.
const MaxArgs = 4

func (a *Args) add(at int) {
	if int(a.n) < MaxArgs {
		a.start[a.n] = uint32(at)
	}
	if a.n < 255 {
		a.n++
	}
}

// Len returns the number of arguments recorded (appended, up to 255).
func (a Args) Len() int { return int(a.n) }

// Arg returns the i-th argument of frame, the frame a was recorded for, and whether it
// has one (i below MaxArgs and Len). An argument ends where the next begins, less its
// separator; the last, which alone may hold spaces (a value), at the end of the frame.
func (a Args) Arg(frame []byte, i int) ([]byte, bool) {
	if i < 0 || i >= int(a.n) || i >= MaxArgs {
		return nil, false
	}
	from, to := int(a.start[i]), len(frame)
	if i+1 < int(a.n) && i+1 < MaxArgs {
		to = int(a.start[i+1]) - 1
	} else if i+1 < int(a.n) {
		return nil, false // the next start was not recorded
	}
	if from > to || to > len(frame) {
		return nil, false
	}
	return frame[from:to], true
}

// SplitArgs appends to dst the n arguments of a request payload (after the opcode) as the
// server reads them (docs/protocol.md §2.4): each ends at the next SP, except that with two
// or more the last takes the rest (a value, a field, a limit); a lone argument ends at the
// first SP (what follows is ignored). Arguments missing from payload are left out. The
// slices alias payload. A proxy re-sends what it received this way.
func SplitArgs(dst [][]byte, payload []byte, n int) [][]byte {
	for i := 0; i < n; i++ {
		if i == n-1 && n > 1 {
			return append(dst, payload)
		}
		sp := bytes.IndexByte(payload, Separator)
		if sp < 0 {
			return append(dst, payload)
		}
		dst = append(dst, payload[:sp])
		if i == n-1 {
			return dst
		}
		payload = payload[sp+1:]
	}
	return dst
}
