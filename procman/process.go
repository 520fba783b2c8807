package procman

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/gosupervisor/gosupervisor/config"
	"github.com/gosupervisor/gosupervisor/internal/clock"
	"github.com/gosupervisor/gosupervisor/internal/namespec"
	"github.com/gosupervisor/gosupervisor/internal/signals"
)

// process is one supervised process. mu is its one owner: every field below
// it is read and written only with mu held, and every state change goes
// through fire.
type process struct {
	s     *Supervisor
	group *group
	cfg   *config.Process
	out   Output
	penv  []envVar

	mu             sync.Mutex
	state          State
	pid            int
	laststart      time.Time
	laststop       time.Time
	laststopreport time.Time
	backoff        int
	spawnerr       string
	exitstatus     int
	expected       bool
	attempt        uint64        // spawns so far
	runningAttempt uint64        // the attempt that last reached RUNNING
	runningSince   time.Time     // when it last entered RUNNING (restart_backoff_reset)
	quickExits     int           // consecutive exits within restart_backoff_reset
	depStarting    bool          // a start is waiting for its dependencies (depends.go)
	depCancel      chan struct{} // closed by a stop while depStarting
	timer          clock.Timer
	timerGen       uint64
	timerEv        event         // what the pending timer fires (handover.go)
	timerAt        time.Time     // when it fires
	killErr        string        // set by a failing signal action
	removed        bool          // its group was removed: never spawn again
	lastSeq        uint64        // sequence number of its latest queued transition
	fcgiHeld       bool          // holds a reference on the group's FastCGI socket
	changed        chan struct{} // closed and replaced on every state change

	pr probeRun // ready, health and memory checks of the current run (probes.go)

	stdin        *os.File // ours of the child's stdin pipe, not pollable (stdinPipe)
	stdinCopy    *os.File // a pollable copy of stdin while flushStdin writes
	stdinBuf     []byte
	stdinWriting bool
	stdinBroken  bool
}

func newProcess(s *Supervisor, g *group, cfg *config.Process, out Output) *process {
	return &process{
		s: s, group: g, cfg: cfg, out: out,
		penv:    fromConfigEnv(cfg.Environment),
		state:   Stopped,
		changed: make(chan struct{}),
	}
}

// namespec names p in the faults of the group operations, as Python's
// make_allfunc does.
func (p *process) namespec() string { return namespec.Make(p.group.cfg.Name, p.cfg.Name) }

func (p *process) logf(level config.LogLevel, format string, args ...any) {
	p.s.logFields(level, &LogFields{Process: p.cfg.Name, Group: p.group.cfg.Name, PID: p.pid}, format, args...)
}

// logTransition logs a line that reports p's change from -> to (with the
// exit status when es is set). pid is the process's pid at the change.
func (p *process) logTransition(level config.LogLevel, pid int, from, to State, es *int, format string, args ...any) {
	f := &LogFields{Process: p.cfg.Name, Group: p.group.cfg.Name, PID: pid, Transition: true, From: from, To: to, ExitStatus: es}
	p.s.logFields(level, f, format, args...)
}

// unlock releases mu and delivers the transitions queued meanwhile.
func (p *process) unlock() {
	p.mu.Unlock()
	p.s.flush()
}

// fire applies event ev to the process: it looks the edge up in the
// transition table, changes the state, publishes the transition and runs the
// edge's actions. ex is the reaped exit for evExit. It reports whether the
// edge was legal. mu must be held.
func (p *process) fire(ev event, ex *Exit) bool {
	from := p.state
	rule, ok := transitions[transitionKey{from, ev}]
	if !ok {
		p.logf(config.LevelDebug, "ignored event %s for %s in state %s", ev, p.cfg.Name, from)
		return false
	}
	a := rule.actions
	now := p.s.clock.Now()
	if a&aCancelTimer != 0 {
		p.cancelTimer()
	}

	// Record what the published transition must carry before it is published.
	var es int
	var exitMsg string
	if ex != nil {
		es, exitMsg = signals.WaitStatus(ex.Status)
	}
	expected := true
	if a&aSpawn != 0 {
		p.spawnerr = ""
		p.exitstatus = 0
		p.laststart = now
		p.attempt++
	}
	if a&aResetBackoff != 0 {
		p.backoff = 0
	}
	if a&aIncBackoff != 0 {
		p.backoff++
	}
	if a&aTooQuickly != 0 {
		p.exitstatus = 0
		p.spawnerr = p.failedStartMsg("Exited too quickly (process log may have details)")
	}
	if a&(aRecordExit|aRecordStop) != 0 {
		p.exitstatus = es
		expected = slices.Contains(p.cfg.Exitcodes, es)
		if a&aRecordExit != 0 && !expected {
			p.spawnerr = fmt.Sprintf("Bad exit code %d", es)
		}
	}
	if a&aRecordExit != 0 {
		p.expected = expected
	}

	p.state = rule.to
	if rule.to != from {
		close(p.changed)
		p.changed = make(chan struct{})
		if rule.to == Running {
			p.runningAttempt = p.attempt
			p.runningSince = now
			if p.pr.mon != nil {
				p.pr.mon.Running()
			}
		}
		p.lastSeq = p.s.enqueue(note{tr: &Transition{
			Process: p.cfg.Name, Group: p.group.cfg.Name,
			From: from, To: rule.to,
			PID: p.pid, Tries: p.backoff, Expected: expected, Time: now,
		}})
	}

	name := p.cfg.Name
	pid := p.pid
	if a&(aClearPid|aSendStop) != 0 {
		p.stopProbes()
	}
	if a&aClearPid != 0 {
		p.pid = 0
		p.laststop = now
		p.closeStdin()
		p.releaseFCGI()
	}
	to := rule.to
	var esp *int
	if ex != nil {
		esp = &es
	}
	switch {
	case a&aTooQuickly != 0:
		p.logTransition(config.LevelWarn, pid, from, to, esp, "exited: %s (%s; not expected)", name, exitMsg)
	case a&aRecordExit != 0 && expected:
		p.logTransition(config.LevelInfo, pid, from, to, esp, "exited: %s (%s; expected)", name, exitMsg)
	case a&aRecordExit != 0:
		p.logTransition(config.LevelWarn, pid, from, to, esp, "exited: %s (%s; not expected)", name, exitMsg)
	case a&aRecordStop != 0 && expected:
		p.logTransition(config.LevelInfo, pid, from, to, esp, "stopped: %s (%s)", name, exitMsg)
	case a&aRecordStop != 0:
		p.logTransition(config.LevelWarn, pid, from, to, esp, "stopped: %s (%s)", name, exitMsg)
	}
	if a&aRunning != 0 {
		p.logTransition(config.LevelInfo, pid, from, to, nil, "success: %s entered RUNNING state, process has stayed up for > than %d seconds (startsecs)", name, p.cfg.Startsecs)
	}
	if a&aGaveUp != 0 {
		p.logTransition(config.LevelInfo, pid, from, to, nil, "gave up: %s entered FATAL state, too many start retries too quickly", name)
		p.afterGiveUp()
	}
	if a&aIncBackoff != 0 {
		if p.backoff > p.cfg.Startretries {
			p.fire(evGiveUp, nil)
		} else {
			p.armTimer(time.Duration(p.backoff)*time.Second, evRetry)
		}
	}
	if a&aSendStop != 0 {
		p.sendKill(syscall.Signal(p.cfg.Stopsignal), p.cfg.Stopasgroup)
	}
	if a&aSendKill != 0 {
		p.logf(config.LevelWarn, "killing '%s' (%d) with SIGKILL", name, p.pid)
		p.sendKill(syscall.SIGKILL, p.cfg.Killasgroup)
	}
	if a&aAutorestart != 0 && p.s.State() == SupervisorRunning {
		p.afterExit(expected, ex)
	}
	if a&aSpawn != 0 {
		p.spawn()
	}
	return true
}

// armTimer schedules ev after d, replacing any pending timer.
func (p *process) armTimer(d time.Duration, ev event) {
	p.cancelTimer()
	p.timerGen++
	gen := p.timerGen
	p.timerEv, p.timerAt = ev, p.s.clock.Now().Add(d)
	p.timer = p.s.clock.AfterFunc(d, func() {
		p.mu.Lock()
		if p.timerGen == gen {
			p.timer = nil
			p.onTimer(ev)
		}
		p.unlock()
	})
}

func (p *process) cancelTimer() {
	if p.timer != nil {
		p.timer.Stop()
		p.timer = nil
	}
	p.timerGen++
}

// onTimer handles an expired timer. mu is held.
func (p *process) onTimer(ev event) {
	switch ev {
	case evStartsecs:
		// Never call a child RUNNING that has already died: its exit is
		// on the way from the reaper and will be a too-quick exit.
		if p.pid != 0 && p.s.reaper.exited(p.pid) {
			return
		}
		if p.holdForReady() {
			return
		}
	case evRetry:
		if p.s.State() != SupervisorRunning || p.backoff > p.cfg.Startretries {
			return
		}
	case evStopTimeout:
		// A child that has died is not sent SIGKILL (nor logged as
		// killed) because its exit is still on its way from the
		// reaper: look again later. Python re-arms after each SIGKILL
		// too.
		if p.pid != 0 && p.s.reaper.exited(p.pid) {
			p.armTimer(time.Duration(p.cfg.Stopwaitsecs)*time.Second, evStopTimeout)
			return
		}
	case evFatalRetry:
		if p.s.State() != SupervisorRunning || p.removed {
			return
		}
		p.logf(config.LevelInfo, "retrying %s after %d seconds in FATAL state (fatal_retry_after)", p.cfg.Name, p.cfg.FatalRetryAfter)
	}
	p.fire(ev, nil)
}

// onExit is the reaper's callback for our child. The child's output is
// handled first (see Settler).
func (p *process) onExit(ex Exit) {
	// The exit may beat the end of spawn, which hands the child's pipes
	// to the sinks: let it finish first.
	p.mu.Lock()
	out := p.out
	p.mu.Unlock()
	settleOutput(out, ex.Pid)
	p.mu.Lock()
	if ex.Pid == p.pid && p.pid != 0 {
		p.fire(evExit, &ex)
		p.afterStoppedForCheck()
	}
	p.unlock()
}

// quickExit is onExit for an exit that needs no waiting, on the reaper's
// delivery goroutine (Reaper.start): the process is being stopped (the
// exit restarts nothing), its lock is free and the child's output is
// already handled. It reports false, having done nothing, otherwise.
func (p *process) quickExit(ex Exit) bool {
	quick := func() bool {
		return p.state == Stopping && ex.Pid == p.pid && p.pid != 0 && !p.pr.restart
	}
	if !p.mu.TryLock() {
		return false
	}
	ok, out := quick(), p.out
	p.mu.Unlock()
	// Settle takes logrot's locks, which a capture hook may hold while it
	// waits for p.mu: ask it without holding p.mu.
	if !ok || !outputSettled(out, ex.Pid) || !p.mu.TryLock() {
		return false
	}
	if !quick() {
		p.mu.Unlock()
		return false
	}
	p.fire(evExit, &ex)
	p.afterStoppedForCheck()
	p.unlock()
	return true
}

// outputSettled reports, without waiting, whether the output of the
// child pid was handled.
func outputSettled(out Output, pid int) bool {
	for _, sink := range []OutputSink{out.Stdout, out.Stderr} {
		if st, ok := sink.(Settler); ok && !st.Settle(pid, 0) {
			return false
		}
	}
	return true
}

// settleOutput waits (bounded) until the output of the child pid was
// handled. No lock may be held.
func settleOutput(out Output, pid int) {
	for _, sink := range []OutputSink{out.Stdout, out.Stderr} {
		if st, ok := sink.(Settler); ok {
			st.Settle(pid, settleTimeout)
		}
	}
}

// sendKill sends sig to the child (to its process group when asGroup) as
// Python's Subprocess.kill does, after the state is already STOPPING. A
// failure other than ESRCH moves the process to UNKNOWN and leaves the
// message in killErr.
func (p *process) sendKill(sig syscall.Signal, asGroup bool) {
	p.killErr = ""
	as := ""
	target := p.pid
	if asGroup {
		as = "process group "
		target = -p.pid
	}
	p.logf(config.LevelDebug, "killing %s (pid %d) %swith signal %s", p.cfg.Name, p.pid, as, signals.Name(int(sig)))
	p.armTimer(time.Duration(p.cfg.Stopwaitsecs)*time.Second, evStopTimeout)
	p.s.reaper.Expect(p.pid)
	if err := p.s.kill(target, sig); err != nil {
		if errors.Is(err, syscall.ESRCH) {
			p.logf(config.LevelDebug, "unable to signal %s (pid %d), it probably just exited on its own: %v", p.cfg.Name, p.pid, err)
			return
		}
		p.killErr = fmt.Sprintf("unknown problem killing %s (%d):%v", p.cfg.Name, p.pid, err)
		p.logf(config.LevelCritical, "%s", p.killErr)
		p.fire(evSignalError, nil)
	}
}

// info snapshots getProcessInfo at now. mu must not be held.
func (p *process) info(now time.Time) ProcessInfo {
	p.mu.Lock()
	in := ProcessInfo{
		Name:          p.cfg.Name,
		Group:         p.group.cfg.Name,
		Start:         epochSeconds(p.laststart),
		Stop:          epochSeconds(p.laststop),
		Now:           epochSeconds(now),
		State:         p.state,
		Spawnerr:      p.spawnerr,
		ExitStatus:    p.exitstatus,
		Logfile:       p.out.StdoutLogfile,
		StdoutLogfile: p.out.StdoutLogfile,
		StderrLogfile: p.out.StderrLogfile,
		PID:           p.pid,
	}
	p.mu.Unlock()
	return in
}
