package client

import (
	"bufio"
	"os"
	"strings"

	"github.com/gogibson/gogibson/internal/size"
	"github.com/gogibson/gogibson/wire"
)

// LimitsFromConfig reads the size limits of a Gibson server from its configuration file
// (the gibson.conf the server was started with) and returns the options that make the
// client check requests against them: WithMaxKeySize (max_key_size), WithMaxValueSize
// (max_value_size) and WithMaxRequestSize (max_request_size). A directive missing from the
// file gets the server's compiled default, as the server itself does. Sizes are spelled as
// in gibson.conf: a whole number with an optional B, K, M or G suffix (powers of 1024).
//
// Only those three directives are read; every other line is left to the server. An
// unreadable file, a directive without a value, a size that does not parse or a limit the
// server could not work with (max_key_size below 2, max_value_size below 1,
// max_request_size below 2) is an error naming the file and line. Command-line overrides
// the server was started with (--max_key_size …) are not in the file: pass the matching
// options after these ones, since later options win.
//
//	opts, err := client.LimitsFromConfig("/etc/gibson/gibson.conf")
//	if err != nil {
//		return err
//	}
//	c, err := client.Dial(ctx, addr, append(opts, client.WithPoolSize(8))...)
func LimitsFromConfig(path string) ([]Option, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &wire.Error{Msg: "server config", Err: err}
	}
	defer f.Close()
	limits := map[string]int64{
		"max_key_size":     DefaultMaxKeySize,
		"max_value_size":   DefaultMaxValueSize,
		"max_request_size": DefaultMaxRequestSize,
	}
	minimum := map[string]int64{"max_key_size": 2, "max_value_size": 1, "max_request_size": 2}
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		name := fields[0]
		if _, ok := limits[name]; !ok {
			continue
		}
		if len(fields) < 2 || strings.HasPrefix(fields[1], "#") {
			return nil, wire.Errorf(wire.ErrInvalidArgument, "", "%s:%d: %s has no value", path, line, name)
		}
		n, err := size.Parse(fields[1])
		if err != nil {
			return nil, wire.Errorf(wire.ErrInvalidArgument, "", "%s:%d: %s: %v", path, line, name, err)
		}
		if n < minimum[name] || n > int64(^uint(0)>>1) {
			return nil, wire.Errorf(wire.ErrInvalidArgument, "", "%s:%d: %s %s is out of range (at least %d)", path, line, name, fields[1], minimum[name])
		}
		limits[name] = n
	}
	if err := sc.Err(); err != nil {
		return nil, &wire.Error{Msg: path, Err: err}
	}
	return []Option{
		WithMaxKeySize(int(limits["max_key_size"])),
		WithMaxValueSize(int(limits["max_value_size"])),
		WithMaxRequestSize(int(limits["max_request_size"])),
	}, nil
}
