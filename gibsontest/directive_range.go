package gibsontest

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gogibson/gogibson/internal/size"
)

// Ranges of the numeric directives. Each bound is where a larger value stops making
// sense or would overflow what holds it: frame and KVAL lengths are 32-bit on the wire,
// key and value lengths are handled as int, durations as int64 nanoseconds.
const (
	maxClients = 1 << 20
	maxSeconds = 1<<31 - 1      // about 68 years, in the directive's unit
	maxFrame   = 1<<32 - 1      // a frame or KVAL body length field
	maxArg     = 1<<31 - 1      // a key or value length
	maxMemory  = int64(1) << 50 // 1 PiB: leaves room for the memory limit's arithmetic
)

// unit is what one of the directive's numbers means in the field (nanoseconds per
// second for times).
func (d directive) unit() int64 {
	switch d.kind {
	case 't', 'd':
		return int64(time.Second)
	case 'm':
		return int64(time.Millisecond)
	}
	return 1
}

// check reports whether raw (the field's value) lies in the directive's range.
func (d directive) check(raw int64) error {
	if raw < d.min*d.unit() || raw > d.max*d.unit() {
		return errors.New("out of range")
	}
	return nil
}

// allowed spells the range as the directive is written.
func (d directive) allowed() string {
	switch d.kind {
	case 's':
		return fmt.Sprintf("%s to %s bytes", size.Format(d.min), size.Format(d.max))
	case 't':
		return fmt.Sprintf("%ds to %ds (or with m, h or d)", d.min, d.max)
	case 'm':
		return fmt.Sprintf("%d to %d milliseconds", d.min, d.max)
	case 'd':
		return fmt.Sprintf("%d to %d seconds", d.min, d.max)
	}
	return fmt.Sprintf("%d to %d", d.min, d.max)
}

// parseDirectiveValue reads a value in the field's raw unit. Sizes are internal/size's
// spelling (no sign, no overflow); numbers and times are whole numbers, a minus sign
// being read so that the range check can say what is allowed, and refused when they
// overflow.
func parseDirectiveValue(kind byte, value string) (int64, error) {
	if kind == 's' {
		n, err := size.Parse(value)
		switch {
		case err == nil:
			return n, nil
		case strings.HasPrefix(value, "-"):
			return 0, errors.New("negative")
		case strings.HasSuffix(err.Error(), "too large") || digitsOnly(strings.TrimRight(value, "bBkKmMgG")):
			return 0, errors.New("too large")
		}
		return 0, errors.New("not a size (a whole number of bytes with an optional B, K, M or G suffix, powers of 1024)")
	}
	num, mul := value, int64(1)
	if value != "" {
		switch kind {
		case 't':
			mul = int64(time.Second)
			if m, ok := map[byte]int64{'s': 1, 'm': 60, 'h': 3600, 'd': 86400}[lower(value[len(value)-1])]; ok {
				num, mul = value[:len(value)-1], m*int64(time.Second)
			}
		case 'm':
			mul = int64(time.Millisecond)
		case 'd':
			mul = int64(time.Second)
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || num == "" || num[0] == '+' {
		var ne *strconv.NumError
		if errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange) {
			return 0, errors.New("too large")
		}
		if kind == 't' {
			return 0, errors.New("not a time (a whole number with an optional s, m, h or d suffix)")
		}
		return 0, errors.New("not a whole number")
	}
	if n > (1<<63-1)/mul || n < -(1<<63-1)/mul {
		return 0, errors.New("too large")
	}
	return n * mul, nil
}

// Validate checks every numeric field against the range its directive allows in a
// gibson.conf (see Set); Start refuses a configuration that fails it, so a value that
// would break the server (a negative key size, a zero cron period) is refused up front.
func (c Config) Validate() error {
	for _, name := range Directives() {
		d := directives[name]
		if d.kind == 'S' {
			continue
		}
		if v := d.get(&c); d.check(v) != nil {
			if d.unit() != 1 {
				return fmt.Errorf("%s %v: out of range; allowed: %s", name, time.Duration(v), d.allowed())
			}
			return fmt.Errorf("%s %d: out of range; allowed: %s", name, v, d.allowed())
		}
	}
	return nil
}

func digitsOnly(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
