package procstat

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
)

// scan reads /proc/<pid>/stat of every process once. Processes that exit
// while the pass runs are skipped. Called with s.mu held.
func (s *Sampler) scan() ([]proc, error) {
	dir, err := os.Open(s.opts.Root)
	if err != nil {
		return nil, fmt.Errorf("procstat: %w", err)
	}
	defer dir.Close()
	if s.buf == nil {
		s.buf = make([]byte, 4096)
	}
	var procs []proc
	if s.last != nil {
		procs = make([]proc, 0, len(s.last.procs)+64)
	}
	path := make([]byte, 0, len(s.opts.Root)+32)
	for {
		names, err := dir.Readdirnames(1024)
		for _, name := range names {
			if name == "" || name[0] < '1' || name[0] > '9' {
				continue
			}
			path = append(path[:0], s.opts.Root...)
			path = append(path, '/')
			path = append(path, name...)
			path = append(path, "/stat"...)
			p, err := s.readStat(string(path))
			if err != nil {
				if errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ESRCH) {
					continue // exited meanwhile
				}
				return nil, fmt.Errorf("procstat: %s: %w", path, err)
			}
			if want, _ := parseUint([]byte(name)); uint64(p.pid) != want {
				return nil, fmt.Errorf("procstat: %s: holds pid %d", path, p.pid)
			}
			procs = append(procs, p)
		}
		if err == io.EOF {
			return procs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("procstat: read %s: %w", s.opts.Root, err)
		}
	}
}

// readStat reads and parses one stat file with a single read(2): procfs
// produces the whole line in one read when the buffer can hold it.
func (s *Sampler) readStat(path string) (proc, error) {
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return proc{}, err
	}
	n, err := readFull(fd, s.buf)
	syscall.Close(fd)
	if err != nil {
		return proc{}, err
	}
	return parseStat(s.buf[:n])
}

// readFull reads fd into buf up to a final newline or EOF, failing when
// buf is too small.
func readFull(fd int, buf []byte) (int, error) {
	n := 0
	for {
		m, err := syscall.Read(fd, buf[n:])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return n, err
		}
		if m == 0 {
			return n, nil
		}
		n += m
		if buf[n-1] == '\n' {
			return n, nil // the whole line: skip the read that sees EOF
		}
		if n == len(buf) {
			return n, errors.New("stat line longer than the read buffer")
		}
	}
}

func pageSize() int64 { return int64(os.Getpagesize()) }
