package main

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/gogibson/gogibson/client"
)

// writeStats prints the statistics of the session's connection for :stats: one JSON object
// with --json, else one "name value" line each.
func (s *session) writeStats(out io.Writer) {
	sc, ok := s.c.(interface{ PoolStats() client.PoolStats })
	if !ok {
		fmt.Fprintln(out, "not connected yet: the first command connects")
		return
	}
	st := sc.PoolStats()
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
