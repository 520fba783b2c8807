package procman

import (
	"os"
	"syscall"
)

// stdinPipe makes the pipe for a child's stdin: r for the child, blocking;
// w ours, non-blocking (writeStdin writes what the pipe takes at once).
// Neither is registered with the runtime poller (os.Pipe registers both):
// nothing waits on w unless a write must be queued (flushStdin then
// waits on a copy of it), and a registered w cost an epoll_ctl at spawn,
// another at close, and a wake-up of the poller's thread when the child
// died (the pipe's reader gone: EPOLLERR), at every exit.
func stdinPipe() (r, w *os.File, err error) {
	var fds [2]int
	if err := syscall.Pipe2(fds[:], syscall.O_CLOEXEC); err != nil {
		return nil, nil, os.NewSyscallError("pipe2", err)
	}
	// Blocking when wrapped, so os.NewFile does not register them.
	r = os.NewFile(uintptr(fds[0]), "|0")
	w = os.NewFile(uintptr(fds[1]), "|1")
	if err := syscall.SetNonblock(fds[1], true); err != nil {
		r.Close()
		w.Close()
		return nil, nil, os.NewSyscallError("fcntl", err)
	}
	return r, w, nil
}

// pollableCopy duplicates f's descriptor (non-blocking) into a File the
// runtime poller serves, whose writes wait for room in the pipe.
func pollableCopy(f *os.File) (*os.File, error) {
	fd := -1
	var derr error
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, err
	}
	if err := rc.Control(func(u uintptr) {
		r, _, e := syscall.Syscall(syscall.SYS_FCNTL, u, syscall.F_DUPFD_CLOEXEC, 0)
		if e != 0 {
			derr = os.NewSyscallError("fcntl", e)
			return
		}
		fd = int(r)
	}); err != nil {
		return nil, err
	}
	if derr != nil {
		return nil, derr
	}
	if err := syscall.SetNonblock(fd, true); err != nil {
		syscall.Close(fd)
		return nil, os.NewSyscallError("fcntl", err)
	}
	return os.NewFile(uintptr(fd), "stdin"), nil
}
