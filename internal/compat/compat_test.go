// Package compat checks the embedded server against a real Gibson: the same random request
// streams go to both, and every reply must be byte-identical apart from timestamps. It runs
// only when GIBSON_TEST_ADDR names a reference server started with compiled defaults (an
// empty config file); it skips otherwise.
package compat

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gogibson/gogibson/generated"
	"github.com/gogibson/gogibson/gibsontest"
	"github.com/gogibson/gogibson/internal/addr"
	_ "github.com/gogibson/gogibson/internal/golden" // accepts -update
	"github.com/gogibson/gogibson/wire"
)

// rawConn sends frames and reads whole replies, without the client library.
type rawConn struct {
	c net.Conn
	r wire.Reader
}

func dialRaw(t *testing.T, a string) *rawConn {
	t.Helper()
	network, address, err := addr.Parse(a)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.DialTimeout(network, address, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawConn{c: c}
}

// roundTrip sends one frame and returns the raw reply bytes (header included), or nil when
// the server closed the connection.
func (rc *rawConn) roundTrip(t *testing.T, frame []byte) []byte {
	t.Helper()
	rc.c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := rc.c.Write(frame); err != nil {
		t.Fatal(err)
	}
	for {
		rep, ok, err := rc.r.Next()
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			out := []byte{byte(rep.Code), byte(rep.Code >> 8), byte(rep.Encoding), 0, 0, 0, 0}
			n := len(rep.Data)
			out[3], out[4], out[5], out[6] = byte(n), byte(n>>8), byte(n>>16), byte(n>>24)
			return append(out, rep.Data...)
		}
		if _, err := rc.r.Fill(rc.c); err != nil {
			return nil
		}
	}
}

// gen builds random but well-formed requests over a small key space under one prefix, with
// the quirky arguments of docs/protocol.md §2.6 mixed in. It never leaves out a final argument
// (undefined behaviour on the reference server) and uses only TTLs and lock times that no
// run can reach, so expiry timing cannot differ between the servers.
type gen struct {
	rng    *rand.Rand
	prefix string
}

var numbers = []string{"0", "100", "007", "-", "-1", "-5", "abc", "10abc", "0abc", "40000", "70000", "99999999", "3600", "+5"}
var values = []string{"v", "hello world", "42", "-5", "0abc", "007", "9223372036854775807", "x y  z ", "\x00\x01\xff", strings.Repeat("z", 5000)}
var fields = []string{"size", "encoding", "ttl", "lock", "s", "e", "t", "lo", "lockdown", "sizes", "bogus", "SIZE", "l", "left"}

func (g *gen) key() string {
	const alphabet = "abAB0"
	n := 1 + g.rng.IntN(3)
	if g.rng.IntN(40) == 0 {
		n = 600 // over max_key_size: the server truncates, and SET spills the rest into the value
	}
	b := []byte(g.prefix)
	for i := 0; i < n; i++ {
		b = append(b, alphabet[g.rng.IntN(len(alphabet))])
	}
	return string(b)
}

// prefixArg is the run's prefix, possibly extended, so prefix commands never reach keys of
// other runs on the shared reference server.
func (g *gen) prefixArg() string {
	k := g.key()
	return k[:len(g.prefix)+g.rng.IntN(len(k)-len(g.prefix)+1)]
}

func (g *gen) pick(xs []string) string { return xs[g.rng.IntN(len(xs))] }

// request returns a frame and whether its reply carries time-dependent numbers.
func (g *gen) request() (frame []byte, verb string, timeDependent bool) {
	ops := []string{"SET", "SET", "SET", "GET", "DEL", "INC", "DEC", "LOCK", "UNLOCK", "TTL", "MSET", "MTTL", "MGET", "MDEL", "MINC", "MDEC", "MLOCK", "MUNLOCK", "COUNT", "META", "KEYS", "PING"}
	verb = g.pick(ops)
	c := generated.ByVerb(verb)
	var args []string
	switch verb {
	case "SET":
		ttl := g.pick([]string{"0", "0", "100", "-5", "007", "abc", "40000", "70000", "99999999", "-"})
		args = []string{ttl, g.key(), g.pick(values)}
	case "TTL", "LOCK":
		args = []string{g.key(), g.pick(numbers)}
	case "MSET":
		args = []string{g.prefixArg(), g.pick(values)}
	case "MTTL", "MLOCK":
		args = []string{g.prefixArg(), g.pick(numbers)}
	case "MGET":
		args = []string{g.prefixArg()}
		if g.rng.IntN(2) == 0 {
			args = append(args, g.pick([]string{"1", "2", "0", "-3", "02", "x"}))
		}
	case "META":
		f := g.pick(fields)
		args = []string{g.key(), f}
		// access, created and left (l, le…) read the clock; lo… is lock.
		timeDependent = strings.HasPrefix(f, "a") || strings.HasPrefix(f, "c") || strings.HasPrefix(f, "l") && !strings.HasPrefix(f, "lo")
	case "PING":
	case "MDEL", "MINC", "MDEC", "MUNLOCK", "COUNT", "KEYS":
		args = []string{g.prefixArg()}
	default:
		args = []string{g.key()}
	}
	var bs [][]byte
	for _, a := range args {
		bs = append(bs, []byte(a))
	}
	return wire.AppendRequest(nil, c.Op, bs...), verb, timeDependent
}

// TestEmbeddedMatchesReference sends the same random streams to the reference server and
// to gibsontest and compares every reply byte for byte, timestamps aside.
func TestEmbeddedMatchesReference(t *testing.T) {
	ref := os.Getenv("GIBSON_TEST_ADDR")
	if ref == "" {
		t.Skip("GIBSON_TEST_ADDR is not set: no reference Gibson server to compare with")
	}
	emb, err := gibsontest.Start(gibsontest.WithConfig(gibsontest.DefaultConfig()))
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Close()
	for seed := uint64(1); seed <= 40; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			run := strconv.FormatInt(time.Now().UnixNano(), 36)
			g := &gen{rng: rand.New(rand.NewPCG(seed, 7)), prefix: "cmp" + run + ":"}
			a, b := dialRaw(t, ref), dialRaw(t, emb.Addr())
			var history []string
			for i := 0; i < 300; i++ {
				frame, verb, timeDep := g.request()
				ra, rb := a.roundTrip(t, frame), b.roundTrip(t, frame)
				history = append(history, fmt.Sprintf("%s %.80q", verb, frame[6:]))
				if timeDep && len(ra) == 15 && len(rb) == 15 && bytes.Equal(ra[:7], rb[:7]) {
					continue // a timestamp or time left: the layout matched, the value is the clock's
				}
				if !bytes.Equal(ra, rb) {
					start := max(0, len(history)-12)
					t.Fatalf("request %d %s %.80q:\nreference %.200x\nembedded  %.200x\nlast requests:\n  %s",
						i, verb, frame[6:], ra, rb, strings.Join(history[start:], "\n  "))
				}
			}
			// Leave nothing behind on the shared reference server.
			for _, rc := range []*rawConn{a, b} {
				rc.roundTrip(t, wire.AppendRequest(nil, generated.ByVerb("MUNLOCK").Op, []byte(g.prefix)))
				rc.roundTrip(t, wire.AppendRequest(nil, generated.ByVerb("MDEL").Op, []byte(g.prefix)))
			}
		})
	}
}
