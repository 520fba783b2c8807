package logrot

import (
	"fmt"
	"os"
	"syscall"
	"time"
)

// dupFD duplicates r's descriptor (close-on-exec, still non-blocking: the
// flag belongs to the open pipe, which both descriptors share).
func dupFD(r *os.File) (int, error) {
	rc, err := r.SyscallConn()
	if err != nil {
		return -1, err
	}
	fd := -1
	var derr error
	if err := rc.Control(func(sfd uintptr) {
		r, _, e := syscall.Syscall(syscall.SYS_FCNTL, sfd, fDupFDCloexec, 0)
		if e != 0 {
			derr = e
			return
		}
		fd = int(r)
	}); err != nil {
		return -1, err
	}
	if derr != nil {
		return -1, fmt.Errorf("logrot: dup pipe: %w", derr)
	}
	return fd, nil
}

// fDupFDCloexec is F_DUPFD_CLOEXEC (linux/fcntl.h).
const fDupFDCloexec = 1030

// pause sleeps d in a plain nanosleep(2) on the worker's thread, while
// the worker's pipe is the only one being batched (see napper): the worker
// has the pipe for the whole burst anyway, and parking the goroutine
// instead (a timer) costs a round of netpoller and futex wakeups per batch
// when nothing else runs. The sleep is a syscall the scheduler sees, so
// while it lasts the runtime may hand the worker's P to other goroutines
// (RPC, other pipes); a raw syscall would save ~10% CPU under a flood but
// could hold both Ps of a 2-core box with two busy pipes.
func pause(d time.Duration) {
	ts := syscall.NsecToTimespec(int64(d))
	for syscall.Nanosleep(&ts, &ts) == syscall.EINTR {
	}
}

// grow gives a busy pipe bigPipe bytes of room (once per stream). It is
// best effort: a kernel that refuses (pipe-max-size, the per-user pipe
// page limits) leaves the pipe as it is.
func (c *Channel) grow(st *stream) {
	if st.grown != growNotYet {
		return
	}
	st.grown = growRefused
	if !c.hub.privileged {
		if c.hub.grown.Add(1) > maxGrownUnprivileged {
			c.hub.grown.Add(-1)
			return
		}
	}
	size := 0
	if _, _, e := syscall.Syscall(syscall.SYS_FCNTL, uintptr(st.fd), fSetPipeSz, bigPipe); e == 0 {
		if r, _, e := syscall.Syscall(syscall.SYS_FCNTL, uintptr(st.fd), fGetPipeSz, 0); e == 0 {
			size = int(r)
		}
	}
	if size <= 0 {
		if !c.hub.privileged {
			c.hub.grown.Add(-1)
		}
		return
	}
	st.grown = growDone
	st.pipeCap = size
}

// ungrow gives back a grown pipe's share of the unprivileged budget.
func (c *Channel) ungrow(st *stream) {
	if st.grown == growDone && !c.hub.privileged {
		c.hub.grown.Add(-1)
	}
	st.grown = growRefused
}

// fcntl commands for a pipe's capacity (linux/fcntl.h).
const (
	fSetPipeSz = 1031 // F_SETPIPE_SZ
	fGetPipeSz = 1032 // F_GETPIPE_SZ
)

// Pipe growth states of a stream.
const (
	growNotYet = iota
	growDone
	growRefused
)

// stepFD moves one chunk from the pipe (on a Hub worker). It returns the
// bytes moved (0 when the pipe was empty) and false at EOF or when the pipe
// fails.
func (c *Channel) stepFD(st *stream, fd int) (moved int, more bool) {
	if st.splice {
		n, serr := c.spliceChunk(fd)
		switch {
		case serr == syscall.EAGAIN:
			return 0, true // nothing after all
		case serr == nil && n == 0:
			return 0, false // EOF
		case serr != nil:
			// The bytes are still in the pipe: read them and let Write
			// deal with (and report) the problem.
			st.splice = false
			return 0, true
		}
		c.reads.Add(1)
		return n, true
	}
	b := c.hub.getBuf()
	defer c.hub.putBuf(b)
	var n int
	var rerr error
	for {
		n, rerr = syscall.Read(fd, *b)
		if rerr != syscall.EINTR {
			break
		}
	}
	if rerr == syscall.EAGAIN {
		return 0, true
	}
	if rerr != nil || n <= 0 {
		return 0, false // EOF, or an error such as EBADF: the pipe is done
	}
	c.reads.Add(1)
	c.handle(st, (*b)[:n])
	return n, true
}

// spliceChunk moves one chunk from the pipe to the file.
func (c *Channel) spliceChunk(fd int) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, err := c.sink.spliceFrom(fd, bigPipe)
	if n > 0 {
		c.read.Add(int64(n))
		c.written.Add(int64(n))
		c.writeOK()
	}
	if err != errSinkFull {
		return n, err
	}
	// At the rotation threshold: read the next chunk, so the file is
	// rotated only when bytes for the new one exist (not at EOF).
	b := c.hub.getBuf()
	defer c.hub.putBuf(b)
	for {
		n, err = syscall.Read(fd, *b)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil || n <= 0 {
		return 0, err
	}
	c.read.Add(int64(n))
	c.writeFile((*b)[:n])
	return n, nil
}

// rawClose closes a pipe descriptor with a raw system call: closing a
// pipe end never blocks, and a raw call keeps the goroutine's P while the
// thread is in it. Through syscall.Close, a thread preempted inside the
// call (by the exiting children, at a mass stop) lost its P to sysmon and
// parked on its way out: two thread switches per pipe.
func rawClose(fd int) {
	syscall.RawSyscall(syscall.SYS_CLOSE, uintptr(fd), 0, 0) //nolint:errcheck // as syscall.Close's callers here: nothing to do about it
}
