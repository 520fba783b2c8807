package rpc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"
)

// LogReader reads log files with supervisor's readFile/tailFile rules
// (reference §3.5). logrot provides the daemon's implementation; FileLogs
// is a plain one.
type LogReader interface {
	// ReadFile returns BAD_ARGUMENTS for bad sign combinations and FAILED
	// for I/O errors.
	ReadFile(path string, offset, length int64) ([]byte, error)
	// TailFile never fails: an I/O error gives ("", offset, false).
	TailFile(path string, offset, length int64) (data []byte, newOffset int64, overflow bool)
}

// LogFollower streams a growing log file for /logtail and /mainlogtail.
type LogFollower interface {
	// Follow calls emit with the last head bytes of path (the whole file
	// if smaller), then with new bytes as they are written, until ctx is
	// done or emit fails. A truncation emits "==> File truncated <==\n"
	// and restarts at offset 0; a replaced file (rotation) is reopened.
	Follow(ctx context.Context, path string, head int64, emit func([]byte) error) error
}

// FileLogs implements LogReader and LogFollower directly on files.
type FileLogs struct {
	// Poll is the follow interval; 0 means 100 ms as in Python.
	Poll time.Duration
}

// ReadFile implements LogReader with Python's readFile rules.
func (FileLogs) ReadFile(path string, offset, length int64) ([]byte, error) {
	if offset < 0 && length != 0 || offset >= 0 && length < 0 {
		return nil, NewFault(BadArguments)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, NewFault(Failed)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, NewFault(Failed)
	}
	sz := st.Size()
	var pos, n int64
	switch {
	case offset < 0:
		pos = max(sz+offset, 0)
		n = sz - pos
	case length == 0:
		pos = offset
		n = sz - offset
	default:
		pos = offset
		n = min(length, sz-offset)
	}
	if n <= 0 {
		return []byte{}, nil
	}
	buf := make([]byte, n)
	m, err := f.ReadAt(buf, pos)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, NewFault(Failed)
	}
	return buf[:m], nil
}

// TailFile implements LogReader with Python's tailFile algorithm.
func (FileLogs) TailFile(path string, offset, length int64) ([]byte, int64, bool) {
	f, err := os.Open(path)
	if err != nil {
		return []byte{}, offset, false
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return []byte{}, offset, false
	}
	sz := st.Size()
	overflow := false
	if sz > offset+length {
		overflow = true
		offset = sz - 1
	}
	if offset+length > sz {
		if offset > sz-1 {
			length = 0
		}
		offset = sz - length
	}
	offset = max(offset, 0)
	length = max(length, 0)
	if length == 0 {
		return []byte{}, sz, overflow
	}
	buf := make([]byte, length)
	m, err := f.ReadAt(buf, offset)
	if err != nil && !errors.Is(err, io.EOF) {
		return []byte{}, offset, false
	}
	return buf[:m], sz, overflow
}

// Follow implements LogFollower by polling the file's size and inode.
func (l FileLogs) Follow(ctx context.Context, path string, head int64, emit func([]byte) error) error {
	poll := l.Poll
	if poll <= 0 {
		poll = 100 * time.Millisecond
	}
	f, ino, err := openIno(path)
	if err != nil {
		return fmt.Errorf("follow %s: %w", path, err)
	}
	defer func() { f.Close() }()
	var pos int64
	if st, err := f.Stat(); err == nil && st.Size() >= head {
		pos = st.Size() - head
	}
	buf := make([]byte, 32*1024)
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		if st, err := os.Stat(path); err == nil {
			if sys, ok := st.Sys().(*syscall.Stat_t); ok && sys.Ino != ino {
				if nf, nino, err := openIno(path); err == nil {
					f.Close()
					f, ino, pos = nf, nino, 0
				}
			}
		}
		st, err := f.Stat()
		if err != nil {
			return fmt.Errorf("follow %s: %w", path, err)
		}
		switch sz := st.Size(); {
		case sz < pos:
			pos = 0
			if err := emit([]byte("==> File truncated <==\n")); err != nil {
				return err
			}
		case sz > pos:
			for pos < sz {
				n, err := f.ReadAt(buf[:min(int64(len(buf)), sz-pos)], pos)
				if n > 0 {
					pos += int64(n)
					if err := emit(buf[:n]); err != nil {
						return err
					}
				}
				if err != nil {
					break
				}
			}
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func openIno(path string) (*os.File, uint64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	var ino uint64
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		ino = sys.Ino
	}
	return f, ino, nil
}
