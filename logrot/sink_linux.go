package logrot

import (
	"errors"
	"io/fs"
	"syscall"
	"unsafe"
)

// spliceFlags: never block on an empty pipe (the poller waits instead).
const spliceFlags = 0x1 | 0x2 // SPLICE_F_MOVE | SPLICE_F_NONBLOCK

// errNoSplice means the caller must read and Write instead.
var errNoSplice = errors.New("logrot: splice not usable")

// errSinkFull means this chunk must go through Write: the file is at its
// threshold (Write rotates first), released, or the disk is full (Write
// fails, counts and reports; the next chunk tries splice again).
var errSinkFull = errors.New("logrot: log file full")

// spliceFrom moves up to max bytes from the pipe fd straight into the file
// with splice(2): no copy through user space and no buffer. It returns
// syscall.EAGAIN when the pipe is empty, (0, nil) at EOF, and errNoSplice
// when the target cannot take splice (the caller falls back to Write).
func (s *fileSink) spliceFrom(pipefd int, max int) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, fs.ErrClosed
	}
	if s.f == nil {
		// Released, not opened yet (output before the first spawn, from
		// a pipe adopted after an upgrade) or a reopen failed: the bytes
		// go through Write, which opens the file (and reports a failure);
		// later chunks splice.
		return 0, errSinkFull
	}
	if s.noSplice || !s.regular || s.failWrite != nil {
		return 0, errNoSplice
	}
	if err := s.seekEnd(); err != nil {
		return 0, err
	}
	if s.rotating() {
		room := s.opt.MaxBytes - s.size
		if room <= 0 {
			// Rotate only once there are bytes for the new file.
			return 0, errSinkFull
		}
		if int64(max) > room {
			// Near the threshold: splice only when the pipe's bytes all
			// fit, so a chunk is never cut here by a byte count; Write
			// cuts it at a line boundary, in one piece under s.mu.
			if avail, err := pipeBytes(pipefd); err != nil || int64(avail) > room {
				return 0, errSinkFull
			}
			max = int(room)
		}
	}
	var n int64
	var err error
	fd := int(s.f.Fd())
	for {
		// syscall.Splice returns int64 on 64-bit linux, int on arm.
		r, serr := syscall.Splice(pipefd, nil, fd, nil, max, spliceFlags)
		n, err = int64(r), serr
		if err != syscall.EINTR {
			break
		}
	}
	if err == syscall.EAGAIN {
		return 0, err
	}
	if isDiskFull(err) {
		return 0, errSinkFull
	}
	if err != nil {
		// Whatever the cause (EINVAL from an odd file system),
		// the data is still in the pipe: let Write handle and report it.
		s.noSplice = true
		return 0, errNoSplice
	}
	s.size += n
	s.lineKnown = false // the bytes went in unseen
	return int(n), nil
}

// fionread is FIONREAD (asm-generic/ioctls.h: amd64, arm64, arm).
const fionread = 0x541B

// pipeBytes is how many bytes the pipe holds.
func pipeBytes(fd int) (int, error) {
	var n int32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), fionread, uintptr(unsafe.Pointer(&n))); e != 0 {
		return 0, e
	}
	return int(n), nil
}
