package logrot

import (
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// Settle waits, at most timeout, until what process pid wrote to this
// channel so far has been handled (the file, the main log, the hooks): each
// of its pipes has reached EOF and been closed, or sits idle in the poller
// with nothing left to read (a grandchild may still hold it open). It
// reports whether that happened in time. procman calls it when the process
// has exited, before it handles the exit, as Python drains a child's pipes
// before it reports the exit.
//
// It does not poll: it looks again each time a stream of the channel ends
// or is handed back to the poller (settleWake), the only moments at which
// a stream that was not settled can become so.
func (c *Channel) Settle(pid int, timeout time.Duration) bool {
	if c.settled(pid) {
		return true
	}
	if timeout <= 0 {
		return false // only a look
	}
	c.wake.waiters.Add(1)
	defer c.wake.waiters.Add(-1)
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		ch := c.wake.next()
		if c.settled(pid) {
			return true
		}
		select {
		case <-ch:
		case <-t.C:
			return c.settled(pid)
		}
	}
}

// settleWake wakes the Settle calls waiting on a channel when one of its
// streams ends or is armed in the poller. The capture path pays one atomic
// load per hand-back when nobody waits.
//
// A waiter counts itself in waiters, takes the current channel with next,
// then looks at the streams; a stream changes state, then notify closes the
// channel if anyone waits. Either the waiter's look sees the change, or the
// change came after it and notify, seeing the waiter counted, closes the
// channel the waiter holds (or one made after the waiter's look started).
type settleWake struct {
	waiters atomic.Int32
	mu      sync.Mutex
	ch      chan struct{} // nil until a waiter asks for one
}

// next returns the channel the next notify closes.
func (w *settleWake) next() <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ch == nil {
		w.ch = make(chan struct{})
	}
	return w.ch
}

// notify wakes the waiters, if any; a stream of the channel has just ended
// or been armed.
func (w *settleWake) notify() {
	if w.waiters.Load() == 0 {
		return
	}
	w.mu.Lock()
	if w.ch != nil {
		close(w.ch)
		w.ch = nil
	}
	w.mu.Unlock()
}

// settled reports whether every stream of pid is idle and empty (a stream
// that ended is no longer in c.streams).
func (c *Channel) settled(pid int) bool {
	c.mu.Lock()
	var sts []*stream
	for st := range c.streams {
		if st.pid == pid {
			sts = append(sts, st)
		}
	}
	c.mu.Unlock()
	for _, st := range sts {
		st.mu.Lock()
		// Armed: no worker holds the stream, so every byte read from it
		// was handled; its descriptor stays open while it is armed.
		idle := st.state == streamArmed && pipeIdle(st.fd)
		st.mu.Unlock()
		if !idle {
			return false
		}
	}
	return true
}

// pipeIdle reports whether fd has nothing to read and a writer still holds
// it open (no POLLIN, no POLLHUP: at EOF the stream must end first).
func pipeIdle(fd int) bool {
	type pollFd struct {
		fd      int32
		events  int16
		revents int16
	}
	const pollIn = 0x1
	pfd := pollFd{fd: int32(fd), events: pollIn}
	var ts syscall.Timespec // zero: do not wait
	for {
		n, _, e := syscall.Syscall6(syscall.SYS_PPOLL, uintptr(unsafe.Pointer(&pfd)), 1, uintptr(unsafe.Pointer(&ts)), 0, 0, 0)
		if e == syscall.EINTR {
			continue
		}
		return e == 0 && n == 0
	}
}
