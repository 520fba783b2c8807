package logrot

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// ChunkSize is the most one read takes from a pipe (Python reads 128 KiB).
const ChunkSize = 128 << 10

// drainReads bounds how many reads Close makes to empty a pipe.
const drainReads = 64

// errorReportEvery rate-limits "log write failed" lines in the main log.
const errorReportEvery = 10 * time.Second

// Hub holds what every Channel shares: the read buffer pool and the syslog
// connection. Create one per supervisord.
type Hub struct {
	pool   sync.Pool
	syslog *Syslog
	inUse  atomic.Int64 // buffers taken from the pool and not yet returned

	// sinks shares one open file between every Channel that logs to the
	// same path (stdout_logfile = stderr_logfile, or several processes on
	// one file): one lock, one size count, one rotation. Python opens one
	// handler per channel, each rotating on its own.
	sinkMu sync.Mutex
	sinks  map[string]*sharedSink

	work chan task // to an idle worker (see do)
}

type sharedSink struct {
	sink *fileSink
	refs int
}

// acquireSink opens opt.Path, or shares the sink already open on it (the
// newest rotation settings then apply to every channel on the path).
func (h *Hub) acquireSink(opt sinkOptions) (*fileSink, error) {
	key := filepath.Clean(opt.Path)
	h.sinkMu.Lock()
	defer h.sinkMu.Unlock()
	if sh, ok := h.sinks[key]; ok {
		sh.refs++
		sh.sink.setOptions(opt) // the newest configuration wins
		return sh.sink, nil
	}
	s, err := openSink(opt)
	if err != nil {
		return nil, err
	}
	h.sinks[key] = &sharedSink{sink: s, refs: 1}
	return s, nil
}

// releaseSink closes s when its last Channel lets go of it.
func (h *Hub) releaseSink(s *fileSink) error {
	key := filepath.Clean(s.opt.Path)
	h.sinkMu.Lock()
	sh, ok := h.sinks[key]
	if ok && sh.sink == s {
		sh.refs--
		if sh.refs > 0 {
			h.sinkMu.Unlock()
			return nil
		}
		delete(h.sinks, key)
	}
	h.sinkMu.Unlock()
	return s.Close()
}

// NewHub returns a Hub whose channels send syslog lines through s (nil: a
// connection tagged "supervisord" is made on first use).
func NewHub(s *Syslog) *Hub {
	if s == nil {
		s = NewSyslog("supervisord")
	}
	h := &Hub{syslog: s, sinks: make(map[string]*sharedSink), work: make(chan task)}
	h.pool.New = func() any {
		b := make([]byte, ChunkSize)
		return &b
	}
	return h
}

// workerIdle is how long an idle Hub worker waits for more work before
// it exits.
const workerIdle = 500 * time.Millisecond

// task is work handed to a Hub worker; done is signalled when it is over.
type task struct {
	f    func()
	done chan struct{}
}

// do runs f on a worker goroutine and waits for it. Workers are started on
// demand (one per concurrently busy pipe, so a blocked target never holds
// up another channel) and exit when idle: the deep call chains of writing
// and hooks grow the workers' stacks, not the stacks of the thousands of
// goroutines waiting on idle pipes.
func (h *Hub) do(done chan struct{}, f func()) {
	t := task{f: f, done: done}
	select {
	case h.work <- t:
	default:
		go h.worker(t)
	}
	<-done
}

func (h *Hub) worker(t task) {
	timer := time.NewTimer(workerIdle)
	defer timer.Stop()
	for {
		t.f()
		t.done <- struct{}{}
		timer.Reset(workerIdle)
		select {
		case t = <-h.work:
		case <-timer.C:
			return
		}
	}
}

// Close closes the shared syslog connection.
func (h *Hub) Close() error { return h.syslog.Close() }

func (h *Hub) getBuf() *[]byte {
	h.inUse.Add(1)
	return h.pool.Get().(*[]byte)
}

func (h *Hub) putBuf(b *[]byte) {
	h.inUse.Add(-1)
	h.pool.Put(b)
}

// BuffersInUse is how many read buffers are held right now (readers that
// are between a read and the end of handling it). Idle pipes hold none.
func (h *Hub) BuffersInUse() int64 { return h.inUse.Load() }

// ChannelConfig is one output channel (stdout or stderr) of one process.
type ChannelConfig struct {
	ProcessName string // config.name, used in syslog and main log lines
	GroupName   string
	Channel     string // "stdout" or "stderr"

	// Path is the resolved log file ("" = no file). AUTO must already be
	// resolved with AutoName.
	Path string
	// MaxBytes is the rotation threshold; 0 never rotates. A read is split
	// so every rotated file holds exactly MaxBytes bytes.
	MaxBytes   int64
	Backups    int  // 0 keeps no backup: the file is truncated on rotation
	Compress   bool // opt-in: gzip backups (lumberjack)
	MaxAgeDays int  // opt-in: delete backups older than this (lumberjack)

	Syslog          bool  // *_syslog: each chunk to syslog as "<name> <line>"
	StripANSI       bool  // supervisord strip_ansi
	CaptureMaxBytes int64 // >0 enables capture mode
	EventsEnabled   bool  // *_events_enabled: call OnLog per chunk

	// Listener marks an event listener's stdout: chunks go to OnRaw (the
	// listener protocol) and to the file only; no capture mode, no syslog,
	// no PROCESS_LOG, and the main log DEBG line shows the bytes' repr, all
	// as Python's PEventListenerDispatcher does.
	Listener bool

	// MainLog, when set and at loglevel debug or lower, gets
	// "DEBG '<name>' stdout output:\n<data>" for each chunk, and write
	// errors at ERRO.
	MainLog *MainLog

	// Hooks. Each gets its own copy of the bytes. They are called in
	// output order, one at a time per channel, with the channel locked
	// (on a Hub worker): they must not call back into the Channel, and a
	// slow hook slows the child down (backpressure), never loses data.
	OnLog           func(pid int, data []byte) // PROCESS_LOG_<channel> payload data
	OnCommunication func(pid int, data []byte) // PROCESS_COMMUNICATION_<channel> data
	OnRaw           func(pid int, data []byte) // raw stdout of an event listener
}

// Stats counts a channel's bytes.
type Stats struct {
	Read      int64 // bytes read from pipes
	Written   int64 // bytes written to the log file
	Dropped   int64 // bytes that should have reached the file but did not (write errors)
	Rotations int64
}

// Channel captures one output channel of a process: it reads the pipes it
// is given and routes the bytes to the log file, syslog, the main log and
// the event hooks. It survives process restarts: each spawn hands it the
// new pipe with Consume.
type Channel struct {
	hub  *Hub
	cfg  ChannelConfig
	sink *fileSink // nil: no file
	// splice: the bytes need no inspection (only a file gets them), so
	// they move pipe -> file with splice(2), without a buffer.
	splice bool

	mu      sync.Mutex
	streams map[*stream]struct{}
	closed  bool
	closing atomic.Bool // set by Close before it sets the read deadlines
	wg      sync.WaitGroup

	read, written, dropped atomic.Int64

	errMu        sync.Mutex
	errLast      time.Time
	errSuppessed int64
}

// stream is one Consume call: one pipe of one spawn, with its own capture
// and ANSI state (Python builds a new dispatcher per spawn).
type stream struct {
	r      *os.File
	pid    int
	done   chan struct{} // a Hub worker finished a task for this stream
	splice bool
	// step's callback and results, kept here so a chunk allocates nothing.
	control func(fd uintptr)
	moved   int
	more    bool
	scan    *captureScanner
	capture *boundBuffer
	ansi    ansiStripper
}

// NewChannel opens the channel's log file (creating it, as Python does at
// spawn time).
func (h *Hub) NewChannel(cfg ChannelConfig) (*Channel, error) {
	c := &Channel{hub: h, cfg: cfg, streams: make(map[*stream]struct{})}
	if cfg.Path != "" {
		s, err := h.acquireSink(sinkOptions{
			Path:       cfg.Path,
			MaxBytes:   cfg.MaxBytes,
			Backups:    cfg.Backups,
			Compress:   cfg.Compress,
			MaxAgeDays: cfg.MaxAgeDays,
		})
		if err != nil {
			return nil, fmt.Errorf("logrot: %s %s: %w", cfg.ProcessName, cfg.Channel, err)
		}
		c.sink = s
		debug := cfg.MainLog != nil && cfg.MainLog.Enabled(LevelDebug)
		c.splice = !cfg.Listener && cfg.OnRaw == nil && cfg.CaptureMaxBytes <= 0 && !cfg.StripANSI &&
			!cfg.Syslog && !(cfg.EventsEnabled && cfg.OnLog != nil) && !debug
	}
	return c, nil
}

// Path is the log file ("" when there is none).
func (c *Channel) Path() string { return c.cfg.Path }

// Config returns the channel's configuration.
func (c *Channel) Config() ChannelConfig { return c.cfg }

// Stats returns the byte counters.
func (c *Channel) Stats() Stats {
	st := Stats{Read: c.read.Load(), Written: c.written.Load(), Dropped: c.dropped.Load()}
	if c.sink != nil {
		st.Rotations = c.sink.Rotations()
	}
	return st
}

// Consume takes ownership of r, the read end of a child's pipe (from
// os.Pipe, so it is non-blocking and in the runtime poller; do not call
// r.Fd(), which makes it blocking), reads it until EOF in its own goroutine
// and closes it. An idle pipe holds no buffer: a buffer is taken from the
// pool only while the fd is readable.
func (c *Channel) Consume(r *os.File, pid int) {
	st := c.newStream(r, pid)
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		r.Close()
		return
	}
	c.streams[st] = struct{}{}
	c.wg.Add(1)
	c.mu.Unlock()
	go c.run(st)
}

func (c *Channel) newStream(r *os.File, pid int) *stream {
	st := &stream{r: r, pid: pid, done: make(chan struct{}, 1)}
	if c.cfg.CaptureMaxBytes > 0 && !c.cfg.Listener {
		st.scan = &captureScanner{}
		st.capture = &boundBuffer{max: c.cfg.CaptureMaxBytes}
	}
	return st
}

// Wait blocks until every pipe given to Consume has reached EOF (or was
// stopped by Close) and its bytes are handled.
func (c *Channel) Wait() { c.wg.Wait() }

// run is a pipe's goroutine. It stays shallow, so its stack stays at the
// minimum while the pipe is idle: the readiness check is a zero-timeout
// ppoll, and the reading, writing and hooks (deep call chains) run on a Hub
// worker, which keeps serving the pipe for as long as bytes keep coming
// (see burst).
func (c *Channel) run(st *stream) {
	defer c.wg.Done()
	defer func() {
		c.hub.do(st.done, func() {
			c.mu.Lock()
			c.finish(st)
			delete(c.streams, st)
			c.mu.Unlock()
		})
		st.r.Close()
	}()
	rc, err := st.r.SyscallConn()
	if err != nil {
		c.hub.do(st.done, func() { c.readBlocking(st) })
		return
	}
	st.splice = c.splice
	more := true
	burst := func() { more = c.burst(st, rc) }
	drain := func() { c.drain(st, rc) }
	for more {
		if c.closing.Load() {
			c.hub.do(st.done, drain)
			return
		}
		err := rc.Read(readable)
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				c.hub.do(st.done, drain)
			}
			return
		}
		c.hub.do(st.done, burst)
	}
}

// hotIdle is how long a worker keeps waiting on a pipe that went quiet
// before handing it back to its shallow goroutine.
const hotIdle = 50 * time.Millisecond

// burst serves a pipe on a Hub worker until it has been quiet for hotIdle.
// It returns false at EOF or when the pipe fails.
func (c *Channel) burst(st *stream, rc syscall.RawConn) bool {
	for {
		n, more := c.step(st, rc)
		if !more {
			return false
		}
		if n > 0 {
			continue
		}
		if c.closing.Load() {
			return true // run drains
		}
		st.r.SetReadDeadline(time.Now().Add(hotIdle)) //nolint:errcheck // pollable: see Consume
		err := rc.Read(readable)
		st.r.SetReadDeadline(time.Time{}) //nolint:errcheck // run checks closing before waiting again
		if err != nil {
			return true // quiet (or closing): back to run
		}
	}
}

// readable reports whether a read on fd would not block (data, EOF or an
// error), with a zero-timeout ppoll(2) that consumes nothing.
func readable(fd uintptr) bool {
	pfd := [1]pollFd{{fd: int32(fd), events: pollIn}}
	var ts syscall.Timespec
	for {
		n, _, errno := syscall.Syscall6(syscall.SYS_PPOLL, uintptr(unsafe.Pointer(&pfd[0])), 1,
			uintptr(unsafe.Pointer(&ts)), 0, 0, 0)
		if errno == syscall.EINTR {
			continue
		}
		// On a ppoll failure let the read find out what is wrong.
		return errno != 0 || n > 0
	}
}

// pollFd is struct pollfd.
type pollFd struct {
	fd      int32
	events  int16
	revents int16
}

const pollIn = 0x1 // POLLIN

// step moves one chunk from the pipe (on a Hub worker). It returns the
// bytes moved (0 when the pipe was empty) and false at EOF or when the pipe
// fails.
func (c *Channel) step(st *stream, rc syscall.RawConn) (int, bool) {
	if st.control == nil {
		// Built once per stream: a closure per chunk would be an
		// allocation per chunk.
		st.control = func(fd uintptr) { st.moved, st.more = c.stepFD(st, int(fd)) }
	}
	st.moved, st.more = 0, true
	err := rc.Control(st.control)
	return st.moved, err == nil && st.more
}

// stepFD is step's work on the pipe's descriptor.
func (c *Channel) stepFD(st *stream, fd int) (moved int, more bool) {
	if st.splice {
		n, serr := c.spliceChunk(fd)
		switch {
		case serr == syscall.EAGAIN:
			return 0, true // nothing after all
		case serr == nil && n == 0:
			return 0, false // EOF
		case serr != nil:
			// The bytes are still in the pipe: read them and let Write
			// deal with (and report) the problem.
			st.splice = false
			return 0, true
		}
		return n, true
	}
	b := c.hub.getBuf()
	defer c.hub.putBuf(b)
	var n int
	var rerr error
	for {
		n, rerr = syscall.Read(fd, *b)
		if rerr != syscall.EINTR {
			break
		}
	}
	if rerr == syscall.EAGAIN {
		return 0, true
	}
	if rerr != nil || n <= 0 {
		return 0, false // EOF, or an error such as EBADF: the pipe is done
	}
	c.handle(st, (*b)[:n])
	return n, true
}

// spliceChunk moves one chunk from the pipe to the file.
func (c *Channel) spliceChunk(fd int) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, err := c.sink.spliceFrom(fd, ChunkSize)
	if n > 0 {
		c.read.Add(int64(n))
		c.written.Add(int64(n))
	}
	if err != errSinkFull {
		return n, err
	}
	// At the rotation threshold: read the next chunk, so the file is
	// rotated only when bytes for the new one exist (not at EOF).
	b := c.hub.getBuf()
	defer c.hub.putBuf(b)
	for {
		n, err = syscall.Read(fd, *b)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil || n <= 0 {
		return 0, err
	}
	c.read.Add(int64(n))
	c.writeFile((*b)[:n])
	return n, nil
}

// drain reads what is already in the pipe without waiting (Close).
func (c *Channel) drain(st *stream, rc syscall.RawConn) {
	for range drainReads {
		var n int
		var rerr error
		b := c.hub.getBuf()
		cerr := rc.Control(func(fd uintptr) {
			for {
				n, rerr = syscall.Read(int(fd), *b)
				if rerr != syscall.EINTR {
					return
				}
			}
		})
		if cerr != nil || rerr != nil || n <= 0 {
			c.hub.putBuf(b)
			return
		}
		c.handle(st, (*b)[:n])
		c.hub.putBuf(b)
	}
}

// readBlocking serves files that cannot give a RawConn.
func (c *Channel) readBlocking(st *stream) {
	for {
		b := c.hub.getBuf()
		n, err := st.r.Read(*b)
		if n > 0 {
			c.handle(st, (*b)[:n])
		}
		c.hub.putBuf(b)
		if err != nil {
			return
		}
	}
}

func clone(p []byte) []byte {
	return append([]byte(nil), p...)
}

// handle routes one chunk read from st.
func (c *Channel) handle(st *stream, data []byte) {
	c.read.Add(int64(len(data)))
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cfg.OnRaw != nil {
		c.cfg.OnRaw(st.pid, clone(data))
	}
	if c.cfg.Listener {
		if m := c.cfg.MainLog; m != nil && m.Enabled(LevelDebug) {
			m.Log(LevelDebug, pyStrRepr(c.cfg.ProcessName)+" "+c.cfg.Channel+" output:\n"+pyBytesRepr(data))
		}
		if c.cfg.StripANSI {
			data = st.ansi.strip(data)
		}
		c.writeFile(data)
		return
	}
	if st.scan == nil {
		c.logData(st, data, false)
		return
	}
	st.scan.scan(data, func(s segment) { c.segment(st, s) })
}

// finish flushes what a stream held back at EOF. Callers hold c.mu.
func (c *Channel) finish(st *stream) {
	if st.scan != nil {
		st.scan.flush(func(s segment) { c.segment(st, s) })
	}
	if c.cfg.StripANSI {
		if esc := st.ansi.flush(); esc != nil {
			if c.cfg.Listener {
				c.writeFile(esc)
			} else {
				c.logStripped(st, esc, st.scan != nil && st.scan.capturing)
			}
		}
	}
}

// segment handles a capture-scanner segment. Callers hold c.mu.
func (c *Channel) segment(st *stream, s segment) {
	if !s.toggle {
		c.logData(st, s.data, s.capturing)
		return
	}
	if s.capturing {
		return // BEGIN: the capture buffer starts empty
	}
	// END: emit PROCESS_COMMUNICATION with the captured bytes.
	data := st.capture.buf
	st.capture.reset()
	if c.cfg.OnCommunication != nil {
		if data == nil {
			data = []byte{}
		}
		c.cfg.OnCommunication(st.pid, data)
	}
	if m := c.cfg.MainLog; m != nil {
		m.Logf(LevelDebug, "%s %s emitted a comm event", pyStrRepr(c.cfg.ProcessName), c.cfg.Channel)
	}
}

// logData is Python's POutputDispatcher._log. Callers hold c.mu.
func (c *Channel) logData(st *stream, data []byte, capturing bool) {
	if len(data) == 0 {
		return
	}
	if c.cfg.StripANSI {
		data = st.ansi.strip(data)
		if len(data) == 0 {
			return
		}
	}
	c.logStripped(st, data, capturing)
}

func (c *Channel) logStripped(st *stream, data []byte, capturing bool) {
	if capturing {
		st.capture.write(data)
	} else {
		c.writeFile(data)
		if c.cfg.Syslog {
			c.hub.syslog.sendLines(c.cfg.ProcessName+" ", string(data), "") //nolint:errcheck // no daemon: dropped like syslog(3)
		}
	}
	if m := c.cfg.MainLog; m != nil {
		m.childOutput(c.cfg.ProcessName, c.cfg.Channel, data)
	}
	if c.cfg.EventsEnabled && c.cfg.OnLog != nil {
		c.cfg.OnLog(st.pid, clone(data))
	}
}

// writeFile appends to the log file; a failure is counted and reported to
// the main log (rate-limited), never silent. Callers hold c.mu.
func (c *Channel) writeFile(data []byte) {
	if c.sink == nil || len(data) == 0 {
		return
	}
	n, err := c.sink.Write(data)
	c.written.Add(int64(n))
	if err != nil {
		lost := int64(len(data) - n)
		c.dropped.Add(lost)
		c.reportDrop(err, lost)
	}
}

// reportDrop reports a write or rotation failure in the main log (or on
// stderr without one), at most once per errorReportEvery with the bytes
// lost meanwhile.
func (c *Channel) reportDrop(err error, lost int64) {
	c.errMu.Lock()
	defer c.errMu.Unlock()
	now := time.Now()
	if !c.errLast.IsZero() && now.Sub(c.errLast) < errorReportEvery {
		c.errSuppessed += lost
		return
	}
	lost += c.errSuppessed
	c.errSuppessed = 0
	c.errLast = now
	var msg string
	var rerr *rotateError
	if lost == 0 && errors.As(err, &rerr) {
		msg = fmt.Sprintf("%s %s log rotation failed, the file grows past maxbytes: %v", pyStrRepr(c.cfg.ProcessName), c.cfg.Channel, err)
	} else {
		msg = fmt.Sprintf("%s %s log write failed, %d bytes not logged: %v", pyStrRepr(c.cfg.ProcessName), c.cfg.Channel, lost, err)
	}
	if c.cfg.MainLog != nil {
		c.cfg.MainLog.Log(LevelError, msg)
	} else {
		fmt.Fprintln(os.Stderr, "supervisord: "+msg)
	}
}

// flushDropReport reports bytes lost since the last (rate-limited) report.
func (c *Channel) flushDropReport() {
	c.errMu.Lock()
	lost := c.errSuppessed
	c.errSuppessed = 0
	c.errMu.Unlock()
	if lost == 0 {
		return
	}
	msg := fmt.Sprintf("%s %s log write failed, %d more bytes not logged", pyStrRepr(c.cfg.ProcessName), c.cfg.Channel, lost)
	if c.cfg.MainLog != nil {
		c.cfg.MainLog.Log(LevelError, msg)
	} else {
		fmt.Fprintln(os.Stderr, "supervisord: "+msg)
	}
}

// Reopen reopens the log file by name (SIGUSR2 after an external logrotate).
func (c *Channel) Reopen() error {
	if c.sink == nil {
		return nil
	}
	return c.sink.Reopen()
}

// Clear is clearProcessLogs for this channel: the file is removed and
// reopened empty, and any partly captured text is dropped.
func (c *Channel) Clear() error {
	c.mu.Lock()
	for st := range c.streams {
		if st.capture != nil {
			st.capture.reset()
		}
	}
	c.mu.Unlock()
	if c.sink == nil {
		return nil
	}
	return c.sink.Clear()
}

// Close stops the channel: pipes still being read are drained of what they
// already hold and closed, then the log file is closed.
func (c *Channel) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.closing.Store(true)
	for st := range c.streams {
		st.r.SetReadDeadline(time.Now()) //nolint:errcheck // not pollable: it ends at EOF
	}
	c.mu.Unlock()
	c.wg.Wait()
	c.flushDropReport()
	if c.sink == nil {
		return nil
	}
	if err := c.hub.releaseSink(c.sink); err != nil && !errors.Is(err, fs.ErrClosed) {
		return fmt.Errorf("logrot: close %s %s log: %w", c.cfg.ProcessName, c.cfg.Channel, err)
	}
	return nil
}
