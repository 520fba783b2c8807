package logrot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
	"time"
)

// TruncatedMessage is what a follower sends when the file shrank.
const TruncatedMessage = "==> File truncated <==\n"

// FollowHead is how many trailing bytes a /logtail stream starts with.
const FollowHead = 1024

// DefaultFollowInterval is how often a follower checks the file (Python's
// tail_f_producer delay).
const DefaultFollowInterval = 100 * time.Millisecond

// Follower streams a growing log file like Python's tail_f_producer (the
// HTTP /logtail and /mainlogtail handlers): first the last head bytes,
// then new bytes as they appear; when the file shrinks it sends
// TruncatedMessage and restarts at 0; when the path's inode changes
// (rotation) it finishes the old file and reopens the path from 0.
type Follower struct {
	path     string
	f        *os.File
	ino      uint64
	pos      int64
	modTime  time.Time
	interval time.Duration
	buf      []byte
}

// NewFollower opens path and positions the stream head bytes before its
// end (at 0 if it is shorter). A missing file wraps ErrNoFile (HTTP 404).
func NewFollower(path string, head int64) (*Follower, error) {
	fl := &Follower{path: path, interval: DefaultFollowInterval}
	if err := fl.open(); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("logrot: follow %s: %w", path, ErrNoFile)
		}
		return nil, fmt.Errorf("logrot: follow %s: %w", path, err)
	}
	fi, err := fl.f.Stat()
	if err != nil {
		fl.f.Close()
		return nil, fmt.Errorf("logrot: follow %s: %w", path, err)
	}
	fl.modTime = fi.ModTime()
	if fi.Size() >= head {
		fl.pos = fi.Size() - head
	}
	return fl, nil
}

// SetInterval changes the polling interval (default 0.1 s).
func (fl *Follower) SetInterval(d time.Duration) { fl.interval = d }

// ModTime is the file's modification time when the follower opened it
// (the Last-Modified header).
func (fl *Follower) ModTime() time.Time { return fl.modTime }

func (fl *Follower) open() error {
	f, err := os.Open(fl.path)
	if err != nil {
		return err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		fl.ino = st.Ino
	}
	fl.f = f
	fl.pos = 0
	return nil
}

// Close releases the file.
func (fl *Follower) Close() error {
	if fl.f == nil {
		return nil
	}
	err := fl.f.Close()
	fl.f = nil
	return err
}

// Run writes to w until ctx is done (returning nil) or a write or read
// fails (returning that error). Each Write carries newly available bytes;
// wrap w to flush an HTTP response after each one.
func (fl *Follower) Run(ctx context.Context, w io.Writer) error {
	defer fl.Close()
	t := time.NewTicker(fl.interval)
	defer t.Stop()
	for {
		if err := fl.step(w); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// step sends whatever changed since the last step.
func (fl *Follower) step(w io.Writer) error {
	if fi, err := os.Stat(fl.path); err == nil {
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Ino != fl.ino {
			// Rotated: finish the old file, then start the new one at 0.
			if err := fl.sendNew(w); err != nil {
				return err
			}
			old := fl.f
			if err := fl.open(); err == nil {
				old.Close()
			}
		}
	}
	return fl.sendNew(w)
}

// sendNew sends the bytes between pos and the current size of the open
// file, or the truncation notice when it shrank.
func (fl *Follower) sendNew(w io.Writer) error {
	fi, err := fl.f.Stat()
	if err != nil {
		return fmt.Errorf("logrot: follow %s: %w", fl.path, err)
	}
	size := fi.Size()
	if size < fl.pos {
		fl.pos = 0
		if _, err := io.WriteString(w, TruncatedMessage); err != nil {
			return err
		}
		return nil
	}
	if fl.buf == nil && size > fl.pos {
		fl.buf = make([]byte, 64<<10)
	}
	for fl.pos < size {
		want := min(size-fl.pos, int64(len(fl.buf)))
		n, err := fl.f.ReadAt(fl.buf[:want], fl.pos)
		if n > 0 {
			fl.pos += int64(n)
			if _, werr := w.Write(fl.buf[:n]); werr != nil {
				return werr
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				// Shrunk while reading; the next step reports it.
				return nil
			}
			return fmt.Errorf("logrot: follow %s: %w", fl.path, err)
		}
	}
	return nil
}
