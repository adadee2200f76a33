package decode_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/gogibson/gogibson/internal/decode"
	"github.com/gogibson/gogibson/wire"
)

func reply(t *testing.T, raw ...byte) wire.Reply {
	t.Helper()
	var r wire.Reader
	r.Feed(raw)
	rep, ok, err := r.Next()
	if !ok || err != nil {
		t.Fatalf("% x: %v %v", raw, ok, err)
	}
	return rep
}

// Each kind accepts its codes and maps the others to their errors.
func TestKinds(t *testing.T) {
	ok := reply(t, 5, 0, 0, 1, 0, 0, 0, 0)
	miss := reply(t, 1, 0, 0, 1, 0, 0, 0, 0)
	locked := reply(t, 4, 0, 0, 1, 0, 0, 0, 0)
	val := reply(t, 6, 0, 0, 3, 0, 0, 0, 'b', 'a', 'r')
	num := reply(t, 6, 0, 2, 8, 0, 0, 0, 79, 0, 0, 0, 0, 0, 0, 0)
	keys := reply(t, 7, 0, 0, 0x1C, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, '0', 0, 2, 0, 0, 0, 'k', 'a', 1, 0, 0, 0, '1', 0, 2, 0, 0, 0, 'k', 'b')

	if err := decode.Status("PING", ok); err != nil {
		t.Error(err)
	}
	if f, err := decode.Found("DEL", miss); f || err != nil {
		t.Errorf("Found of NOT_FOUND = %v, %v", f, err)
	}
	if _, err := decode.Found("DEL", locked); !errors.Is(err, wire.ErrLocked) {
		t.Errorf("Found of LOCKED: %v", err)
	}
	if v, err := decode.Value("GET", num); err != nil || string(v) != "79" {
		t.Errorf("Value of a number = %q, %v", v, err)
	}
	if _, err := decode.Value("GET", miss); !errors.Is(err, wire.ErrNotFound) {
		t.Errorf("Value of NOT_FOUND: %v", err)
	}
	if n, err := decode.Number("INC", num); n != 79 || err != nil {
		t.Errorf("Number = %d, %v", n, err)
	}
	if _, err := decode.Number("INC", val); !errors.Is(err, wire.ErrProtocol) {
		t.Errorf("Number of plain text: %v", err)
	}
	if n, err := decode.Count("MDEL", miss); n != 0 || err != nil {
		t.Errorf("Count of NOT_FOUND = %d, %v", n, err)
	}
	if err := decode.Stored("SET", val, 3); err != nil {
		t.Error(err)
	}
	if err := decode.StoredAs("SET", val, 5, "--max-value-size"); !errors.Is(err, wire.ErrServer) || !strings.Contains(err.Error(), "stored 3 of 5 bytes") || !strings.Contains(err.Error(), "--max-value-size") {
		t.Errorf("a truncated echo: %v", err)
	}
	if l, err := decode.KeyList("KEYS", keys); err != nil || strings.Join(l, ",") != "ka,kb" {
		t.Errorf("KeyList = %v, %v", l, err)
	}
	if kv, err := decode.KVList("MGET", keys); err != nil || len(kv) != 2 || kv[1].Key != "1" || string(kv[1].Value) != "kb" {
		t.Errorf("KVList = %v, %v", kv, err)
	}
	if p, err := decode.Pairs("MGET", miss); err != nil || len(p) != 0 {
		t.Errorf("Pairs of NOT_FOUND = %v, %v", p, err)
	}
	if _, err := decode.KVList("MGET", ok); !errors.Is(err, wire.ErrProtocol) {
		t.Errorf("KVList of OK: %v", err)
	}
}
