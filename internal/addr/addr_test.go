package addr

import (
	"testing"

	_ "github.com/gogibson/gogibson/internal/golden" // accepts -update
)

func TestParse(t *testing.T) {
	good := []struct{ in, network, address string }{
		{"unix:///var/run/gibson.sock", "unix", "/var/run/gibson.sock"},
		{"/tmp/g.sock", "unix", "/tmp/g.sock"},
		{"./g.sock", "unix", "./g.sock"},
		{"127.0.0.1:10128", "tcp", "127.0.0.1:10128"},
		{"tcp://localhost:1", "tcp", "localhost:1"},
		{"[::1]:10128", "tcp", "[::1]:10128"},
		{":10128", "tcp", ":10128"},
	}
	for _, c := range good {
		n, a, err := Parse(c.in)
		if err != nil || n != c.network || a != c.address {
			t.Errorf("Parse(%q) = %q, %q, %v; want %q, %q", c.in, n, a, err, c.network, c.address)
		}
		if c.in[0] != '.' && c.in[0] != ':' {
			if n2, a2, err := Parse(String(n, a)); err != nil || n2 != n || a2 != a {
				t.Errorf("Parse(String(%q, %q)) = %q, %q, %v", n, a, n2, a2, err)
			}
		}
	}
	for _, bad := range []string{"", "unix://", "http://x:1", "localhost", "tcp://nohost", "host:"} {
		if _, _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) succeeded, want an error", bad)
		}
	}
}
