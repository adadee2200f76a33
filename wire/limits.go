package wire

import (
	"strconv"
	"strings"
	"time"
)

// Defaults of the reference server (docs/protocol.md §8) that the client's checks follow.
const (
	// DefaultMaxKeySize is the server's compiled max_key_size.
	DefaultMaxKeySize = 512
	// DefaultMaxValueSize is the server's compiled max_value_size.
	DefaultMaxValueSize = 4096
	// MaxSeconds is the largest TTL or lock time the server stores faithfully: it keeps TTLs
	// in a signed 16-bit field, so larger values wrap (40000 s never expires, 70000 s lasts
	// 4464 s).
	MaxSeconds = 32767
	// LockForever as a lock time locks until UNLOCK (sent as -1).
	LockForever time.Duration = -1
)

// Limits are the client-side checks applied before a request is sent, so that the server
// never silently truncates a key or value, never splits an argument on a space, and never
// reads past a request. The zero value uses the defaults.
type Limits struct {
	// MaxKeySize is the server's max_key_size; 0 means DefaultMaxKeySize. Keys and prefixes
	// may be at most MaxKeySize-1 bytes; SET's key shares the budget with its ttl text and a
	// space: len(ttl)+1+len(key) <= MaxKeySize.
	MaxKeySize int
	// MaxValueSize is the server's max_value_size; 0 means DefaultMaxValueSize.
	MaxValueSize int
}

func (l Limits) keySize() int {
	if l.MaxKeySize > 0 {
		return l.MaxKeySize
	}
	return DefaultMaxKeySize
}

func (l Limits) valueSize() int {
	if l.MaxValueSize > 0 {
		return l.MaxValueSize
	}
	return DefaultMaxValueSize
}

// CheckKey checks a key or prefix argument. used is the number of payload bytes before it
// that share the server's key budget (SET's ttl and its space); 0 for the first argument.
func (l Limits) CheckKey(verb, name, key string, used int) error {
	switch {
	case key == "":
		return Errorf(ErrInvalidArgument, verb, "%s is empty; Gibson cannot address an empty %s", name, name)
	case strings.IndexByte(key, Separator) >= 0:
		return Errorf(ErrInvalidArgument, verb, "%s %.40q contains a space at byte %d; the server would split it into two arguments, so remove or replace the space", name, key, strings.IndexByte(key, Separator))
	}
	if used > 0 {
		if limit := l.keySize() - used; len(key) > limit {
			return Errorf(ErrInvalidArgument, verb, "%s is %d bytes; at most %d fit, because max_key_size %d is shared with the %d bytes before it; shorten the %s or raise the client's max key size to match the server", name, len(key), limit, l.keySize(), used, name)
		}
		return nil
	}
	if limit := l.keySize() - 1; len(key) > limit {
		return Errorf(ErrInvalidArgument, verb, "%s is %d bytes; at most %d fit under max_key_size %d (the server would truncate it); shorten the %s or raise the client's max key size to match the server", name, len(key), limit, l.keySize(), name)
	}
	return nil
}

// CheckValue checks a value argument: non-empty (the server cannot store an empty value)
// and at most MaxValueSize bytes (the server would truncate it).
func (l Limits) CheckValue(verb, name string, v []byte) error {
	if len(v) == 0 {
		return Errorf(ErrInvalidArgument, verb, "%s is empty; Gibson cannot store an empty value (delete the key instead)", name)
	}
	if len(v) > l.valueSize() {
		return Errorf(ErrInvalidArgument, verb, "%s is %d bytes; the server would truncate it to max_value_size %d; send a smaller value or raise the client's max value size to match the server", name, len(v), l.valueSize())
	}
	return nil
}

// CheckTTL converts a TTL argument to whole seconds and checks it lies in 0..MaxSeconds. A
// nonzero duration under one second is refused: Gibson counts whole seconds, and a bare
// number such as 60 is 60 ns, a mistake rather than a wish. Fractions above one second
// round up (1.5 s is 2 s).
func (l Limits) CheckTTL(verb, name string, d time.Duration) (int64, error) {
	if d < 0 {
		return 0, Errorf(ErrInvalidArgument, verb, "%s %s is negative; use 0 for no expiry", name, fmtDuration(d))
	}
	return roundSeconds(verb, name, d)
}

// CheckLock converts a lock time argument to whole seconds, rounding fractions above one
// second up: LockForever gives -1; otherwise it must be at least one second (the server
// treats 0 and other negatives as no lock at all, and a bare number such as 60 is 60 ns)
// and at most MaxSeconds.
func (l Limits) CheckLock(verb, name string, d time.Duration) (int64, error) {
	if d == LockForever {
		return -1, nil
	}
	if d <= 0 {
		return 0, Errorf(ErrInvalidArgument, verb, "%s %s locks nothing on the server; use a positive duration or LockForever", name, fmtDuration(d))
	}
	return roundSeconds(verb, name, d)
}

func roundSeconds(verb, name string, d time.Duration) (int64, error) {
	if d > 0 && d < time.Second {
		return 0, underSecond(verb, name, d)
	}
	s := int64(d / time.Second)
	if d%time.Second != 0 {
		s++
	}
	if s > MaxSeconds {
		return 0, Errorf(ErrInvalidArgument, verb, "%s %s is over %d s; the server stores it in 16 bits and would wrap it, so use at most %ds (%v)", name, fmtDuration(d), MaxSeconds, MaxSeconds, MaxSeconds*time.Second)
	}
	return s, nil
}

// underSecond explains a nonzero duration under one second. A bare number (under a
// microsecond) was almost surely meant as seconds.
func underSecond(verb, name string, d time.Duration) error {
	if d < time.Microsecond {
		return Errorf(ErrInvalidArgument, verb, "%s %v is under a second: Gibson counts whole seconds — did you mean %d*time.Second?", name, d, int64(d))
	}
	return Errorf(ErrInvalidArgument, verb, "%s %v is under a second: Gibson counts whole seconds; use time.Second or more (0 for none)", name, d)
}

// fmtDuration prints whole seconds as "40000s (11h6m40s)" so users recognise what they typed,
// -1 (what the CLI reads from "-1") as -1, and anything else as a Go duration.
func fmtDuration(d time.Duration) string {
	switch {
	case d == LockForever:
		return "-1"
	case d%time.Second == 0 && d >= time.Minute:
		return strconv.FormatInt(int64(d/time.Second), 10) + "s (" + d.String() + ")"
	}
	return d.String()
}

// CheckLimit checks a result limit argument (MGET's): 0 means all, negatives are refused.
func (l Limits) CheckLimit(verb, name string, n int) error {
	if n < 0 {
		return Errorf(ErrInvalidArgument, verb, "%s %d is negative; use 0 for no limit", name, n)
	}
	return nil
}

// DecimalLen returns the number of bytes of n written in decimal, as requests carry numbers.
func DecimalLen(n int64) int {
	var b [20]byte
	return len(strconv.AppendInt(b[:0], n, 10))
}

// ParseArg parses a textual argument of kind k the way a user types it (the CLI, scripts):
// numbers in decimal, durations as plain seconds or Go durations ("1m30s"). It returns the
// bytes to send and applies the same checks as the typed commands.
func (l Limits) ParseArg(verb, name string, k ArgKind, text string, used int) ([]byte, error) {
	switch k {
	case ArgKey, ArgPrefix:
		return []byte(text), l.CheckKey(verb, name, text, used)
	case ArgValue:
		return []byte(text), l.CheckValue(verb, name, []byte(text))
	case ArgField:
		if text == "" || strings.IndexByte(text, Separator) >= 0 {
			return nil, Errorf(ErrInvalidArgument, verb, "%s %q must be one word", name, text)
		}
		return []byte(text), nil
	case ArgLimit:
		n, err := strconv.Atoi(text)
		if err != nil {
			return nil, Errorf(ErrInvalidArgument, verb, "%s %q is not a whole number", name, text)
		}
		if err := l.CheckLimit(verb, name, n); err != nil {
			return nil, err
		}
		return strconv.AppendInt(nil, int64(n), 10), nil
	case ArgTTL, ArgSeconds, ArgLockSeconds:
		d, err := parseDuration(text)
		if err != nil {
			return nil, Errorf(ErrInvalidArgument, verb, "%s %q is neither whole seconds nor a duration like 1m30s", name, text)
		}
		var s int64
		if k == ArgLockSeconds {
			s, err = l.CheckLock(verb, name, d)
		} else {
			s, err = l.CheckTTL(verb, name, d)
		}
		return strconv.AppendInt(nil, s, 10), err
	}
	return nil, Errorf(ErrInvalidArgument, verb, "%s has unknown kind %v", name, k)
}

// parseDuration reads whole seconds ("90", "-1" for LockForever) or a Go duration ("1m30s").
// Whole seconds beyond what a Duration holds saturate, so the range checks still refuse them.
func parseDuration(text string) (time.Duration, error) {
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		return time.ParseDuration(text)
	}
	const maxWhole = int64(1<<63-1) / int64(time.Second)
	switch {
	case n == -1:
		return LockForever, nil
	case n > maxWhole:
		return time.Duration(1<<63 - 1), nil
	case n < -maxWhole:
		return time.Duration(-1 << 63), nil
	}
	return time.Duration(n) * time.Second, nil
}
