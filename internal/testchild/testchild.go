// Package testchild owns what tests need around the child processes they
// start: a goroutine-safe buffer for a child's output, and (Linux) a
// setuid-root copy of the test binary that makes itself root so that an
// unprivileged parent can no longer signal it. For tests only.
package testchild

import (
	"bytes"
	"sync"
)

// Buffer is a bytes.Buffer safe for a writer goroutine (the copier of a
// child's output) and readers. The zero value is ready to use.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns what was written so far.
func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
