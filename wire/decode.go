package wire

import (
	"encoding/binary"
	"strconv"
)

// KV is one key/value pair of a KVAL reply, in server order.
type KV struct {
	Key   string
	Value []byte
}

// DecodeNumber decodes a little-endian signed integer of 8 bytes (64-bit servers) or 4
// bytes (32-bit servers).
func DecodeNumber(b []byte) (int64, error) {
	switch len(b) {
	case 8:
		return int64(binary.LittleEndian.Uint64(b)), nil
	case 4:
		return int64(int32(binary.LittleEndian.Uint32(b))), nil
	}
	return 0, Errorf(ErrProtocol, "", "number of %d bytes", len(b))
}

// Int returns the integer carried by a VAL reply with number encoding.
func (r Reply) Int() (int64, error) {
	if r.Code != CodeVal || r.Encoding != EncNumber {
		return 0, Errorf(ErrProtocol, "", "expected a number, got %s reply with %s encoding", r.Code, r.Encoding)
	}
	return DecodeNumber(r.Data)
}

// AppendValue appends the value of a VAL reply or KVAL entry to dst: plain bytes as they
// are, numbers as decimal text (the form GET returns them in).
func AppendValue(dst []byte, enc Encoding, data []byte) ([]byte, error) {
	if enc == EncNumber {
		n, err := DecodeNumber(data)
		if err != nil {
			return dst, err
		}
		return strconv.AppendInt(dst, n, 10), nil
	}
	return append(dst, data...), nil
}

// KVIter walks the entries of a KVAL reply without allocating. Replies from Reader.Next are
// validated, so Next only stops at the end.
type KVIter struct {
	rest []byte
	left int
}

// Len returns the number of entries in a KVAL reply, 0 for other replies.
func (r Reply) Len() int {
	if r.Code != CodeKVal || len(r.Data) < 4 {
		return 0
	}
	return int(binary.LittleEndian.Uint32(r.Data))
}

// Entries returns an iterator over a KVAL reply's entries.
func (r Reply) Entries() KVIter {
	n := r.Len()
	if n == 0 {
		return KVIter{}
	}
	return KVIter{rest: r.Data[4:], left: n}
}

// Next returns the next entry: key bytes, value encoding and raw value bytes, all pointing
// into the reply. ok is false after the last entry or on a malformed body.
func (it *KVIter) Next() (key []byte, enc Encoding, val []byte, ok bool) {
	if it.left == 0 {
		return nil, 0, nil, false
	}
	key, enc, val, it.rest, ok = splitEntry(it.rest)
	if !ok {
		it.left = 0
		return nil, 0, nil, false
	}
	it.left--
	return key, enc, val, true
}
