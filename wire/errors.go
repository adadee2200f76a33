package wire

import (
	"fmt"
	"strings"
)

// Error is the type of every error this module returns. The exported Err* values are the
// kinds; errors returned by calls wrap one of them, name the command, and match it with
// errors.Is. Err holds an underlying cause (an I/O error, say) when there is one.
type Error struct {
	// Kind is the sentinel this error is an instance of; nil for the sentinels themselves.
	Kind *Error
	// Command is the Gibson verb (GET, SET, …) of the failed request, when known.
	Command string
	// Msg describes the kind (for sentinels) or the details of this failure.
	Msg string
	// Err is the underlying cause, if any.
	Err error
}

// Sentinel errors. Match them with errors.Is.
var (
	// ErrNotFound: the key or prefix does not exist (REPL_ERR_NOT_FOUND).
	ErrNotFound = &Error{Msg: "not found"}
	// ErrNaN: an argument or the stored value is not a number (REPL_ERR_NAN).
	ErrNaN = &Error{Msg: "not a number"}
	// ErrMemoryLimit: the server reached max_memory (REPL_ERR_MEM).
	ErrMemoryLimit = &Error{Msg: "server memory limit reached"}
	// ErrLocked: the item is locked (REPL_ERR_LOCKED).
	ErrLocked = &Error{Msg: "item is locked"}
	// ErrServer: the server answered the generic REPL_ERR (bad syntax, unknown META field).
	ErrServer = &Error{Msg: "server error"}
	// ErrProtocol: a malformed or unexpected reply; the connection it came on is closed.
	ErrProtocol = &Error{Msg: "protocol error"}
	// ErrClosed: the connection or client is closed, or broke while the request was pending.
	ErrClosed = &Error{Msg: "connection closed"}
	// ErrInvalidArgument: client-side validation failed; nothing was sent.
	ErrInvalidArgument = &Error{Msg: "invalid argument"}
)

// Error returns "gibson: COMMAND: kind: details: cause", leaving out the parts that are empty.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("gibson: ")
	if e.Command != "" {
		b.WriteString(e.Command)
		b.WriteString(": ")
	}
	if e.Kind != nil {
		b.WriteString(e.Kind.Msg)
		if e.Msg != "" {
			b.WriteString(": ")
		}
	}
	b.WriteString(e.Msg)
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(strings.TrimPrefix(e.Err.Error(), "gibson: ")) // a cause of ours says it once
	}
	return b.String()
}

// Is reports whether target is e itself or the kind e is an instance of.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && (t == e || (e.Kind != nil && t == e.Kind))
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an error of the given kind for command, with a formatted message.
func Errorf(kind *Error, command, format string, args ...any) error {
	return &Error{Kind: kind, Command: command, Msg: fmt.Sprintf(format, args...)}
}

// WrapError returns an error of the given kind for command that wraps cause.
func WrapError(kind *Error, command string, cause error) error {
	return &Error{Kind: kind, Command: command, Err: cause}
}

// codeErrors maps the error reply codes to their kinds.
var codeErrors = [...]*Error{
	CodeErr:      ErrServer,
	CodeNotFound: ErrNotFound,
	CodeNaN:      ErrNaN,
	CodeMem:      ErrMemoryLimit,
	CodeLocked:   ErrLocked,
}

// CodeError returns the error kind for an error reply code (0–4), or nil for the others.
func CodeError(c Code) *Error {
	if int(c) < len(codeErrors) {
		return codeErrors[c]
	}
	return nil
}

// ReplyError returns the error a command reports for a reply it cannot use: the mapped error
// for error codes, and ErrProtocol naming the reply for anything else (an OK where a value was
// expected, say).
func ReplyError(command string, r Reply) error {
	if kind := CodeError(r.Code); kind != nil {
		return &Error{Kind: kind, Command: command}
	}
	return Errorf(ErrProtocol, command, "unexpected %s reply (encoding %s, %d bytes)", r.Code, r.Encoding, len(r.Data))
}
