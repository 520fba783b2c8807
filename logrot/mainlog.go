package logrot

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync"
	"time"

	"github.com/gosupervisor/gosupervisor/config"
	"github.com/gosupervisor/gosupervisor/internal/pyrepr"
)

// SyslogTarget is the literal logfile value that sends the main log to
// syslog.
const SyslogTarget = "syslog"

// MainLogOptions configures the main supervisord log.
type MainLogOptions struct {
	// Logfile is an absolute path, or "syslog".
	Logfile string
	// MaxBytes and Backups are logfile_maxbytes and logfile_backups. A
	// record that does not fit rotates the file first, so a record is never
	// split and no file exceeds MaxBytes.
	MaxBytes int64
	Backups  int
	// Compress and MaxAgeDays are lumberjack's opt-in extras for backups;
	// RotateEvery (opt-in) also rotates at each multiple of it in UTC.
	Compress    bool
	MaxAgeDays  int
	RotateEvery time.Duration
	// JSON (logfile_format = json) writes one JSON object per line
	// instead of Python's text lines (see LogProcess).
	JSON bool
	// Level is the loglevel; lower levels are not logged.
	Level config.LogLevel
	// Stdout, when set, gets a copy of every line (nodaemon and not
	// silent: pass os.Stdout).
	Stdout io.Writer
	// Syslog is the connection used when Logfile is "syslog"; nil creates
	// one tagged "supervisord".
	Syslog *Syslog
	// Now replaces time.Now in tests.
	Now func() time.Time
}

// MainLog is the supervisord log: `YYYY-MM-DD HH:MM:SS,mmm LEVL message`
// lines in local time, to a rotating file or to syslog, optionally copied
// to stdout. It is safe for concurrent use.
type MainLog struct {
	mu     sync.Mutex
	opt    MainLogOptions
	sink   *fileSink // nil for syslog
	syslog *Syslog
	buf    []byte
	// failing is set while writes to the file fail (see emit).
	failing bool
	// held counts the Batch calls under way; meanwhile lines collect in
	// pending (ends: where each one ends) instead of being written.
	held    int
	pending []byte
	ends    []int
}

// NewMainLog opens the main log.
func NewMainLog(opt MainLogOptions) (*MainLog, error) {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	m := &MainLog{opt: opt}
	if opt.Logfile == SyslogTarget {
		m.syslog = opt.Syslog
		if m.syslog == nil {
			m.syslog = NewSyslog("supervisord")
		}
		return m, nil
	}
	sink, err := openSink(sinkOptions{
		Path:        opt.Logfile,
		MaxBytes:    opt.MaxBytes,
		Backups:     opt.Backups,
		Compress:    opt.Compress,
		MaxAgeDays:  opt.MaxAgeDays,
		RotateEvery: opt.RotateEvery,
		WholeWrites: true,
	})
	if err != nil {
		return nil, fmt.Errorf("logrot: main log: %w", err)
	}
	m.sink = sink
	return m, nil
}

// Level is the configured log level.
func (m *MainLog) Level() config.LogLevel { return m.opt.Level }

// Enabled reports whether a message at level would be logged.
func (m *MainLog) Enabled(level config.LogLevel) bool { return level >= m.opt.Level }

// Path is the log file's path, or "" when the main log goes to syslog.
func (m *MainLog) Path() string {
	if m.sink == nil {
		return ""
	}
	return m.opt.Logfile
}

// Target is the logfile value as configured (a path or "syslog"); Python
// puts it in NO_FILE fault strings.
func (m *MainLog) Target() string { return m.opt.Logfile }

// formatTime renders Python's asctime: local time, milliseconds truncated.
func formatTime(t time.Time) string {
	return t.Format("2006-01-02 15:04:05,000")
}

// Log writes msg at level if the level is enabled.
func (m *MainLog) Log(level config.LogLevel, msg string) {
	if !m.Enabled(level) {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.emit(level, msg, nil)
}

// Logf formats and logs at level.
func (m *MainLog) Logf(level config.LogLevel, format string, args ...any) {
	if !m.Enabled(level) {
		return
	}
	m.Log(level, fmt.Sprintf(format, args...))
}

// ProcessFields says which process a main log line is about. The text
// format shows only the message; the JSON format adds the fields that
// are set.
type ProcessFields struct {
	Process    string
	Group      string
	PID        int    // 0: not known
	FromState  string // a state change's states ("" for other lines)
	ToState    string
	ExitStatus *int // set for lines about an exit
}

// LogProcess writes msg, a line about a process, at level.
func (m *MainLog) LogProcess(level config.LogLevel, msg string, f ProcessFields) {
	if !m.Enabled(level) {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.emit(level, msg, &f)
}

// jsonRecord is one line of the JSON format.
type jsonRecord struct {
	Time       string `json:"time"`
	Level      string `json:"level"`
	Msg        string `json:"msg"`
	Process    string `json:"process,omitempty"`
	Group      string `json:"group,omitempty"`
	PID        int    `json:"pid,omitempty"`
	FromState  string `json:"from_state,omitempty"`
	ToState    string `json:"to_state,omitempty"`
	ExitStatus *int   `json:"exit_status,omitempty"`
}

// jsonTime is RFC 3339 in UTC with milliseconds.
const jsonTime = "2006-01-02T15:04:05.000Z07:00"

// appendJSON appends the JSON line of one record.
func appendJSON(b []byte, now time.Time, level config.LogLevel, msg string, f *ProcessFields) []byte {
	r := jsonRecord{Time: now.UTC().Format(jsonTime), Level: level.Description(), Msg: msg}
	if f != nil {
		r.Process, r.Group, r.PID = f.Process, f.Group, f.PID
		r.FromState, r.ToState, r.ExitStatus = f.FromState, f.ToState, f.ExitStatus
	}
	buf := bytes.NewBuffer(b)
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)              // "> than" stays readable
	if err := enc.Encode(r); err != nil { // not reachable: strings and ints only
		return append(b, "{\"msg\":\"unencodable log record\"}\n"...)
	}
	return buf.Bytes()
}

// emit writes one record to every handler. Callers hold m.mu. A handler
// error is reported on stderr, as Python's Handler.handleError does.
func (m *MainLog) emit(level config.LogLevel, msg string, f *ProcessFields) {
	now := m.opt.Now()
	ts := formatTime(now)
	lvl := level.Name()
	b := m.buf[:0]
	if m.held > 0 {
		b = m.pending
	}
	start := len(b)
	if m.opt.JSON {
		b = appendJSON(b, now, level, msg, f)
	} else {
		b = append(b, ts...)
		b = append(b, ' ')
		b = append(b, lvl...)
		b = append(b, ' ')
		b = append(b, msg...)
		b = append(b, '\n')
	}
	if m.held > 0 {
		m.pending = b
		m.ends = append(m.ends, len(b))
	} else {
		m.buf = b
		if m.opt.Stdout != nil {
			m.opt.Stdout.Write(b[start:]) //nolint:errcheck // like Python, EPIPE on stdout is ignored
		}
		m.writeFile(b[start:])
	}
	if m.syslog != nil {
		m.syslog.sendLines(ts+" "+lvl+" ", msg, "\n") //nolint:errcheck // no daemon: dropped like syslog(3)
	}
}

// writeFile writes whole lines to the file. A failure is reported on
// stderr once, not once per line, until a write works again (report).
// Callers hold m.mu.
func (m *MainLog) writeFile(b []byte) {
	if m.sink == nil {
		return
	}
	_, err := m.sink.Write(b)
	m.report(err)
}

// report tells stderr when writes to the file start or stop failing.
// Callers hold m.mu.
func (m *MainLog) report(err error) {
	switch {
	case err != nil && !errors.Is(err, fs.ErrClosed):
		if !m.failing {
			m.failing = true
			fmt.Fprintf(os.Stderr, "supervisord: main log: %v (lines are dropped until it can be written)\n", err)
		}
	case err == nil && m.failing:
		m.failing = false
		fmt.Fprintf(os.Stderr, "supervisord: main log: writing resumed\n")
	}
}

// Batch runs f, which logs several lines, and writes the lines logged
// meanwhile (by f or anyone else, in order) when it returns: one write to
// stdout and, when they all fit before the file's rotation point, one
// write to the file, instead of a write to each (and a seek) per line.
// Lines that would cross the rotation point are written one by one, so
// the file rotates before the same line as without Batch. Syslog lines go
// out at once. f must not block on anything that waits for the log.
func (m *MainLog) Batch(f func()) {
	m.mu.Lock()
	m.held++
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		m.held--
		if m.held == 0 {
			m.flushHeld()
		}
	}()
	f()
}

// flushHeld writes the lines a Batch held back. Callers hold m.mu.
func (m *MainLog) flushHeld() {
	b, ends := m.pending, m.ends
	m.pending, m.ends = b[:0], ends[:0]
	if len(b) == 0 {
		return
	}
	if m.opt.Stdout != nil {
		m.opt.Stdout.Write(b) //nolint:errcheck // like Python, EPIPE on stdout is ignored
	}
	if m.sink == nil {
		return
	}
	if len(ends) > 1 {
		if ok, err := m.sink.writeIfFits(b); ok {
			m.report(err)
			return
		}
	}
	start := 0
	for _, end := range ends {
		m.writeFile(b[start:end])
		start = end
	}
}

// Rotate rotates the main log file now, at its last line boundary
// (rotateLogs('main')); ErrNoFile when the main log goes to syslog.
func (m *MainLog) Rotate() error {
	if m.sink == nil {
		return fmt.Errorf("logrot: rotate main log %s: %w", m.opt.Logfile, ErrNoFile)
	}
	if err := m.sink.Rotate(); err != nil {
		return fmt.Errorf("logrot: rotate main log: %w", err)
	}
	return nil
}

// handlers is how many of Python's handlers have a reopen method (stdout,
// file or syslog); Clear logs "reopening log file" once per handler.
func (m *MainLog) handlers() int {
	n := 1
	if m.opt.Stdout != nil {
		n++
	}
	return n
}

// Reopen logs "supervisord logreopen" and reopens the file by name (SIGUSR2).
func (m *MainLog) Reopen() error {
	m.Log(config.LevelInfo, "supervisord logreopen")
	if m.sink == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.sink.Reopen()
}

// Clear is the clearLog RPC: ErrNoFile when the log is syslog or the file
// does not exist, ErrFailed (wrapped) when it cannot be removed; otherwise
// the file is removed and reopened empty.
func (m *MainLog) Clear() error {
	if m.sink == nil {
		return fmt.Errorf("logrot: clear main log %s: %w", m.opt.Logfile, ErrNoFile)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, err := os.Stat(m.opt.Logfile); err != nil {
		return fmt.Errorf("logrot: clear main log: %w", ErrNoFile)
	}
	if m.sink.regular {
		if err := os.Remove(m.opt.Logfile); err != nil {
			return fmt.Errorf("logrot: clear main log: %w: %w", ErrFailed, err)
		}
	}
	// Python logs this through every handler just before reopening it, so
	// it reaches stdout and the removed file, never the new one.
	if m.Enabled(config.LevelInfo) {
		for range m.handlers() {
			m.emit(config.LevelInfo, "reopening log file", nil)
		}
	}
	if err := m.sink.Reopen(); err != nil {
		return fmt.Errorf("logrot: clear main log: %w: %w", ErrFailed, err)
	}
	return nil
}

// Close closes the log file (the syslog connection is the caller's when it
// was passed in options).
func (m *MainLog) Close() error {
	if m.sink != nil {
		return m.sink.Close()
	}
	if m.opt.Syslog == nil {
		return m.syslog.Close()
	}
	return nil
}

// childOutput logs a chunk of child output the way POutputDispatcher does
// when loglevel <= debug.
func (m *MainLog) childOutput(name, group string, pid int, channel string, data []byte) {
	if !m.Enabled(config.LevelDebug) {
		return
	}
	m.LogProcess(config.LevelDebug, pyrepr.Str(name)+" "+channel+" output:\n"+pyrepr.DecodedOrUndecodable(data),
		ProcessFields{Process: name, Group: group, PID: pid})
}
