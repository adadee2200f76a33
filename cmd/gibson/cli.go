package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gogibson/gogibson/client"
	"github.com/gogibson/gogibson/gibsontest"
	"github.com/gogibson/gogibson/internal/addr"
	"github.com/gogibson/gogibson/wire"
)

// app holds what differs between the real tool and its tests: the environment, the default
// addresses probed, terminal detection, how to dial and how to start the embedded server.
type app struct {
	benchPool  *client.PoolStats // of the last bench client closed, if it has them; see benchCaller
	getenv     func(string) string
	defaults   []string
	isTerminal func(any) bool
	dial       func(ctx context.Context, address string, o dialOptions) (conn, error)
	embed      func(cfg gibsontest.Config) (address string, stop func(), err error)
	home       func() (string, error)
	ticker     func(time.Duration) (<-chan time.Time, func()) // gibson bench's progress
}

func newApp() *app {
	return &app{
		getenv:     os.Getenv,
		defaults:   []string{addr.DefaultUnix, addr.DefaultTCP},
		isTerminal: isTerminal,
		dial:       dialConn,
		embed:      startEmbedded,
		home:       os.UserHomeDir,
		ticker:     realTicker,
	}
}

// Default time limits when --timeout is not given: connecting (and probing each default
// address) and waiting for one command's reply.
const (
	defaultConnectTimeout = time.Second
	defaultCommandTimeout = 10 * time.Second
)

// protocolVersion is the Gibson protocol the tool speaks (docs/protocol.md).
const protocolVersion = "1.2"

// runCLI runs gibson [flags] [verb args…]: one command from the arguments, a REPL when
// stdin is a terminal, or a script read from stdin.
func runCLI(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return newApp().runCLI(args, stdin, stdout, stderr)
}

// addAddrFlags defines the address flags shared by the CLI and bench: redis-cli's -h, -p
// and -s, gibson-cli's -a and -u, and --addr for every address form.
func addAddrFlags(fs *flag.FlagSet, f *addrFlags) {
	fs.Var(addrList{&f.addr}, "addr", "")
	fs.StringVar(&f.segment, "segment", "", "")
	fs.StringVar(&f.host, "h", "", "")
	fs.StringVar(&f.host, "a", "", "")
	fs.StringVar(&f.host, "address", "", "")
	fs.IntVar(&f.port, "p", 0, "")
	fs.IntVar(&f.port, "port", 0, "")
	fs.StringVar(&f.unix, "s", "", "")
	fs.StringVar(&f.unix, "u", "", "")
	fs.StringVar(&f.unix, "unix", "", "")
}

// cliUsage is gibson --help and gibson help. Every flag runCLI defines is listed here (a
// test checks it).
const cliUsage = `usage: gibson [flags] [command [args…]]
       gibson help [command]     this text, or one command in detail
       gibson commands           every command with its arguments
       gibson serve [flags]      run the embedded server standalone (gibson serve --help)
       gibson bench [flags]      measure throughput and latency (gibson bench --help)
       gibson proxy [flags]      serve any Gibson client through several servers (gibson proxy --help)

With a command, gibson runs it once and exits (1 when it fails). Without one, it reads
commands from stdin: an interactive REPL on a terminal (:help inside), otherwise one
command per line (a script; exit 1 when any command failed).

When no address is given, gibson tries /var/run/gibson.sock, then 127.0.0.1:10128. If
neither answers, a command or a script fails; the REPL starts an embedded server whose
data is lost when it quits. --embedded asks for the embedded server outright.

Server:
  --addr ADDRESS        unix:///path, /path.sock, host:port or tcp://host:port; several
                        (--addr a,b,c or the flag repeated) shard keys over them (a Ring;
                        gibson shard KEY prints a key's server, :shards their health)
  --segment SEP         with several addresses: place a key by its text up to the first
                        SEP (user: for user:1 with SEP :), so MGET user: asks one shard
  -h, --address HOST    TCP host (default 127.0.0.1); -a HOST too, as gibson-cli spells it
  -p, --port PORT       TCP port (default 10128)
  -s, -u, --unix PATH   unix socket path (-u also takes any ADDRESS form)
                        ($GIBSON_ADDR is used when none of these is given)
  --config FILE         read the server's gibson.conf: its max_key_size, max_value_size
                        and max_request_size, and its address when none is given
  --embedded            use an embedded in-process server (data lives as long as gibson)
  -t, --timeout T       bound connecting and every command: seconds (0.5) or a duration
                        (250ms, 1m); default 1s to connect, 10s per command

Limits (the server's, so that gibson refuses what it would truncate; sizes take a B, K,
M or G suffix as in gibson.conf):
  --max-key-size SIZE   the server's max_key_size (default 512)
  --max-value-size SIZE the server's max_value_size (default 4096)

Output (text on a terminal, raw otherwise):
  --raw                 bare values, one per line
  --no-raw              text even when stdout is not a terminal: "value", (integer) 1, (nil)
  --csv                 one CSV line per command: "strings", numbers, NULL
  --json                one JSON value per command; see "gibson help json"

Repeating and stdin (with a command):
  -r N                  run the command N times (-1: until interrupted)
  -i SECONDS            wait this long between repetitions (0.1 = 100ms)
  -x                    read the command's last argument from stdin, byte for byte
                        (at most --max-value-size: a larger stdin is refused unread)

Other:
  --history FILE        REPL history file (default ~/.gibson_history; - keeps none)
  --version             print the version and the Gibson protocol version
  --help                this text
`

// jsonHelp is gibson help json.
const jsonHelp = `--json prints one JSON value per command:
  OK replies       "OK"
  found/not found  true / false
  numbers, counts  42
  missing value    null
  values           "text" (a JSON string)
  MGET             [{"key": "k", "value": "v"}, …]
  KEYS             ["k1", "k2", …]
  STATS            {"server_version": "1.2.1", "total_items": 3, …}
  errors           {"error": "gibson: GET: …"}
Keys and values are always JSON strings. Bytes that are not valid UTF-8 are written as
the escapes \udc80 … \udcff, one per byte (byte 0xff is \udcff), the convention Python
calls "surrogateescape": value.encode("utf-8", "surrogateescape") gives the bytes back.
Valid UTF-8 never produces these escapes, so they are unambiguous.
`

// cliOptions are runCLI's parsed flags.
type cliOptions struct {
	af                 addrFlags
	raw, noRaw, csv    bool
	asJSON             bool
	histFile           string
	maxKey, maxValue   sizeFlag
	configFile         string
	embedded           bool
	repeat             int
	interval           string
	stdinArg           bool
	version, help      bool
	explicitAddrFlags  bool
	explicitLimitFlags map[string]bool
}

// cliFlags defines runCLI's flags on a new FlagSet, filling o.
func cliFlags(o *cliOptions) *flag.FlagSet {
	fs := flag.NewFlagSet("gibson", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	o.maxKey = sizeFlag{n: wire.DefaultMaxKeySize}
	o.maxValue = sizeFlag{n: wire.DefaultMaxValueSize}
	addAddrFlags(fs, &o.af)
	fs.StringVar(&o.af.timeout, "t", "", "")
	fs.StringVar(&o.af.timeout, "timeout", "", "")
	fs.BoolVar(&o.raw, "raw", false, "")
	fs.BoolVar(&o.noRaw, "no-raw", false, "")
	fs.BoolVar(&o.csv, "csv", false, "")
	fs.BoolVar(&o.asJSON, "json", false, "")
	fs.Var(&o.maxKey, "max-key-size", "")
	fs.Var(&o.maxValue, "max-value-size", "")
	fs.StringVar(&o.configFile, "config", "", "")
	fs.BoolVar(&o.embedded, "embedded", false, "")
	fs.IntVar(&o.repeat, "r", 1, "")
	fs.StringVar(&o.interval, "i", "", "")
	fs.BoolVar(&o.stdinArg, "x", false, "")
	fs.StringVar(&o.histFile, "history", "", "")
	fs.BoolVar(&o.version, "version", false, "")
	fs.BoolVar(&o.help, "help", false, "")
	return fs
}

func (a *app) runCLI(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var o cliOptions
	fs := cliFlags(&o)
	usageErr := func(err error) int {
		fmt.Fprintf(stderr, "%s\nRun gibson --help for the flags.\n", errorText(err))
		return 2
	}
	if err := fs.Parse(args); err != nil {
		return usageErr(fmt.Errorf("gibson: %s", flagError(err)))
	}
	o.explicitLimitFlags = map[string]bool{}
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "addr", "h", "a", "address", "p", "port", "s", "u", "unix":
			o.explicitAddrFlags = true
		case "max-key-size", "max-value-size":
			o.explicitLimitFlags[f.Name] = true
		}
	})
	words := fs.Args()
	switch {
	case o.help:
		fmt.Fprint(stdout, cliUsage)
		return 0
	case o.version:
		fmt.Fprint(stdout, versionText())
		return 0
	case len(words) > 0 && strings.EqualFold(words[0], "help"):
		return helpCommand(words[1:], stdout, stderr)
	case len(words) > 0 && strings.EqualFold(words[0], "commands"):
		writeCommands(stdout)
		return 0
	}

	mode, err := o.outputMode(a.isTerminal(stdout))
	if err != nil {
		return usageErr(err)
	}
	if len(words) == 0 && (o.repeat != 1 || o.interval != "" || o.stdinArg) {
		return usageErr(errors.New("gibson: -r, -i and -x apply to a command given on the command line, e.g. gibson -r 3 inc counter"))
	}
	interval, err := parseInterval(o.interval)
	if err != nil {
		return usageErr(err)
	}
	connectTimeout, commandTimeout, err := o.af.timeouts()
	if err != nil {
		return usageErr(err)
	}
	if o.embedded && o.explicitAddrFlags {
		return usageErr(errors.New("gibson: --embedded starts its own server; leave out the address flags"))
	}
	given, err := o.af.resolve(func(string) string { return "" })
	if err != nil {
		return usageErr(err)
	}
	lim := wire.Limits{MaxKeySize: int(o.maxKey.n), MaxValueSize: int(o.maxValue.n)}
	srvCfg := gibsontest.DefaultConfig()
	if o.configFile != "" {
		if srvCfg, err = readServerConfig(o.configFile); err != nil {
			fmt.Fprintln(stderr, errorText(err))
			return 2
		}
		if !o.explicitLimitFlags["max-key-size"] {
			lim.MaxKeySize = int(srvCfg.MaxKeySize)
		}
		if !o.explicitLimitFlags["max-value-size"] {
			lim.MaxValueSize = int(srvCfg.MaxValueSize)
		}
		if given == "" && !o.embedded {
			given = configAddr(srvCfg)
		}
	}
	if given == "" && !o.embedded {
		if given, err = o.af.resolve(a.getenv); err != nil {
			return usageErr(err)
		}
	}
	srvCfg.MaxKeySize, srvCfg.MaxValueSize = int64(lim.MaxKeySize), int64(lim.MaxValueSize)
	srvCfg.MaxRequestSize = max(srvCfg.MaxRequestSize, int64(lim.MaxKeySize+lim.MaxValueSize+64))
	srvCfg.UnixSocket = "" // the embedded server listens on a temporary socket

	// gibson shard KEY: which server of --addr a,b,c holds KEY.
	if len(words) > 0 && strings.EqualFold(words[0], "shard") {
		return a.shardCommand(words[1:], given, o.af.segment, lim, connectTimeout, stdout, stderr)
	}
	// Check a one-shot command before connecting: a typo should not start a server.
	var oneShot request
	if len(words) > 0 {
		var fromStdin *string
		if o.stdinArg {
			s, err := readStdinArg(stdin, lim, words[0])
			if err != nil {
				_ = writeResult(stderr, mode, result{kind: resErr, err: err})
				return 1
			}
			fromStdin = &s
		}
		if oneShot, err = parseWords(lim, words, fromStdin); err != nil {
			_ = writeResult(stderr, mode, result{kind: resErr, err: err})
			return 1
		}
	}

	ctx := context.Background()
	do := dialOptions{warn: stderr, segment: o.af.segment, timeout: connectTimeout, maxKeySize: lim.MaxKeySize, maxValueSize: lim.MaxValueSize, maxRequestSize: int(srvCfg.MaxRequestSize)}
	interactive := len(words) == 0 && a.isTerminal(stdin)
	tg, err := a.connect(ctx, connectRequest{given: given, embedded: o.embedded, fallback: interactive, cfg: srvCfg}, do, stderr)
	if err != nil {
		fmt.Fprintln(stderr, errorText(err))
		return 1
	}
	if tg.stop != nil {
		defer tg.stop()
	}
	s := &session{
		addr:    tg.addr,
		lim:     lim,
		mode:    mode,
		timeout: commandTimeout,
		c:       tg.first,
		dial:    func(ctx context.Context) (conn, error) { return a.dial(ctx, tg.addr, do) },
	}
	defer s.Close()

	switch {
	case oneShot.cmd != nil:
		return s.repeat(ctx, oneShot, o.repeat, interval, stdout, stderr)
	case interactive:
		return s.replOnTerminal(ctx, stdin.(*os.File), stdout, a.historyPath(o.histFile))
	default:
		return s.script(ctx, stdin, stdout, stderr)
	}
}

// readStdinArg reads -x's argument from stdin: at most one byte more than the largest
// argument lim allows, so a huge stdin is refused without being held in memory.
func readStdinArg(stdin io.Reader, lim wire.Limits, verb string) (string, error) {
	cmd, err := lookup(verb)
	if err != nil {
		return "", err
	}
	most := max(lim.MaxKeySize, lim.MaxValueSize)
	data, err := io.ReadAll(io.LimitReader(stdin, int64(most)+1))
	if err != nil {
		return "", fmt.Errorf("gibson: -x: reading stdin: %w", err)
	}
	if len(data) > most {
		return "", wire.Errorf(wire.ErrInvalidArgument, cmd.Verb, "-x: stdin holds more than %d bytes, more than any argument may hold (max_value_size %d); send less, or raise --max-value-size to the server's max_value_size (or pass --config with its gibson.conf)", most, lim.MaxValueSize)
	}
	return string(data), nil
}

// longFlag matches a long flag name as the flag package prints it ("-max-value-size").
var longFlag = regexp.MustCompile(`(^|[^-\w])-(\w[\w-]+)`)

// flagError is a flag parsing error with long flags spelled as the usage text spells
// them (--max-value-size, not -max-value-size).
func flagError(err error) string {
	return longFlag.ReplaceAllString(err.Error(), "$1--$2")
}

// outputMode picks the output format: at most one of --raw, --no-raw, --csv and --json;
// otherwise text on a terminal and raw elsewhere, as redis-cli does.
func (o cliOptions) outputMode(stdoutIsTerminal bool) (outputMode, error) {
	var chosen []string
	for _, f := range []struct {
		set  bool
		name string
	}{{o.raw, "--raw"}, {o.noRaw, "--no-raw"}, {o.csv, "--csv"}, {o.asJSON, "--json"}} {
		if f.set {
			chosen = append(chosen, f.name)
		}
	}
	switch {
	case len(chosen) > 1:
		return 0, fmt.Errorf("gibson: %s exclude each other; choose one output format", strings.Join(chosen, " and "))
	case o.raw:
		return modeRaw, nil
	case o.noRaw:
		return modeText, nil
	case o.csv:
		return modeCSV, nil
	case o.asJSON:
		return modeJSON, nil
	case stdoutIsTerminal:
		return modeText, nil
	}
	return modeRaw, nil
}

// parseInterval reads -i: seconds, fractions allowed, as redis-cli takes them, or a
// duration.
func parseInterval(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := parseSeconds(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("gibson: -i %q: want seconds (0.5) or a duration (500ms)", s)
	}
	return d, nil
}

// parseSeconds reads decimal seconds ("2", "0.25") or a Go duration ("250ms").
func parseSeconds(s string) (time.Duration, error) {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if f > float64(1<<62)/float64(time.Second) {
			return 0, fmt.Errorf("too long")
		}
		return time.Duration(f * float64(time.Second)), nil
	}
	return time.ParseDuration(s)
}

// repeat runs a one-shot command n times (forever when n < 0), interval apart, printing
// every result. It returns 1 when any run failed.
func (s *session) repeat(ctx context.Context, req request, n int, interval time.Duration, stdout, stderr io.Writer) int {
	code := 0
	for i := 0; n < 0 || i < n; i++ {
		if i > 0 && interval > 0 {
			time.Sleep(interval)
		}
		r := s.do(ctx, req)
		if r.failed() {
			_ = writeResult(stderr, s.mode, r)
			code = 1
			continue
		}
		if err := writeResult(stdout, s.mode, r); err != nil {
			fmt.Fprintln(stderr, errorText(fmt.Errorf("gibson: writing the output: %w", err)))
			return 1
		}
	}
	return code
}

// helpCommand is gibson help [command].
func helpCommand(words []string, stdout, stderr io.Writer) int {
	switch {
	case len(words) == 0:
		fmt.Fprint(stdout, cliUsage)
		return 0
	case len(words) > 1:
		fmt.Fprintln(stderr, "gibson: help takes one command name, e.g. gibson help set")
		return 2
	case strings.EqualFold(words[0], "json"):
		fmt.Fprint(stdout, jsonHelp)
		return 0
	}
	if err := writeHelpOne(stdout, words[0]); err != nil {
		fmt.Fprintln(stderr, errorText(err))
		return 1
	}
	return 0
}

// readServerConfig reads a gibson.conf exactly as gibson serve does.
func readServerConfig(path string) (gibsontest.Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return gibsontest.Config{}, fmt.Errorf("gibson: --config: %w", err)
	}
	defer f.Close()
	cfg, err := gibsontest.ParseConfig(f, path)
	if err != nil {
		return gibsontest.Config{}, fmt.Errorf("gibson: --config: %w", err)
	}
	return cfg, nil
}

// configAddr is where a server started with cfg listens.
func configAddr(cfg gibsontest.Config) string {
	if cfg.UnixSocket != "" {
		return "unix://" + cfg.UnixSocket
	}
	return cfg.Address + ":" + strconv.Itoa(cfg.Port)
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
