package logrot

import (
	"os"
	"sync"
	"syscall"
)

// Hand-over of a channel's pipes (supervisord's in-place upgrade). Detach
// stops reading every pipe at a chunk boundary: each chunk already read
// has been handled (written to the file, given to the hooks) and nothing
// more is read, so the bytes a child writes from then on wait in the
// kernel's pipe for whoever reads the descriptor next: this process again
// after Attach (an upgrade that failed), or the new image after an exec.
// No byte is read twice and none is lost.

// Pipe is one detached pipe: the read end, still open, and the pid of the
// child whose output it carries.
type Pipe struct {
	FD  int
	PID int
}

// streamDetached: the stream was handed out by Detach.
const streamDetached = streamDone + 1

// Detach stops every pipe of the channel at a chunk boundary and returns
// the read ends, open; the caller owns them (Attach gives them back). What
// a stream held back for capture mode or strip_ansi is flushed first.
// Output arriving meanwhile waits in the pipes. The log file stays open.
func (c *Channel) Detach() []Pipe {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.detachReq.Store(true)
	sts := make([]*stream, 0, len(c.streams))
	for st := range c.streams {
		sts = append(sts, st)
	}
	c.mu.Unlock()

	var out []Pipe
	for _, st := range sts {
		if fd, ok := c.detachStream(st); ok {
			out = append(out, Pipe{FD: fd, PID: st.pid})
		}
	}
	c.detachReq.Store(false)
	return out
}

// detachStream waits until no worker serves st, then takes it out of the
// poller. It reports false for a stream that ended meanwhile, or one read
// with blocking reads (not a pipe).
func (c *Channel) detachStream(st *stream) (int, bool) {
	for {
		st.mu.Lock()
		switch st.state {
		case streamArmed:
			st.state = streamDetached
			st.mu.Unlock()
			return c.release(st), true
		case streamDetached:
			st.mu.Unlock()
			return c.release(st), true
		case streamDone:
			st.mu.Unlock()
			return -1, false
		}
		if st.fd < 0 {
			st.mu.Unlock()
			return -1, false
		}
		// Busy: the worker hands it over at its next check (serve).
		ch := st.detached
		if ch == nil {
			ch = make(chan struct{})
			st.detached = ch
		}
		st.mu.Unlock()
		<-ch
	}
}

// release forgets a detached stream and returns its descriptor.
func (c *Channel) release(st *stream) int {
	c.hub.poller.remove(st)
	c.mu.Lock()
	c.finish(st)
	delete(c.streams, st)
	c.mu.Unlock()
	c.ungrow(st)
	fd := st.fd
	st.fd = -1
	c.wg.Done()
	return fd
}

// handOver is the worker's side of Detach: st is busy and a Detach waits
// for it. st.mu is held.
func (st *stream) handOver() {
	st.state = streamDetached
	if st.detached != nil {
		close(st.detached)
		st.detached = nil
	}
}

// Attach reads pipes again: those Detach returned (an upgrade that did not
// happen) or those a previous image handed over. Each descriptor is owned
// by the channel from then on.
func (c *Channel) Attach(pipes []Pipe) {
	for _, p := range pipes {
		c.Consume(os.NewFile(uintptr(p.FD), "pipe"), p.PID)
	}
}

// DetachAll detaches every open channel of the hub at once (each waits for
// its busy pipes in parallel).
func DetachAll(chs []*Channel) [][]Pipe {
	out := make([][]Pipe, len(chs))
	var wg sync.WaitGroup
	for i, c := range chs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = c.Detach()
		}()
	}
	wg.Wait()
	return out
}

// ClosePipes closes detached descriptors nobody will read.
func ClosePipes(pipes []Pipe) {
	for _, p := range pipes {
		syscall.Close(p.FD)
	}
}
