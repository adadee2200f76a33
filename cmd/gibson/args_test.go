package main

import (
	"errors"
	"strings"
	"testing"

	"github.com/gogibson/gogibson/wire"
)

func joinArgs(req request) string {
	parts := make([]string, len(req.args))
	for i, a := range req.args {
		parts[i] = "[" + string(a) + "]"
	}
	return req.cmd.Verb + " " + strings.Join(parts, " ")
}

func TestParseLine(t *testing.T) {
	for _, tc := range []struct{ line, want string }{
		{`set 0 foo bar`, `SET [0] [foo] [bar]`},
		{`SET 0 foo "hello world"`, `SET [0] [foo] [hello world]`},
		{`set 0 foo hello   world`, `SET [0] [foo] [hello   world]`},
		{`set 0 foo it's fine`, `SET [0] [foo] [it's fine]`},
		{`set 0 foo "a\x00b\n\"q\""`, "SET [0] [foo] [a\x00b\n\"q\"]"},
		{`set 0 foo 'it''s'`, `SET [0] [foo] [its]`},
		{`set 0 foo 'single \' quote'`, `SET [0] [foo] [single ' quote]`},
		{`set 1m30s "my key" v`, ``}, // a key may not contain a space: checked below
		{`set 1m30s k v`, `SET [90] [k] [v]`},
		{`Get foo`, `GET [foo]`},
		{"  get\tfoo  ", `GET [foo]`},
		{`mget user: 10`, `MGET [user:] [10]`},
		{`mget user:`, `MGET [user:]`},
		{`meta foo size`, `META [foo] [size]`},
		{`lock foo -1`, `LOCK [foo] [-1]`},
		{`lock foo 1500ms`, `LOCK [foo] [2]`},
		{`stats`, `STATS `},
		{`mset p: a b`, `MSET [p:] [a b]`},
		{`mset p: "a b" c`, `MSET [p:] ["a b" c]`},
		{`get fo"o"'b'ar`, `GET [foobar]`},
	} {
		req, err := parseLine(wire.Limits{}, tc.line)
		if tc.want == "" {
			if !errors.Is(err, wire.ErrInvalidArgument) {
				t.Errorf("parseLine(%q) = %v, want ErrInvalidArgument", tc.line, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("parseLine(%q): %v", tc.line, err)
			continue
		}
		if got := joinArgs(req); got != tc.want {
			t.Errorf("parseLine(%q) = %s, want %s", tc.line, got, tc.want)
		}
	}
}

func TestParseLineErrors(t *testing.T) {
	for _, tc := range []struct{ line, want string }{
		{`frob x`, `unknown command "frob"`},
		{`get`, `GET: invalid argument: takes 1 argument, got 0; usage: GET <key>`},
		{`get a b`, `takes 1 argument, got 2`},
		{`mget`, `takes 1 to 2 arguments, got 0`},
		{`set 0 k`, `takes 3 arguments, got 2`},
		{`get "foo`, `unbalanced quote at column 5`},
		{`get "\xZZ"`, `\x needs two hex digits`},
		{`set -5 k v`, `is negative`},
		{`lock k 0`, `would lock nothing (the server accepts it but does not lock); give the seconds to lock for (1 to 32767, or a duration like 5m), or -1 to lock until UNLOCK`},
		{`ttl k 40000`, `would wrap it`},
		{`mget p -1`, `limit -1 is negative`},
		{`mget p x`, `is not a whole number`},
		{`set 0 k ""`, `value is empty`},
		{`get ""`, `key is empty`},
		{`get "a b"`, `contains a space`},
		{`get ` + strings.Repeat("k", 512), `at most 511 fit`},
		{`set 100 ` + strings.Repeat("k", 509) + ` v`, `at most 508 fit`},
	} {
		_, err := parseLine(wire.Limits{}, tc.line)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parseLine(%.40q) error = %v, want it to contain %q", tc.line, err, tc.want)
		}
	}
	// The SET key budget counts the ttl text and its space: 100 + space leaves 508.
	if _, err := parseLine(wire.Limits{}, `set 100 `+strings.Repeat("k", 508)+` v`); err != nil {
		t.Errorf("508-byte key after ttl 100: %v", err)
	}
}

func TestParseWords(t *testing.T) {
	for _, tc := range []struct {
		words []string
		want  string
	}{
		{[]string{"set", "0", "foo", "hello world"}, `SET [0] [foo] [hello world]`},
		{[]string{"set", "0", "foo", "hello", "world"}, `SET [0] [foo] [hello world]`},
		{[]string{"GET", "foo"}, `GET [foo]`},
		{[]string{"get", `"foo"`}, `GET ["foo"]`}, // argv words are taken as they are
		{[]string{"mget", "user:", "10"}, `MGET [user:] [10]`},
	} {
		req, err := parseWords(wire.Limits{}, tc.words, nil)
		if err != nil {
			t.Errorf("parseWords(%q): %v", tc.words, err)
			continue
		}
		if got := joinArgs(req); got != tc.want {
			t.Errorf("parseWords(%q) = %s, want %s", tc.words, got, tc.want)
		}
	}
	if _, err := parseWords(wire.Limits{}, []string{"get", "a", "b"}, nil); err == nil {
		t.Error("get with two words: no error")
	}
}

func TestParseLimitsFollowFlags(t *testing.T) {
	lim := wire.Limits{MaxValueSize: 4}
	if _, err := parseLine(lim, "set 0 k 12345"); !errors.Is(err, wire.ErrInvalidArgument) {
		t.Errorf("5-byte value with MaxValueSize 4: %v", err)
	}
	if _, err := parseLine(lim, "set 0 k 1234"); err != nil {
		t.Errorf("4-byte value with MaxValueSize 4: %v", err)
	}
}
