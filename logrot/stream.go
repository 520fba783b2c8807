package logrot

import (
	"os"
	"runtime"
	"sync"
	"syscall"
	"time"
)

// stream is one Consume call: one pipe of one spawn, with its own capture
// and ANSI state (Python builds a new dispatcher per spawn).
type stream struct {
	c    *Channel
	fd   int      // the pipe's read end, ours alone (see Consume)
	file *os.File // set instead of fd for a file the poller cannot wait on
	pid  int
	id   uint32 // the poller's key
	epfd int    // the poller's epoll descriptor while registered

	// mu orders the hand-offs between the poller, the worker serving the
	// stream and Close; state says who has the stream.
	mu      sync.Mutex
	state   int
	pending bool // the poller saw the pipe readable while it was busy

	splice  bool
	scan    *captureScanner
	capture *boundBuffer
	ansi    ansiStripper
	// pipeCap is the pipe's capacity (the kernel default until grow);
	// grown is where grow stands.
	pipeCap int
	grown   int
	// detached is closed when a busy stream is handed to a waiting
	// Detach (or ends); under mu.
	detached chan struct{}
}

// Stream states.
const (
	streamArmed = iota // waiting in the poller
	streamBusy         // a worker reads it
	streamDone         // closed
)

// stopBlocking makes a stream read without the poller (see Consume) stop
// at Close: its read deadline passes (a file the runtime cannot poll ends
// at EOF instead). Bytes still in the pipe are not read on this path.
func (c *Channel) stopBlocking(st *stream) {
	st.mu.Lock()
	f := st.file
	st.mu.Unlock()
	if f != nil {
		f.SetReadDeadline(time.Now()) //nolint:errcheck // not pollable: it ends at EOF
	}
}

// claimForClose takes an armed stream from the poller and drains and ends
// it on a worker (Close); a busy stream is ended by its worker.
func (c *Channel) claimForClose(st *stream) {
	st.mu.Lock()
	if st.state != streamArmed {
		st.mu.Unlock()
		return
	}
	st.state = streamBusy
	st.mu.Unlock()
	c.hub.spawn(func() {
		c.drain(st)
		c.end(st)
	})
}

// newStream is the state of one pipe of process pid.
func (c *Channel) newStream(pid int) *stream {
	st := &stream{c: c, pid: pid, pipeCap: defaultPipe, fd: -1, epfd: -1, state: streamBusy, splice: c.splice}
	if c.cfg.CaptureMaxBytes > 0 && !c.cfg.Listener {
		st.scan = &captureScanner{}
		st.capture = &boundBuffer{max: c.cfg.CaptureMaxBytes}
	}
	return st
}

// ready is the poller telling that st's pipe is readable (or at EOF).
func (st *stream) ready() {
	st.mu.Lock()
	switch st.state {
	case streamArmed:
		st.state = streamBusy
		st.mu.Unlock()
		c := st.c
		c.hub.spawn(func() { c.serve(st) })
		return
	case streamBusy:
		st.pending = true
	}
	st.mu.Unlock()
}

// hungUp is the poller finding st's pipe empty with every writer gone
// (EPOLLHUP without EPOLLIN), which is how most streams end: the child
// has exited. Nothing is left to read, so unless the stream holds
// something back for its end (a capture or ANSI state to flush, which
// may write) or a Detach is under way, the poller ends it itself rather
// than waking a worker to read the EOF.
func (st *stream) hungUp() {
	c := st.c
	st.mu.Lock()
	if st.state != streamArmed || st.scan != nil || c.cfg.StripANSI || c.detachReq.Load() {
		st.mu.Unlock()
		st.ready()
		return
	}
	st.state = streamBusy
	st.mu.Unlock()
	c.end(st)
}

// serve reads st on a Hub worker until the pipe is empty, then hands it
// back to the poller; at EOF, on an error or when the channel closes it
// ends the stream.
func (c *Channel) serve(st *stream) {
	for {
		if c.closing.Load() {
			c.drain(st)
			c.end(st)
			return
		}
		if c.detachReq.Load() {
			st.mu.Lock()
			st.handOver()
			st.mu.Unlock()
			return
		}
		if !c.burst(st) {
			c.end(st)
			return
		}
		st.mu.Lock()
		if st.pending {
			st.pending = false
			st.mu.Unlock()
			continue
		}
		if c.closing.Load() {
			st.mu.Unlock()
			continue // drain and end
		}
		if c.detachReq.Load() {
			st.handOver()
			st.mu.Unlock()
			return
		}
		err := c.hub.poller.rearm(st)
		if err == nil {
			st.state = streamArmed
		}
		st.mu.Unlock()
		if err != nil {
			c.end(st)
		} else {
			c.wake.notify()
		}
		return
	}
}

// end flushes what st held back, closes its pipe and forgets it.
func (c *Channel) end(st *stream) {
	st.mu.Lock()
	st.state = streamDone
	if st.detached != nil {
		close(st.detached) // a waiting Detach finds it ended
		st.detached = nil
	}
	st.mu.Unlock()
	c.mu.Lock()
	c.finish(st)
	delete(c.streams, st)
	c.mu.Unlock()
	c.wake.notify()
	c.ungrow(st)
	if st.fd >= 0 {
		c.hub.poller.remove(st)
		rawClose(st.fd)
		st.fd = -1
	}
	st.mu.Lock()
	f := st.file
	st.mu.Unlock()
	if f != nil {
		f.Close()
	}
	c.wg.Done()
}

// hotIdle is how long a worker keeps looking at a busy pipe that went
// quiet before handing it back to the poller: long enough to ride over the
// gaps of a child that writes in bursts, short enough that a worker is not
// held by a pipe that has gone idle.
const hotIdle = 2 * time.Millisecond

// Batching of a busy pipe. A child that writes fast would otherwise be
// read one write at a time: a wakeup, a few syscalls and a scheduler round
// trip per write (most of the daemon's CPU when a child floods its log).
// Once a pipe has given bytes twice in a row it is busy: it is grown to
// bigPipe and the worker pauses batchDelay between reads that found it
// less than half full, so each read moves a large batch. A pipe that gets
// a line now and then is read at once; a busy one at most batchDelay after
// a write.
const (
	batchDelay = 500 * time.Microsecond
	bigPipe    = 1 << 20
	// maxGrownUnprivileged bounds how many pipes a daemon without
	// CAP_SYS_RESOURCE or CAP_SYS_ADMIN grows at once: the kernel charges
	// pipe pages to the user (fs.pipe-user-pages-soft, 16384 pages by
	// default) and, past that limit, gives new pipes a single page.
	maxGrownUnprivileged = 16
)

// burst reads st until it has been empty for hotIdle (true) or reaches
// EOF or fails (false).
func (c *Channel) burst(st *stream) bool {
	streak := 0 // consecutive reads that found bytes
	var quiet time.Duration
	var nap napper
	defer nap.done(c.hub)
	for {
		n, more := c.stepFD(st, st.fd)
		if !more {
			return false
		}
		if c.closing.Load() || c.detachReq.Load() {
			return true
		}
		if n > 0 {
			streak++
			quiet = 0
			if streak > 1 {
				c.grow(st)
				half := st.pipeCap / 2
				if !st.splice && half > ChunkSize/2 {
					half = ChunkSize / 2 // a read takes at most ChunkSize
				}
				if n < half {
					nap.pause(c.hub)
				}
			}
			continue
		}
		if streak < 2 || quiet >= hotIdle {
			return true
		}
		nap.pause(c.hub)
		quiet += batchDelay
	}
}

// napper makes a worker's batching pauses. While this is the only pipe
// being batched, it sleeps in nanosleep(2) on its thread (pause); while
// others are batched too, it parks the goroutine on a timer, so that the
// runtime does not hand the worker's P to another thread (and back) around
// each sleep: with 100 busy pipes a fifth of the daemon's CPU went to
// that and to sysmon noticing the sleeps.
//
// A worker sleeping in nanosleep never goes through the Go scheduler, so
// after 10 ms the runtime's sysmon takes it for a goroutine that will not
// yield: from then on it takes the worker's P away in each system call
// (splice, nanosleep), the worker takes an idle one back when the call
// returns and wakes sysmon, which polls every 20 us again. Under a flood of
// one pipe that was a P hand-off and a futex wake-up about every
// millisecond, half the daemon's context switches. The worker therefore
// yields (runtime.Gosched) every yieldEvery.
type napper struct {
	counted bool
	timer   *time.Timer
	yielded time.Time // when the worker last yielded (zero: not yet)
}

// yieldEvery is how often a worker that sleeps in nanosleep(2) yields,
// well within sysmon's 10 ms.
const yieldEvery = 5 * time.Millisecond

// pause waits batchDelay.
func (n *napper) pause(h *Hub) {
	if !n.counted {
		n.counted = true
		h.batching.Add(1)
	}
	if h.batching.Load() <= 1 {
		n.yield(time.Now())
		pause(batchDelay)
		return
	}
	if n.timer == nil {
		n.timer = time.NewTimer(batchDelay)
	} else {
		n.timer.Reset(batchDelay)
	}
	<-n.timer.C
}

// yield runs runtime.Gosched when the worker last did yieldEvery before
// now (the first call only starts the count: the burst's goroutine was
// just scheduled). It reports whether it yielded.
func (n *napper) yield(now time.Time) bool {
	if n.yielded.IsZero() {
		n.yielded = now
		return false
	}
	if now.Sub(n.yielded) < yieldEvery {
		return false
	}
	n.yielded = now
	runtime.Gosched()
	return true
}

// done ends the burst's batching.
func (n *napper) done(h *Hub) {
	if n.counted {
		h.batching.Add(-1)
	}
	if n.timer != nil {
		n.timer.Stop()
	}
}

// drain reads what is already in the pipe without waiting (Close).
func (c *Channel) drain(st *stream) {
	for range drainReads {
		b := c.hub.getBuf()
		var n int
		var rerr error
		for {
			n, rerr = syscall.Read(st.fd, *b)
			if rerr != syscall.EINTR {
				break
			}
		}
		if rerr != nil || n <= 0 {
			c.hub.putBuf(b)
			return
		}
		c.handle(st, (*b)[:n])
		c.hub.putBuf(b)
	}
}

// readBlocking serves files the poller cannot wait on.
func (c *Channel) readBlocking(st *stream) {
	for {
		b := c.hub.getBuf()
		n, err := st.file.Read(*b) // st.file is set before this goroutine starts
		if n > 0 {
			c.handle(st, (*b)[:n])
		}
		c.hub.putBuf(b)
		if err != nil {
			return
		}
	}
}
