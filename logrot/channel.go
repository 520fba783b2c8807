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
)

// ChunkSize is the most one read takes from a pipe (Python reads 128 KiB).
const ChunkSize = 128 << 10

// defaultPipe is a new pipe's capacity on Linux.
const defaultPipe = 64 << 10

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

	poller     *poller
	privileged bool         // the kernel's per-user pipe page limits do not apply
	grown      atomic.Int64 // pipes grown while not privileged (see grow)
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
	h := &Hub{syslog: s, sinks: make(map[string]*sharedSink), work: make(chan task),
		poller: newPoller(), privileged: pipeLimitsExempt()}
	h.pool.New = func() any {
		b := make([]byte, ChunkSize)
		return &b
	}
	return h
}

// workerIdle is how long an idle Hub worker waits for more work before
// it exits.
const workerIdle = 500 * time.Millisecond

// task is work handed to a Hub worker.
type task struct {
	f func()
}

// spawn runs f on a worker goroutine without waiting for it. Workers are
// started on demand (one per concurrently busy pipe, so a blocked target
// never holds up another channel) and exit when idle: the deep call chains
// of writing and hooks grow the workers' stacks, and nothing waits on an
// idle pipe but the poller.
func (h *Hub) spawn(f func()) {
	t := task{f: f}
	select {
	case h.work <- t:
	default:
		go h.worker(t)
	}
}

func (h *Hub) worker(t task) {
	timer := time.NewTimer(workerIdle)
	defer timer.Stop()
	for {
		t.f()
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
	reads                  atomic.Int64 // read(2)/splice(2) calls that moved bytes

	errMu        sync.Mutex
	errLast      time.Time
	errSuppessed int64
}

// stream is one Consume call: one pipe of one spawn, with its own capture
// and ANSI state (Python builds a new dispatcher per spawn).
type stream struct {
	c    *Channel
	fd   int      // the pipe's read end, ours alone (see Consume)
	file *os.File // set instead of fd for a file the poller cannot wait on
	pid  int
	id   uint32 // the poller's key
	epfd int    // the poller's epoll descriptor while registered

	// mu orders the hand-offs between the poller, the worker serving the
	// stream and Close; state says who has the stream.
	mu      sync.Mutex
	state   int
	pending bool // the poller saw the pipe readable while it was busy

	splice  bool
	scan    *captureScanner
	capture *boundBuffer
	ansi    ansiStripper
	// pipeCap is the pipe's capacity (the kernel default until grow);
	// grown is where grow stands.
	pipeCap int
	grown   int
}

// Stream states.
const (
	streamArmed = iota // waiting in the poller
	streamBusy         // a worker reads it
	streamDone         // closed
)

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

// Consume takes ownership of r, the read end of a child's pipe, reads it
// until EOF and closes it. Nothing waits on an idle pipe but the Hub's
// poller, and an idle pipe holds no buffer: a Hub worker takes one from
// the pool only while the pipe has bytes.
//
// The descriptor is moved out of Go's runtime poller (duplicated, and r
// closed) into the Hub's own: Go's registration is edge-triggered and
// cannot be paused, so every write of a busy child would wake an idle
// runtime thread for nothing while a worker is already reading the pipe;
// the Hub's poller disarms a pipe while it is served.
func (c *Channel) Consume(r *os.File, pid int) {
	st := c.newStream(pid)
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		r.Close()
		return
	}
	c.streams[st] = struct{}{}
	c.wg.Add(1)
	c.mu.Unlock()

	fd, err := dupFD(r)
	if err == nil {
		r.Close()
		st.fd = fd
		err = c.hub.poller.add(st)
		if err != nil {
			// Not a pipe the poller can wait on (a regular file):
			// read it with blocking reads instead.
			r = os.NewFile(uintptr(fd), "pipe")
			st.fd = -1
		}
	}
	if err != nil {
		st.mu.Lock()
		st.file = r
		st.mu.Unlock()
		go func() {
			c.readBlocking(st)
			c.end(st)
		}()
		if c.closing.Load() {
			c.stopBlocking(st)
		}
		return
	}
	if c.closing.Load() {
		c.claimForClose(st) // Close ran while the pipe was being armed
	}
}

// stopBlocking makes a stream read without the poller (see Consume) stop
// at Close: its read deadline passes (a file the runtime cannot poll ends
// at EOF instead). Bytes still in the pipe are not read on this path.
func (c *Channel) stopBlocking(st *stream) {
	st.mu.Lock()
	f := st.file
	st.mu.Unlock()
	if f != nil {
		f.SetReadDeadline(time.Now()) //nolint:errcheck // not pollable: it ends at EOF
	}
}

// claimForClose takes an armed stream from the poller and drains and ends
// it on a worker (Close); a busy stream is ended by its worker.
func (c *Channel) claimForClose(st *stream) {
	st.mu.Lock()
	if st.state != streamArmed {
		st.mu.Unlock()
		return
	}
	st.state = streamBusy
	st.mu.Unlock()
	c.hub.spawn(func() {
		c.drain(st)
		c.end(st)
	})
}

// newStream is the state of one pipe of process pid.
func (c *Channel) newStream(pid int) *stream {
	st := &stream{c: c, pid: pid, pipeCap: defaultPipe, fd: -1, epfd: -1, state: streamBusy, splice: c.splice}
	if c.cfg.CaptureMaxBytes > 0 && !c.cfg.Listener {
		st.scan = &captureScanner{}
		st.capture = &boundBuffer{max: c.cfg.CaptureMaxBytes}
	}
	return st
}

// dupFD duplicates r's descriptor (close-on-exec, still non-blocking: the
// flag belongs to the open pipe, which both descriptors share).
func dupFD(r *os.File) (int, error) {
	rc, err := r.SyscallConn()
	if err != nil {
		return -1, err
	}
	fd := -1
	var derr error
	if err := rc.Control(func(sfd uintptr) {
		r, _, e := syscall.Syscall(syscall.SYS_FCNTL, sfd, fDupFDCloexec, 0)
		if e != 0 {
			derr = e
			return
		}
		fd = int(r)
	}); err != nil {
		return -1, err
	}
	if derr != nil {
		return -1, fmt.Errorf("logrot: dup pipe: %w", derr)
	}
	return fd, nil
}

// fDupFDCloexec is F_DUPFD_CLOEXEC (linux/fcntl.h).
const fDupFDCloexec = 1030

// Wait blocks until every pipe given to Consume has reached EOF (or was
// stopped by Close) and its bytes are handled.
func (c *Channel) Wait() { c.wg.Wait() }

// ready is the poller telling that st's pipe is readable (or at EOF).
func (st *stream) ready() {
	st.mu.Lock()
	switch st.state {
	case streamArmed:
		st.state = streamBusy
		st.mu.Unlock()
		c := st.c
		c.hub.spawn(func() { c.serve(st) })
		return
	case streamBusy:
		st.pending = true
	}
	st.mu.Unlock()
}

// serve reads st on a Hub worker until the pipe is empty, then hands it
// back to the poller; at EOF, on an error or when the channel closes it
// ends the stream.
func (c *Channel) serve(st *stream) {
	for {
		if c.closing.Load() {
			c.drain(st)
			c.end(st)
			return
		}
		if !c.burst(st) {
			c.end(st)
			return
		}
		st.mu.Lock()
		if st.pending {
			st.pending = false
			st.mu.Unlock()
			continue
		}
		if c.closing.Load() {
			st.mu.Unlock()
			continue // drain and end
		}
		err := c.hub.poller.rearm(st)
		if err == nil {
			st.state = streamArmed
		}
		st.mu.Unlock()
		if err != nil {
			c.end(st)
		}
		return
	}
}

// end flushes what st held back, closes its pipe and forgets it.
func (c *Channel) end(st *stream) {
	st.mu.Lock()
	st.state = streamDone
	st.mu.Unlock()
	c.mu.Lock()
	c.finish(st)
	delete(c.streams, st)
	c.mu.Unlock()
	c.ungrow(st)
	if st.fd >= 0 {
		c.hub.poller.remove(st)
		syscall.Close(st.fd)
		st.fd = -1
	}
	st.mu.Lock()
	f := st.file
	st.mu.Unlock()
	if f != nil {
		f.Close()
	}
	c.wg.Done()
}

// hotIdle is how long a worker keeps looking at a busy pipe that went
// quiet before handing it back to the poller: long enough to ride over the
// gaps of a child that writes in bursts, short enough that a worker is not
// held by a pipe that has gone idle.
const hotIdle = 2 * time.Millisecond

// Batching of a busy pipe. A child that writes fast would otherwise be
// read one write at a time: a wakeup, a few syscalls and a scheduler round
// trip per write (most of the daemon's CPU when a child floods its log).
// Once a pipe has given bytes twice in a row it is busy: it is grown to
// bigPipe and the worker pauses batchDelay between reads that found it
// less than half full, so each read moves a large batch. A pipe that gets
// a line now and then is read at once; a busy one at most batchDelay after
// a write.
const (
	batchDelay = 500 * time.Microsecond
	bigPipe    = 1 << 20
	// maxGrownUnprivileged bounds how many pipes a daemon without
	// CAP_SYS_RESOURCE or CAP_SYS_ADMIN grows at once: the kernel charges
	// pipe pages to the user (fs.pipe-user-pages-soft, 16384 pages by
	// default) and, past that limit, gives new pipes a single page.
	maxGrownUnprivileged = 16
)

// burst reads st until it has been empty for hotIdle (true) or reaches
// EOF or fails (false).
func (c *Channel) burst(st *stream) bool {
	streak := 0 // consecutive reads that found bytes
	var quiet time.Duration
	for {
		n, more := c.stepFD(st, st.fd)
		if !more {
			return false
		}
		if c.closing.Load() {
			return true
		}
		if n > 0 {
			streak++
			quiet = 0
			if streak > 1 {
				c.grow(st)
				half := st.pipeCap / 2
				if !st.splice && half > ChunkSize/2 {
					half = ChunkSize / 2 // a read takes at most ChunkSize
				}
				if n < half {
					pause(batchDelay)
				}
			}
			continue
		}
		if streak < 2 || quiet >= hotIdle {
			return true
		}
		pause(batchDelay)
		quiet += batchDelay
	}
}

// pause sleeps d in a plain nanosleep(2) on the worker's thread: the
// worker has the pipe for the whole burst anyway, and parking the
// goroutine instead (time.Sleep) costs a round of scheduler wakeups per
// batch. The sleep is a syscall the scheduler sees, so while it lasts the
// runtime may hand the worker's P to other goroutines (RPC, other pipes);
// a raw syscall would save ~10% CPU under a flood but could hold both Ps
// of a 2-core box with two busy pipes.
func pause(d time.Duration) {
	ts := syscall.NsecToTimespec(int64(d))
	for syscall.Nanosleep(&ts, &ts) == syscall.EINTR {
	}
}

// grow gives a busy pipe bigPipe bytes of room (once per stream). It is
// best effort: a kernel that refuses (pipe-max-size, the per-user pipe
// page limits) leaves the pipe as it is.
func (c *Channel) grow(st *stream) {
	if st.grown != growNotYet {
		return
	}
	st.grown = growRefused
	if !c.hub.privileged {
		if c.hub.grown.Add(1) > maxGrownUnprivileged {
			c.hub.grown.Add(-1)
			return
		}
	}
	size := 0
	if _, _, e := syscall.Syscall(syscall.SYS_FCNTL, uintptr(st.fd), fSetPipeSz, bigPipe); e == 0 {
		if r, _, e := syscall.Syscall(syscall.SYS_FCNTL, uintptr(st.fd), fGetPipeSz, 0); e == 0 {
			size = int(r)
		}
	}
	if size <= 0 {
		if !c.hub.privileged {
			c.hub.grown.Add(-1)
		}
		return
	}
	st.grown = growDone
	st.pipeCap = size
}

// ungrow gives back a grown pipe's share of the unprivileged budget.
func (c *Channel) ungrow(st *stream) {
	if st.grown == growDone && !c.hub.privileged {
		c.hub.grown.Add(-1)
	}
	st.grown = growRefused
}

// fcntl commands for a pipe's capacity (linux/fcntl.h).
const (
	fSetPipeSz = 1031 // F_SETPIPE_SZ
	fGetPipeSz = 1032 // F_GETPIPE_SZ
)

// Pipe growth states of a stream.
const (
	growNotYet = iota
	growDone
	growRefused
)

// stepFD moves one chunk from the pipe (on a Hub worker). It returns the
// bytes moved (0 when the pipe was empty) and false at EOF or when the pipe
// fails.
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
		c.reads.Add(1)
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
	c.reads.Add(1)
	c.handle(st, (*b)[:n])
	return n, true
}

// spliceChunk moves one chunk from the pipe to the file.
func (c *Channel) spliceChunk(fd int) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, err := c.sink.spliceFrom(fd, bigPipe)
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
func (c *Channel) drain(st *stream) {
	for range drainReads {
		b := c.hub.getBuf()
		var n int
		var rerr error
		for {
			n, rerr = syscall.Read(st.fd, *b)
			if rerr != syscall.EINTR {
				break
			}
		}
		if rerr != nil || n <= 0 {
			c.hub.putBuf(b)
			return
		}
		c.handle(st, (*b)[:n])
		c.hub.putBuf(b)
	}
}

// readBlocking serves files the poller cannot wait on.
func (c *Channel) readBlocking(st *stream) {
	for {
		b := c.hub.getBuf()
		n, err := st.file.Read(*b) // st.file is set before this goroutine starts
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
	streams := make([]*stream, 0, len(c.streams))
	for st := range c.streams {
		streams = append(streams, st)
	}
	c.mu.Unlock()
	for _, st := range streams {
		c.claimForClose(st)
		c.stopBlocking(st)
	}
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
