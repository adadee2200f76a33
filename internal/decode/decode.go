// Package decode is what each reply kind of the spec means, in one place: the generated
// typed methods and batch handles call these routines (one per kind), and so do the CLI
// and the Ring's merges. A routine maps the error codes the kind does not accept to their
// errors (wire.ReplyError), and copies what it returns out of the reply.
package decode

import "github.com/gogibson/gogibson/wire"

// Stored checks the echo of a stored value: a shorter echo means the server truncated it.
func Stored(verb string, r wire.Reply, sent int) error {
	return StoredAs(verb, r, sent, "the client's max value size")
}

// StoredAs is Stored naming the client's limit as limit says (the CLI: --max-value-size).
func StoredAs(verb string, r wire.Reply, sent int, limit string) error {
	if r.Code != wire.CodeVal {
		return wire.ReplyError(verb, r)
	}
	if len(r.Data) != sent {
		return wire.Errorf(wire.ErrServer, verb, "the server stored %d of %d bytes: its max_value_size is below %s", len(r.Data), sent, limit)
	}
	return nil
}

// Value copies a VAL reply; numbers become decimal text.
func Value(verb string, r wire.Reply) ([]byte, error) {
	if r.Code != wire.CodeVal {
		return nil, wire.ReplyError(verb, r)
	}
	return wire.AppendValue(nil, r.Encoding, r.Data)
}

// Found maps OK to true and NOT_FOUND to false.
func Found(verb string, r wire.Reply) (bool, error) {
	switch r.Code {
	case wire.CodeOK:
		return true, nil
	case wire.CodeNotFound:
		return false, nil
	}
	return false, wire.ReplyError(verb, r)
}

// Status accepts OK.
func Status(verb string, r wire.Reply) error {
	if r.Code != wire.CodeOK {
		return wire.ReplyError(verb, r)
	}
	return nil
}

// Number returns the integer of a VAL number reply.
func Number(verb string, r wire.Reply) (int64, error) {
	if r.Code != wire.CodeVal || r.Encoding != wire.EncNumber {
		return 0, wire.ReplyError(verb, r)
	}
	return wire.DecodeNumber(r.Data)
}

// Count returns the count of a VAL number reply, and 0 for NOT_FOUND (nothing matched).
func Count(verb string, r wire.Reply) (int64, error) {
	if r.Code == wire.CodeNotFound {
		return 0, nil
	}
	return Number(verb, r)
}

// Pair is one entry of a KVAL reply as sent: its key, its value's encoding and bytes
// (aliasing the reply).
type Pair struct {
	Key []byte
	Enc wire.Encoding
	Val []byte
}

// Pairs returns the entries of a KVAL reply in server order, aliasing the reply; NOT_FOUND
// gives none. KVList, KeyList and the STATS decoder are built on it; the CLI prints from it.
func Pairs(verb string, r wire.Reply) ([]Pair, error) {
	if r.Code == wire.CodeNotFound {
		return nil, nil
	}
	if r.Code != wire.CodeKVal {
		return nil, wire.ReplyError(verb, r)
	}
	out := make([]Pair, 0, r.Len())
	it := r.Entries()
	for k, enc, v, ok := it.Next(); ok; k, enc, v, ok = it.Next() {
		out = append(out, Pair{Key: k, Enc: enc, Val: v})
	}
	return out, nil
}

// KVList copies a KVAL reply into pairs in server order, with all values in one allocation
// and numbers as decimal text; NOT_FOUND gives an empty list.
func KVList(verb string, r wire.Reply) ([]wire.KV, error) {
	if r.Code == wire.CodeNotFound {
		return []wire.KV{}, nil
	}
	if r.Code != wire.CodeKVal {
		return nil, wire.ReplyError(verb, r)
	}
	kvs := make([]wire.KV, 0, r.Len())
	// Room for the keys' and values' bytes: the body less its count and the 9 bytes of
	// framing per entry (Reader.Next has checked the body; max guards replies built by hand).
	buf := make([]byte, 0, max(0, len(r.Data)-4-9*r.Len()))
	it := r.Entries()
	for k, enc, v, ok := it.Next(); ok; k, enc, v, ok = it.Next() {
		start := len(buf)
		var err error
		if buf, err = wire.AppendValue(buf, enc, v); err != nil {
			return nil, wire.WrapError(wire.ErrProtocol, verb, err)
		}
		kvs = append(kvs, wire.KV{Key: string(k), Value: buf[start:len(buf):len(buf)]})
	}
	return kvs, nil
}

// KeyList returns the values of a KEYS reply (its keys are indexes) in server order;
// NOT_FOUND gives an empty list.
func KeyList(verb string, r wire.Reply) ([]string, error) {
	if r.Code == wire.CodeNotFound {
		return []string{}, nil
	}
	if r.Code != wire.CodeKVal {
		return nil, wire.ReplyError(verb, r)
	}
	keys := make([]string, 0, r.Len())
	it := r.Entries()
	for _, _, v, ok := it.Next(); ok; _, _, v, ok = it.Next() {
		keys = append(keys, string(v))
	}
	return keys, nil
}
