package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/gogibson/gogibson/internal/addr"
	"github.com/gogibson/gogibson/wire"
)

// app holds what differs between the real tool and its tests: the environment, the default
// addresses probed, terminal detection, how to dial and how to start the embedded server.
type app struct {
	getenv     func(string) string
	defaults   []string
	isTerminal func(any) bool
	dial       func(ctx context.Context, address string, o dialOptions) (conn, error)
	embed      func() (address string, stop func(), err error)
	home       func() (string, error)
}

func newApp() *app {
	return &app{
		getenv:     os.Getenv,
		defaults:   []string{addr.DefaultUnix, addr.DefaultTCP},
		isTerminal: isTerminal,
		dial:       dialConn,
		embed:      startEmbedded,
		home:       os.UserHomeDir,
	}
}

// runCLI runs gibson [flags] [verb args…]: one command from the arguments, a REPL when
// stdin is a terminal, or a script read from stdin.
func runCLI(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return newApp().runCLI(args, stdin, stdout, stderr)
}

func addAddrFlags(fs *flag.FlagSet, f *addrFlags) {
	fs.StringVar(&f.addr, "addr", "", "server `address`: unix:///path, /path.sock, host:port or tcp://host:port (default: $GIBSON_ADDR, "+addr.DefaultUnix+", "+addr.DefaultTCP+", else an embedded server)")
	fs.StringVar(&f.unix, "u", "", "unix socket `path`")
	fs.StringVar(&f.unix, "unix", "", "unix socket `path`")
	fs.StringVar(&f.host, "a", "", "TCP `host`")
	fs.StringVar(&f.host, "address", "", "TCP `host`")
	fs.IntVar(&f.port, "p", 0, "TCP `port` (default 10128)")
	fs.IntVar(&f.port, "port", 0, "TCP `port` (default 10128)")
}

func (a *app) runCLI(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("gibson", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var af addrFlags
	var raw, asJSON bool
	var histFile string
	var lim wire.Limits
	addAddrFlags(fs, &af)
	fs.StringVar(&af.timeout, "t", "", "connect `timeout`: milliseconds or a duration (default 1s)")
	fs.StringVar(&af.timeout, "timeout", "", "connect `timeout`: milliseconds or a duration (default 1s)")
	fs.BoolVar(&raw, "raw", false, "print bare values (no quotes, no type prefixes)")
	fs.BoolVar(&asJSON, "json", false, "print one JSON value per command")
	fs.IntVar(&lim.MaxKeySize, "max-key-size", wire.DefaultMaxKeySize, "the server's max_key_size, for argument checks")
	fs.IntVar(&lim.MaxValueSize, "max-value-size", wire.DefaultMaxValueSize, "the server's max_value_size, for argument checks")
	fs.StringVar(&histFile, "history", "", "REPL history `file` (default ~/.gibson_history; \"-\" keeps none)")
	fs.Usage = func() {
		fmt.Fprint(stderr, `usage: gibson [flags] [command [args…]]
       gibson serve [flags]      run the embedded server standalone
       gibson bench [flags]      measure throughput and latency

With a command, runs it once (exit 1 on error). Without, reads commands from stdin:
a REPL on a terminal (:help lists commands), otherwise one command per line.

flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if raw && asJSON {
		fmt.Fprintln(stderr, "gibson: --raw and --json exclude each other")
		return 2
	}
	mode := modeText
	if raw {
		mode = modeRaw
	} else if asJSON {
		mode = modeJSON
	}
	timeout, err := af.dialTimeout()
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	given, err := af.resolve(a.getenv)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}

	// Check a one-shot command before connecting: a typo should not start a server.
	var oneShot request
	if fs.NArg() > 0 {
		if oneShot, err = parseWords(lim, fs.Args()); err != nil {
			_ = writeResult(stderr, mode, result{kind: resErr, err: err})
			return 1
		}
	}

	ctx := context.Background()
	o := dialOptions{timeout: timeout, maxKeySize: lim.MaxKeySize, maxValueSize: lim.MaxValueSize}
	tg, err := a.connect(ctx, given, o, stderr)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if tg.stop != nil {
		defer tg.stop()
	}
	s := &session{
		addr: tg.addr,
		lim:  lim,
		mode: mode,
		c:    tg.first,
		dial: func(ctx context.Context) (conn, error) { return a.dial(ctx, tg.addr, o) },
	}
	defer s.Close()

	switch {
	case oneShot.cmd != nil:
		r := s.do(ctx, oneShot)
		if r.failed() {
			_ = writeResult(stderr, mode, r)
			return 1
		}
		if err := writeResult(stdout, mode, r); err != nil {
			fmt.Fprintf(stderr, "gibson: %v\n", err)
			return 1
		}
		return 0
	case a.isTerminal(stdin):
		return s.replOnTerminal(ctx, stdin.(*os.File), stdout, a.historyPath(histFile))
	default:
		return s.script(ctx, stdin, stdout, stderr)
	}
}

// historyPath is where the REPL keeps its history: --history, or ~/.gibson_history.
func (a *app) historyPath(flagValue string) string {
	switch flagValue {
	case "-":
		return ""
	case "":
		home, err := a.home()
		if err != nil {
			return ""
		}
		return filepath.Join(home, ".gibson_history")
	}
	return flagValue
}
