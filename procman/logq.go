package procman

import (
	"fmt"
	"time"

	"github.com/gosupervisor/gosupervisor/config"
)

// The log queue: main-log messages are queued (in order) and handed to the
// Logger by one goroutine, so a Logger that blocks (supervisord -n writing
// to a stdout nobody reads) never holds a process lock or the reaper. A
// request waits at most logWait for the messages it caused (so a client
// that reads the main log next finds them, as with Python); Close waits
// until the queue is empty.

// maxQueuedLogs bounds the messages held while the Logger is stalled; past
// it messages are counted and dropped, and the count is reported once the
// Logger takes messages again.
const maxQueuedLogs = 10000

// logWait bounds how long a request (and Shutdown) waits for the messages
// it caused to reach the Logger.
const logWait = time.Second

type logEntry struct {
	level  config.LogLevel
	msg    string
	fields *LogFields // a line about a process
}

// FieldLogger is implemented by a Logger that also wants to know which
// process a line is about (the JSON main log shows it).
type FieldLogger interface {
	LogProcess(level config.LogLevel, msg string, f LogFields)
}

// BatchLogger is implemented by a Logger that can write several lines at
// once: the lines logged while f runs are written when it returns (the
// log queue hands each batch of queued lines over so).
type BatchLogger interface {
	Batch(f func())
}

// LogFields says which process a main log line is about.
type LogFields struct {
	Process, Group string
	PID            int // 0 when there is none
	// Transition is set on the lines that report a state change (From,
	// To); ExitStatus is set on the lines that report an exit.
	Transition bool
	From, To   State
	ExitStatus *int
}

// Log queues a main-log line of the caller's (supervisord's) in order with
// procman's own lines.
func (s *Supervisor) Log(level config.LogLevel, msg string) {
	s.logFields(level, nil, "%s", msg)
}

func (s *Supervisor) logf(level config.LogLevel, format string, args ...any) {
	s.logFields(level, nil, format, args...)
}

// LevelLogger is implemented by a Logger that drops the lines below a
// level: procman then neither formats nor queues them (a stop logs a
// debug line per process).
type LevelLogger interface {
	Enabled(level config.LogLevel) bool
}

// logFields queues a line, about a process when f is set.
func (s *Supervisor) logFields(level config.LogLevel, f *LogFields, format string, args ...any) {
	if s.opts.Logger == nil {
		return
	}
	if ll, ok := s.opts.Logger.(LevelLogger); ok && !ll.Enabled(level) {
		return
	}
	s.logMu.Lock()
	if len(s.logQueue) >= maxQueuedLogs {
		s.logDropped++
		s.logMu.Unlock()
		return
	}
	s.logQueue = append(s.logQueue, logEntry{level, fmt.Sprintf(format, args...), f})
	s.logQueued++
	start := !s.logging
	s.logging = true
	s.logMu.Unlock()
	if start {
		go s.deliverLogs()
	}
}

// deliverLogs hands queued messages to the Logger until the queue is empty.
func (s *Supervisor) deliverLogs() {
	s.logMu.Lock()
	for len(s.logQueue) > 0 {
		batch := s.logQueue
		s.logQueue = nil
		dropped := s.logDropped
		s.logDropped = 0
		s.logMu.Unlock()
		s.logBatch(batch, dropped)
		// The waiters (awaitLogs) are woken once per batch, not per line.
		s.logMu.Lock()
		s.logDone += uint64(len(batch))
		s.logIdle.Broadcast()
	}
	s.logging = false
	s.logIdle.Broadcast()
	s.logMu.Unlock()
}

// logBatch hands one batch of queued lines to the Logger, at once if it
// is a BatchLogger.
func (s *Supervisor) logBatch(batch []logEntry, dropped int) {
	write := func() {
		fl, _ := s.opts.Logger.(FieldLogger)
		for _, e := range batch {
			if fl != nil && e.fields != nil {
				fl.LogProcess(e.level, e.msg, *e.fields)
			} else {
				s.opts.Logger.Log(e.level, e.msg)
			}
		}
		if dropped > 0 {
			s.opts.Logger.Log(config.LevelWarn, fmt.Sprintf("%d main log messages were dropped while the log output was blocked", dropped))
		}
	}
	if bl, ok := s.opts.Logger.(BatchLogger); ok && len(batch) > 1 {
		bl.Batch(write)
		return
	}
	write()
}

// flushLogs returns once every message queued so far was handed to the
// Logger (it blocks as long as the Logger does).
func (s *Supervisor) flushLogs() {
	s.logMu.Lock()
	for s.logging {
		s.logIdle.Wait()
	}
	s.logMu.Unlock()
}

// awaitLogs waits until the messages queued so far reached the Logger, or
// logWait has passed (a stalled Logger).
func (s *Supervisor) awaitLogs() {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	target := s.logQueued
	if s.logDone >= target || s.logStuck && s.logDone == s.logStuckAt {
		// Done, or the Logger has not moved since a wait gave up on it:
		// a thousand-process request must not wait a second per process.
		return
	}
	expired := false
	t := time.AfterFunc(logWait, func() {
		s.logMu.Lock()
		expired = true
		s.logIdle.Broadcast()
		s.logMu.Unlock()
	})
	defer t.Stop()
	for s.logDone < target && !expired {
		s.logIdle.Wait()
	}
	s.logStuck, s.logStuckAt = s.logDone < target, s.logDone
}
