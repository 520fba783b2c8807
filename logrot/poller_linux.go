package logrot

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

// poller is the Hub's own epoll instance: it waits on every idle pipe with
// one goroutine (one blocked thread) and hands a readable pipe to a Hub
// worker. Each pipe is registered one-shot: it fires once and stays
// disarmed while a worker reads it, until the worker re-arms it, so the
// writes of a busy child wake nobody. (Go's runtime poller registers pipes
// edge-triggered for good, which wakes an idle runtime thread at every
// write of the child.)
//
// The goroutine and the epoll descriptors exist only while some pipe is
// registered.
type poller struct {
	mu      sync.Mutex
	epfd    int      // -1 while closed
	epf     *os.File // epfd, served by the runtime poller (see wait)
	evfd    int      // eventfd that wakes the loop to exit
	running bool
	streams map[uint32]*stream
	next    uint32
}

func newPoller() *poller {
	return &poller{epfd: -1, evfd: -1, streams: make(map[uint32]*stream)}
}

const (
	epollIn      = 0x1        // EPOLLIN
	epollHup     = 0x10       // EPOLLHUP
	epollOneShot = 0x40000000 // EPOLLONESHOT
	efdCloexec   = 0x80000    // EFD_CLOEXEC (O_CLOEXEC)
	efdNonblock  = 0x800      // EFD_NONBLOCK (O_NONBLOCK)
)

// open makes the epoll instance and the wakeup eventfd. Callers hold p.mu.
func (p *poller) open() error {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return fmt.Errorf("logrot: epoll_create1: %w", err)
	}
	r, _, e := syscall.Syscall(syscall.SYS_EVENTFD2, 0, efdCloexec|efdNonblock, 0)
	if e != 0 {
		syscall.Close(epfd)
		return fmt.Errorf("logrot: eventfd: %w", e)
	}
	evfd := int(r)
	ev := syscall.EpollEvent{Events: epollIn} // id 0
	if err := syscall.EpollCtl(epfd, syscall.EPOLL_CTL_ADD, evfd, &ev); err != nil {
		syscall.Close(epfd)
		syscall.Close(evfd)
		return fmt.Errorf("logrot: epoll_ctl eventfd: %w", err)
	}
	// The loop waits for epfd to become readable in the runtime poller
	// (wait), which needs it non-blocking to take it.
	if err := syscall.SetNonblock(epfd, true); err != nil {
		syscall.Close(epfd)
		syscall.Close(evfd)
		return fmt.Errorf("logrot: epoll descriptor: %w", err)
	}
	p.epfd, p.epf, p.evfd = epfd, os.NewFile(uintptr(epfd), "epoll"), evfd
	return nil
}

// add registers st's pipe, armed. It fails for descriptors epoll cannot
// wait on (regular files).
func (p *poller) add(st *stream) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.epfd < 0 {
		if err := p.open(); err != nil {
			return err
		}
	}
	for {
		p.next++
		if p.next != 0 && p.streams[p.next] == nil {
			break
		}
	}
	st.mu.Lock()
	st.id, st.epfd, st.state = p.next, p.epfd, streamArmed
	ev := syscall.EpollEvent{Events: epollIn | epollOneShot, Fd: int32(st.id)}
	err := syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_ADD, st.fd, &ev)
	if err != nil {
		st.state, st.epfd = streamBusy, -1
	}
	st.mu.Unlock()
	if err != nil {
		if len(p.streams) == 0 && !p.running {
			p.closeFDs()
		}
		return fmt.Errorf("logrot: epoll_ctl add: %w", err)
	}
	p.streams[st.id] = st
	if !p.running {
		p.running = true
		go p.loop(p.epf, p.evfd)
	}
	return nil
}

// rearm arms st again after a worker has emptied it. Callers hold st.mu.
func (p *poller) rearm(st *stream) error {
	ev := syscall.EpollEvent{Events: epollIn | epollOneShot, Fd: int32(st.id)}
	if err := syscall.EpollCtl(st.epfd, syscall.EPOLL_CTL_MOD, st.fd, &ev); err != nil {
		return fmt.Errorf("logrot: epoll_ctl mod: %w", err)
	}
	return nil
}

// remove forgets st (before its descriptor is closed); the loop exits
// when the last pipe is gone.
func (p *poller) remove(st *stream) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.streams[st.id] != st {
		return
	}
	delete(p.streams, st.id)
	// Raw (it never blocks): see rawClose.
	syscall.RawSyscall6(syscall.SYS_EPOLL_CTL, uintptr(st.epfd), syscall.EPOLL_CTL_DEL, uintptr(st.fd), 0, 0, 0) //nolint:errcheck // the close that follows removes it anyway
	if len(p.streams) == 0 && p.running {
		one := uint64(1)
		syscall.Write(p.evfd, (*[8]byte)(unsafe.Pointer(&one))[:]) //nolint:errcheck // a full counter already wakes the loop
	}
}

// closeFDs closes the epoll instance. Callers hold p.mu.
func (p *poller) closeFDs() {
	p.epf.Close()
	syscall.Close(p.evfd)
	p.epfd, p.epf, p.evfd = -1, nil, -1
}

// loop waits for readable pipes and hands each to its stream until no
// pipe is left.
func (p *poller) loop(epf *os.File, evfd int) {
	rc, rcErr := epf.SyscallConn()
	events := make([]syscall.EpollEvent, 128)
	var ready, hup []*stream
	var buf [8]byte
	for {
		n, err := wait(rc, rcErr, events)
		if err != nil {
			// Not expected with a valid descriptor; do not spin.
			time.Sleep(10 * time.Millisecond)
			n = 0
		}
		ready, hup = ready[:0], hup[:0]
		p.mu.Lock()
		for _, ev := range events[:n] {
			id := uint32(ev.Fd)
			if id == 0 {
				syscall.Read(evfd, buf[:]) //nolint:errcheck // drains the wakeup counter
				continue
			}
			if st := p.streams[id]; st != nil {
				if ev.Events&(epollIn|epollHup) == epollHup {
					hup = append(hup, st)
				} else {
					ready = append(ready, st)
				}
			}
		}
		if len(p.streams) == 0 {
			p.running = false
			p.closeFDs()
			p.mu.Unlock()
			return
		}
		p.mu.Unlock()
		for _, st := range ready {
			st.ready()
		}
		for _, st := range hup {
			st.hungUp()
		}
	}
}

// wait returns the events of the epoll instance rc (the loop's epf,
// whose SyscallConn it takes once: rcErr), waiting until there
// are some. It asks without blocking and, when there are none, parks the
// goroutine in the runtime poller until the instance becomes readable,
// rather than blocking a thread in epoll_wait: a goroutine blocked in a
// system call keeps its P until sysmon takes it away, and when the call
// returns its thread must find a P again or park, so each wake-up of the
// loop cost thread switches (most at a mass stop, when every child's
// pipe hangs up) and kept sysmon polling at its fastest.
func wait(rc syscall.RawConn, rcErr error, events []syscall.EpollEvent) (int, error) {
	if rcErr != nil {
		return 0, rcErr
	}
	var n int
	var werr error
	err := rc.Read(func(fd uintptr) bool {
		for {
			r, _, e := syscall.RawSyscall6(syscall.SYS_EPOLL_PWAIT, fd, uintptr(unsafe.Pointer(&events[0])), uintptr(len(events)), 0, 0, 0)
			if e == syscall.EINTR {
				continue
			}
			n, werr = int(r), nil
			if e != 0 {
				n, werr = 0, e
			}
			return n > 0 || werr != nil
		}
	})
	if err != nil {
		return 0, err
	}
	return n, werr
}

// pipeLimitsExempt reports whether this process has CAP_SYS_RESOURCE or
// CAP_SYS_ADMIN, which exempt it from the per-user pipe page limits.
func pipeLimitsExempt() bool {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		v, ok := strings.CutPrefix(line, "CapEff:")
		if !ok {
			continue
		}
		caps, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
		if err != nil {
			return false
		}
		const capSysAdmin, capSysResource = 21, 24
		return caps&(1<<capSysAdmin|1<<capSysResource) != 0
	}
	return false
}
