package client

import (
	"bufio"
	"bytes"
	"encoding/binary"

	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gogibson/gogibson/generated"
	"github.com/gogibson/gogibson/wire"
)

// fakeServer is a scripted Gibson stand-in for fault and allocation tests: it parses
// request frames and answers whatever its handler returns. It stores nothing.
type fakeServer struct {
	ln       net.Listener
	addr     string
	handler  handlerFunc
	requests atomic.Int64
	accepted atomic.Int64

	mu    sync.Mutex
	conns map[net.Conn]bool
	wg    sync.WaitGroup
}

// handlerFunc answers one request: reply is written (it may be partial or garbage), then the
// connection is closed when hangup is set.
type handlerFunc func(op wire.Opcode, payload []byte) (reply []byte, hangup bool)

// echo adapts a handler that never hangs up.
func echo(f func(op wire.Opcode, payload []byte) []byte) handlerFunc {
	return func(op wire.Opcode, payload []byte) ([]byte, bool) { return f(op, payload), false }
}

// echoHandler answers GET k with the value k, SET t k v with v, PING and END with OK and
// everything else with ERR, so concurrent callers can each check their own reply.
func echoHandler(op wire.Opcode, payload []byte) []byte {
	switch op {
	case generated.OpGet:
		return valReply(payload)
	case generated.OpSet:
		n := 0
		for i, b := range payload {
			if b == ' ' {
				n++
				if n == 2 {
					return valReply(payload[i+1:])
				}
			}
		}
		return codeReply(wire.CodeErr)
	case generated.OpPing, generated.OpEnd:
		return codeReply(wire.CodeOK)
	}
	return codeReply(wire.CodeErr)
}

func newFakeServer(t testing.TB, handler handlerFunc) *fakeServer {
	t.Helper()
	dir, err := os.MkdirTemp("", "gg")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "fake.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	s := &fakeServer{ln: ln, addr: "unix://" + path, handler: handler, conns: make(map[net.Conn]bool)}
	s.wg.Add(1)
	go s.accept()
	t.Cleanup(func() { s.close(); os.RemoveAll(dir) })
	return s
}

func (s *fakeServer) accept() {
	defer s.wg.Done()
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns[nc] = true
		s.mu.Unlock()
		s.accepted.Add(1) // after registering: a test that saw it can drop the connection
		s.wg.Add(1)
		go s.serve(nc)
	}
}

func (s *fakeServer) serve(nc net.Conn) {
	defer s.wg.Done()
	defer func() {
		nc.Close()
		s.mu.Lock()
		delete(s.conns, nc)
		s.mu.Unlock()
	}()
	r := bufio.NewReaderSize(nc, 64<<10)
	w := bufio.NewWriterSize(nc, 64<<10)
	var hdr [6]byte
	var payload []byte
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return
		}
		n := int(binary.LittleEndian.Uint32(hdr[:4])) - 2
		op := wire.Opcode(binary.LittleEndian.Uint16(hdr[4:]))
		if n < 0 {
			return
		}
		if cap(payload) < n {
			payload = make([]byte, n)
		}
		payload = payload[:n]
		if _, err := io.ReadFull(r, payload); err != nil {
			return
		}
		s.requests.Add(1)
		reply, hangup := s.handler(op, payload)
		w.Write(reply)
		if hangup {
			w.Flush()
			return
		}
		if r.Buffered() == 0 {
			if err := w.Flush(); err != nil {
				return
			}
		}
	}
}

// dropConnections closes every server-side connection.
func (s *fakeServer) dropConnections() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for nc := range s.conns {
		nc.Close()
	}
}

func (s *fakeServer) close() {
	s.ln.Close()
	s.dropConnections()
	s.wg.Wait()
}

func valReply(data []byte) []byte {
	b := []byte{byte(wire.CodeVal), 0, byte(wire.EncPlain)}
	b = binary.LittleEndian.AppendUint32(b, uint32(len(data)))
	return append(b, data...)
}

func numReply(n int64) []byte {
	b := []byte{byte(wire.CodeVal), 0, byte(wire.EncNumber), 8, 0, 0, 0}
	return binary.LittleEndian.AppendUint64(b, uint64(n))
}

func codeReply(c wire.Code) []byte {
	return []byte{byte(c), 0, 0, 1, 0, 0, 0, 0}
}

// newHeldServer is a fake server answering as echoHandler does, except that it holds the
// reply to a GET of a key starting with "slow" until release is called (at the latest when
// the test ends). It answers a connection's requests in order, so those behind wait too.
func newHeldServer(t *testing.T) (s *fakeServer, release func()) {
	ch := make(chan struct{})
	var once sync.Once
	release = func() { once.Do(func() { close(ch) }) }
	s = newFakeServer(t, echo(func(op wire.Opcode, payload []byte) []byte {
		if op == generated.OpGet && bytes.HasPrefix(payload, []byte("slow")) {
			<-ch
		}
		return echoHandler(op, payload)
	}))
	t.Cleanup(release) // before the server's own cleanup, which waits for its handlers
	return s, release
}

// pushed returns how many calls have been queued on cn.
func pushed(cn *Conn) uint64 {
	cn.mu.Lock()
	defer cn.mu.Unlock()
	return cn.pushed
}
