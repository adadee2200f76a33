package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/gogibson/gogibson/client"
	"github.com/gogibson/gogibson/internal/addr"
	"github.com/gogibson/gogibson/wire"
)

// addrList is --addr: given more than once, or as a,b,c, it names the shards of a Ring.
type addrList struct{ p *string }

func (l addrList) String() string {
	if l.p == nil {
		return ""
	}
	return *l.p
}

func (l addrList) Set(v string) error {
	if *l.p != "" {
		*l.p += ","
	}
	*l.p += v
	return nil
}

// shardAddrs splits a comma-separated address list; one address gives one element.
func shardAddrs(s string) []string {
	var out []string
	for _, a := range strings.Split(s, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

// checkAddrs parses every address of a list, naming the one that is wrong.
func checkAddrs(s string) error {
	for _, a := range shardAddrs(s) {
		if _, _, err := addr.Parse(a); err != nil {
			return err
		}
	}
	if len(shardAddrs(s)) == 0 {
		return fmt.Errorf("--addr %q names no address", s)
	}
	return nil
}

// ringOf dials a Ring whose shards are named by their addresses, so the same list places
// keys the same way in every process, whatever its order. A shard that cannot be reached
// starts down (its keys go to the others) and is named on warn (nil: not named); it fails only when none
// answers.
func ringOf(ctx context.Context, list, segment string, warn io.Writer, opts ...client.Option) (*client.Ring, error) {
	shards := map[string]string{}
	for _, a := range shardAddrs(list) {
		shards[a] = a
	}
	r, err := client.NewRing(ctx, client.RingConfig{Shards: shards, Segment: segment}, opts...)
	if err != nil {
		return nil, err
	}
	for _, sh := range r.Shards() {
		if sh.Down && warn != nil {
			fmt.Fprintf(warn, "gibson: shard %s is down (%v); its keys go to the other shards\n", sh.Name, sh.LastErr)
		}
	}
	return r, nil
}

// ringConn is a session's connection over a Ring.
type ringConn struct{ *client.Ring }

// writeShards prints :shards: every shard with its health, or the one server of a session
// that is not over a Ring.
func writeShards(out io.Writer, c conn, address string) {
	rc, ok := c.(ringConn)
	if !ok {
		fmt.Fprintf(out, "one server: %s (not a ring; give --addr a,b,c for one)\n", address)
		return
	}
	for _, sh := range rc.Shards() {
		state := "up"
		switch {
		case sh.Down && sh.InHash:
			state = "down (FailFast: its keys fail)"
		case sh.Down:
			state = "down (out of the hash: its keys go to the others)"
		case sh.Failures > 0:
			state = fmt.Sprintf("up, %d heartbeat failure(s): %v", sh.Failures, sh.LastErr)
		}
		fmt.Fprintf(out, "%s  %s\n", sh.Name, state)
	}
}

// shardCommand is gibson shard KEY: it prints the address of the server KEY lives on.
func (a *app) shardCommand(words []string, given, segment string, lim wire.Limits, timeout time.Duration, stdout, stderr io.Writer) int {
	if len(words) != 1 {
		fmt.Fprintln(stderr, "gibson: shard takes one key, e.g. gibson --addr a:10128,b:10128 shard user:1")
		return 2
	}
	if given == "" {
		fmt.Fprintln(stderr, "gibson: shard needs the servers: --addr a,b,c (or the flag repeated)")
		return 2
	}
	if err := lim.CheckKey("shard", "key", words[0], 0); err != nil {
		fmt.Fprintln(stderr, errorText(err))
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	r, err := ringOf(ctx, given, segment, stderr, client.WithDialTimeout(timeout), client.WithPoolSize(1))
	if err != nil {
		fmt.Fprintln(stderr, errorText(err))
		return 1
	}
	defer r.Close()
	fmt.Fprintln(stdout, r.ShardFor(words[0]))
	return 0
}
