package logrot

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gopkg.in/natefinch/lumberjack.v2"
)

// ljMaxSizeMB is lumberjack's own size limit, in megabytes, set out of the
// way (1 PiB) because fileSink counts bytes itself and calls Rotate at a
// line boundary (sink_rotate.go).
const ljMaxSizeMB = 1 << 30

// sinkOptions configures a log file target.
type sinkOptions struct {
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
	// CreateLater leaves opening (and creating) the file to the first
	// prepare (a spawn) or write: Python opens a program's log when it
	// spawns it, so a log never created is NO_FILE to readers and one that
	// cannot be opened fails the spawn, with nothing logged before.
	CreateLater bool
	// RotateEvery, when set, also rotates a non-empty file at every
	// multiple of it in UTC (each hour, at midnight UTC, Monday 00:00 UTC).
	RotateEvery time.Duration
	// WholeWrites keeps each write in one file when it fits in MaxBytes
	// (the main log: a write is one record, possibly of several lines).
	WholeWrites bool
}

// fileSink is one log file: it appends, counts bytes and rotates. Targets
// that are not regular files (/dev/stdout, a FIFO, a tty) are never seeked,
// rotated, truncated or removed.
//
// All writes go through the sink's own descriptor. lumberjack is used for
// what it is good at, rotation: Rotate renames the live file to its
// timestamped backup name, creates the new file with the old one's mode and
// owner, and prunes or compresses old backups; the sink then reopens the
// path. The descriptor is not O_APPEND (splice(2) refuses O_APPEND files):
// every write to a regular file first seeks to the end, which also tells the
// sink the file's true size, so an external truncation (copytruncate) is
// noticed at once, as Python's tell() notices it.
type fileSink struct {
	mu      sync.Mutex
	opt     sinkOptions
	regular bool
	f       *os.File
	lj      *lumberjack.Logger // rotation with backups > 0
	// pruner removes backups beyond opt.Backups in the background (the
	// Hub's); nil prunes in the rotating goroutine (the main log).
	pruner *pruner
	size   int64 // bytes in the live file
	// lastRotate is a time after lumberjack's last Rotate returned; the next
	// rotation waits until the wall clock has left that millisecond so two
	// backups never get the same timestamped name (which would overwrite).
	lastRotate time.Time
	rotations  atomic.Int64
	closed     bool
	// unopened is true until a CreateLater sink first opens its file: it
	// is not regular yet, so nothing rotates, reopens or clears it (Python
	// has no dispatcher for a program that never spawned).
	unopened bool
	noSplice bool // splice(2) failed once with this target
	// rotateFailed is when the last rotation failed (zero: it did not);
	// rotateErr is that failure, until a write reports it.
	rotateFailed time.Time
	rotateErr    error
	// lineStart is where the live file's unterminated last line starts
	// (== size when it ends with a newline); lineKnown is false when bytes
	// went in unseen (splice, an existing file, an external change) until
	// findLineStart reads the file's tail.
	lineStart int64
	lineKnown bool
	// timer fires the next RotateEvery rotation at nextRotate; now is the
	// clock (time.Now; tests replace it).
	timer      *time.Timer
	nextRotate time.Time
	now        func() time.Time
	// failRotate and failWrite, set only by tests, make rotate and writes
	// fail.
	failRotate func() error
	failWrite  func() error
}

// openSink opens (creating if needed) the file at opt.Path for appending.
func openSink(opt sinkOptions) (*fileSink, error) {
	if opt.Path == "" {
		return nil, errors.New("logrot: empty log file path")
	}
	s := &fileSink{opt: opt, now: time.Now}
	if opt.CreateLater && !isSpecialPath(opt.Path) {
		s.unopened = true
		return s, nil
	}
	if err := s.open(); err != nil {
		return nil, err
	}
	s.release()
	s.mu.Lock()
	s.schedule()
	s.mu.Unlock()
	return s, nil
}

// release closes a regular file's descriptor until the next write needs
// it (which reopens it by name). A process that never prints holds no
// descriptor for its logs, and the daemon's descriptor table stays small:
// every fork copies that table and every exec closes it again, so at 1,000
// processes two idle log descriptors each would add some 2,000 closes to
// every spawn. The file itself exists from its program's first spawn (or
// from the start without CreateLater), as Python creates it at spawn time.
// Callers hold s.mu or own s.
func (s *fileSink) release() {
	if s.regular && s.f != nil {
		s.f.Close()
		s.f = nil
	}
}

// open (re)opens the target, creating it with mode 0666 minus the umask
// as Python's open(path, 'ab') does.
func (s *fileSink) open() error {
	flags := os.O_WRONLY | os.O_CREATE
	special := isSpecialPath(s.opt.Path)
	if special {
		// /dev/stdout may be a shell redirect to a regular file that
		// supervisord's own stdout also writes: append, never seek.
		flags |= os.O_APPEND
	}
	f, err := os.OpenFile(s.opt.Path, flags, 0o666)
	if err != nil {
		return fmt.Errorf("logrot: open log file: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("logrot: stat log file: %w", err)
	}
	s.regular = fi.Mode().IsRegular() && !special
	s.size = 0
	if s.regular {
		s.size = fi.Size()
		if s.opt.Backups > 0 && s.lj == nil {
			s.lj = s.newLumberjack()
		}
	}
	s.lineStart, s.lineKnown = 0, s.size == 0
	s.f = f
	s.unopened = false
	return nil
}

// prepare makes sure the file exists before a spawn, creating it if needed
// as Python's spawn does when it opens the log (mode 'ab'); a file this
// sink holds open is left alone. A file opened for the first time gets its
// RotateEvery timer.
func (s *fileSink) prepare() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fs.ErrClosed
	}
	if s.f != nil {
		return nil
	}
	first := s.unopened
	if err := s.open(); err != nil {
		return err
	}
	s.release()
	if first {
		s.schedule()
	}
	return nil
}

// setOptions applies new rotation settings (a config reload while the old
// Channel on the same path still drains). lumberjack reads its settings
// from its mill goroutine, so a changed Logger is replaced, not mutated;
// it holds no open file between rotations.
func (s *fileSink) setOptions(opt sinkOptions) {
	s.mu.Lock()
	defer s.mu.Unlock()
	opt.Path = s.opt.Path
	if opt == s.opt {
		return
	}
	s.opt = opt
	s.lj = nil
	if s.regular && opt.Backups > 0 {
		s.lj = s.newLumberjack()
	}
	s.schedule()
}

func (s *fileSink) newLumberjack() *lumberjack.Logger {
	// No MaxBackups: the sink prunes (prune.go); lumberjack's mill then
	// lists the directory only for compress or maxage.
	return &lumberjack.Logger{
		Filename: s.opt.Path,
		MaxSize:  ljMaxSizeMB,
		MaxAge:   s.opt.MaxAgeDays,
		Compress: s.opt.Compress,
	}
}

// isSpecialPath reports whether path names a device or a descriptor
// (/dev/stdout, /dev/stderr, /dev/fd/N, /proc/self/fd/N, /dev/null): such a
// target is never rotated, truncated or removed, even when it resolves to a
// regular file. A regular file that merely lives under /dev or /proc (a log
// on /dev/shm) is not special: it rotates as any other, as under Python.
func isSpecialPath(path string) bool {
	p := filepath.Clean(path)
	if !strings.HasPrefix(p, "/dev/") && !strings.HasPrefix(p, "/proc/") {
		return false
	}
	// Lstat: /dev/stdout and the descriptor links are symbolic links
	// (what they point to may be a regular file), devices are devices; a
	// file not there yet is created as a regular file.
	fi, err := os.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return false
	}
	return err != nil || !fi.Mode().IsRegular()
}

// rotating reports whether this sink ever rotates.
func (s *fileSink) rotating() bool {
	return s.regular && s.opt.MaxBytes > 0
}

// seekEnd positions the descriptor at the end of a regular file and
// records the file's size. Callers hold s.mu.
func (s *fileSink) seekEnd() error {
	if !s.regular {
		return nil
	}
	end, err := s.f.Seek(0, io.SeekEnd)
	if err != nil {
		return pathErr("seek", s.opt.Path, err)
	}
	if end != s.size {
		s.lineKnown = false // another writer, or a truncation (copytruncate)
	}
	s.size = end
	return nil
}

// closeFiles closes whatever is open. Callers hold s.mu.
func (s *fileSink) closeFiles() error {
	var err error
	if s.f != nil {
		err = s.f.Close()
		s.f = nil
	}
	return err
}

// Reopen closes and reopens the file by name (SIGUSR2, after an external
// logrotate moved it away).
func (s *fileSink) Reopen() error { return s.closeAndOpen("reopen", nil) }

// Clear removes the file and opens a fresh one (Python's handler.remove()
// followed by reopen()). A target that is not a regular file is only
// reopened, never removed: Python would unlink /dev/stdout.
func (s *fileSink) Clear() error {
	return s.closeAndOpen("clear", func() error {
		if !s.regular {
			return nil
		}
		if err := os.Remove(s.opt.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return pathErr("remove", s.opt.Path, err)
		}
		return nil
	})
}

// closeAndOpen closes the files and opens them again, running between
// (when given) while they are closed. When between fails the file is
// opened again all the same, to keep logging to it, and its error is
// returned with the open's.
func (s *fileSink) closeAndOpen(why string, between func() error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fs.ErrClosed
	}
	if s.unopened {
		// Never created (the program never spawned): Python has no
		// dispatcher to reopen or clear either.
		return nil
	}
	if err := s.closeFiles(); err != nil {
		return pathErr("close for "+why, s.opt.Path, err)
	}
	if between != nil {
		if err := between(); err != nil {
			return errors.Join(err, s.open())
		}
	}
	if err := s.open(); err != nil {
		return err
	}
	s.release()
	return nil
}

// Close closes the file; later writes fail with fs.ErrClosed.
func (s *fileSink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if s.timer != nil {
		s.timer.Stop()
	}
	return s.closeFiles()
}

// Size is the live file's size as counted by the sink.
func (s *fileSink) Size() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.size
}

// Rotations counts rotations since the sink was opened.
func (s *fileSink) Rotations() int64 { return s.rotations.Load() }

// pathErr wraps an error about the log file at path as "logrot: op path:
// err", saying the path once: an *fs.PathError (what an *os.File returns)
// already names it, and its operation too when that is op.
func pathErr(op, path string, err error) error {
	var pe *fs.PathError
	switch {
	case !errors.As(err, &pe) || pe.Path != path:
		return fmt.Errorf("logrot: %s %s: %w", op, path, err)
	case pe.Op == op:
		return fmt.Errorf("logrot: %w", err)
	default:
		return fmt.Errorf("logrot: %s: %w", op, err)
	}
}
