package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/gogibson/gogibson/generated"
	"github.com/gogibson/gogibson/wire"
)

// kval builds a KVAL reply body; values that are int64 are sent number-encoded.
func kval(pairs ...any) wire.Reply {
	var b []byte
	b = binary.LittleEndian.AppendUint32(b, uint32(len(pairs)/2))
	for i := 0; i < len(pairs); i += 2 {
		k := pairs[i].(string)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(k)))
		b = append(b, k...)
		switch v := pairs[i+1].(type) {
		case int64:
			b = append(b, byte(wire.EncNumber))
			b = binary.LittleEndian.AppendUint32(b, 8)
			b = binary.LittleEndian.AppendUint64(b, uint64(v))
		case string:
			b = append(b, byte(wire.EncPlain))
			b = binary.LittleEndian.AppendUint32(b, uint32(len(v)))
			b = append(b, v...)
		}
	}
	return wire.Reply{Code: wire.CodeKVal, Data: b}
}

func number(n int64) wire.Reply {
	return wire.Reply{Code: wire.CodeVal, Encoding: wire.EncNumber, Data: binary.LittleEndian.AppendUint64(nil, uint64(n))}
}

// TestFormatReplies prints hand-built replies of every reply kind in every mode; the live
// server cannot give stable STATS figures or every error code on demand.
func TestFormatReplies(t *testing.T) {
	code := func(c wire.Code) wire.Reply { return wire.Reply{Code: c, Data: []byte{0}} }
	cases := []struct {
		line string
		rep  wire.Reply
	}{
		{"set 0 k v", wire.Reply{Code: wire.CodeVal, Data: []byte("v")}},
		{"set 0 k long", wire.Reply{Code: wire.CodeVal, Data: []byte("lo")}}, // truncated echo
		{"get k", wire.Reply{Code: wire.CodeVal, Data: []byte("caf\xc3\xa9 \x00\xff\"")}},
		{"get k", number(-42)},
		{"get k", code(wire.CodeNotFound)},
		{"del k", code(wire.CodeOK)},
		{"del k", code(wire.CodeNotFound)},
		{"del k", code(wire.CodeLocked)},
		{"inc k", number(7)},
		{"inc k", code(wire.CodeNaN)},
		{"mset p v", code(wire.CodeMem)},
		{"mdel p", code(wire.CodeNotFound)},
		{"count p", number(0)},
		{"meta k size", number(3)},
		{"meta k size", code(wire.CodeErr)},
		{"mget p", kval("p1", "a", "p2", int64(5), "p\xff", "\x00b")},
		{"mget p", code(wire.CodeNotFound)},
		{"keys p", kval("0", "p1", "1", "p2", "2", "p3", "3", "p4", "4", "p5", "5", "p6", "6", "p7", "7", "p8", "8", "p9", "9", "p10")},
		{"stats", kval("server_version", "1.2.1", "server_started", int64(1700000000), "total_items", int64(3), "memory_fragmentation", "1.734210")},
		{"ping", code(wire.CodeOK)},
		{"get k", code(wire.CodeOK)}, // a reply that does not fit the command
	}
	for _, mode := range []struct {
		name string
		m    outputMode
	}{{"text", modeText}, {"raw", modeRaw}, {"json", modeJSON}, {"csv", modeCSV}} {
		var out bytes.Buffer
		for _, tc := range cases {
			req, err := parseLine(wire.Limits{}, tc.line)
			if err != nil {
				t.Fatal(err)
			}
			var doErr error
			if kind := wire.CodeError(tc.rep.Code); kind != nil {
				doErr = wire.ReplyError(req.cmd.Verb, tc.rep) // what Conn.Do returns with the reply
			}
			r := decodeResult(req, tc.rep, doErr)
			fmt.Fprintf(&out, "> %q failed=%t\n", tc.line, r.failed())
			if err := writeResult(&out, mode.m, r); err != nil {
				t.Fatal(err)
			}
			if mode.m == modeJSON {
				line := bytes.TrimSpace(out.Bytes()[bytes.LastIndexByte(bytes.TrimRight(out.Bytes(), "\n"), '\n')+1:])
				if !json.Valid(line) {
					t.Errorf("%s: invalid JSON %s", tc.line, line)
				}
			}
		}
		checkGolden(t, "replies."+mode.name, out.String())
	}
}

func TestTransportErrorIsReportedAsIs(t *testing.T) {
	req := request{cmd: generated.ByVerb("GET"), args: [][]byte{[]byte("k")}}
	cause := wire.Errorf(wire.ErrClosed, "GET", "connection reset")
	r := decodeResult(req, wire.Reply{}, cause)
	if !r.failed() || !errors.Is(r.err, wire.ErrClosed) {
		t.Fatalf("closed connection: %+v", r)
	}
}
