package logrot

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/gosupervisor/gosupervisor/config"
	"github.com/gosupervisor/gosupervisor/internal/pyrepr"
)

func clone(p []byte) []byte {
	return append([]byte(nil), p...)
}

// handle routes one chunk read from st.
func (c *Channel) handle(st *stream, data []byte) {
	c.read.Add(int64(len(data)))
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cfg.OnOutput != nil {
		c.cfg.OnOutput(st.pid, data)
	}
	if c.cfg.OnRaw != nil {
		c.cfg.OnRaw(st.pid, clone(data))
	}
	if c.cfg.Listener {
		if m := c.cfg.MainLog; m != nil && m.Enabled(config.LevelDebug) {
			m.Log(config.LevelDebug, pyrepr.Str(c.cfg.ProcessName)+" "+c.cfg.Channel+" output:\n"+pyrepr.Bytes(data))
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
		m.Logf(config.LevelDebug, "%s %s emitted a comm event", pyrepr.Str(c.cfg.ProcessName), c.cfg.Channel)
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
		m.childOutput(c.cfg.ProcessName, c.cfg.GroupName, st.pid, c.cfg.Channel, data)
	}
	if c.cfg.EventsEnabled && c.cfg.OnLog != nil {
		c.cfg.OnLog(st.pid, clone(data))
	}
}

// writeFile appends to the log file; a failure is counted and reported to
// the main log once per episode, never silent. Callers hold c.mu.
func (c *Channel) writeFile(data []byte) {
	if c.sink == nil || len(data) == 0 {
		return
	}
	if c.cfg.Timestamps {
		bp := c.hub.stampPool.Get().(*[]byte)
		*bp = c.stamp((*bp)[:0], data)
		data = *bp
		defer c.hub.stampPool.Put(bp)
	}
	n, err := c.sink.Write(data)
	c.written.Add(int64(n))
	if err != nil {
		lost := int64(len(data) - n)
		c.dropped.Add(lost)
		c.reportDrop(err, lost)
		return
	}
	c.writeOK()
}

// stampLayout is RFC 3339 in UTC with milliseconds.
const stampLayout = "2006-01-02T15:04:05.000Z"

// stamp appends data to dst with the time of the read before every line
// that starts in it. Callers hold c.mu.
func (c *Channel) stamp(dst, data []byte) []byte {
	var tsb [len(stampLayout) + 1]byte
	var ts []byte
	for len(data) > 0 {
		if !c.midLine {
			if ts == nil {
				ts = c.cfg.Now().UTC().AppendFormat(tsb[:0], stampLayout)
				ts = append(ts, ' ')
			}
			dst = append(dst, ts...)
			c.midLine = true
		}
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			return append(dst, data...)
		}
		dst = append(dst, data[:i+1]...)
		data = data[i+1:]
		c.midLine = false
	}
	return dst
}

// isDiskFull reports whether err means the file system has no room.
func isDiskFull(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}

// reportDrop reports a write or rotation failure in the main log (or on
// stderr without one). Lost bytes start a failure episode: its first
// failure is logged (CRIT when the disk is full, ERRO otherwise), later
// ones are only counted, and the first write that works again ends it
// with one line saying how much was lost (writeOK). A rotation failure
// that lost nothing is logged at most once per errorReportEvery.
func (c *Channel) reportDrop(err error, lost int64) {
	c.errMu.Lock()
	defer c.errMu.Unlock()
	var rerr *rotateError
	if lost == 0 && errors.As(err, &rerr) {
		now := time.Now()
		if !c.rotLast.IsZero() && now.Sub(c.rotLast) < errorReportEvery {
			return
		}
		c.rotLast = now
		c.logDrop(config.LevelError, fmt.Sprintf("%s %s log rotation failed, the file grows past maxbytes: %v", pyrepr.Str(c.cfg.ProcessName), c.cfg.Channel, err))
		return
	}
	if c.failing.Load() {
		c.failLost += lost
		return
	}
	c.failing.Store(true)
	c.failLost = 0
	level := config.LevelError
	if isDiskFull(err) {
		level = config.LevelCritical
	}
	c.logDrop(level, fmt.Sprintf("%s %s log write failed, %d bytes not logged, output is dropped until it can be written: %v", pyrepr.Str(c.cfg.ProcessName), c.cfg.Channel, lost, err))
}

// writeOK ends a failure episode after a write that worked. Callers hold
// c.mu.
func (c *Channel) writeOK() {
	if !c.failing.Load() {
		return
	}
	c.errMu.Lock()
	defer c.errMu.Unlock()
	c.failing.Store(false)
	lost := c.failLost
	c.failLost = 0
	c.logDrop(config.LevelInfo, fmt.Sprintf("%s %s log writing resumed, %d more bytes were not logged", pyrepr.Str(c.cfg.ProcessName), c.cfg.Channel, lost))
}

// logDrop writes a failure report to the main log, or to stderr without
// one.
func (c *Channel) logDrop(level config.LogLevel, msg string) {
	if c.cfg.MainLog != nil {
		c.cfg.MainLog.Log(level, msg)
	} else {
		fmt.Fprintln(os.Stderr, "supervisord: "+msg)
	}
}

// flushDropReport reports bytes lost since the episode's first report
// (Close, while writes still fail).
func (c *Channel) flushDropReport() {
	c.errMu.Lock()
	defer c.errMu.Unlock()
	lost := c.failLost
	c.failLost = 0
	if lost == 0 {
		return
	}
	c.logDrop(config.LevelError, fmt.Sprintf("%s %s log write failed, %d more bytes not logged", pyrepr.Str(c.cfg.ProcessName), c.cfg.Channel, lost))
}
