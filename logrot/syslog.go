package logrot

import (
	"fmt"
	"log/syslog"
	"strings"
	"sync"
	"time"
)

// syslogRetry is how long a failed connection to the syslog daemon is
// remembered before the next attempt.
const syslogRetry = 10 * time.Second

// Syslog is one shared connection to the local syslog daemon (LOG_USER,
// LOG_INFO, like Python's syslog.syslog). It dials lazily and tolerates a
// missing daemon: lines are then dropped, as libc's syslog(3) drops them,
// and a new connection is tried at most every 10 s.
type Syslog struct {
	mu      sync.Mutex
	network string // log/syslog's Dial arguments; "" for the local daemon
	raddr   string // (tests set a unixgram socket of their own)
	tag     string
	w       *syslog.Writer
	nextTry time.Time
}

// NewSyslog returns a sink that tags messages with tag (Python uses the
// program name, "supervisord").
func NewSyslog(tag string) *Syslog {
	return &Syslog{tag: tag}
}

// Send writes one message. An error means the line did not reach a daemon.
func (s *Syslog) Send(msg string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.w == nil {
		now := time.Now()
		if now.Before(s.nextTry) {
			return fmt.Errorf("logrot: syslog unavailable")
		}
		w, err := syslog.Dial(s.network, s.raddr, syslog.LOG_INFO|syslog.LOG_USER, s.tag)
		if err != nil {
			s.nextTry = now.Add(syslogRetry)
			return fmt.Errorf("logrot: connect to syslog: %w", err)
		}
		s.w = w
	}
	if err := s.w.Info(msg); err != nil {
		return fmt.Errorf("logrot: write to syslog: %w", err)
	}
	return nil
}

// sendLines sends each line of text (trailing newlines removed), each
// prefixed with prefix, as Python's SyslogHandler does.
func (s *Syslog) sendLines(prefix, text, suffix string) error {
	var first error
	for _, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		if err := s.Send(prefix + line + suffix); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Close closes the connection, if any.
func (s *Syslog) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.w == nil {
		return nil
	}
	err := s.w.Close()
	s.w = nil
	return err
}
