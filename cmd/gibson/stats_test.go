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

// After END the session has no connection: :stats says why, and shows the connection it
// closed, until the next command connects again.
func TestREPLStatsAfterEnd(t *testing.T) {
	srv := gibsontest.NewServer(t)
	s := newTestSession(t, srv.Addr())
	var out bytes.Buffer
	in := "ping\nend\n:stats\n"
	if code := s.repl(context.Background(), plainLines{bufio.NewReader(strings.NewReader(in))}, &out); code != 0 {
		t.Fatalf("repl exit %d", code)
	}
	got := out.String()
	for _, want := range []string{"not connected: END closed it; the next command connects again. The last connection:\n", "requests sent  2\n", "dials          1\n"} {
		if !strings.Contains(got, want) {
			t.Errorf(":stats after END lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "not connected yet") {
		t.Errorf(":stats after END says the session never connected:\n%s", got)
	}
	out.Reset()
	s.input(context.Background(), &out, "ping")
	s.input(context.Background(), &out, ":stats")
	if got := out.String(); strings.Contains(got, "not connected") || !strings.Contains(got, "requests sent  1\n") {
		t.Errorf(":stats after reconnecting:\n%s", got)
	}
}

// Over a Ring, :stats shows each shard's statistics.
func TestREPLStatsOverARing(t *testing.T) {
	a, b := gibsontest.NewServer(t), gibsontest.NewServer(t)
	s := newTestSession(t, a.Addr()+","+b.Addr())
	var out bytes.Buffer
	s.input(context.Background(), &out, "ping")
	out.Reset()
	s.input(context.Background(), &out, ":stats")
	got := out.String()
	if strings.Count(got, "shard ") != 2 || !strings.Contains(got, "shard "+a.Addr()+":\n") || strings.Contains(got, "not connected") {
		t.Errorf(":stats over a ring:\n%s", got)
	}
}
