package gibsontest

import (
	"fmt"

	"github.com/gogibson/gogibson/wire"
)

// Server commands: STATS, PING, END (docs/protocol.md §4.17, §4.18, §4.21).

// PING
func cmdPing(r *request) action { return r.status(wire.CodeOK) }

// END: OK, then the connection closes and pipelined requests are discarded.
func cmdEnd(r *request) action {
	r.status(wire.CodeOK)
	return actCloseAfter
}

// Fixed STATS figures of a 64-bit reference build.
const (
	statsVersion        = "1.2.1"
	statsAllocator      = "malloc"
	statsArch           = "64"
	statsPoolObjectSize = 39
	statsPoolMaxBlock   = 131072
)

// STATS: 27 pairs in the reference order. Memory figures are the count described at
// Config.MaxMemory; memory_available is the host's RAM when known.
func cmdStats(r *request) action {
	s, st := r.s, r.st
	var itemAvg int64
	if st.n > 0 {
		itemAvg = st.used() / st.n
	}
	reqsPerClient := 0.0
	if s.conns > 0 {
		reqsPerClient = float64(s.requests) / float64(s.conns)
	}
	frag := 1.0
	if used := st.used(); used > 0 {
		frag = float64(used+int64(st.tree.idx.n)*48) / float64(used)
	}
	out, w := beginKVal(r.out)
	out = w.text(out, "server_version", statsVersion)
	out = w.text(out, "server_build_datetime", s.started.Format("01/02/2006 15:04:05"))
	out = w.text(out, "server_allocator", statsAllocator)
	out = w.text(out, "server_arch", statsArch)
	out = w.number(out, "server_started", s.started.Unix())
	out = w.number(out, "server_time", r.now)
	out = w.number(out, "first_item_seen", st.firstSeen)
	out = w.number(out, "last_item_seen", st.lastSeen)
	out = w.number(out, "total_items", st.n)
	out = w.number(out, "total_compressed_items", st.ncmp)
	out = w.number(out, "total_clients", int64(s.active.Load()))
	out = w.number(out, "total_cron_done", s.cronDone)
	out = w.number(out, "total_connections", s.conns)
	out = w.number(out, "total_requests", s.requests)
	out = w.number(out, "item_pool_current_used", st.pool.used)
	out = w.number(out, "item_pool_current_capacity", st.pool.capacity)
	out = w.number(out, "item_pool_total_capacity", st.pool.total)
	out = w.number(out, "item_pool_object_size", statsPoolObjectSize)
	out = w.number(out, "item_pool_max_block_size", statsPoolMaxBlock)
	out = w.number(out, "memory_available", memoryAvailable())
	out = w.number(out, "memory_usable", s.cfg.MaxMemory)
	out = w.number(out, "memory_used", st.used())
	out = w.number(out, "memory_peak", st.peak)
	out = w.text(out, "memory_fragmentation", fmt.Sprintf("%f", frag))
	out = w.number(out, "item_size_avg", itemAvg)
	out = w.number(out, "compr_rate_avg", int64(st.comprAvg))
	out = w.text(out, "reqs_per_client_avg", fmt.Sprintf("%f", reqsPerClient))
	r.out = out
	return r.finishKVal(w)
}
