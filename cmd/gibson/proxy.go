package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gogibson/gogibson/client"
	"github.com/gogibson/gogibson/gibsontest"
	"github.com/gogibson/gogibson/internal/addr"
	"github.com/gogibson/gogibson/internal/proxy"
)

const proxyUsage = `usage: gibson proxy --addr A,B,C [--listen ADDR] [--segment SEP] [--config FILE]

Serves Gibson clients of any language on one address through a Ring of Gibson servers,
until SIGINT or SIGTERM. Key commands go to their key's shard; prefix commands, STATS
and PING as the Ring defines (see the README); many client connections share a few
pipelined connections per shard.
  --addr A,B,C      the shards: addresses, or name=address so that a shard keeps its keys
                    when its address changes (the flag may be repeated)
  --listen ADDR     unix:///path, /path.sock, host:port or tcp://host:port (default: the
                    config's unix_socket, else address:port, 127.0.0.1:10128)
  --segment SEP     place a key by its text up to the first SEP (user: for user:1), so a
                    prefix command on a segment is one shard's exact answer
  --config FILE     a gibson.conf: its address, max_clients, max_request_size, logfile,
                    loglevel and pidfile apply; storage directives are ignored
`

// runProxy is "gibson proxy".
func runProxy(args []string, stdout, stderr io.Writer) int {
	return runProxyReady(args, stdout, stderr, nil)
}

// runProxyReady runs the proxy until SIGINT or SIGTERM; ready, if set, gets the proxy and
// its address once it listens (tests).
func runProxyReady(args []string, stdout, stderr io.Writer, ready func(p *proxy.Proxy, address string, stop func())) int {
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "gibson proxy: "+format+"\n", a...)
		return 2
	}
	var list, listen, segment, configFile string
	for i := 0; i < len(args); i++ {
		name, val, hasVal := strings.Cut(strings.TrimLeft(args[i], "-"), "=")
		if !strings.HasPrefix(args[i], "-") || name == "" {
			return fail("unexpected argument %q\n%s", args[i], proxyUsage)
		}
		if name == "h" || name == "help" {
			fmt.Fprint(stderr, proxyUsage)
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
		case "addr":
			if list != "" {
				list += ","
			}
			list += val
		case "listen":
			listen = val
		case "segment":
			segment = val
		case "config", "c":
			configFile = val
		default:
			return fail("unknown flag --%s\n%s", name, proxyUsage)
		}
	}
	shards, err := proxyShards(list)
	if err != nil {
		return fail("%v", err)
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
	out, err := openLog(cfg.LogFile, max(cfg.LogFlushRate, 1), stdout, stderr)
	if err != nil {
		return fail("logfile: %v", err)
	}
	defer out.Close()
	log := slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: level}))
	if configFile != "" {
		log.Info("gibson proxy: the storage directives of the config do not apply to a proxy and are ignored",
			"ignored", "max_memory, max_item_ttl, compression, gc_ratio, cron_period, expired_cron, max_mem_cron, daemonize")
	}

	network, address, err := addr.Parse(listen)
	if err != nil {
		return fail("--listen: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	ring, err := client.NewRing(ctx, client.RingConfig{Shards: shards, Segment: segment}, client.WithLogger(log))
	cancel()
	if err != nil {
		return fail("%v", err)
	}
	defer ring.Close()
	l, err := net.Listen(network, address)
	if err != nil {
		return fail("listen: %v", err)
	}
	p := proxy.New(proxy.Config{Batch: func() proxy.Batcher { return ring.Batch() }, Exec: ring, Up: ringUp(ring), MaxClients: cfg.MaxClients, MaxRequestSize: int(cfg.MaxRequestSize), Logger: log})
	served := make(chan error, 1)
	go func() { served <- p.Serve(l) }()

	sig := make(chan os.Signal, 4)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sig)
	pidfile := cfg.PidFile
	if pidfile != "" {
		if err := os.WriteFile(pidfile, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
			log.Warn("cannot write the pidfile; set pidfile to a writable path", "pidfile", pidfile, "err", err)
			pidfile = ""
		}
		defer os.Remove(pidfile)
	}
	log.Info("gibson proxy started", "version", serveVersion(), "pid", os.Getpid(), "addr", addr.String(network, address),
		"shards", len(shards), "segment", segment, "max_clients", cfg.MaxClients, "max_request_size", cfg.MaxRequestSize)
	stopped := make(chan struct{})
	if ready != nil {
		ready(p, addr.String(network, address), func() { close(stopped) })
	}
	for {
		select {
		case g := <-sig:
			if g == syscall.SIGHUP {
				if err := out.Reopen(); err != nil {
					log.Error("SIGHUP: cannot reopen the log file", "logfile", cfg.LogFile, "err", err)
				}
				continue
			}
			log.Info("stopping", "signal", g.String())
		case <-stopped:
			log.Info("stopping")
		case err := <-served:
			if !errors.Is(err, proxy.ErrClosed) {
				log.Error("accepting failed", "err", err)
				return 1
			}
		}
		break
	}
	done := make(chan struct{})
	go func() { p.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(stopWithin):
		log.Warn("client connections still closing; exiting anyway", "after", stopWithin)
	}
	if network == "unix" {
		os.Remove(address)
	}
	log.Info("stopped")
	return 0
}

// proxyShards parses --addr: addresses, or name=address, comma-separated.
func proxyShards(list string) (map[string]string, error) {
	shards := map[string]string{}
	for _, s := range shardAddrs(list) {
		name, address, named := strings.Cut(s, "=")
		if !named {
			name, address = s, s
		}
		if _, _, err := addr.Parse(address); err != nil {
			return nil, fmt.Errorf("--addr %s: %v", s, err)
		}
		if _, dup := shards[name]; dup {
			return nil, fmt.Errorf("--addr: shard %s given twice", name)
		}
		shards[name] = address
	}
	if len(shards) == 0 {
		return nil, errors.New("--addr names no shard: give the servers, e.g. --addr a:10128,b:10128")
	}
	return shards, nil
}

// ringUp reports whether a shard of r is up: the proxy's PING.
func ringUp(r *client.Ring) func() bool {
	return func() bool {
		for _, sh := range r.Shards() {
			if !sh.Down {
				return true
			}
		}
		return false
	}
}
