package wire_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gogibson/gogibson/generated"
	"github.com/gogibson/gogibson/wire"
)

func TestCheckKey(t *testing.T) {
	l := wire.Limits{} // defaults: max_key_size 512
	ok := []struct {
		key  string
		used int
	}{
		{"k", 0}, {strings.Repeat("a", 511), 0}, {"nul\x00key", 0}, {"\xff\xfe", 0},
		{strings.Repeat("a", 510), 2}, // SET 0 <510 × a>: ttl, space and key fill the 512 budget
	}
	for _, c := range ok {
		if err := l.CheckKey("SET", "key", c.key, c.used); err != nil {
			t.Errorf("CheckKey(%d bytes, used %d) = %v", len(c.key), c.used, err)
		}
	}
	bad := []struct {
		key  string
		used int
		msg  string
	}{
		{"", 0, "key is empty"},
		{"a b", 0, "contains a space at byte 1"},
		{strings.Repeat("a", 512), 0, "at most 511 fit under max_key_size 512"},
		{strings.Repeat("a", 511), 2, "at most 510 fit, because max_key_size 512 is shared with the 2 bytes before it"},
	}
	for _, c := range bad {
		err := l.CheckKey("SET", "key", c.key, c.used)
		if !errors.Is(err, wire.ErrInvalidArgument) || !strings.Contains(err.Error(), c.msg) || !strings.HasPrefix(err.Error(), "gibson: SET: invalid argument: ") {
			t.Errorf("CheckKey(%.20q, used %d) = %v, want ErrInvalidArgument mentioning %q", c.key, c.used, err, c.msg)
		}
	}
	if err := (wire.Limits{MaxKeySize: 1024}).CheckKey("GET", "key", strings.Repeat("a", 1000), 0); err != nil {
		t.Errorf("a raised MaxKeySize is not honoured: %v", err)
	}
}

func TestCheckValue(t *testing.T) {
	l := wire.Limits{MaxValueSize: 8}
	if err := l.CheckValue("SET", "value", []byte("12345678")); err != nil {
		t.Errorf("8 bytes with an 8-byte limit: %v", err)
	}
	for v, msg := range map[string]string{"": "cannot store an empty value", "123456789": "would truncate it to max_value_size 8"} {
		if err := l.CheckValue("MSET", "value", []byte(v)); !errors.Is(err, wire.ErrInvalidArgument) || !strings.Contains(err.Error(), msg) {
			t.Errorf("CheckValue(%q) = %v, want a message with %q", v, err, msg)
		}
	}
	if err := (wire.Limits{}).CheckValue("SET", "value", make([]byte, 4097)); err == nil {
		t.Error("the default limit 4096 is not applied")
	}
}

func TestSeconds(t *testing.T) {
	for d, want := range map[time.Duration]int64{
		0: 0, time.Second: 1, time.Second + time.Nanosecond: 2, 1500 * time.Millisecond: 2, 32767 * time.Second: 32767,
	} {
		if got, err := (wire.Limits{}).CheckTTL("TTL", "ttl", d); got != want || err != nil {
			t.Errorf("CheckTTL(%v) = %d, %v; want %d", d, got, err, want)
		}
	}
	for _, d := range []time.Duration{-time.Second, wire.LockForever, 32767*time.Second + 1, 24 * time.Hour} {
		if _, err := (wire.Limits{}).CheckTTL("TTL", "ttl", d); !errors.Is(err, wire.ErrInvalidArgument) {
			t.Errorf("CheckTTL(%v) = %v, want ErrInvalidArgument", d, err)
		}
	}
	if got, err := (wire.Limits{}).CheckLock("LOCK", "d", wire.LockForever); got != -1 || err != nil {
		t.Errorf("CheckLock(LockForever) = %d, %v", got, err)
	}
	if got, err := (wire.Limits{}).CheckLock("LOCK", "d", 1001*time.Millisecond); got != 2 || err != nil {
		t.Errorf("CheckLock(1.001s) = %d, %v; want 2 (rounded up)", got, err)
	}
	for _, d := range []time.Duration{0, -2 * time.Second, 40000 * time.Second} {
		if _, err := (wire.Limits{}).CheckLock("LOCK", "d", d); !errors.Is(err, wire.ErrInvalidArgument) {
			t.Errorf("CheckLock(%v) = %v, want ErrInvalidArgument", d, err)
		}
	}
	// A nonzero duration under a second is a mistake (a bare 60 is 60 ns): refused, saying
	// what to write.
	for d, msg := range map[time.Duration]string{
		60:                     "60ns is under a second: Gibson counts whole seconds — did you mean 60*time.Second?",
		500 * time.Millisecond: "500ms is under a second: Gibson counts whole seconds; use time.Second or more",
	} {
		for _, check := range []func(string, string, time.Duration) (int64, error){wire.Limits{}.CheckTTL, wire.Limits{}.CheckLock} {
			if _, err := check("SET", "ttl", d); !errors.Is(err, wire.ErrInvalidArgument) || !strings.Contains(err.Error(), msg) {
				t.Errorf("check(%v) = %v; want ErrInvalidArgument saying %q", d, err, msg)
			}
		}
	}
	if err := (wire.Limits{}).CheckLimit("MGET", "limit", -1); !errors.Is(err, wire.ErrInvalidArgument) {
		t.Errorf("CheckLimit(-1) = %v", err)
	}
}

func TestParseArg(t *testing.T) {
	l := wire.Limits{}
	good := []struct {
		kind wire.ArgKind
		in   string
		want string
	}{
		{wire.ArgKey, "foo", "foo"},
		{wire.ArgValue, "hello world", "hello world"},
		{wire.ArgTTL, "0", "0"},
		{wire.ArgTTL, "90s", "90"},
		{wire.ArgSeconds, "1m", "60"},
		{wire.ArgLockSeconds, "-1", "-1"},
		{wire.ArgLockSeconds, "1.5s", "2"},
		{wire.ArgLimit, "10", "10"},
		{wire.ArgField, "size", "size"},
	}
	for _, c := range good {
		got, err := l.ParseArg("X", "arg", c.kind, c.in, 0)
		if err != nil || string(got) != c.want {
			t.Errorf("ParseArg(%v, %q) = %q, %v; want %q", c.kind, c.in, got, err, c.want)
		}
	}
	bad := []struct {
		kind wire.ArgKind
		in   string
	}{
		{wire.ArgKey, "a b"}, {wire.ArgValue, ""}, {wire.ArgTTL, "-1"}, {wire.ArgTTL, "40000"},
		{wire.ArgTTL, "soon"}, {wire.ArgLockSeconds, "0"}, {wire.ArgLimit, "-3"}, {wire.ArgLimit, "x"},
		{wire.ArgField, "two words"},
	}
	for _, c := range bad {
		if _, err := l.ParseArg("X", "arg", c.kind, c.in, 0); !errors.Is(err, wire.ErrInvalidArgument) {
			t.Errorf("ParseArg(%v, %q) = %v, want ErrInvalidArgument", c.kind, c.in, err)
		}
	}
}

func TestErrors(t *testing.T) {
	cause := errors.New("connection reset")
	err := wire.WrapError(wire.ErrClosed, "GET", cause)
	if !errors.Is(err, wire.ErrClosed) || !errors.Is(err, cause) || errors.Is(err, wire.ErrNotFound) {
		t.Errorf("Wrap: Is/Unwrap wrong for %v", err)
	}
	if got := err.Error(); got != "gibson: GET: connection closed: connection reset" {
		t.Errorf("message %q", got)
	}
	if got := wire.ErrNotFound.Error(); got != "gibson: not found" {
		t.Errorf("sentinel message %q", got)
	}
	var e *wire.Error
	if !errors.As(err, &e) || e.Command != "GET" {
		t.Errorf("errors.As: %+v", e)
	}
	for code, kind := range map[wire.Code]*wire.Error{0: wire.ErrServer, 1: wire.ErrNotFound, 2: wire.ErrNaN, 3: wire.ErrMemoryLimit, 4: wire.ErrLocked} {
		if err := wire.ReplyError("SET", wire.Reply{Code: code}); !errors.Is(err, kind) {
			t.Errorf("code %v maps to %v, want %v", code, err, kind)
		}
	}
	if err := wire.ReplyError("GET", wire.Reply{Code: wire.CodeOK, Data: []byte{0}}); !errors.Is(err, wire.ErrProtocol) || !strings.Contains(err.Error(), "unexpected OK reply") {
		t.Errorf("OK where a value was expected: %v", err)
	}
}

func TestNames(t *testing.T) {
	if wire.CodeKVal.String() != "KVAL" || wire.Code(9).String() != "Code(9)" {
		t.Error("Code.String")
	}
	if wire.EncNumber.String() != "number" || wire.Encoding(7).String() != "Encoding(7)" {
		t.Error("Encoding.String")
	}
	if got := wire.Opcode(0x4242).String(); got != "Opcode(16962)" {
		t.Errorf("unregistered opcode prints %q", got)
	}
	if got := wire.DecimalLen(-32767); got != 6 {
		t.Errorf("DecimalLen(-32767) = %d", got)
	}
}

// TestGeneratedOpcodeNames: package generated registers the Gibson name of every opcode.
func TestGeneratedOpcodeNames(t *testing.T) {
	for _, c := range generated.Table {
		if got := c.Op.String(); got != c.Verb {
			t.Errorf("opcode %d prints %q, want %q", uint16(c.Op), got, c.Verb)
		}
	}
	if generated.OpEnd.String() != "END" || generated.OpMLock != 15 {
		t.Error("END/MLOCK opcodes wrong")
	}
}

// TestDurationMessages: refusals show the seconds the user typed, not only a Go duration.
func TestDurationMessages(t *testing.T) {
	l := wire.Limits{}
	for in, want := range map[string]string{
		"40000": "ttl 40000s (11h6m40s) is over 32767 s",
		"-1":    "ttl -1 is negative; use 0 for no expiry",
		"-5":    "ttl -5s is negative",
	} {
		_, err := l.ParseArg("SET", "ttl", wire.ArgTTL, in, 0)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseArg(ttl %q) = %v, want a message with %q", in, err, want)
		}
	}
	if _, err := l.ParseArg("SET", "ttl", wire.ArgTTL, "99999999999999999999999", 0); !errors.Is(err, wire.ErrInvalidArgument) {
		t.Errorf("huge ttl: %v", err)
	}
}
