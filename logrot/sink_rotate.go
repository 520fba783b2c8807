package logrot

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// Rotation happens at a line boundary. When a write does not fit in what
// is left of maxbytes, the file is rotated after the last complete line
// that fits; a line that started earlier in the file and is still open is
// moved to the new file (the old one is truncated where it started), so no
// line shorter than maxbytes is ever split across two files and no file
// grows past maxbytes. A line longer than maxbytes starts a new file and
// is cut at maxbytes, the fewest cuts possible.

// rotateRetry is how long a failed rotation is not retried; meanwhile the
// file grows past maxbytes, as Python's does when doRollover fails.
const rotateRetry = time.Second

// room is how many bytes may be written before the next rotation (-1: no
// limit: the file does not rotate by size, or a rotation failed recently).
// It (re)opens the file when needed. Callers hold s.mu.
func (s *fileSink) room() (int64, error) {
	if s.f == nil {
		// Released, or a reopen failed (the directory was gone?).
		if err := s.open(); err != nil {
			return 0, err
		}
	}
	if err := s.seekEnd(); err != nil {
		return 0, err
	}
	if !s.rotating() || s.rotateSuppressed() {
		return -1, nil
	}
	return max(s.opt.MaxBytes-s.size, 0), nil
}

// rotateSuppressed reports whether a rotation failed less than rotateRetry
// ago. Callers hold s.mu.
func (s *fileSink) rotateSuppressed() bool {
	return !s.rotateFailed.IsZero() && time.Since(s.rotateFailed) < rotateRetry
}

// Write appends p, rotating at a line boundary before the file would grow
// past maxbytes. It returns the number of bytes of p that reached a file.
func (s *fileSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, fs.ErrClosed
	}
	written := 0
	for len(p) > 0 {
		room, err := s.room()
		if err != nil {
			return written, err
		}
		if room < 0 || int64(len(p)) <= room {
			n, err := s.write(p)
			return written + n, errors.Join(err, s.takeRotateErr())
		}
		// p does not fit: find where the file ends.
		end := -1 // bytes of p that go into this file
		if !(s.opt.WholeWrites && int64(len(p)) <= s.opt.MaxBytes) {
			if i := bytes.LastIndexByte(p[:room], '\n'); i >= 0 {
				end = i + 1 // after the last line that fits
			}
		}
		if end < 0 {
			// No line ends in the room left. The open line starts in
			// this file (it moves to the next one) or at its start: then
			// it is longer than maxbytes and is cut here.
			if ls := s.findLineStart(); ls == 0 && s.size > 0 || s.size == 0 {
				end = int(room)
			}
		}
		if end > 0 {
			n, err := s.write(p[:end])
			written += n
			p = p[n:]
			if err != nil {
				return written, err
			}
		}
		if err := s.rotateAtLine(); err != nil {
			return written, err
		}
	}
	return written, s.takeRotateErr()
}

// writeIfFits appends p in one write when it fits before the rotation
// point (or the file never rotates), as Write would, and reports whether
// it did; otherwise it writes nothing (nor when the file cannot be
// reached: Write meets and reports that). MainLog.Batch writes a batch of
// lines so.
func (s *fileSink) writeIfFits(p []byte) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false, nil
	}
	room, err := s.room()
	if err != nil || room >= 0 && int64(len(p)) > room {
		return false, nil
	}
	_, err = s.write(p)
	return true, errors.Join(err, s.takeRotateErr())
}

// write appends p to the live file and keeps the size and line state.
// Callers hold s.mu, after room.
func (s *fileSink) write(p []byte) (int, error) {
	var n int
	var err error
	if s.failWrite != nil {
		err = s.failWrite()
	}
	if err == nil {
		n, err = s.f.Write(p)
	}
	if i := bytes.LastIndexByte(p[:n], '\n'); i >= 0 {
		s.lineStart, s.lineKnown = s.size+int64(i)+1, true
	}
	s.size += int64(n)
	if err != nil {
		return n, pathErr("write", s.opt.Path, err)
	}
	return n, nil
}

// tailBlock is how much findLineStart reads per step.
const tailBlock = 64 << 10

// Carrying an open line into the new file: up to carryInMemory bytes are
// held in memory, longer ones (up to maxbytes) go through a temporary file
// beside the log. Without maxbytes (a forced or timed rotation) a line is
// carried only up to carryNoMax bytes; a longer one is split there.
const (
	carryInMemory = 1 << 20
	carryNoMax    = 1 << 20
)

// carryLimit is the longest open line rotateAtLine moves to the new file.
func (s *fileSink) carryLimit() int64 {
	if s.opt.MaxBytes > 0 {
		return s.opt.MaxBytes
	}
	return carryNoMax
}

// findLineStart returns where the live file's last, unterminated line
// starts (size when the file ends with a newline), reading the file's tail
// backwards when bytes went in unseen, at most carryLimit bytes: when no
// newline is found that far back (or on a read error) it returns size, so
// the open line is split rather than carried. Callers hold s.mu.
func (s *fileSink) findLineStart() int64 {
	if s.lineKnown && s.lineStart <= s.size {
		if s.lineStart > 0 && s.size-s.lineStart > s.carryLimit() {
			return s.size
		}
		return s.lineStart
	}
	f, err := os.Open(s.opt.Path)
	if err != nil {
		return s.size
	}
	defer f.Close()
	floor := max(s.size-s.carryLimit(), 0)
	buf := make([]byte, min(tailBlock, s.size))
	for end := s.size; end > floor; {
		start := max(end-tailBlock, floor)
		b := buf[:end-start]
		if _, err := f.ReadAt(b, start); err != nil {
			return s.size
		}
		if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
			s.lineStart, s.lineKnown = start+int64(i)+1, true
			return s.lineStart
		}
		end = start
	}
	if floor > 0 {
		return s.size // longer than we carry: not remembered, the file changes
	}
	s.lineStart, s.lineKnown = 0, true
	return 0
}

// rotateAtLine rotates the live file at its last line boundary: an open
// line (one that started after the file's first byte) is cut out of the
// old file and written at the start of the new one. Callers hold s.mu.
func (s *fileSink) rotateAtLine() error {
	var carry *lineCarry
	if ls := s.findLineStart(); ls > 0 && ls < s.size {
		c, err := s.takeCarry(ls)
		if err == nil {
			carry = c
			s.size = ls
		}
		// else the line is split, nothing is lost
	}
	s.tryRotate()
	if carry == nil {
		return nil
	}
	defer carry.close()
	if s.f == nil {
		if err := s.open(); err != nil {
			return fmt.Errorf("logrot: %d bytes of an open line lost on rotation: %w", carry.n, err)
		}
	}
	if err := s.seekEnd(); err != nil {
		return err
	}
	if err := carry.writeTo(s); err != nil {
		return fmt.Errorf("logrot: open line lost on rotation: %w", err)
	}
	return nil
}

// lineCarry holds an open line between the old file and the new one.
type lineCarry struct {
	n   int64
	mem []byte   // the bytes, or
	tmp *os.File // a temporary file holding them
}

// takeCarry copies the live file's bytes from ls on and truncates the file
// there. Callers hold s.mu, with s.f open.
func (s *fileSink) takeCarry(ls int64) (*lineCarry, error) {
	c := &lineCarry{n: s.size - ls}
	rf, err := os.Open(s.opt.Path)
	if err != nil {
		return nil, err
	}
	defer rf.Close()
	if c.n <= carryInMemory {
		c.mem = make([]byte, c.n)
		if _, err := rf.ReadAt(c.mem, ls); err != nil {
			return nil, err
		}
	} else {
		tmp, err := os.CreateTemp(filepath.Dir(s.opt.Path), "."+filepath.Base(s.opt.Path)+".carry-*")
		if err != nil {
			return nil, err
		}
		os.Remove(tmp.Name()) //nolint:errcheck // unlinked at once: nothing to clean up later
		c.tmp = tmp
		if _, err := io.Copy(tmp, io.NewSectionReader(rf, ls, c.n)); err != nil {
			c.close()
			return nil, err
		}
	}
	if err := s.f.Truncate(ls); err != nil {
		c.close()
		return nil, err
	}
	return c, nil
}

// writeTo appends the carried bytes to s's live file. Callers hold s.mu.
func (c *lineCarry) writeTo(s *fileSink) error {
	if c.tmp == nil {
		_, err := s.write(c.mem)
		return err
	}
	if _, err := c.tmp.Seek(0, io.SeekStart); err != nil {
		return err
	}
	n, err := io.Copy(s.f, c.tmp)
	s.size += n // an open line: no newline in it
	return err
}

func (c *lineCarry) close() {
	if c.tmp != nil {
		c.tmp.Close()
	}
}

// tryRotate rotates unless a rotation failed less than rotateRetry ago.
// A failure is kept in rotateErr for Write to report. Callers hold s.mu.
func (s *fileSink) tryRotate() bool {
	if s.rotateSuppressed() {
		return false
	}
	if err := s.rotate(); err != nil {
		s.rotateFailed = time.Now()
		s.rotateErr = err
		if s.f == nil {
			s.open() //nolint:errcheck // the next write retries and reports
		}
		return false
	}
	s.rotateFailed = time.Time{}
	return true
}

// rotateError is returned by a write whose bytes all reached the file but
// whose rotation failed.
type rotateError struct{ Err error }

func (e *rotateError) Error() string { return e.Err.Error() }
func (e *rotateError) Unwrap() error { return e.Err }

// takeRotateErr returns and clears a pending rotation failure.
func (s *fileSink) takeRotateErr() error {
	if s.rotateErr == nil {
		return nil
	}
	err := &rotateError{Err: s.rotateErr}
	s.rotateErr = nil
	return err
}

// rotate moves the live file aside (or truncates it when Backups is 0) and
// reopens the path. Callers hold s.mu.
func (s *fileSink) rotate() error {
	if s.failRotate != nil {
		if err := s.failRotate(); err != nil {
			return err
		}
	}
	if s.f != nil {
		s.f.Close()
		s.f = nil
	}
	if s.lj == nil {
		// backups=0: Python closes the file and reopens it with 'wb'.
		f, err := os.OpenFile(s.opt.Path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o666)
		if err != nil {
			return fmt.Errorf("logrot: truncate log file on rotation: %w", err)
		}
		s.f = f
		s.size = 0
		s.lineStart, s.lineKnown = 0, true
		s.rotations.Add(1)
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
	if err == nil {
		s.pruneBackups()
	}
	// lumberjack keeps the new file open; the sink writes through its own.
	err = errors.Join(err, s.lj.Close())
	if err != nil {
		err = fmt.Errorf("logrot: rotate %s: %w", s.opt.Path, err)
	}
	if oerr := s.open(); oerr != nil {
		return errors.Join(err, oerr)
	}
	s.rotations.Add(1)
	return err
}

// pruneBackups removes the backups beyond opt.Backups: soon, through the
// pruner, or now without one. Callers hold s.mu.
func (s *fileSink) pruneBackups() {
	if s.pruner != nil {
		s.pruner.request(s.opt.Path, s.opt.Backups)
		return
	}
	pruneDir(filepath.Dir(s.opt.Path), map[pruneSpec]int{specFor(s.opt.Path): s.opt.Backups})
}

// Rotate rotates a non-empty regular file now, at its last line boundary
// (rotateLogs, rotate_every). A target that is not a regular file, or an
// empty file, is left alone.
func (s *fileSink) Rotate() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fs.ErrClosed
	}
	err := s.rotateNow()
	return errors.Join(err, s.takeRotateErr())
}

// rotateNow is Rotate with s.mu held; a failed rotation stays in rotateErr.
func (s *fileSink) rotateNow() error {
	if !s.regular {
		return nil
	}
	if _, err := s.room(); err != nil {
		return err
	}
	if s.size == 0 {
		return nil
	}
	s.rotateFailed = time.Time{} // asked for: try now
	return s.rotateAtLine()
}

// nextBoundary is the first multiple of every (counted in UTC from year 1,
// a Monday) after now.
func nextBoundary(now time.Time, every time.Duration) time.Time {
	return now.UTC().Truncate(every).Add(every)
}

// schedule arms the RotateEvery timer for the next boundary (or stops it).
// Callers hold s.mu or own s.
func (s *fileSink) schedule() {
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
	if s.opt.RotateEvery <= 0 || !s.regular || s.closed {
		s.nextRotate = time.Time{}
		return
	}
	now := s.now()
	s.nextRotate = nextBoundary(now, s.opt.RotateEvery)
	s.timer = time.AfterFunc(s.nextRotate.Sub(now), s.timedRotate)
}

// timedRotate is the RotateEvery timer: at or after the boundary it rotates
// a non-empty file (a failure waits for the next write or boundary to be
// reported and retried) and arms the next one.
func (s *fileSink) timedRotate() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	if s.now().Before(s.nextRotate) {
		// The wall clock is behind the timer (it was set back): wait.
		s.timer = time.AfterFunc(s.nextRotate.Sub(s.now()), s.timedRotate)
		return
	}
	if err := s.rotateNow(); err != nil && s.rotateErr == nil {
		s.rotateErr = err // the next write reports it
	}
	s.release()
	s.schedule()
}
