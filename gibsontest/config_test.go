package gibsontest

import (
	"strings"
	"testing"

	"github.com/gogibson/gogibson/generated"
)

// Every numeric directive refuses negative values, zero where zero means nothing, and
// values too large for what holds them, naming file, line and the allowed range; the
// values at the ends of each range are accepted.
func TestConfigRefusesOutOfRangeValues(t *testing.T) {
	bad := map[string][]string{
		"port":              {"-1", "65536", "99999999999999999999"},
		"max_clients":       {"-1", "0", "1048577"},
		"max_idletime":      {"-1", "2147483648"},
		"max_request_size":  {"-1", "1", "4G", "99999999999G"},
		"max_key_size":      {"-1", "0", "2G", "99999999999G", "99999999999999999999"},
		"max_value_size":    {"-1", "0", "2G", "99999999999G"},
		"max_response_size": {"-1", "0", "4G"},
		"max_item_ttl":      {"-1", "0", "2147483648"},
		"max_memory":        {"-1", "0", "1048577G", "99999999999G"},
		"compression":       {"-1", "99999999999G"},
		"gc_ratio":          {"-1", "99999999999d", "2147483648"},
		"cron_period":       {"-1", "0", "99999999999999999"},
		"expired_cron":      {"-1s", "0", "99999999999d"},
		"max_mem_cron":      {"-1", "0"},
		"daemonize":         {"-1", "2"},
		"loglevel":          {"-1", "5"},
		"logflushrate":      {"0", "-3"},
	}
	good := map[string][]string{
		"port": {"0", "65535"}, "max_clients": {"1", "1048576"}, "max_idletime": {"0"},
		"max_request_size": {"2", "4294967295"}, "max_key_size": {"1", "2147483647"},
		"max_value_size": {"1"}, "max_response_size": {"1", "4294967295"}, "max_item_ttl": {"1"},
		"max_memory": {"1", "1048576G"}, "compression": {"0"}, "gc_ratio": {"0", "2147483647"},
		"cron_period": {"1"}, "expired_cron": {"1"}, "max_mem_cron": {"1d"}, "daemonize": {"0", "1"},
		"loglevel": {"0", "4"}, "logflushrate": {"1"},
	}
	for _, name := range Directives() {
		d := directives[name]
		if d.kind == 'S' {
			continue
		}
		if len(bad[name]) == 0 {
			t.Errorf("%s: no out-of-range values tested", name)
		}
		for _, v := range bad[name] {
			_, err := ParseConfig(strings.NewReader("# a comment\n\n"+name+" "+v+"\n"), "gibson.conf")
			if err == nil || !strings.HasPrefix(err.Error(), "gibson.conf:3: "+name) || !strings.Contains(err.Error(), "allowed: "+d.allowed()) {
				t.Errorf("%s %s: error %v; want gibson.conf:3, the directive and the allowed range", name, v, err)
			}
		}
		for _, v := range good[name] {
			if _, err := ParseConfig(strings.NewReader(name+" "+v+"\n"), "gibson.conf"); err != nil {
				t.Errorf("%s %s: %v", name, v, err)
			}
		}
	}
}

// A configuration given in code is checked by Start the same way: max_key_size -1 used to
// be accepted and then panic on the first SET.
func TestStartRefusesOutOfRangeConfig(t *testing.T) {
	for _, mod := range []func(*Config){
		func(c *Config) { c.MaxKeySize = -1 },
		func(c *Config) { c.MaxValueSize = -1 },
		func(c *Config) { c.MaxRequestSize = -1 },
		func(c *Config) { c.MaxClients = -1 },
		func(c *Config) { c.CronPeriod = 0 },
	} {
		cfg := DefaultConfig()
		mod(&cfg)
		if s, err := Start(WithConfig(cfg)); err == nil {
			s.Close()
			t.Errorf("Start accepted %+v", cfg)
		} else if !strings.Contains(err.Error(), "out of range; allowed") {
			t.Errorf("Start: %v; want the range", err)
		}
	}
	// Small limits still serve: SET shares the key budget with the ttl text.
	cfg := DefaultConfig()
	cfg.MaxKeySize, cfg.MaxValueSize = 4, 1
	c := dial(t, NewServer(t, WithConfig(cfg)))
	eq(t, "SET with 1-byte limits", c.do(generated.OpSet, "0", "kk", "vv"), value("v"))
}
