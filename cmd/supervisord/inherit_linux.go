package main

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// ignorePythonsSignals sets SIGPIPE and SIGXFSZ to SIG_IGN, as the Python
// interpreter does at start: supervisord then survives a closed stdout or
// a full file as an EPIPE or EFBIG error, and, because an ignored signal
// stays ignored across fork and exec (Go resets only the handlers it
// installed), every program starts with both ignored, as under Python's
// supervisord (SigIgn 0x1001000 in /proc/<pid>/status).
func ignorePythonsSignals() {
	signal.Ignore(syscall.SIGPIPE, syscall.SIGXFSZ)
}

// closeInheritedOnExec marks every descriptor from 3 up close-on-exec, so
// that no program we spawn inherits what this process inherited (a shell's
// pipe, a journal stream, an open file): Python's child closes descriptors
// 3 to minfds before its exec (process.py, _prepare_child_fds). Go opens its
// own descriptors close-on-exec and passes a child its pipes explicitly.
// Descriptors handed over on purpose (an upgrade's state and pipes, the
// daemon-mode ready pipe) are used by this process; the code that passes
// them on to an exec clears the flag itself.
func closeInheritedOnExec() error {
	err := unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC)
	if err == nil {
		return nil
	}
	// Before Linux 5.11: one fcntl per open descriptor.
	ents, rerr := os.ReadDir("/proc/self/fd")
	if rerr != nil {
		return fmt.Errorf("mark inherited descriptors close-on-exec: %w", errors.Join(err, rerr))
	}
	var errs []error
	for _, e := range ents {
		fd, perr := strconv.Atoi(e.Name())
		if perr != nil || fd < 3 {
			continue
		}
		// The directory's own descriptor is gone by now: EBADF.
		if _, ferr := unix.FcntlInt(uintptr(fd), unix.F_SETFD, unix.FD_CLOEXEC); ferr != nil && !errors.Is(ferr, unix.EBADF) {
			errs = append(errs, fmt.Errorf("descriptor %d: %w", fd, ferr))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("mark inherited descriptors close-on-exec: %w", errors.Join(errs...))
	}
	return nil
}
