package size_test

import (
	"testing"

	"github.com/gogibson/gogibson/gibsontest"
	"github.com/gogibson/gogibson/internal/size"
)

func TestParse(t *testing.T) {
	for in, want := range map[string]int64{
		"0": 0, "512": 512, "1K": 1024, "1k": 1024, "2M": 2 << 20, "2m": 2 << 20, "1G": 1 << 30,
		"100B": 100, "100b": 100, "2096127": 2096127, "15M": 15 << 20,
	} {
		if got, err := size.Parse(in); err != nil || got != want {
			t.Errorf("Parse(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "K", "-1", "+1", "1.5M", "1KB", "1T", "abc", " 1", "99999999999G"} {
		if got, err := size.Parse(in); err == nil {
			t.Errorf("Parse(%q) = %d, want an error", in, got)
		}
	}
}

// The spelling is the one `gibson serve` accepts in gibson.conf (compression: a size that
// may be 0): both agree on every input.
func TestParseAgreesWithServerConfig(t *testing.T) {
	for _, in := range []string{"0", "512", "1K", "1k", "2M", "3g", "7B", "", "K", "1.5M", "1KB", "x", "1 K", "-1", "+1", "99999999999G"} {
		c := gibsontest.DefaultConfig()
		serr := c.Set("compression", in)
		got, err := size.Parse(in)
		if (serr == nil) != (err == nil) || (err == nil && got != c.Compression) {
			t.Errorf("%q: size.Parse = %d, %v; gibson.conf compression = %d, %v", in, got, err, c.Compression, serr)
		}
	}
}

func TestFormat(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 100: "100", 1024: "1K", 1536: "1536", 2 << 20: "2M", 1 << 30: "1G", 2096127: "2096127"} {
		if got := size.Format(n); got != want {
			t.Errorf("Format(%d) = %q, want %q", n, got, want)
		}
	}
}
