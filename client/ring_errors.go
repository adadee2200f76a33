package client

import (
	"fmt"
	"strings"

	"github.com/gogibson/gogibson/wire"
)

// ErrPartial: a command a Ring sent to several shards was answered by some of them only.
// The result holds what they answered; the error (a *ShardError) names each shard that
// failed and why.
var ErrPartial = wire.ErrPartial

// ShardFailure is one shard's failure in a ShardError.
type ShardFailure struct {
	Shard string
	Err   error
}

// ShardError reports the shards that could not answer a command sent to several shards. It
// matches ErrPartial with errors.Is when some shard did answer (Answered > 0), and every
// failed shard's error too (errors.Is(err, ErrClosed) when one was down, say).
type ShardError struct {
	Command  string
	Failed   []ShardFailure
	Answered int
}

func (e *ShardError) Error() string {
	var b strings.Builder
	b.WriteString("gibson: ")
	if e.Command != "" {
		b.WriteString(e.Command + ": ")
	}
	if e.Answered > 0 {
		fmt.Fprintf(&b, "partial result: %d of %d shards failed", len(e.Failed), len(e.Failed)+e.Answered)
	} else {
		fmt.Fprintf(&b, "no shard answered (%d failed)", len(e.Failed))
	}
	for i, f := range e.Failed {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "shard %s: %v", f.Shard, f.Err)
	}
	return b.String()
}

// Is matches ErrPartial when some shard answered.
func (e *ShardError) Is(target error) bool { return target == wire.ErrPartial && e.Answered > 0 }

// Unwrap returns every failed shard's error.
func (e *ShardError) Unwrap() []error {
	out := make([]error, len(e.Failed))
	for i, f := range e.Failed {
		out[i] = f.Err
	}
	return out
}

func (sh *ringShard) downError(verb string) error {
	return &wire.Error{Kind: wire.ErrClosed, Command: verb,
		Msg: fmt.Sprintf("shard %s (%s) is down (FailFast: its keys do not move)", sh.name, sh.addr)}
}

func refusal(ri *routeInfo, verb string, op wire.Opcode) error {
	if ri == nil {
		return wire.Errorf(wire.ErrInvalidArgument, verb, "opcode %d is not in the spec, so a Ring cannot route it", op)
	}
	return wire.Errorf(wire.ErrInvalidArgument, verb, "refused on a Ring: it acts on one connection of one server; use a Client for it")
}
