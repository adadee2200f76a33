package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gogibson/gogibson/gibsontest"
	"github.com/gogibson/gogibson/internal/addr"
)

const serveUsage = `usage: gibson serve [--listen ADDR] [--config FILE] [--DIRECTIVE VALUE ...]

Runs the embedded Gibson server in the foreground until SIGINT or SIGTERM; SIGHUP reopens
the log file.
  --listen ADDR     unix:///path, /path.sock, host:port or tcp://host:port
                    (default: the config's unix_socket, else address:port, 127.0.0.1:10128)
  --config FILE     a gibson.conf to start from (default: compiled defaults)
  --NAME VALUE      override one directive, e.g. --max_key_size 1K; directives: %s
logfile (/dev/stdout, /dev/stderr or a file appended to), loglevel (0 debug, 1 info,
2 warn, 3 error), logflushrate (log lines per write) and pidfile work as in gibson.conf;
daemonize 1 is refused: run gibson serve under a service manager instead.
`

// stopWithin bounds shutdown: after SIGTERM the process exits within this even if
// connections are still being torn down.
const stopWithin = 1500 * time.Millisecond

// runServe is "gibson serve": flags, logging, pidfile and signals; the server is gibsontest.
func runServe(args []string, stdout, stderr io.Writer) int {
	return serve(args, stdout, stderr, nil)
}

// serve runs the server until SIGINT or SIGTERM. ready, if set, is called with the
// server once it listens (tests).
func serve(args []string, stdout, stderr io.Writer, ready func(*gibsontest.Server)) int {
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "gibson serve: "+format+"\n", a...)
		return 2
	}
	listen, configFile := "", ""
	var overrides [][2]string
	for i := 0; i < len(args); i++ {
		name, val, hasVal := strings.Cut(strings.TrimLeft(args[i], "-"), "=")
		if !strings.HasPrefix(args[i], "-") || name == "" {
			return fail("unexpected argument %q\n"+serveUsage, args[i], strings.Join(gibsontest.Directives(), ", "))
		}
		if name == "h" || name == "help" {
			fmt.Fprintf(stderr, serveUsage, strings.Join(gibsontest.Directives(), ", "))
			return 0
		}
		if !hasVal {
			if i+1 >= len(args) {
				return fail("flag --%s needs a value", name)
			}
			i++
			val = args[i]
		}
		switch name {
		case "listen":
			listen = val
		case "config", "c":
			configFile = val
		default:
			overrides = append(overrides, [2]string{name, val})
		}
	}
	cfg := gibsontest.DefaultConfig()
	if configFile != "" {
		f, err := os.Open(configFile)
		if err != nil {
			return fail("%v", err)
		}
		cfg, err = gibsontest.ParseConfig(f, configFile)
		f.Close()
		if err != nil {
			return fail("%v", err)
		}
	}
	for _, o := range overrides {
		if err := cfg.Set(o[0], o[1]); err != nil {
			return fail("--%s: %v", o[0], err)
		}
	}
	if err := cfg.Validate(); err != nil { // as Start will; Set checked each value already
		return fail("%v", err)
	}
	if cfg.Daemonize != 0 {
		return fail("daemonize %d is not supported: gibson serve stays in the foreground; run it under a service manager (e.g. systemd, see docs/gibson-serve.service) and set daemonize 0", cfg.Daemonize)
	}
	level, err := slogLevel(cfg.LogLevel)
	if err != nil {
		return fail("%v", err)
	}
	if listen == "" {
		listen = cfg.UnixSocket
		if listen == "" {
			listen = cfg.Address + ":" + strconv.Itoa(cfg.Port)
		}
	}
	out, err := openLog(cfg.LogFile, cfg.LogFlushRate, stdout, stderr)
	if err != nil {
		return fail("logfile: %v", err)
	}
	defer out.Close()
	log := slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: level}))

	// The Go heap is collected more eagerly only as it nears what the server may hold
	// (the data with its slack, the connections' buffers); GOMEMLIMIT, when set, wins.
	memLimit := debug.SetMemoryLimit(-1)
	if memLimit == math.MaxInt64 {
		memLimit = cfg.MemoryLimit()
		debug.SetMemoryLimit(memLimit)
	}

	sig := make(chan os.Signal, 4)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sig)
	s, err := gibsontest.Start(gibsontest.WithConfig(cfg), gibsontest.WithAddr(listen), gibsontest.WithLogger(log))
	if err != nil {
		return fail("%v", err)
	}
	pidfile := cfg.PidFile
	if pidfile != "" {
		if err := os.WriteFile(pidfile, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
			log.Warn("cannot write the pidfile; set pidfile to a writable path", "pidfile", pidfile, "err", err)
			pidfile = ""
		}
	}
	log.Info("gibson serve started",
		"version", serveVersion(), "pid", os.Getpid(), "addr", s.Addr(),
		"max_clients", cfg.MaxClients, "max_request_size", cfg.MaxRequestSize, "max_key_size", cfg.MaxKeySize,
		"max_value_size", cfg.MaxValueSize, "max_response_size", cfg.MaxResponseSize,
		"max_memory", cfg.MaxMemory, "memory_limit", memLimit, "compression", cfg.Compression, "pidfile", pidfile, "logfile", cfg.LogFile)
	if ready != nil {
		ready(s)
	}
	var got os.Signal
	for got == nil {
		switch g := <-sig; g {
		case syscall.SIGHUP:
			if err := out.Reopen(); err != nil {
				log.Error("SIGHUP: cannot reopen the log file; still writing to the old one", "logfile", cfg.LogFile, "err", err)
			} else {
				log.Info("SIGHUP: log file reopened", "logfile", cfg.LogFile)
			}
		default:
			got = g
		}
	}
	log.Info("stopping", "signal", got.String())
	closed := make(chan struct{})
	go func() { s.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(stopWithin):
		log.Warn("connections still closing; exiting anyway", "after", stopWithin)
		if network, address, err := addr.Parse(s.Addr()); err == nil && network == "unix" {
			os.Remove(address)
		}
	}
	if pidfile != "" {
		if b, err := os.ReadFile(pidfile); err == nil && strings.TrimSpace(string(b)) == strconv.Itoa(os.Getpid()) {
			os.Remove(pidfile)
		}
	}
	log.Info("stopped", "signal", got.String())
	return 0
}

// slogLevel maps gibson.conf's loglevel (0 debug, 1 info, 2 warning, 3 error, 4
// critical) to a slog level.
func slogLevel(n int) (slog.Level, error) {
	switch n {
	case 0:
		return slog.LevelDebug, nil
	case 1:
		return slog.LevelInfo, nil
	case 2:
		return slog.LevelWarn, nil
	case 3, 4:
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("loglevel %d: want 0 (debug), 1 (info), 2 (warning), 3 (error) or 4 (critical)", n)
}

// serveVersion is the protocol version served and the module version of this build.
func serveVersion() string {
	v := "(devel)"
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		v = bi.Main.Version
	}
	return "gibson 1.2.1 compatible, gogibson " + v
}

// logOutput is the log destination: stdout, stderr or a file opened for appending, with
// lines buffered and written every flushRate lines (logflushrate). Reopen swaps the file
// for a fresh open of the same path (log rotation).
type logOutput struct {
	mu        sync.Mutex
	path      string
	f         *os.File // nil for stdout and stderr
	bw        *bufio.Writer
	flushRate int
	lines     int
}

func openLog(path string, flushRate int, stdout, stderr io.Writer) (*logOutput, error) {
	o := &logOutput{path: path, flushRate: flushRate}
	switch path {
	case "", "/dev/stderr":
		o.bw = bufio.NewWriter(stderr)
	case "/dev/stdout", "-":
		o.bw = bufio.NewWriter(stdout)
	default:
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			return nil, err
		}
		o.f, o.bw = f, bufio.NewWriter(f)
	}
	return o, nil
}

// Write takes one log line (slog writes each record at once).
func (o *logOutput) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	n, err := o.bw.Write(p)
	if o.lines++; o.lines >= o.flushRate {
		o.lines = 0
		if ferr := o.bw.Flush(); err == nil {
			err = ferr
		}
	}
	return n, err
}

// Reopen flushes and closes the log file and opens its path again; stdout and stderr
// are kept.
func (o *logOutput) Reopen() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.f == nil {
		return o.bw.Flush()
	}
	f, err := os.OpenFile(o.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	flushErr := o.bw.Flush()
	o.f.Close()
	o.f, o.bw = f, bufio.NewWriter(f)
	return flushErr
}

// Close flushes and closes the log file.
func (o *logOutput) Close() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	err := o.bw.Flush()
	if o.f != nil {
		err = errors.Join(err, o.f.Close())
	}
	return err
}
