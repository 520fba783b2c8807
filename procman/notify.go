package procman

// The notify queue: transitions and group changes are delivered to the
// callbacks in order, outside every process lock.

// enqueue queues a note and returns its sequence number.
func (s *Supervisor) enqueue(n note) uint64 {
	s.qmu.Lock()
	s.enqSeq++
	seq := s.enqSeq
	s.queue = append(s.queue, n)
	s.qmu.Unlock()
	return seq
}

// delivered returns once the note numbered seq (and all before it) has been
// delivered. Like drain, it must not be called from a callback.
func (s *Supervisor) delivered(seq uint64) {
	s.awaitDelivery(func() bool { return s.delivSeq >= seq })
}

// awaitDelivery returns once done, checked under qmu, holds: it delivers
// the queued notes itself while no goroutine is delivering, and otherwise
// waits for the one that is. It must not be called from a callback.
func (s *Supervisor) awaitDelivery(done func() bool) {
	s.qmu.Lock()
	for !done() {
		if !s.delivering {
			s.qmu.Unlock()
			s.flush()
			s.qmu.Lock()
			continue
		}
		s.drained.Wait()
	}
	s.qmu.Unlock()
}

// settle waits until p's transitions so far have been delivered, so a
// request returns after the events it caused were published, and (bounded)
// until the log messages queued so far were logged.
func (s *Supervisor) settle(p *process) {
	p.mu.Lock()
	seq := p.lastSeq
	p.mu.Unlock()
	s.delivered(seq)
	s.awaitLogs()
}

// flush delivers queued notes in order; one goroutine delivers at a time.
func (s *Supervisor) flush() {
	s.qmu.Lock()
	if s.delivering {
		s.qmu.Unlock()
		return
	}
	s.delivering = true
	for len(s.queue) > 0 {
		batch := s.queue
		s.queue = nil
		s.qmu.Unlock()
		for _, n := range batch {
			switch {
			case n.tr != nil:
				if s.opts.OnTransition != nil {
					s.opts.OnTransition(*n.tr)
				}
			case n.exit != nil:
				if s.opts.OnExitRequest != nil {
					s.opts.OnExitRequest(*n.exit)
				}
			case s.opts.OnGroup != nil:
				s.opts.OnGroup(n.group, n.added)
			}
		}
		s.qmu.Lock()
		s.delivSeq += uint64(len(batch))
		s.drained.Broadcast()
	}
	s.delivering = false
	if s.drained != nil {
		s.drained.Broadcast()
	}
	s.qmu.Unlock()
}

// drain returns once every queued note has been delivered (by us or by the
// goroutine delivering). It must not be called from a callback.
func (s *Supervisor) drain() {
	s.flush()
	s.awaitDelivery(func() bool { return !s.delivering && len(s.queue) == 0 })
}
