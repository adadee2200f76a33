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
	"github.com/gogibson/gogibson/gibsontest"
	"github.com/gogibson/gogibson/internal/addr"
)

// addrFlags are the address flags shared by the CLI and bench: --addr takes every address
// form; -h, -p and -s are redis-cli's, -a and -u those of the C client's gibson-cli.
type addrFlags struct {
	addr    string
	segment string // --segment: a Ring places keys by their first segment
	unix    string
	host    string
	port    int
	timeout string
}

// resolve returns the address the flags or GIBSON_ADDR name, or "" when none does. Flags
// naming two different places are refused rather than one silently winning.
func (f addrFlags) resolve(getenv func(string) string) (string, error) {
	var a string
	forms := 0
	for _, set := range []bool{f.addr != "", f.unix != "", f.host != "" || f.port != 0} {
		if set {
			forms++
		}
	}
	switch {
	case forms > 1:
		return "", fmt.Errorf("gibson: give the server one way: --addr, -s/-u (socket) or -h/-p (host and port)")
	case f.addr != "":
		a = f.addr
	case strings.Contains(f.unix, "://"):
		a = f.unix // -u as redis-cli's URI flag: any address form
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
	if err := checkAddrs(a); err != nil {
		return "", fmt.Errorf("gibson: %v", err)
	}
	return a, nil
}

// timeouts parses -t/--timeout: seconds as redis-cli takes them (fractions allowed) or a
// Go duration. Given, it bounds both connecting and each command; otherwise the defaults
// apply.
func (f addrFlags) timeouts() (connect, command time.Duration, err error) {
	if f.timeout == "" {
		return defaultConnectTimeout, defaultCommandTimeout, nil
	}
	d, err := parseSeconds(f.timeout)
	if err != nil || d <= 0 {
		return 0, 0, fmt.Errorf("gibson: --timeout %q: want seconds (2, 0.5) or a duration (250ms, 1m)", f.timeout)
	}
	return d, d, nil
}

// target is where a session connects, and what to shut down afterwards.
type target struct {
	addr  string
	first conn   // an open connection from probing, handed to the session
	stop  func() // stops an embedded server; nil otherwise
}

// connectRequest says where to connect: the given address; an embedded server when
// embedded is set; otherwise the defaults, then an embedded server only when fallback is
// set (the interactive REPL).
type connectRequest struct {
	given    string
	embedded bool
	fallback bool
	cfg      gibsontest.Config // for an embedded server
}

// connect finds the server as req says. The REPL's fallback to an embedded server is
// announced on stderr; a command or a script never falls back silently.
func (a *app) connect(ctx context.Context, req connectRequest, o dialOptions, stderr io.Writer) (target, error) {
	if req.given != "" {
		c, err := a.dial(ctx, req.given, o)
		if err != nil {
			return target{}, fmt.Errorf("gibson: cannot connect to %s: %w", req.given, err)
		}
		return target{addr: req.given, first: c}, nil
	}
	if !req.embedded {
		for _, d := range a.defaults {
			if c, ok := a.probe(ctx, d, o); ok {
				return target{addr: d, first: c}, nil
			}
		}
		where := strings.Join(a.defaults, " or ")
		if !req.fallback {
			return target{}, fmt.Errorf("gibson: no Gibson server at %s; start one with `gibson serve`, give its address (--addr, -h/-p, -s), or pass --embedded", where)
		}
		fmt.Fprintf(stderr, "gibson: no Gibson server at %s.\n"+
			"gibson: using an embedded server for this session: its data is temporary and is lost when you quit.\n"+
			"gibson: start a lasting one with `gibson serve`.\n", where)
	}
	embedded, stop, err := a.embed(req.cfg)
	if err != nil {
		return target{}, fmt.Errorf("gibson: the embedded server did not start: %w", err)
	}
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
