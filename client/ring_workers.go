package client

import (
	"runtime"
	"sync/atomic"
	"time"
)

// fanWorkers runs the shards' parts of fanned-out commands and Ring batches on goroutines
// kept from one command to the next. A goroutine started for each part grew its stack to the
// depth of a round trip every time: 15 % of the CPU of a COUNT over four in-process shards.
type fanWorkers struct {
	work chan task // unbuffered: a send succeeds only when a worker is idle
	n    atomic.Int32
	quit chan struct{} // closed by the Ring's Close: idle workers exit
}

// fanWorkerIdle is how long a worker waits for work before it exits; maxFanWorkers bounds
// how many are kept (beyond it, a part runs on a goroutine of its own, as before).
const fanWorkerIdle = 10 * time.Second

var maxFanWorkers = int32(16 * runtime.GOMAXPROCS(0))

// task is a shard's part; an interface rather than a func, so that a part held in a pooled
// struct is handed over without allocating a closure.
type task interface{ run() }

// funcTask is a task made of a func.
type funcTask func()

func (f funcTask) run() { f() }

func newFanWorkers() *fanWorkers {
	return &fanWorkers{work: make(chan task), quit: make(chan struct{})}
}

// run runs f on an idle worker, on a new worker, or on a goroutine of its own.
func (w *fanWorkers) run(f task) {
	select {
	case w.work <- f:
		return
	default:
	}
	if w.n.Add(1) <= maxFanWorkers {
		go w.worker(f)
		return
	}
	w.n.Add(-1)
	go f.run()
}

func (w *fanWorkers) worker(f task) {
	defer w.n.Add(-1)
	t := time.NewTimer(fanWorkerIdle)
	defer t.Stop()
	for {
		f.run()
		f = nil // not kept while idle
		t.Reset(fanWorkerIdle)
		select {
		case f = <-w.work:
		case <-t.C:
			return
		case <-w.quit:
			return
		}
	}
}

// stop makes idle workers exit, and busy ones once their part is done.
func (w *fanWorkers) stop() { close(w.quit) }
