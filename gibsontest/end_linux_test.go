package gibsontest

import (
	"bytes"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/gogibson/gogibson/generated"
	"github.com/gogibson/gogibson/wire"
)

// aiogibson's test_end pattern, 1000 times over TCP: END, read its reply, and the end of
// the stream must already be there — a read that does not wait returns EOF, as the
// reply and the FIN leave in one segment. Closing after the write, as the server did,
// left the EOF to a later segment, which a client looking at once missed.
func TestEndReplyAndEOFArriveTogether(t *testing.T) {
	s := NewServer(t, WithTCP())
	reply := make([]byte, 8)
	for i := 0; i < 1000; i++ {
		nc, err := net.Dial("tcp", s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		nc.SetDeadline(time.Now().Add(hangGuard))
		if _, err := nc.Write(frame(generated.OpEnd, "")); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(nc, reply); err != nil || !bytes.Equal(reply, status(wire.CodeOK)) {
			t.Fatalf("#%d: END reply %x, %v", i, reply, err)
		}
		if n, err := readNow(t, nc); n != 0 || err != nil {
			nc.Close()
			t.Fatalf("#%d: right after END's reply, a read that does not wait got %d bytes, %v; want EOF", i, n, err)
		}
		nc.Close()
	}
}

// readNow reads from nc without waiting: n and err of recv(MSG_DONTWAIT), 0 and nil
// meaning end of stream.
func readNow(t *testing.T, nc net.Conn) (n int, err error) {
	rc, err := nc.(syscall.Conn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 16)
	rc.Read(func(fd uintptr) bool {
		n, _, err = syscall.Recvfrom(int(fd), buf, syscall.MSG_DONTWAIT)
		return true
	})
	return n, err
}

// Over a unix socket, and with requests pipelined after END (discarded), the reply
// comes first and then the end of the stream.
func TestEndThenEOFOnUnixSocket(t *testing.T) {
	s := NewServer(t)
	for i := 0; i < 200; i++ {
		c := dial(t, s)
		c.send(append(frame(generated.OpEnd, ""), frame(generated.OpPing, "")...))
		eq(t, "END", c.reply(), status(wire.CodeOK))
		c.expectClosed()
		c.nc.Close()
	}
}
