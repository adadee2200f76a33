package client

import (
	"sync"
	"testing"
	"time"
)

// TestFanWorkersReuseAndBound: sequential parts reuse idle workers; parts beyond
// maxFanWorkers still run (on goroutines of their own); stop lets every worker exit.
func TestFanWorkersReuseAndBound(t *testing.T) {
	w := newFanWorkers()
	for range 20 {
		done := make(chan struct{})
		w.run(funcTask(func() { close(done) }))
		<-done
		time.Sleep(time.Millisecond) // let the worker wait for work again
	}
	// One worker, unless a part came before the last one was back waiting (a new worker
	// was then started). A worker per part would make 20.
	if got := w.n.Load(); got > 3 {
		t.Errorf("%d workers after 20 parts one after the other; want them reused", got)
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
	waitFor(t, "every worker to exit", func() bool { return w.n.Load() == 0 })
}
