// Package gibsontest runs a Gibson-compatible cache server in the current process, for
// tests (in the style of net/http/httptest and miniredis) and for "gibson serve".
//
//	s := gibsontest.NewServer(t)              // temporary unix socket, closed with the test
//	c, err := client.Dial(ctx, s.Addr())
//	s.FastForward(10 * time.Second)           // TTLs and locks run out without sleeping
//
// The server is a second implementation of the reference Gibson 1.2.1 server and
// reproduces its observable behaviour byte for byte as docs/protocol.md §2–§7 describes it:
// request framing and the lazy length check, the four argument shapes with silent
// truncation of keys and values, the lenient number parser, 16-bit TTL storage, the
// shared created timestamp of TTLs and locks, lazy and periodic expiry, the trie result
// order that remembers deleted branches, KEYS listing expired keys, META field prefix
// matching, STATS with its 27 entries, LZF compression, the memory limit, and closing the
// connection for unknown opcodes, bad lengths and oversized KVAL replies.
//
// Deviations, all deliberate:
//
//   - A request whose final argument is missing entirely (SET "0 k", TTL "k", MSET "p",
//     …) makes the reference server read past the request, store heap garbage or crash;
//     this server answers REPL_ERR.
//   - A 4-byte length field split across reads is read normally (the reference corrupts
//     the connection).
//   - Memory figures count what the data holds on the Go heap: items (ItemOverhead plus
//     the value rounded up to 8 bytes, or a large value's heap block) and the key index
//     (trie nodes, keys, hash index), which like the reference's trie never forgets a
//     key; there are no preallocated buffers, so an empty server reports 0 and its first
//     SET always passes.
//   - Item times (created, access) are kept as 32-bit unsigned seconds, so a server clock
//     before 1970 or after 2106 (WithClock) reports them wrapped.
//   - Lazy expiry during a prefix walk purges the item it found, even when its key holds
//     0x00 (the reference purges the key cut at the NUL, i.e. usually nothing).
//   - Configuration values that do not parse are errors instead of silently falling back
//     to the default.
//
// Limits of the emulation: STATS memory and item-pool figures are plausible rather than
// the reference's (server_build_datetime is the start time), and like the reference trie
// the key index never forgets a key once stored, so memory grows with the number of
// distinct keys ever used. Restart also resets the statistics and Connections/Requests.
//
// Requests are serialised by one mutex, as the reference server is single-threaded,
// except that prefix commands (MGET, KEYS, MSET, MDEL, …) and the expiry and eviction
// sweeps release it every millisecond, so one command over a large store does not stall
// the other clients; such a command is then not atomic with respect to other
// connections. Each connection is served by one goroutine that parses frames straight
// from its read buffer (grown only as request bytes arrive) and writes the replies of a
// pipelined batch together, as soon as they pass 256 KiB; while a write blocks it reads
// nothing more, so a client that does not read its replies holds at most about one
// maximal reply plus 256 KiB of the server's memory. A connection stops working at the
// first write after its client left; Close returns promptly under any load.
package gibsontest
