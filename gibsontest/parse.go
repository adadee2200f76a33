package gibsontest

import (
	"strconv"

	"github.com/gogibson/gogibson/wire"
)

// shape is how a command's payload is split (docs/protocol.md §2.4). It is derived from the
// argument kinds in generated.Table, never from the command itself.
type shape uint8

const (
	shapeNone       shape = iota // payload ignored (PING, STATS, END)
	shapeKey                     // A: key only, the rest ignored
	shapeKeyRest                 // B: key, one skipped byte, rest (truncated to V)
	shapeKeyOptRest              // C: like B, but the rest may be absent
	shapeTTLKeyRest              // D: ttl, key (sharing the key budget), value
)

// args is a parsed payload. The slices point into the connection's read buffer.
type args struct {
	ttl, key, rest []byte
	hasRest        bool
}

// splitPayload parses p by shape with key budget k and value limit v. ok is false for
// every malformed payload, including a missing final argument, where the reference
// server reads past the request (answered with ERR here: a documented deviation).
func splitPayload(sh shape, p []byte, k, v int) (a args, ok bool) {
	switch sh {
	case shapeNone:
		return a, true
	case shapeTTLKeyRest:
		budget := min(len(p), k)
		i := indexSep(p[:budget])
		if i <= 0 {
			return a, false
		}
		a.ttl = p[:i]
		j := i + 1 + indexSepOrEnd(p[i+1:budget])
		a.key = p[i+1 : j]
		if len(a.key) == 0 || j >= len(p) {
			return a, false
		}
		a.rest, a.hasRest = p[j+1:], true
	default:
		budget := min(len(p), k)
		j := indexSepOrEnd(p[:budget])
		a.key = p[:j]
		if j == 0 {
			return a, false
		}
		if sh == shapeKey {
			return a, true
		}
		if j >= len(p) {
			return a, sh == shapeKeyOptRest
		}
		a.rest, a.hasRest = p[j+1:], true
	}
	if len(a.rest) > v {
		a.rest = a.rest[:v]
	}
	return a, len(a.rest) > 0
}

func indexSep(b []byte) int {
	for i, c := range b {
		if c == wire.Separator {
			return i
		}
	}
	return -1
}

func indexSepOrEnd(b []byte) int {
	if i := indexSep(b); i >= 0 {
		return i
	}
	return len(b)
}

// parseNumber is the reference server's integer parser (docs/protocol.md §2.6): a leading 0
// makes the whole thing 0, a lone "-" is 0, otherwise only digits after an optional "-",
// and overflow wraps silently.
func parseNumber(b []byte) (int64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	if b[0] == '0' {
		return 0, true
	}
	neg := b[0] == '-'
	if neg {
		b = b[1:]
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	if neg {
		return -int64(n), true
	}
	return int64(n), true
}

// storedTTL is int16(min(max_item_ttl, ttl)) with the reference's unsigned comparison, so
// negative requests become max_item_ttl (TTL and MTTL; SET handles ttl <= 0 itself).
func storedTTL(ttl, maxItemTTL int64) int16 {
	if uint64(ttl) > uint64(maxItemTTL) {
		ttl = maxItemTTL
	}
	return int16(ttl)
}

func itoa(v int64) string { return string(strconv.AppendInt(nil, v, 10)) }
