package client_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gogibson/gogibson/client"
	"github.com/gogibson/gogibson/gibsontest"
)

// shippedConf is the limits part of the reference server's packaged gibson.conf.
const shippedConf = `# gibson.conf
unix_socket /var/run/gibson.sock
max_request_size 2M
max_key_size 1K   # keys
max_value_size 2096127
compression 4K
`

func writeConf(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "gibson.conf")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// The limits read from the server's config let through exactly what that server accepts.
func TestLimitsFromConfig(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cfg := gibsontest.ShippedConfig()
	srv := gibsontest.NewServer(t, gibsontest.WithConfig(cfg))
	opts, err := client.LimitsFromConfig(writeConf(t, shippedConf))
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.Dial(ctx, srv.Addr(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	key := strings.Repeat("k", 1000) // over the default 511, under 1023
	value := make([]byte, 1<<20)     // over the default 4096, under 2096127
	for i := range value {
		value[i] = 'v'
	}
	if err := c.Set(ctx, key, value, 0); err != nil {
		t.Fatalf("Set with the shipped limits: %v", err)
	}
	if got, ok := srv.Get(key); !ok || len(got) != len(value) {
		t.Errorf("server holds %d bytes under the key, want %d", len(got), len(value))
	}
	if err := c.Set(ctx, strings.Repeat("k", 1024), []byte("v"), 0); !errors.Is(err, client.ErrInvalidArgument) {
		t.Errorf("a key of max_key_size bytes: %v, want ErrInvalidArgument", err)
	}
	if err := c.Set(ctx, "k", make([]byte, 2096128), 0); !errors.Is(err, client.ErrInvalidArgument) {
		t.Errorf("a value over max_value_size: %v, want ErrInvalidArgument", err)
	}
}

// Directives missing from the file keep the server's compiled defaults.
func TestLimitsFromConfigDefaults(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	srv := gibsontest.NewServer(t)
	opts, err := client.LimitsFromConfig(writeConf(t, "port 10128\n"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.Dial(ctx, srv.Addr(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Set(ctx, "k", make([]byte, client.DefaultMaxValueSize+1), 0); !errors.Is(err, client.ErrInvalidArgument) {
		t.Errorf("default max_value_size not applied: %v", err)
	}
}

func TestLimitsFromConfigErrors(t *testing.T) {
	for _, tc := range []struct{ conf, want string }{
		{"max_key_size 1K\nmax_value_size lots\n", "gibson.conf:2: max_value_size: size \"lots\""},
		{"max_key_size\n", "gibson.conf:1: max_key_size has no value"},
		{"max_key_size 1\n", "gibson.conf:1: max_key_size 1 is out of range (at least 2)"},
	} {
		_, err := client.LimitsFromConfig(writeConf(t, tc.conf))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want an error containing %q", tc.conf, err, tc.want)
		}
	}
	if _, err := client.LimitsFromConfig(filepath.Join(t.TempDir(), "missing.conf")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}
