package gibsontest

import "time"

// The clock and the cron. Item timestamps are whole seconds of the server clock, which is
// the real clock until WithClock, FastForward or SetTime make it manual. Periodic work
// (expiry sweep every ExpiredCron, memory eviction every MaxMemCron) runs on a ticker
// every CronPeriod and, for a manual clock, whenever FastForward or SetTime move it.

// nowTime returns the server clock; s.mu must be held.
func (s *Server) nowTime() time.Time {
	if s.manual {
		return s.clock
	}
	return time.Now()
}

// Now returns the server clock.
func (s *Server) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nowTime()
}

// FastForward moves the server clock by d (switching to a manual clock if it was real),
// so TTLs and locks run out without sleeping, and runs the expiry sweep and memory
// eviction if they have become due.
func (s *Server) FastForward(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clock = s.nowTime().Add(d)
	s.manual = true
	if p := s.cronPeriod(); d > 0 {
		s.cronDone += int64(d / p)
	}
	s.runDue(nil)
}

// SetTime sets the server clock to t (switching to a manual clock) and runs periodic work
// that has become due.
func (s *Server) SetTime(t time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clock, s.manual = t, true
	s.runDue(nil)
}

func (s *Server) cronPeriod() time.Duration {
	if s.cfg.CronPeriod > 0 {
		return s.cfg.CronPeriod
	}
	return 100 * time.Millisecond
}

// cronLoop ticks every CronPeriod until stop closes.
func (s *Server) cronLoop(stop chan struct{}) {
	defer s.wg.Done()
	t := time.NewTicker(s.cronPeriod())
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			s.mu.Lock()
			s.cronDone++
			s.runDue(stop)
			s.mu.Unlock()
		}
	}
}

// runDue runs the expiry sweep and the memory eviction when their periods have passed on
// the server clock; s.mu must be held. The sweeps release it in steps (walkItems) and end
// early when stop closes.
func (s *Server) runDue(stop <-chan struct{}) {
	now := s.nowTime()
	if s.cfg.ExpiredCron > 0 && now.Sub(s.lastExpire) >= s.cfg.ExpiredCron {
		s.lastExpire = now
		s.sweepExpired(now.Unix(), stop)
	}
	if s.cfg.MaxMemCron > 0 && now.Sub(s.lastMem) >= s.cfg.MaxMemCron {
		s.lastMem = now
		s.evict(now.Unix(), stop)
	}
}

// sweepExpired purges every expired item, locked or not.
func (s *Server) sweepExpired(now int64, stop <-chan struct{}) {
	s.walkItems(nil, stop, func(n nodeID) bool {
		if s.st.item(n).expired(now) {
			s.st.free(n)
		}
		return true
	})
}

// evict deletes, when used memory is above MaxMemory, every item not accessed for
// GCRatio, regardless of locks and TTLs (docs/protocol.md §5.9).
func (s *Server) evict(now int64, stop <-chan struct{}) {
	if s.st.used() <= s.cfg.MaxMemory {
		return
	}
	age := int64(s.cfg.GCRatio / time.Second)
	s.walkItems(nil, stop, func(n nodeID) bool {
		if now-int64(s.st.item(n).access) >= age {
			s.st.free(n)
		}
		return true
	})
}
