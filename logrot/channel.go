package logrot

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gosupervisor/gosupervisor/config"
)

// ChannelConfig is one output channel (stdout or stderr) of one process.
type ChannelConfig struct {
	ProcessName string // config.name, used in syslog and main log lines
	GroupName   string
	Channel     string // "stdout" or "stderr"

	// Path is the resolved log file ("" = no file). AUTO must already be
	// resolved with AutoName.
	Path string
	// MaxBytes is the rotation threshold; 0 never rotates by size. Files
	// rotate at line boundaries and never exceed it (see sink_rotate.go).
	MaxBytes   int64
	Backups    int  // 0 keeps no backup: the file is truncated on rotation
	Compress   bool // opt-in: gzip backups (lumberjack)
	MaxAgeDays int  // opt-in: delete backups older than this (lumberjack)
	// RotateEvery (opt-in) also rotates at each multiple of it in UTC.
	RotateEvery time.Duration
	// CreateAtSpawn leaves opening (and creating) the log file to Prepare
	// (each spawn) or the first write, as Python opens a program's log when
	// it spawns it; without it NewChannel opens (creates) the file.
	CreateAtSpawn bool
	// Timestamps (opt-in) stores each line with an RFC 3339 UTC
	// millisecond prefix ("2026-12-02T19:58:00.123Z "), taken when the
	// line's first bytes are read; Now is the clock (nil: time.Now).
	Timestamps bool
	Now        func() time.Time

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
	// OnOutput sees every chunk as read, before capture mode and
	// strip_ansi (a log: ready check). data is valid only during the
	// call. Setting it turns splice(2) off for the channel.
	OnOutput func(pid int, data []byte)
}

// Stats counts a channel's bytes.
type Stats struct {
	// Read is what the child wrote: bytes read from its pipes.
	Read int64
	// Written is what was stored in the log file (with timestamps on, it
	// includes their prefixes).
	Written int64
	// Dropped is what should have been stored but was not (a full disk,
	// a write error).
	Dropped   int64
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
	// detachReq asks the workers serving pipes to hand them to Detach
	// instead of reading on.
	detachReq atomic.Bool
	wg        sync.WaitGroup

	// wake wakes Settle when a stream ends or is armed (settle_linux.go).
	wake settleWake

	// midLine: the last stored byte was not a newline, so the next bytes
	// continue a line that already has its timestamp (under mu).
	midLine bool

	read, written, dropped atomic.Int64
	reads                  atomic.Int64 // read(2)/splice(2) calls that moved bytes

	// Write failures (see reportDrop): failing is set during an episode
	// of lost bytes, failLost counts them after the first report, rotLast
	// rate-limits rotation failure reports.
	errMu    sync.Mutex
	failing  atomic.Bool
	failLost int64
	rotLast  time.Time
}

// NewChannel opens the channel's log file (creating it, as Python does at
// spawn time).
func (h *Hub) NewChannel(cfg ChannelConfig) (*Channel, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	c := &Channel{hub: h, cfg: cfg, streams: make(map[*stream]struct{})}
	if cfg.Path != "" {
		s, err := h.acquireSink(sinkOptions{
			Path:        cfg.Path,
			MaxBytes:    cfg.MaxBytes,
			Backups:     cfg.Backups,
			Compress:    cfg.Compress,
			MaxAgeDays:  cfg.MaxAgeDays,
			RotateEvery: cfg.RotateEvery,
			CreateLater: cfg.CreateAtSpawn,
		})
		if err != nil {
			return nil, fmt.Errorf("logrot: %s %s: %w", cfg.ProcessName, cfg.Channel, err)
		}
		c.sink = s
		debug := cfg.MainLog != nil && cfg.MainLog.Enabled(config.LevelDebug)
		c.splice = !cfg.Listener && cfg.OnRaw == nil && cfg.OnOutput == nil && cfg.CaptureMaxBytes <= 0 && !cfg.StripANSI && !cfg.Timestamps &&
			!cfg.Syslog && !(cfg.EventsEnabled && cfg.OnLog != nil) && !debug
	}
	h.register(c)
	return c, nil
}

// Prepare creates the log file if it does not exist (procman.Preparer:
// called before each spawn). A failure fails the spawn, as Python's
// make_dispatchers does when it cannot open a log.
func (c *Channel) Prepare() error {
	if c.sink == nil {
		return nil
	}
	return c.sink.prepare()
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
	c.wake.notify() // armed
	if c.closing.Load() {
		c.claimForClose(st) // Close ran while the pipe was being armed
	}
}

// Wait blocks until every pipe given to Consume has reached EOF (or was
// stopped by Close) and its bytes are handled.
func (c *Channel) Wait() { c.wg.Wait() }

// Rotate rotates the log file now, at its last line boundary (rotateLogs);
// an empty file, a channel without one, or a target that is not a regular
// file is left alone.
func (c *Channel) Rotate() error {
	if c.sink == nil {
		return nil
	}
	if err := c.sink.Rotate(); err != nil {
		return fmt.Errorf("logrot: rotate %s %s log: %w", c.cfg.ProcessName, c.cfg.Channel, err)
	}
	return nil
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
	c.hub.unregister(c)
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
