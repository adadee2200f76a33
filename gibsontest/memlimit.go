package gibsontest

// What the server may legitimately hold, for "gibson serve" to set the Go memory limit
// from (a limit below the live heap makes the collector run back to back; one far above
// it lets garbage pile up).

// ConnectionMemory bounds what one connection holds in its own buffers while its
// requests are under 16 KiB and the values it stores under 32 KiB, however many requests
// it pipelines without reading: a 16 KiB read buffer, and up to 256 KiB of pending reply
// bytes plus the overshoot of one reply (a streamed piece overshoots by at most 32 KiB
// and a key) in a buffer grown by append. Stored values are written from the store and
// not counted. On top of it: a request larger than 16 KiB, up to twice its size while it
// arrives; the echo of a larger SET, its value; and while an MGET or KEYS reply is
// streamed, EntryBytes plus the key length per entry (and 41 KiB while a value
// compressed to over 32 KiB is expanded).
const ConnectionMemory = 448 << 10

// memoryBaseline is the process's own memory besides the data and the connections
// (runtime, code, the first heap arenas), as measured for gibson serve.
const memoryBaseline = 64 << 20

// MemoryLimit is what a server with this configuration may hold: the data up to
// 1.5 × MaxMemory (MaxMemory is checked before a write, not during it, eviction runs every
// MaxMemCron, and the heap holds free space between collections), a baseline of 64 MiB,
// and MaxClients × ConnectionMemory. "gibson serve" sets the Go memory limit to it
// (unless GOMEMLIMIT is set), so the collector works harder only as the process
// nears it. Validate's ranges keep it from overflowing.
func (c Config) MemoryLimit() int64 {
	return c.MaxMemory + c.MaxMemory/2 + memoryBaseline + int64(c.MaxClients)*ConnectionMemory
}
