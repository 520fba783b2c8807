package procman

import (
	"bytes"
	"os"
	"sync"
	"time"
)

// BufferSink keeps everything it reads in memory; Wait blocks until every
// pipe handed to it reached EOF.
type BufferSink struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	open    int           // pipes not yet at EOF
	changed chan struct{} // closed (and replaced) when open drops
}

// Consume reads r into the buffer in a new goroutine.
func (b *BufferSink) Consume(r *os.File, _ int) {
	b.mu.Lock()
	b.open++
	b.mu.Unlock()
	go func() {
		defer func() {
			b.mu.Lock()
			b.open--
			if b.changed != nil {
				close(b.changed)
				b.changed = nil
			}
			b.mu.Unlock()
		}()
		defer r.Close()
		chunk := make([]byte, 32*1024)
		for {
			n, err := r.Read(chunk)
			if n > 0 {
				b.mu.Lock()
				b.buf.Write(chunk[:n])
				b.mu.Unlock()
			}
			if err != nil {
				return
			}
		}
	}()
}

// Settle waits, at most timeout, until every consumed pipe reached EOF
// (BufferSink does not tell pids apart).
func (b *BufferSink) Settle(_ int, timeout time.Duration) bool {
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		b.mu.Lock()
		if b.open == 0 {
			b.mu.Unlock()
			return true
		}
		if b.changed == nil {
			b.changed = make(chan struct{})
		}
		ch := b.changed
		b.mu.Unlock()
		select {
		case <-ch:
		case <-t.C:
			return false
		}
	}
}

// Wait blocks until every consumed pipe reached EOF.
func (b *BufferSink) Wait() {
	for !b.Settle(0, time.Hour) {
	}
}

// String returns what was read so far.
func (b *BufferSink) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
