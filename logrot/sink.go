package logrot

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"time"

	"gopkg.in/natefinch/lumberjack.v2"
)

// ljMaxSizeMB is lumberjack's own size limit, in megabytes, set out of the
// way (1 PiB) because fileSink counts bytes itself and calls Rotate at the
// exact threshold.
const ljMaxSizeMB = 1 << 30

// SinkOptions configures a log file target.
type SinkOptions struct {
	// Path is the resolved file path. It must not be empty.
	Path string
	// MaxBytes is the rotation threshold in bytes; 0 never rotates.
	MaxBytes int64
	// Backups is how many rotated files are kept; 0 keeps none (the file
	// is truncated on rotation), as in supervisord.
	Backups int
	// Compress gzips rotated backups (lumberjack's option; opt-in).
	Compress bool
	// MaxAgeDays removes backups older than this many days (lumberjack's
	// option; 0 keeps them regardless of age).
	MaxAgeDays int
	// AfterWrite selects Python's rule: rotate after a write once the size
	// is >= MaxBytes, so a file may exceed MaxBytes by less than one write
	// and a write is never split. The default (false) splits writes so every
	// rotated file holds exactly MaxBytes bytes.
	AfterWrite bool
}

// fileSink is one log file: it appends, counts bytes and rotates. Targets
// that are not regular files (/dev/stdout, a FIFO, a tty) are never seeked,
// rotated, truncated or removed.
type fileSink struct {
	mu      sync.Mutex
	opt     SinkOptions
	regular bool
	f       *os.File           // when lj is nil
	lj      *lumberjack.Logger // rotation with backups > 0
	size    int64              // bytes in the live file as far as we know
	// lastRotate is a time after lumberjack's last Rotate returned; the next
	// rotation waits until the wall clock has left that millisecond so two
	// backups never get the same timestamped name (which would overwrite).
	lastRotate time.Time
	rotations  int64
	closed     bool
}

// openSink opens (creating if needed) the file at opt.Path for appending.
func openSink(opt SinkOptions) (*fileSink, error) {
	if opt.Path == "" {
		return nil, errors.New("logrot: empty log file path")
	}
	s := &fileSink{opt: opt}
	if err := s.open(); err != nil {
		return nil, err
	}
	return s, nil
}

// open (re)opens the target. The file is created by us with mode 0666 minus
// the umask, as Python's open(path, 'ab') does, so lumberjack (which would
// create 0600 files) only ever opens an existing file and copies its mode to
// the files it creates on rotation.
func (s *fileSink) open() error {
	f, err := os.OpenFile(s.opt.Path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o666)
	if err != nil {
		return fmt.Errorf("logrot: open log file: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("logrot: stat log file: %w", err)
	}
	s.regular = fi.Mode().IsRegular()
	s.size = fi.Size()
	if !s.regular {
		s.size = 0
	}
	if s.regular && s.opt.MaxBytes > 0 && s.opt.Backups > 0 {
		// lumberjack opens the (now existing) file itself on first Write.
		f.Close()
		if s.lj == nil {
			s.lj = &lumberjack.Logger{
				Filename:   s.opt.Path,
				MaxSize:    ljMaxSizeMB,
				MaxBackups: s.opt.Backups,
				MaxAge:     s.opt.MaxAgeDays,
				Compress:   s.opt.Compress,
			}
		}
		return nil
	}
	s.f = f
	return nil
}

// rotating reports whether this sink ever rotates.
func (s *fileSink) rotating() bool {
	return s.regular && s.opt.MaxBytes > 0
}

func (s *fileSink) rawWrite(p []byte) (int, error) {
	if s.lj != nil {
		return s.lj.Write(p)
	}
	if s.f == nil {
		return 0, errors.New("logrot: log file is not open")
	}
	return s.f.Write(p)
}

// Write appends p, rotating at the configured threshold. It returns the
// number of bytes of p that reached a file.
func (s *fileSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, fs.ErrClosed
	}
	written := 0
	for len(p) > 0 {
		chunk := p
		if s.rotating() && !s.opt.AfterWrite {
			room := s.opt.MaxBytes - s.size
			if room <= 0 {
				if err := s.rotate(); err != nil {
					return written, err
				}
				continue
			}
			if int64(len(chunk)) > room {
				chunk = chunk[:room]
			}
		}
		n, err := s.rawWrite(chunk)
		s.size += int64(n)
		written += n
		p = p[n:]
		if err != nil {
			return written, fmt.Errorf("logrot: write %s: %w", s.opt.Path, err)
		}
		if s.rotating() && s.opt.AfterWrite && s.size >= s.opt.MaxBytes {
			if err := s.rotate(); err != nil {
				return written, err
			}
		}
	}
	return written, nil
}

// rotate moves the live file aside (or truncates it when Backups is 0).
// Callers hold s.mu.
func (s *fileSink) rotate() error {
	// Someone may have truncated the file behind our back (copytruncate):
	// trust the file system over our count before discarding anything.
	if fi, err := os.Stat(s.opt.Path); err == nil && fi.Size() < s.size {
		s.size = fi.Size()
		if s.size < s.opt.MaxBytes {
			return nil
		}
	}
	if s.lj == nil {
		// backups=0: Python closes the file and reopens it with 'wb'.
		if s.f != nil {
			s.f.Close()
			s.f = nil
		}
		f, err := os.OpenFile(s.opt.Path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|os.O_TRUNC, 0o666)
		if err != nil {
			return fmt.Errorf("logrot: truncate log file on rotation: %w", err)
		}
		s.f = f
		s.size = 0
		s.rotations++
		return nil
	}
	if !s.lastRotate.IsZero() {
		last := s.lastRotate.UnixMilli()
		for {
			now := time.Now()
			if now.UnixMilli() > last {
				break
			}
			time.Sleep(time.Duration(1e6 - now.Nanosecond()%1e6))
		}
	}
	err := s.lj.Rotate()
	s.lastRotate = time.Now()
	if err != nil {
		return fmt.Errorf("logrot: rotate %s: %w", s.opt.Path, err)
	}
	s.size = 0
	s.rotations++
	return nil
}

// closeFiles closes whatever is open. Callers hold s.mu.
func (s *fileSink) closeFiles() error {
	var err error
	if s.f != nil {
		err = s.f.Close()
		s.f = nil
	}
	if s.lj != nil {
		err = errors.Join(err, s.lj.Close())
	}
	return err
}

// Reopen closes and reopens the file by name (SIGUSR2, after an external
// logrotate moved it away).
func (s *fileSink) Reopen() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fs.ErrClosed
	}
	if err := s.closeFiles(); err != nil {
		return fmt.Errorf("logrot: close %s for reopen: %w", s.opt.Path, err)
	}
	return s.open()
}

// Clear removes the file and opens a fresh one (Python's handler.remove()
// followed by reopen()). A target that is not a regular file is only
// reopened, never removed: Python would unlink /dev/stdout.
func (s *fileSink) Clear() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fs.ErrClosed
	}
	if err := s.closeFiles(); err != nil {
		return fmt.Errorf("logrot: close %s for clear: %w", s.opt.Path, err)
	}
	if s.regular {
		if err := os.Remove(s.opt.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			// Keep logging to the file we could not remove.
			return errors.Join(fmt.Errorf("logrot: remove %s: %w", s.opt.Path, err), s.open())
		}
	}
	return s.open()
}

// Close closes the file; later writes fail with fs.ErrClosed.
func (s *fileSink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	return s.closeFiles()
}

// Size is the live file's size as counted by the sink.
func (s *fileSink) Size() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.size
}

// Rotations counts rotations since the sink was opened.
func (s *fileSink) Rotations() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rotations
}
