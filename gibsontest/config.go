package gibsontest

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// Config holds every directive of the reference server's gibson.conf (docs/protocol.md §8).
// Field comments give the directive name; DefaultConfig returns the compiled defaults.
// Sizes are in bytes, times are durations. The process-level directives (Daemonize,
// PidFile, LogFile, LogLevel, LogFlushRate) are not used by Server itself (give it a
// logger with WithLogger); "gibson serve" applies them and refuses Daemonize 1.
type Config struct {
	// UnixSocket (unix_socket) is the socket path; when set, the server listens there
	// only. Start uses it when no WithAddr option is given.
	UnixSocket string
	// Address (address) and Port (port) are the TCP address used when UnixSocket is empty.
	Address string
	Port    int
	// MaxClients (max_clients): further connections are accepted and closed at once.
	MaxClients int
	// MaxIdleTime (max_idletime, whole seconds) only sets the TCP keep-alive period;
	// idle clients are never disconnected.
	MaxIdleTime time.Duration
	// MaxRequestSize (max_request_size) is the largest accepted frame length (opcode
	// included, inclusive); larger or shorter than 2 closes the connection.
	MaxRequestSize int64
	// MaxKeySize (max_key_size) truncates keys (SET shares it with the ttl text).
	MaxKeySize int64
	// MaxValueSize (max_value_size) truncates values and final arguments.
	MaxValueSize int64
	// MaxResponseSize (max_response_size) caps KVAL bodies; a larger one closes the
	// connection without a reply.
	MaxResponseSize int64
	// MaxItemTTL (max_item_ttl, seconds) clamps TTLs before they are stored in 16 bits.
	MaxItemTTL int64
	// MaxMemory (max_memory): SET and MSET answer MEM while the memory used by the data
	// is above it: every item (ItemOverhead plus its value rounded up to 8 bytes; a value
	// over 2 KiB: its own heap block) and the key index (20 bytes a trie node, the key
	// bytes, 5 bytes a slot of the hash index), which like the reference's trie keeps
	// every key ever stored, so many distinct short-lived keys also reach the limit.
	// Buffers of connections are not counted.
	MaxMemory int64
	// Compression (compression): values strictly longer are LZF-compressed when that
	// saves at least 4 bytes.
	Compression int64
	// GCRatio (gc_ratio): when over MaxMemory, the memory cron evicts items not
	// accessed for this long.
	GCRatio time.Duration
	// CronPeriod (cron_period, milliseconds) is how often the server's cron runs.
	CronPeriod time.Duration
	// ExpiredCron (expired_cron) is the period of the sweep that purges expired items.
	ExpiredCron time.Duration
	// MaxMemCron (max_mem_cron) is the period of the memory check and eviction.
	MaxMemCron time.Duration

	// Daemonize, PidFile, LogFile, LogLevel and LogFlushRate are for "gibson serve":
	// daemonize must be 0 (run it under a service manager); pidfile is written at start
	// and removed at exit; logfile is /dev/stdout, /dev/stderr or a file appended to
	// (reopened on SIGHUP); loglevel 0 debug, 1 info, 2 warning, 3 and 4 error;
	// logflushrate is how many log lines are buffered per write.
	Daemonize    int
	PidFile      string
	LogFile      string
	LogLevel     int
	LogFlushRate int
}

// ItemOverhead is what one stored item holds besides its value bytes (the header of its
// record: TTL, encoding, times, length), as counted in memory_used, the MaxMemory check
// and eviction; keys are counted with the key index.
const ItemOverhead = 16

// DefaultConfig returns the reference server's compiled defaults (docs/protocol.md §8),
// except PidFile, which is empty: "gibson serve" writes a pidfile only where a config file
// or --pidfile names one (the reference writes /var/run/gibson.pid, which two servers
// would share and which needs root).
func DefaultConfig() Config {
	return Config{
		Address:         "127.0.0.1",
		Port:            10128,
		MaxClients:      1024,
		MaxIdleTime:     time.Second,
		MaxRequestSize:  4 << 20,
		MaxKeySize:      512,
		MaxValueSize:    4096,
		MaxResponseSize: 40960000,
		MaxItemTTL:      2592000,
		MaxMemory:       2 << 30,
		Compression:     40960,
		GCRatio:         900 * time.Second,
		CronPeriod:      100 * time.Millisecond,
		ExpiredCron:     5 * time.Second,
		MaxMemCron:      15 * time.Second,
		LogFile:         "/dev/stdout",
		LogLevel:        1,
		LogFlushRate:    1,
	}
}

// ShippedConfig returns the configuration of the reference server's packaged gibson.conf
// (the one the transcripts were recorded with), except that it listens on no fixed
// address: Start then picks a temporary unix socket.
func ShippedConfig() Config {
	c := DefaultConfig()
	c.MaxClients = 255
	c.MaxIdleTime = 30 * time.Second
	c.MaxRequestSize = 2 << 20
	c.MaxKeySize = 1 << 10
	c.MaxValueSize = 2096127
	c.MaxResponseSize = 15 << 20
	c.MaxMemory = 1 << 30
	c.Compression = 4 << 10
	c.GCRatio = 15 * time.Minute
	c.ExpiredCron = 15 * time.Second
	c.Daemonize = 1
	c.PidFile = "/var/run/gibson.pid"
	c.LogFile = "/var/log/gibson.log"
	return c
}

// directive is one gibson.conf line: how its value is spelled, what it sets, and the
// range it must lie in (directive_range.go).
type directive struct {
	kind     byte // 'i' int, 's' size, 't' time, 'm' milliseconds, 'd' whole seconds, 'S' string
	min, max int64
	set      func(c *Config, v int64, s string)
	get      func(c *Config) int64 // the field as Set would have been given it (raw units)
}

var directives = map[string]directive{
	"unix_socket": {kind: 'S', set: func(c *Config, _ int64, s string) { c.UnixSocket = s }},
	"address":     {kind: 'S', set: func(c *Config, _ int64, s string) { c.Address = s }},
	"port": {'i', 0, 65535, func(c *Config, v int64, _ string) { c.Port = int(v) },
		func(c *Config) int64 { return int64(c.Port) }},
	"max_clients": {'i', 1, maxClients, func(c *Config, v int64, _ string) { c.MaxClients = int(v) },
		func(c *Config) int64 { return int64(c.MaxClients) }},
	"max_idletime": {'d', 0, maxSeconds, func(c *Config, v int64, _ string) { c.MaxIdleTime = time.Duration(v) },
		func(c *Config) int64 { return int64(c.MaxIdleTime) }},
	"max_request_size": {'s', frameMinimum, maxFrame, func(c *Config, v int64, _ string) { c.MaxRequestSize = v },
		func(c *Config) int64 { return c.MaxRequestSize }},
	"max_key_size": {'s', 1, maxArg, func(c *Config, v int64, _ string) { c.MaxKeySize = v },
		func(c *Config) int64 { return c.MaxKeySize }},
	"max_value_size": {'s', 1, maxArg, func(c *Config, v int64, _ string) { c.MaxValueSize = v },
		func(c *Config) int64 { return c.MaxValueSize }},
	"max_response_size": {'s', 1, maxFrame, func(c *Config, v int64, _ string) { c.MaxResponseSize = v },
		func(c *Config) int64 { return c.MaxResponseSize }},
	"max_item_ttl": {'i', 1, maxSeconds, func(c *Config, v int64, _ string) { c.MaxItemTTL = v },
		func(c *Config) int64 { return c.MaxItemTTL }},
	"max_memory": {'s', 1, maxMemory, func(c *Config, v int64, _ string) { c.MaxMemory = v },
		func(c *Config) int64 { return c.MaxMemory }},
	"compression": {'s', 0, maxMemory, func(c *Config, v int64, _ string) { c.Compression = v },
		func(c *Config) int64 { return c.Compression }},
	"gc_ratio": {'t', 0, maxSeconds, func(c *Config, v int64, _ string) { c.GCRatio = time.Duration(v) },
		func(c *Config) int64 { return int64(c.GCRatio) }},
	"cron_period": {'m', 1, maxSeconds, func(c *Config, v int64, _ string) { c.CronPeriod = time.Duration(v) },
		func(c *Config) int64 { return int64(c.CronPeriod) }},
	"expired_cron": {'t', 1, maxSeconds, func(c *Config, v int64, _ string) { c.ExpiredCron = time.Duration(v) },
		func(c *Config) int64 { return int64(c.ExpiredCron) }},
	"max_mem_cron": {'t', 1, maxSeconds, func(c *Config, v int64, _ string) { c.MaxMemCron = time.Duration(v) },
		func(c *Config) int64 { return int64(c.MaxMemCron) }},
	"daemonize": {'i', 0, 1, func(c *Config, v int64, _ string) { c.Daemonize = int(v) },
		func(c *Config) int64 { return int64(c.Daemonize) }},
	"pidfile": {kind: 'S', set: func(c *Config, _ int64, s string) { c.PidFile = s }},
	"logfile": {kind: 'S', set: func(c *Config, _ int64, s string) { c.LogFile = s }},
	"loglevel": {'i', 0, 4, func(c *Config, v int64, _ string) { c.LogLevel = int(v) },
		func(c *Config) int64 { return int64(c.LogLevel) }},
	"logflushrate": {'i', 1, maxClients, func(c *Config, v int64, _ string) { c.LogFlushRate = int(v) },
		func(c *Config) int64 { return int64(c.LogFlushRate) }},
}

// Directives returns the names of every configuration directive, sorted.
func Directives() []string {
	names := make([]string, 0, len(directives))
	for name := range directives {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// Set applies one directive, as a gibson.conf line or a --name value flag would. Sizes
// take an optional B, K, M or G suffix (powers of 1024, spelled as internal/size
// parses them); times take s, m, h or d (seconds without one); cron_period is
// milliseconds and max_idletime whole seconds. Unlike the reference server, which
// silently keeps the default, an unknown directive, an unparsable value and a value out
// of the directive's range (negative, zero where it means nothing, too large; the error
// says the allowed range) are errors.
func (c *Config) Set(name, value string) error {
	d, ok := directives[name]
	if !ok {
		return fmt.Errorf("unknown directive %q (known: %s)", name, strings.Join(Directives(), ", "))
	}
	if d.kind == 'S' {
		d.set(c, 0, value)
		return nil
	}
	v, err := parseDirectiveValue(d.kind, value)
	if err == nil {
		err = d.check(v)
	}
	if err != nil {
		return fmt.Errorf("%s %q: %v; allowed: %s", name, value, err, d.allowed())
	}
	d.set(c, v, value)
	return nil
}

func lower(b byte) byte {
	if 'A' <= b && b <= 'Z' {
		return b + 'a' - 'A'
	}
	return b
}

// ParseConfig reads a gibson.conf: one "directive value" per line, blank lines and lines
// starting with # ignored. It starts from DefaultConfig. Errors name the file and line
// ("gibson.conf:12: ...").
func ParseConfig(r io.Reader, name string) (Config, error) {
	c := DefaultConfig()
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		fields := strings.Fields(text)
		if len(fields) < 2 {
			return c, fmt.Errorf("%s:%d: directive %q has no value", name, line, fields[0])
		}
		if len(fields) > 2 && !strings.HasPrefix(fields[2], "#") {
			return c, fmt.Errorf("%s:%d: directive %q takes one value, got %q", name, line, fields[0], strings.Join(fields[1:], " "))
		}
		if err := c.Set(fields[0], fields[1]); err != nil {
			return c, fmt.Errorf("%s:%d: %v", name, line, err)
		}
	}
	if err := sc.Err(); err != nil {
		return c, fmt.Errorf("%s: %v", name, err)
	}
	return c, nil
}
