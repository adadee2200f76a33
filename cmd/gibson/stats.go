package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"text/tabwriter"

	"github.com/gogibson/gogibson/client"
)

// writeStats prints :stats: the statistics of the session's connection (each shard's over
// a Ring), or of the connection dropped last and why, as one JSON object with --json,
// else one "name value" line each.
func (s *session) writeStats(out io.Writer) {
	switch c := s.c.(type) {
	case nil:
		switch {
		case s.lastWhy == "":
			fmt.Fprintln(out, "not connected yet: the first command connects")
		case s.last == nil:
			fmt.Fprintf(out, "not connected: %s; the next command connects again\n", s.lastWhy)
		default:
			if s.mode != modeJSON {
				fmt.Fprintf(out, "not connected: %s; the next command connects again. The last connection:\n", s.lastWhy)
			}
			s.writePoolStats(out, *s.last)
		}
	case interface{ PoolStats() client.PoolStats }:
		s.writePoolStats(out, c.PoolStats())
	case ringConn:
		shards := c.PoolStats()
		if s.mode == modeJSON {
			_ = json.NewEncoder(out).Encode(shards)
			return
		}
		names := make([]string, 0, len(shards))
		for name := range shards {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			fmt.Fprintf(out, "shard %s:\n", name)
			s.writePoolStats(out, shards[name])
		}
	default:
		fmt.Fprintln(out, "this connection keeps no statistics")
	}
}

func (s *session) writePoolStats(out io.Writer, st client.PoolStats) {
	if s.mode == modeJSON {
		_ = json.NewEncoder(out).Encode(st)
		return
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	b := st.Broken
	for _, row := range []struct {
		name  string
		value any
	}{
		{"open", st.Open}, {"idle", st.Idle}, {"active calls", st.Active},
		{"requests sent", st.Requests}, {"bytes sent", st.BytesSent},
		{"dials", st.Dials}, {"dial failures", st.DialFailures},
		{"waits", st.Waits}, {"time waiting", st.WaitTime},
		{"broken", fmt.Sprintf("%d (server closed %d, read errors %d, write errors %d, reply timeouts %d, write timeouts %d, cancelled writes %d, protocol %d, END %d)",
			b.Total(), b.ServerClosed, b.ReadError, b.WriteError, b.ReplyTimeout, b.WriteTimeout, b.Cancelled, b.Protocol, b.Ended)},
	} {
		fmt.Fprintf(tw, "%s\t%v\n", row.name, row.value)
	}
	tw.Flush()
}
