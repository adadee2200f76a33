package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/gogibson/gogibson/generated"
	"github.com/gogibson/gogibson/internal/addr"
)

// addrFlags are the address flags shared by the CLI and bench: --addr takes every address
// form; -u, -a and -p are those of the C client's gibson-cli.
type addrFlags struct {
	addr    string
	unix    string
	host    string
	port    int
	timeout string
}

// resolve returns the address the flags or GIBSON_ADDR name, or "" when none does.
func (f addrFlags) resolve(getenv func(string) string) (string, error) {
	var a string
	switch {
	case f.addr != "":
		a = f.addr
	case f.unix != "":
		a = "unix://" + f.unix
	case f.host != "" || f.port != 0:
		host, port := f.host, f.port
		if host == "" {
			host, _, _ = net.SplitHostPort(addr.DefaultTCP)
		}
		if port == 0 {
			_, p, _ := net.SplitHostPort(addr.DefaultTCP)
			port, _ = strconv.Atoi(p)
		}
		a = net.JoinHostPort(host, strconv.Itoa(port))
	default:
		a = getenv("GIBSON_ADDR")
	}
	if a == "" {
		return "", nil
	}
	if _, _, err := addr.Parse(a); err != nil {
		return "", fmt.Errorf("gibson: %v", err)
	}
	return a, nil
}

// dialTimeout parses -t: milliseconds like gibson-cli, or a Go duration.
func (f addrFlags) dialTimeout() (time.Duration, error) {
	if f.timeout == "" {
		return time.Second, nil
	}
	if ms, err := strconv.Atoi(f.timeout); err == nil && ms > 0 {
		return time.Duration(ms) * time.Millisecond, nil
	}
	if d, err := time.ParseDuration(f.timeout); err == nil && d > 0 {
		return d, nil
	}
	return 0, fmt.Errorf("gibson: timeout %q is neither milliseconds nor a duration like 2s", f.timeout)
}

// target is where a session connects, and what to shut down afterwards.
type target struct {
	addr  string
	first conn   // an open connection from probing, handed to the session
	stop  func() // stops an embedded server; nil otherwise
}

// connect finds the server: the given address, else the first default that answers a PING,
// else an embedded server started in-process (announced on stderr).
func (a *app) connect(ctx context.Context, given string, o dialOptions, stderr io.Writer) (target, error) {
	if given != "" {
		c, err := a.dial(ctx, given, o)
		if err != nil {
			return target{}, fmt.Errorf("gibson: cannot connect to %s: %w", given, err)
		}
		return target{addr: given, first: c}, nil
	}
	for _, d := range a.defaults {
		if c, ok := a.probe(ctx, d, o); ok {
			return target{addr: d, first: c}, nil
		}
	}
	embedded, stop, err := a.embed()
	if err != nil {
		return target{}, fmt.Errorf("gibson: no Gibson server at %s, and the embedded server did not start: %w", strings.Join(a.defaults, " or "), err)
	}
	fmt.Fprintf(stderr, "gibson: no Gibson server at %s — using an embedded server; data lives only as long as this process\n", strings.Join(a.defaults, " or "))
	c, err := a.dial(ctx, embedded, o)
	if err != nil {
		stop()
		return target{}, fmt.Errorf("gibson: cannot connect to the embedded server at %s: %w", embedded, err)
	}
	return target{addr: embedded, first: c, stop: stop}, nil
}

// probe dials a default address and checks that a Gibson server answers PING there.
func (a *app) probe(ctx context.Context, address string, o dialOptions) (conn, bool) {
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	c, err := a.dial(ctx, address, o)
	if err != nil {
		return nil, false
	}
	// Looked up by verb, so that the tool still builds from a spec without PING; then a
	// successful dial is all the probe checks.
	if ping := generated.ByVerb("PING"); ping != nil {
		if _, err := c.Do(ctx, ping.Op); err != nil {
			_ = c.Close()
			return nil, false
		}
	}
	return c, true
}
