package client

import (
	"sync"
	"testing"
	"testing/synctest"
)

// TestFanWorkersReuseAndBound: sequential parts reuse the idle worker; parts beyond
// maxFanWorkers still run (on goroutines of their own); stop lets every worker exit. In a
// synctest bubble, synctest.Wait returns once every worker is blocked, waiting for work.
func TestFanWorkersReuseAndBound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newFanWorkers()
		for range 20 {
			done := make(chan struct{})
			w.run(funcTask(func() { close(done) }))
			<-done
			synctest.Wait() // the worker waits for work again
		}
		if got := w.n.Load(); got != 1 {
			t.Errorf("%d workers after 20 parts one after the other; want the one reused", got)
		}

		// Hold more parts than the bound at once: all of them must start.
		n := int(maxFanWorkers) + 10
		var started, release sync.WaitGroup
		started.Add(n)
		release.Add(1)
		var finished sync.WaitGroup
		finished.Add(n)
		for range n {
			w.run(funcTask(func() {
				defer finished.Done()
				started.Done()
				release.Wait()
			}))
		}
		started.Wait()
		if got := w.n.Load(); got != maxFanWorkers {
			t.Errorf("%d workers kept with %d parts running; want the bound, %d", got, n, maxFanWorkers)
		}
		release.Done()
		finished.Wait()

		w.stop()
		synctest.Wait() // every worker has exited
		if got := w.n.Load(); got != 0 {
			t.Errorf("%d workers left after stop", got)
		}
	})
}
