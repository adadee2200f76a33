package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/gogibson/gogibson/client"
	"github.com/gogibson/gogibson/gibsontest"
)

func TestREPLStats(t *testing.T) {
	srv := gibsontest.NewServer(t)
	s := newTestSession(t, srv.Addr())
	in := ":stats\nset 0 a 1\nget a\n:stats\n"
	var out bytes.Buffer
	if code := s.repl(context.Background(), plainLines{bufio.NewReader(strings.NewReader(in))}, &out); code != 0 {
		t.Fatalf("repl exit %d", code)
	}
	got := out.String()
	for _, want := range []string{"not connected yet", "requests sent  2\n", "bytes sent     18\n", "dials          1\n", "open           1\n", "broken         0 ("} {
		if !strings.Contains(got, want) {
			t.Errorf(":stats output lacks %q:\n%s", want, got)
		}
	}

	s.mode = modeJSON
	out.Reset()
	s.input(context.Background(), &out, ":stats")
	var st client.PoolStats
	if err := json.Unmarshal(out.Bytes(), &st); err != nil || st.Requests != 2 || st.Open != 1 {
		t.Fatalf(":stats under --json: %v %s", err, out.String())
	}
}

func TestBenchJSONIncludesPoolStats(t *testing.T) {
	srv := gibsontest.NewServer(t)
	r := testApp(t).benchRun("--addr", srv.Addr(), "-n", "100", "-c", "2", "--conns", "2", "-t", "get", "--compare", "--json")
	var doc struct{ Results []benchResult }
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || len(doc.Results) != 2 {
		t.Fatalf("%v: %+v", err, r)
	}
	for _, res := range doc.Results {
		switch {
		case res.Mode == "raw" && res.Pool != nil:
			t.Errorf("raw mode has pool stats: %+v", res.Pool)
		case res.Mode != "raw" && (res.Pool == nil || res.Pool.Requests != 100 || res.Pool.Dials != 2):
			t.Errorf("%s: pool stats %+v, want the 100 requests on 2 connections", res.Mode, res.Pool)
		}
	}
}
