package logrot

import (
	"context"
	"time"
)

// Files gives ReadFile, TailFile and following as methods, the shape of
// rpc's LogReader and LogFollower interfaces.
type Files struct {
	// Poll is the follow interval; 0 means 0.1 s as in Python.
	Poll time.Duration
}

// ReadFile is the package's ReadFile.
func (Files) ReadFile(path string, offset, length int64) ([]byte, error) {
	return ReadFile(path, offset, length)
}

// TailFile is the package's TailFile.
func (Files) TailFile(path string, offset, length int64) ([]byte, int64, bool) {
	return TailFile(path, offset, length)
}

// Follow streams path to emit: the last head bytes, then new bytes, until
// ctx is done (nil) or emit fails (its error). A missing file wraps
// ErrNoFile. emit gets its own copy of the bytes.
func (fs Files) Follow(ctx context.Context, path string, head int64, emit func([]byte) error) error {
	fl, err := NewFollower(path, head)
	if err != nil {
		return err
	}
	if fs.Poll > 0 {
		fl.SetInterval(fs.Poll)
	}
	return fl.Run(ctx, writerFunc(func(p []byte) (int, error) {
		if err := emit(append([]byte(nil), p...)); err != nil {
			return 0, err
		}
		return len(p), nil
	}))
}

// writerFunc adapts a function to io.Writer.
type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
