package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/gogibson/gogibson/gibsontest"
)

const serveUsage = `usage: gibson serve [--listen ADDR] [--config FILE] [--DIRECTIVE VALUE ...]

Runs the embedded Gibson server until SIGINT or SIGTERM.
  --listen ADDR     unix:///path, /path.sock, host:port or tcp://host:port
                    (default: the config's unix_socket, else address:port, 127.0.0.1:10128)
  --config FILE     a gibson.conf to start from (default: compiled defaults)
  --NAME VALUE      override one directive, e.g. --max_key_size 1K; directives: %s
`

// runServe is "gibson serve": flags and signals only, the server is gibsontest.
func runServe(args []string, stdout, stderr io.Writer) int {
	return serve(args, stderr, nil)
}

// serve runs the server until SIGINT or SIGTERM. ready, if set, is called with the
// server once it listens (tests).
func serve(args []string, stderr io.Writer, ready func(*gibsontest.Server)) int {
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
	if listen == "" {
		listen = cfg.UnixSocket
		if listen == "" {
			listen = cfg.Address + ":" + strconv.Itoa(cfg.Port)
		}
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sig)
	s, err := gibsontest.Start(gibsontest.WithConfig(cfg), gibsontest.WithAddr(listen))
	if err != nil {
		return fail("%v", err)
	}
	fmt.Fprintf(stderr, "gibson serve: listening on %s (max_clients %d, max_request_size %d, max_key_size %d, max_value_size %d, max_response_size %d, max_memory %d, compression %d)\n",
		s.Addr(), cfg.MaxClients, cfg.MaxRequestSize, cfg.MaxKeySize, cfg.MaxValueSize, cfg.MaxResponseSize, cfg.MaxMemory, cfg.Compression)
	if ready != nil {
		ready(s)
	}
	got := <-sig
	s.Close()
	fmt.Fprintf(stderr, "gibson serve: %v, stopped\n", got)
	return 0
}
