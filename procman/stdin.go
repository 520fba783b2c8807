package procman

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// A child's stdin: sendProcessStdin writes what the pipe takes at once and
// queues the rest for a background writer.

// closeStdin closes our end of the child's stdin, and the copy a
// background write holds (which ends that write). mu is held.
func (p *process) closeStdin() {
	if p.stdin != nil {
		p.stdin.Close()
		p.stdin = nil
	}
	if p.stdinCopy != nil {
		p.stdinCopy.Close()
		p.stdinCopy = nil
	}
	p.stdinBuf = nil
}

// writeStdin queues data for the child's stdin, writing at once what the
// pipe takes without blocking. mu is held. It reports EPIPE as NO_FILE.
func (p *process) writeStdin(data []byte, name string) error {
	if p.stdin == nil || p.stdinBroken {
		return reqError(ErrNoFile, name)
	}
	if len(p.stdinBuf) == 0 && !p.stdinWriting {
		rc, err := p.stdin.SyscallConn()
		if err != nil {
			return reqError(ErrNoFile, name)
		}
		var n int
		var werr error
		_ = rc.Write(func(fd uintptr) bool {
			n, werr = syscall.Write(int(fd), data)
			return true
		})
		if werr == nil || errors.Is(werr, syscall.EAGAIN) {
			if n < 0 {
				n = 0
			}
			data = data[n:]
		} else {
			p.stdinBroken = true
			if errors.Is(werr, syscall.EPIPE) {
				return reqError(ErrNoFile, name)
			}
			return reqError(ErrFailed, fmt.Sprintf("%s: %v", name, werr))
		}
		if len(data) == 0 {
			return nil
		}
	}
	if !p.stdinWriting {
		// p.stdin is not served by the runtime poller (stdinPipe): the
		// background writer waits for room on a copy that is.
		w, err := pollableCopy(p.stdin)
		if err != nil {
			return reqError(ErrFailed, fmt.Sprintf("%s: %v", name, err))
		}
		p.stdinCopy = w
		p.stdinWriting = true
		go p.flushStdin(p.stdin, w)
	}
	p.stdinBuf = append(p.stdinBuf, data...)
	return nil
}

// flushStdin writes the queued stdin bytes of f (p.stdin) through w, its
// pollable copy, in the background until the queue is empty or the pipe
// breaks, then closes w.
func (p *process) flushStdin(f, w *os.File) {
	defer w.Close()
	for {
		p.mu.Lock()
		buf := p.stdinBuf
		p.stdinBuf = nil
		if len(buf) == 0 || p.stdin != f {
			p.stdinWriting = false
			if p.stdinCopy == w {
				p.stdinCopy = nil
			}
			p.mu.Unlock()
			return
		}
		p.mu.Unlock()
		if _, err := w.Write(buf); err != nil {
			p.mu.Lock()
			p.stdinWriting = false
			p.stdinBuf = nil
			if p.stdin == f {
				p.stdinBroken = true
			}
			if p.stdinCopy == w {
				p.stdinCopy = nil
			}
			p.mu.Unlock()
			return
		}
	}
}
