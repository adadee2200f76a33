package gibsontest

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gogibson/gogibson/internal/addr"
)

// Server is a Gibson 1.2 server running in the current process. Create one with NewServer
// in tests or Start elsewhere; all methods are safe for concurrent use.
type Server struct {
	cfg              Config
	network, address string // where it listens; for TCP the resolved host:port
	tempDir          string // directory of the default socket, removed by Close

	mu         sync.Mutex    // the store, the clock and the counters: one request at a time
	walkTurn   chan struct{} // held by the one prefix walk that may run (walk.go)
	st         *store
	manual     bool      // the clock only moves with FastForward and SetTime
	clock      time.Time // the manual clock
	started    time.Time
	lastExpire time.Time // last expiry sweep
	lastMem    time.Time // last memory check
	cronDone   int64
	conns      int64 // accepted since start
	requests   int64

	logger            *slog.Logger // nil: no logging
	memWarn, slowWarn rateLimited
	acceptWarn        rateLimited // failed accepts
	fullWarn          rateLimited // connections refused at max_clients

	active atomic.Int32
	faults atomic.Uint32
	delay  atomic.Int64

	cmu     sync.Mutex // the fields below
	ln      net.Listener
	open    map[*conn]struct{}
	stop    chan struct{} // closed to stop the accept loop and cron of this generation
	stopped bool
	closed  bool
	wg      sync.WaitGroup
}

// Option configures a Server.
type Option func(*options)

type options struct {
	addr   string
	cfg    Config
	clock  *time.Time
	logger *slog.Logger
}

// WithAddr makes the server listen on addr, in any form internal/addr accepts
// (unix:///path, /path.sock, host:port, tcp://host:port); port 0 picks a free port.
// Without it the server listens on Config.UnixSocket when set, else on a fresh unix socket
// in a temporary directory.
func WithAddr(addr string) Option { return func(o *options) { o.addr = addr } }

// WithTCP makes the server listen on a free loopback TCP port.
func WithTCP() Option { return WithAddr("127.0.0.1:0") }

// WithConfig sets the limits and cron periods; the default is DefaultConfig, the
// reference server's compiled defaults.
func WithConfig(c Config) Option { return func(o *options) { o.cfg = c } }

// WithClock gives the server a manual clock starting at start: time then moves only with
// FastForward and SetTime. Without it the server uses the real clock until the first
// FastForward or SetTime.
func WithClock(start time.Time) Option { return func(o *options) { o.clock = &start } }

// NewServer starts a server for a test and closes it when the test ends; it fails the
// test if the server cannot start.
func NewServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s, err := Start(opts...)
	if err != nil {
		t.Fatalf("gibsontest: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Start starts a server. Call Close when done with it.
func Start(opts ...Option) (*Server, error) {
	o := options{cfg: DefaultConfig()}
	for _, opt := range opts {
		opt(&o)
	}
	if err := o.cfg.Validate(); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	s := &Server{cfg: o.cfg, open: make(map[*conn]struct{}), logger: o.logger, walkTurn: make(chan struct{}, 1)}
	s.acceptWarn.every, s.fullWarn.every = acceptEvery, acceptEvery
	switch {
	case o.addr != "":
		network, address, err := addr.Parse(o.addr)
		if err != nil {
			return nil, err
		}
		s.network, s.address = network, address
	case s.cfg.UnixSocket != "":
		s.network, s.address = "unix", s.cfg.UnixSocket
	default:
		dir, err := os.MkdirTemp("", "gib")
		if err != nil {
			return nil, err
		}
		s.tempDir = dir
		s.network, s.address = "unix", filepath.Join(dir, "g.sock")
	}
	if o.clock != nil {
		s.manual, s.clock = true, *o.clock
	}
	s.mu.Lock()
	s.reset()
	s.mu.Unlock()
	if err := s.listen(); err != nil {
		if s.tempDir != "" {
			os.RemoveAll(s.tempDir)
		}
		return nil, err
	}
	return s, nil
}

// reset empties the store and the statistics; s.mu must be held.
func (s *Server) reset() {
	s.st = newStore()
	s.st.pool.init()
	s.started = s.nowTime()
	s.lastExpire, s.lastMem = s.started, s.started
	s.cronDone, s.conns, s.requests = 0, 0, 0
}

// listen opens the listener and starts the accept loop and the cron.
func (s *Server) listen() error {
	if s.network == "unix" {
		if err := clearStaleSocket(s.address); err != nil {
			return err
		}
	}
	ln, err := net.Listen(s.network, s.address)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr.String(s.network, s.address), err)
	}
	if s.network == "unix" {
		os.Chmod(s.address, 0o777)
	} else {
		s.address = ln.Addr().String()
	}
	s.cmu.Lock()
	s.ln, s.stop, s.stopped = ln, make(chan struct{}), false
	s.wg.Add(2)
	s.cmu.Unlock()
	go s.acceptLoop(ln, s.stop)
	go s.cronLoop(s.stop)
	return nil
}

// clearStaleSocket removes the socket file at path when nothing answers on it (left by a
// server that died), and refuses when a server does: replacing the file would leave that
// server running but unreachable. Files that are not sockets are left alone.
func clearStaleSocket(path string) error {
	fi, err := os.Lstat(path)
	if err != nil || fi.Mode()&os.ModeSocket == 0 {
		return nil
	}
	if nc, err := net.DialTimeout("unix", path, time.Second); err == nil {
		nc.Close()
		return fmt.Errorf("listen on %s: address in use: a server already answers on this socket (stop it, or choose another path)", addr.String("unix", path))
	}
	os.Remove(path)
	return nil
}

// Config returns the server's configuration.
func (s *Server) Config() Config { return s.cfg }

// Addr returns the address clients dial: "unix:///path" or "host:port".
func (s *Server) Addr() string { return addr.String(s.network, s.address) }

// Close stops listening, closes every connection, waits for all of the server's
// goroutines to finish and removes the socket file. Later calls return nil.
func (s *Server) Close() error {
	s.cmu.Lock()
	if s.closed {
		s.cmu.Unlock()
		return nil
	}
	s.closed = true
	s.cmu.Unlock()
	s.shutdown()
	if s.network == "unix" {
		os.Remove(s.address)
	}
	if s.tempDir != "" {
		os.RemoveAll(s.tempDir)
	}
	return nil
}

// shutdown closes the listener and every connection and waits for every goroutine.
func (s *Server) shutdown() {
	s.cmu.Lock()
	if !s.stopped {
		s.stopped = true
		close(s.stop)
		s.ln.Close()
	}
	conns := s.openConns()
	s.cmu.Unlock()
	for _, c := range conns {
		c.close()
	}
	s.wg.Wait()
}

// openConns lists the open connections; s.cmu must be held.
func (s *Server) openConns() []*conn {
	list := make([]*conn, 0, len(s.open))
	for c := range s.open {
		list = append(list, c)
	}
	return list
}

// Restart behaves like restarting the reference server: every connection is dropped, all
// data and statistics are lost, and the server listens again on the same address.
func (s *Server) Restart() error {
	s.cmu.Lock()
	closed := s.closed
	s.cmu.Unlock()
	if closed {
		return errors.New("gibsontest: Restart after Close")
	}
	s.shutdown()
	s.mu.Lock()
	s.reset()
	s.mu.Unlock()
	return s.listen()
}

// acceptLoop accepts connections until the listener closes.
func (s *Server) acceptLoop(ln net.Listener, stop chan struct{}) {
	defer s.wg.Done()
	for {
		nc, err := ln.Accept()
		if err != nil {
			select {
			case <-stop:
				return
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			if ok, missed := s.acceptWarn.allow(s.logger); ok {
				s.logger.Warn("cannot accept connections (out of file descriptors? raise ulimit -n); new clients wait",
					"err", err, "not_logged_since_last", missed)
			}
			time.Sleep(5 * time.Millisecond) // e.g. out of file descriptors
			continue
		}
		if int(s.active.Load()) >= s.cfg.MaxClients {
			if ok, missed := s.fullWarn.allow(s.logger); ok {
				s.logger.Warn("connection refused: max_clients reached",
					"max_clients", s.cfg.MaxClients, "remote", remoteName(nc), "not_logged_since_last", missed)
			}
			nc.Close() // max_clients: accepted and closed at once
			continue
		}
		if tc, ok := nc.(*net.TCPConn); ok && s.cfg.MaxIdleTime > 0 {
			tc.SetKeepAliveConfig(net.KeepAliveConfig{Enable: true, Idle: s.cfg.MaxIdleTime,
				Interval: max(time.Second, s.cfg.MaxIdleTime/3), Count: 3})
		}
		c := newConn(s, nc)
		s.cmu.Lock()
		if s.stopped {
			s.cmu.Unlock()
			nc.Close()
			return
		}
		s.open[c] = struct{}{}
		s.wg.Add(1)
		s.cmu.Unlock()
		s.active.Add(1)
		s.debug("connection opened", slog.String("remote", remoteName(nc)), slog.Int("active", int(s.active.Load())))
		s.mu.Lock()
		s.conns++
		s.mu.Unlock()
		go s.serve(c)
	}
}

// Connections returns the number of connections accepted since the server (re)started.
func (s *Server) Connections() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns
}

// ActiveConnections returns the number of open client connections.
func (s *Server) ActiveConnections() int { return int(s.active.Load()) }

// Requests returns the number of requests processed since the server (re)started,
// counted like total_requests: unknown opcodes too, frames with a bad length not.
func (s *Server) Requests() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// CloseClientConnections closes every client connection and waits until they are gone;
// the server keeps listening.
func (s *Server) CloseClientConnections() {
	s.cmu.Lock()
	conns := s.openConns()
	s.cmu.Unlock()
	for _, c := range conns {
		c.close()
	}
	for _, c := range conns {
		<-c.exited
	}
}
