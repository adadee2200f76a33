package main

import "testing"

func TestComplete(t *testing.T) {
	for _, tc := range []struct {
		line    string
		pos     int // -1: end of line
		want    string
		wantPos int
		ok      bool
	}{
		{"ge", -1, "get ", 4, true},
		{"GE", -1, "GET ", 4, true},
		{"mg", -1, "mget ", 5, true},
		{"m", -1, "m", 1, false}, // many verbs start with m and share only "m"
		{"mu", -1, "munlock ", 8, true},
		{"ml", -1, "mlock ", 6, true},
		{"unl", -1, "unlock ", 7, true},
		{"de", -1, "de", 0, false}, // DEL and DEC: common prefix is what was typed
		{"xyz", -1, "", 0, false},
		{":h", -1, ":help ", 6, true},
		{":help me", -1, ":help meta ", 11, true},
		{"meta foo s", -1, "meta foo size ", 14, true},
		{"META foo l", -1, "META foo l", 0, false}, // left and lock
		{"META foo lo", -1, "META foo lock ", 14, true},
		{"get foo", -1, "", 0, false},         // keys are not completed
		{"ge foo", 2, "get  foo", 4, true},    // completes the word before the cursor
		{"meta foo size x", -1, "", 0, false}, // no argument there
	} {
		pos := tc.pos
		if pos < 0 {
			pos = len(tc.line)
		}
		got, gotPos, ok := complete(tc.line, pos)
		if ok != tc.ok || (ok && (got != tc.want || gotPos != tc.wantPos)) {
			t.Errorf("complete(%q, %d) = %q, %d, %t; want %q, %d, %t", tc.line, pos, got, gotPos, ok, tc.want, tc.wantPos, tc.ok)
		}
	}
}
