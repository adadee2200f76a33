package wire

import "errors"

// ErrPartial: a command sent to several servers was answered by some of them only; the
// result holds what they answered, and the error names each server that failed and why.
var ErrPartial = &Error{Msg: "partial result"}

// IsPartial reports whether err matches ErrPartial: the reply that comes with it holds the
// answers of the servers that did answer, and is decoded like a successful one.
func IsPartial(err error) bool { return errors.Is(err, ErrPartial) }
