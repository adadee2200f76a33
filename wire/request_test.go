package wire_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/gogibson/gogibson/wire"
)

func TestAppendRequest(t *testing.T) {
	cases := []struct {
		op   wire.Opcode
		args []string
		want []byte
	}{
		// docs/protocol.md §2.1 examples.
		{1, []string{"0", "foo", "bar"}, []byte{0x0B, 0, 0, 0, 1, 0, '0', ' ', 'f', 'o', 'o', ' ', 'b', 'a', 'r'}},
		{19, nil, []byte{2, 0, 0, 0, 0x13, 0}},
		{255, nil, []byte{2, 0, 0, 0, 0xFF, 0}},
		{3, []string{"foo"}, []byte{5, 0, 0, 0, 3, 0, 'f', 'o', 'o'}},
		{11, []string{"k", "2"}, []byte{5, 0, 0, 0, 0x0B, 0, 'k', ' ', '2'}},
	}
	for _, c := range cases {
		var args [][]byte
		for _, a := range c.args {
			args = append(args, []byte(a))
		}
		if got := wire.AppendRequest(nil, c.op, args...); !bytes.Equal(got, c.want) {
			t.Errorf("AppendRequest(%d, %q) = %x, want %x", c.op, c.args, got, c.want)
		}
		// The pooled Request builds the same frame.
		req := wire.NewRequest(c.op, "X", 0)
		for _, a := range c.args {
			req.AppendString(a)
		}
		if got := req.Frame(); !bytes.Equal(got, c.want) {
			t.Errorf("Request frame for %d %q = %x, want %x", c.op, c.args, got, c.want)
		}
		req.Release()
	}
}

func TestRequestReplyStorage(t *testing.T) {
	req := wire.NewRequest(3, "GET", wire.FlagReadOnly)
	req.AppendInt(-42)
	if got := string(req.Frame()[6:]); got != "-42" {
		t.Fatalf("AppendInt wrote %q", got)
	}
	src := []byte("value")
	req.SetReply(wire.Reply{Code: wire.CodeVal, Data: src})
	src[0] = 'X' // the stored reply is a copy
	if rep := req.Reply(); string(rep.Data) != "value" || rep.Code != wire.CodeVal {
		t.Fatalf("stored reply = %+v", rep)
	}
	req.Release()
}

// FuzzRequestRoundTrip: a frame built from arbitrary arguments declares its own length,
// carries the opcode, and splits back into the arguments when none contains a space.
func FuzzRequestRoundTrip(f *testing.F) {
	f.Add(uint16(1), []byte("0"), []byte("key"), []byte("value with spaces"))
	f.Add(uint16(255), []byte{}, []byte{}, []byte{})
	f.Fuzz(func(t *testing.T, op uint16, a, b, c []byte) {
		frame := wire.AppendRequest(nil, wire.Opcode(op), a, b, c)
		if n := binary.LittleEndian.Uint32(frame); int(n) != len(frame)-4 {
			t.Fatalf("length field %d, frame %d bytes", n, len(frame))
		}
		if got := binary.LittleEndian.Uint16(frame[4:]); got != op {
			t.Fatalf("opcode %d, want %d", got, op)
		}
		payload := frame[6:]
		if !bytes.Contains(a, []byte{' '}) && !bytes.Contains(b, []byte{' '}) {
			parts := bytes.SplitN(payload, []byte{' '}, 3)
			if len(parts) != 3 || !bytes.Equal(parts[0], a) || !bytes.Equal(parts[1], b) || !bytes.Equal(parts[2], c) {
				t.Fatalf("payload %q does not split into %q %q %q", payload, a, b, c)
			}
		}
	})
}

// A request records where its arguments are as they are appended; a value holding spaces
// is the last argument and runs to the end.
func TestRequestArgs(t *testing.T) {
	r := wire.NewRequest(1, "SET", 0)
	defer r.Release()
	r.AppendInt(10)
	r.AppendString("user:1")
	r.AppendBytes([]byte("a value with spaces"))
	for i, want := range []string{"10", "user:1", "a value with spaces"} {
		if got, ok := r.Arg(i); !ok || string(got) != want {
			t.Errorf("Arg(%d) = %q, %v; want %q", i, got, ok, want)
		}
	}
	if _, ok := r.Arg(3); ok {
		t.Error("Arg(3) of a 3-argument request is present")
	}
	c := wire.NewRequest(1, "SET", 0)
	defer c.Release()
	c.CopyFrame(r)
	if got, ok := c.Arg(1); !ok || string(got) != "user:1" {
		t.Errorf("a copied frame's Arg(1) = %q, %v", got, ok)
	}
	c.SetFrame(r.Frame())
	if _, ok := c.Arg(0); ok || c.Args().Len() != 0 {
		t.Error("SetFrame keeps argument positions it cannot know")
	}
	e := wire.NewRequest(19, "PING", 0)
	defer e.Release()
	if _, ok := e.Arg(0); ok {
		t.Error("a request with no argument has Arg(0)")
	}
	r.Reset(2, "GET", 0)
	r.AppendString("")
	if got, ok := r.Arg(0); !ok || len(got) != 0 {
		t.Errorf("an empty argument: %q, %v", got, ok)
	}
}

// A payload received whole is split as the server reads it.
func TestSplitArgs(t *testing.T) {
	for _, tc := range []struct {
		payload string
		n       int
		want    []string
	}{
		{"foo", 1, []string{"foo"}},
		{"foo bar", 1, []string{"foo"}}, // shape A: what follows the key is ignored
		{"k some value", 2, []string{"k", "some value"}},
		{"p:", 2, []string{"p:"}}, // MGET without a limit
		{"10 key a value", 3, []string{"10", "key", "a value"}},
		{"0 key", 3, []string{"0", "key"}},
		{"", 1, []string{""}},
		{"", 0, nil},
	} {
		var got []string
		for _, a := range wire.SplitArgs(nil, []byte(tc.payload), tc.n) {
			got = append(got, string(a))
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.want) || len(got) != len(tc.want) {
			t.Errorf("%q with %d arguments: %q, want %q", tc.payload, tc.n, got, tc.want)
		}
	}
}
