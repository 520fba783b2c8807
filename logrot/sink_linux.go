package logrot

import (
	"errors"
	"io/fs"
	"syscall"
)

// spliceFlags: never block on an empty pipe (the poller waits instead).
const spliceFlags = 0x1 | 0x2 // SPLICE_F_MOVE | SPLICE_F_NONBLOCK

// errNoSplice means the caller must read and Write instead.
var errNoSplice = errors.New("logrot: splice not usable")

// errSinkFull means the file is at its threshold: the caller reads the next
// bytes and Writes them, which rotates first.
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
	if s.noSplice || !s.regular {
		return 0, errNoSplice
	}
	if s.f == nil {
		// Released (or a reopen failed): the bytes go through Write,
		// which reopens the file (and reports a failure).
		return 0, errSinkFull
	}
	if err := s.seekEnd(); err != nil {
		return 0, err
	}
	if s.rotating() && !s.opt.AfterWrite {
		room := s.opt.MaxBytes - s.size
		if room <= 0 {
			// Rotate only once there are bytes for the new file.
			return 0, errSinkFull
		}
		if int64(max) > room {
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
	if err != nil {
		// Whatever the cause (EINVAL from an odd file system, ENOSPC),
		// the data is still in the pipe: let Write handle and report it.
		s.noSplice = true
		return 0, errNoSplice
	}
	s.size += n
	if err := s.afterWrite(); err != nil {
		return int(n), err
	}
	return int(n), nil
}
