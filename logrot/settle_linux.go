package logrot

import (
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
func (c *Channel) Settle(pid int, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	delay := 20 * time.Microsecond
	for !c.settled(pid) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(delay)
		delay = min(2*delay, 2*time.Millisecond)
	}
	return true
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
