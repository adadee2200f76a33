// Package wire implements the Gibson 1.2 binary protocol: request framing, a streaming
// reply reader, reply payload decoding, argument checks and the error values shared by
// every other package. It knows argument and reply kinds, never individual commands; the
// opcode constants are generated from commands.yaml into package generated.
package wire

import (
	"strconv"
	"sync"
)

// Opcode is a Gibson request opcode, sent as a little-endian uint16.
type Opcode uint16

// Code is the reply code in the first two bytes of every reply.
type Code uint16

// Reply codes (docs/protocol.md §3.2).
const (
	CodeErr      Code = 0 // generic error
	CodeNotFound Code = 1 // key or prefix not found, or nothing affected
	CodeNaN      Code = 2 // an argument or stored value is not a number
	CodeMem      Code = 3 // memory limit reached
	CodeLocked   Code = 4 // item is locked
	CodeOK       Code = 5 // success, no value
	CodeVal      Code = 6 // success, one value follows
	CodeKVal     Code = 7 // success, a key/value list follows
)

var codeNames = [...]string{"ERR", "NOT_FOUND", "NAN", "MEM", "LOCKED", "OK", "VAL", "KVAL"}

// String returns the protocol name of c (OK, VAL, …) or Code(n) for unknown codes.
func (c Code) String() string {
	if int(c) < len(codeNames) {
		return codeNames[c]
	}
	return "Code(" + strconv.Itoa(int(c)) + ")"
}

// Encoding is the one-byte encoding of a reply or of a KVAL entry.
type Encoding uint8

// Encodings (docs/protocol.md §3.3). EncLZF is storage-only: the server never sends it, and the
// Reader treats it as a protocol error.
const (
	EncPlain  Encoding = 0
	EncLZF    Encoding = 1
	EncNumber Encoding = 2
)

// String returns plain, lzf, number or Encoding(n).
func (e Encoding) String() string {
	switch e {
	case EncPlain:
		return "plain"
	case EncLZF:
		return "lzf"
	case EncNumber:
		return "number"
	}
	return "Encoding(" + strconv.Itoa(int(e)) + ")"
}

// Reply is one decoded reply frame. Data is the raw payload: for code-only replies the single
// 0x00 byte the server sends, for VAL the value (or a little-endian integer when Encoding is
// EncNumber), for KVAL the whole list body. Data returned by Reader.Next points into the
// reader's buffer and is valid until the next Feed or Fill.
type Reply struct {
	Code     Code
	Encoding Encoding
	Data     []byte
}

// HeaderSize is the size of a reply header: code (2), encoding (1), payload size (4).
const HeaderSize = 7

// RequestHeaderSize is the size of a request header: length (4) and opcode (2).
const RequestHeaderSize = 6

var opcodeNames struct {
	sync.RWMutex
	m map[Opcode]string
}

// RegisterOpcode records the Gibson name of op for Opcode.String. Package generated calls it
// from init for every opcode in commands.yaml; other callers need not.
func RegisterOpcode(op Opcode, verb string) {
	opcodeNames.Lock()
	defer opcodeNames.Unlock()
	if opcodeNames.m == nil {
		opcodeNames.m = make(map[Opcode]string)
	}
	opcodeNames.m[op] = verb
}

// String returns the Gibson name of op (SET, GET, …) when package generated is linked in,
// otherwise Opcode(n).
func (op Opcode) String() string {
	opcodeNames.RLock()
	name, ok := opcodeNames.m[op]
	opcodeNames.RUnlock()
	if ok {
		return name
	}
	return "Opcode(" + strconv.Itoa(int(op)) + ")"
}
