package probes

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/gosupervisor/gosupervisor/config"
	"github.com/gosupervisor/gosupervisor/internal/clock"
)

// Hooks are how a Monitor reaches its process. Every hook is optional and
// is called without Monitor locks held, possibly after Stop.
type Hooks struct {
	// Exec runs exec: checks.
	Exec ExecFunc
	// RSS samples the resident bytes of the process and its descendants;
	// ok false when unknown (the sample is skipped).
	RSS func() (rss int64, ok bool)
	// Checked reports each finished check: err nil for a success.
	Checked func(at time.Time, err error)
	// Ready: the ready check succeeded (once per Monitor).
	Ready func()
	// ReadyTimeout: ready_timeout passed first; err says which check
	// failed and why (once per Monitor).
	ReadyTimeout func(err error)
	// Unhealthy: the health check failed healthcheck_retries times in a
	// row (again after each recovery); Healthy: it passed after that.
	Unhealthy func(err error)
	Healthy   func()
	// MemoryExceeded: two samples in a row were above memory_max (once
	// per Monitor).
	MemoryExceeded func(rss int64)
}

// Monitor runs the checks of one process run.
type Monitor struct {
	cfg    config.Probes
	clock  clock.Clock
	hooks  Hooks
	notify *NotifySocket
	ctx    context.Context
	cancel context.CancelFunc

	mu          sync.Mutex
	stopped     bool
	ready       bool // the ready phase ended (passed or timed out)
	passed      bool // the ready phase ended with success
	running     bool // health checks started
	readyTimer  clock.Timer
	deadline    clock.Timer
	healthTimer clock.Timer
	memTimer    clock.Timer
	lastReady   error // the last failed ready attempt
	fails       int   // health checks failed in a row
	unhealthy   bool
	memOver     int // memory samples above the limit in a row
	memReported bool
	partial     map[string][]byte // log: an unfinished line per channel
}

// Start begins the ready phase (when cfg has a ready check) and memory
// sampling (when it has memory_max). notify is the run's sd_notify socket
// for a notify ready check (the Monitor closes it on Stop), else nil.
func Start(cfg config.Probes, clk clock.Clock, notify *NotifySocket, h Hooks) *Monitor {
	ctx, cancel := context.WithCancel(context.Background())
	m := &Monitor{cfg: cfg, clock: clk, hooks: h, notify: notify, ctx: ctx, cancel: cancel}
	m.mu.Lock()
	if r := cfg.Ready; r != nil {
		m.deadline = clk.AfterFunc(cfg.ReadyTimeout, m.readyTimedOut)
		if r.Kind != config.CheckLog && r.Kind != config.CheckNotify {
			m.readyTimer = clk.AfterFunc(0, m.readyAttempt)
		}
	} else {
		m.ready, m.passed = true, true
	}
	if cfg.MemoryMax > 0 {
		m.memTimer = clk.AfterFunc(cfg.MemoryCheckInterval, m.memSample)
	}
	m.mu.Unlock()
	if cfg.Ready != nil && cfg.Ready.Kind == config.CheckNotify && notify != nil {
		// May call passReady at once, when READY=1 came first.
		notify.setOnReady(m.passReady)
	}
	return m
}

// NeedsReady reports whether the run waits for a ready check.
func (m *Monitor) NeedsReady() bool { return m.cfg.Ready != nil }

// IsReady reports whether the ready check has succeeded (true without
// one).
func (m *Monitor) IsReady() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.ready && m.passed
}

// Running starts the health checks: the process is RUNNING.
func (m *Monitor) Running() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stopped || m.running || m.cfg.Healthcheck == nil {
		return
	}
	m.running = true
	m.healthTimer = m.clock.AfterFunc(m.cfg.HealthcheckInterval, m.healthCheck)
}

// maxLine bounds the part of a line kept while waiting for its end: a
// longer line is matched in pieces of this size.
const maxLine = 64 << 10

// Output offers output of the process's stdout or stderr (channel) to a
// log: ready check, split into lines per channel. It never blocks on the
// process: a match ends the ready phase from a goroutine of its own.
func (m *Monitor) Output(channel string, data []byte) {
	r := m.cfg.Ready
	if r == nil || r.Kind != config.CheckLog {
		return
	}
	m.mu.Lock()
	if m.ready || m.stopped {
		m.mu.Unlock()
		return
	}
	if m.partial == nil {
		m.partial = map[string][]byte{}
	}
	buf := m.partial[channel]
	matched := false
	for len(data) > 0 && !matched {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			buf = append(buf, data...)
			if len(buf) >= maxLine {
				matched = r.Pattern.Match(buf)
				buf = buf[:0]
			}
			break
		}
		line := data[:i]
		data = data[i+1:]
		if len(buf) > 0 {
			buf = append(buf, line...)
			line = buf
		}
		matched = r.Pattern.Match(bytes.TrimSuffix(line, []byte("\r")))
		buf = buf[:0]
	}
	m.partial[channel] = buf
	m.mu.Unlock()
	if matched {
		go m.passReady()
	}
}

// WantsLines reports whether Line does anything.
func (m *Monitor) WantsLines() bool {
	return m.cfg.Ready != nil && m.cfg.Ready.Kind == config.CheckLog
}

// Stop ends every schedule, cancels a running check and closes the
// notify socket. It is idempotent.
func (m *Monitor) Stop() {
	m.mu.Lock()
	if m.stopped {
		m.mu.Unlock()
		return
	}
	m.stopped = true
	for _, t := range []clock.Timer{m.readyTimer, m.deadline, m.healthTimer, m.memTimer} {
		if t != nil {
			t.Stop()
		}
	}
	m.mu.Unlock()
	m.cancel()
	if m.notify != nil {
		m.notify.Close()
	}
}

func (m *Monitor) checked(err error) {
	if m.hooks.Checked != nil {
		m.hooks.Checked(m.clock.Now(), err)
	}
}

// attemptTimeout bounds one polled check.
func (m *Monitor) attemptTimeout() time.Duration { return m.cfg.HealthcheckTimeout }

func (m *Monitor) readyAttempt() {
	m.mu.Lock()
	if m.stopped || m.ready {
		m.mu.Unlock()
		return
	}
	m.mu.Unlock()
	ctx, cancel := context.WithTimeout(m.ctx, m.attemptTimeout())
	err := Run(ctx, m.cfg.Ready, m.hooks.Exec)
	cancel()
	if err == nil {
		m.passReady()
		return
	}
	m.mu.Lock()
	if m.stopped || m.ready {
		m.mu.Unlock()
		return
	}
	m.lastReady = err
	m.readyTimer = m.clock.AfterFunc(m.cfg.ReadyInterval, m.readyAttempt)
	m.mu.Unlock()
	m.checked(err)
}

// passReady ends the ready phase with success.
func (m *Monitor) passReady() {
	m.mu.Lock()
	if m.stopped || m.ready {
		m.mu.Unlock()
		return
	}
	m.ready, m.passed = true, true
	for _, t := range []clock.Timer{m.readyTimer, m.deadline} {
		if t != nil {
			t.Stop()
		}
	}
	m.mu.Unlock()
	m.checked(nil)
	if m.hooks.Ready != nil {
		m.hooks.Ready()
	}
}

func (m *Monitor) readyTimedOut() {
	m.mu.Lock()
	if m.stopped || m.ready {
		m.mu.Unlock()
		return
	}
	m.ready = true
	if m.readyTimer != nil {
		m.readyTimer.Stop()
	}
	r := m.cfg.Ready
	var err error
	switch {
	case m.lastReady != nil:
		err = fmt.Errorf("ready check failed for %s: %w", seconds(m.cfg.ReadyTimeout), m.lastReady)
	case r.Kind == config.CheckLog:
		err = fmt.Errorf("ready check failed: no output line matched %s within %s", r.Spec, seconds(m.cfg.ReadyTimeout))
	case r.Kind == config.CheckNotify:
		err = fmt.Errorf("ready check failed: no READY=1 on NOTIFY_SOCKET within %s", seconds(m.cfg.ReadyTimeout))
	default:
		err = fmt.Errorf("ready check %s did not finish within %s", r.Spec, seconds(m.cfg.ReadyTimeout))
	}
	m.mu.Unlock()
	m.cancel() // an attempt still running is moot
	m.checked(err)
	if m.hooks.ReadyTimeout != nil {
		m.hooks.ReadyTimeout(err)
	}
}

func (m *Monitor) healthCheck() {
	m.mu.Lock()
	if m.stopped {
		m.mu.Unlock()
		return
	}
	m.mu.Unlock()
	ctx, cancel := context.WithTimeout(m.ctx, m.cfg.HealthcheckTimeout)
	err := Run(ctx, m.cfg.Healthcheck, m.hooks.Exec)
	cancel()
	m.mu.Lock()
	if m.stopped {
		m.mu.Unlock()
		return
	}
	var becameUnhealthy, recovered bool
	if err != nil {
		m.fails++
		if m.fails >= m.cfg.HealthcheckRetries && !m.unhealthy {
			m.unhealthy, becameUnhealthy = true, true
		}
	} else {
		m.fails = 0
		if m.unhealthy {
			m.unhealthy, recovered = false, true
		}
	}
	fails := m.fails
	m.healthTimer = m.clock.AfterFunc(m.cfg.HealthcheckInterval, m.healthCheck)
	m.mu.Unlock()
	m.checked(err)
	if becameUnhealthy && m.hooks.Unhealthy != nil {
		m.hooks.Unhealthy(fmt.Errorf("health check failed %d times in a row: %w", fails, err))
	}
	if recovered && m.hooks.Healthy != nil {
		m.hooks.Healthy()
	}
}

func (m *Monitor) memSample() {
	m.mu.Lock()
	if m.stopped {
		m.mu.Unlock()
		return
	}
	m.mu.Unlock()
	var rss int64
	ok := false
	if m.hooks.RSS != nil {
		rss, ok = m.hooks.RSS()
	}
	m.mu.Lock()
	if m.stopped {
		m.mu.Unlock()
		return
	}
	report := false
	if ok {
		if rss > m.cfg.MemoryMax {
			m.memOver++
			if m.memOver >= 2 && !m.memReported {
				m.memReported, report = true, true
			}
		} else {
			m.memOver = 0
		}
	}
	if !m.memReported {
		m.memTimer = m.clock.AfterFunc(m.cfg.MemoryCheckInterval, m.memSample)
	}
	m.mu.Unlock()
	if report && m.hooks.MemoryExceeded != nil {
		m.hooks.MemoryExceeded(rss)
	}
}

// seconds renders d as the config writes it: "60s", "0.5s".
func seconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "s"
}
