package wire_test

import (
	"bytes"
	"testing"

	"github.com/gogibson/gogibson/wire"
)

// AppendReply writes what the Reader reads back, byte for byte as the server sends it.
func TestAppendReplyRoundTrips(t *testing.T) {
	for _, raw := range [][]byte{
		{0x05, 0, 0, 1, 0, 0, 0, 0}, // OK
		{0x01, 0, 0, 1, 0, 0, 0, 0}, // NOT_FOUND
		{0x06, 0, 0, 3, 0, 0, 0, 'b', 'a', 'r'},
		{0x06, 0, 2, 8, 0, 0, 0, 0x4F, 0, 0, 0, 0, 0, 0, 0},
		{0x07, 0, 0, 0x1C, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0x30, 0, 2, 0, 0, 0, 'k', 'a', 1, 0, 0, 0, 0x31, 0, 2, 0, 0, 0, 'k', 'b'},
	} {
		var r wire.Reader
		r.Feed(raw)
		rep, ok, err := r.Next()
		if !ok || err != nil {
			t.Fatalf("% x: %v %v", raw, ok, err)
		}
		if got := wire.AppendReply(nil, rep); !bytes.Equal(got, raw) {
			t.Errorf("AppendReply(Next(% x)) = % x", raw, got)
		}
	}
	if got := wire.AppendReply(nil, wire.Reply{Code: wire.CodeErr}); !bytes.Equal(got, []byte{0, 0, 0, 1, 0, 0, 0, 0}) {
		t.Errorf("an ERR built by hand: % x", got)
	}
}
