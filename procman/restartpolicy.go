package procman

import (
	"fmt"
	"syscall"
	"time"

	"github.com/gosupervisor/gosupervisor/config"
	"github.com/gosupervisor/gosupervisor/internal/signals"
)

// The issue-13 restart policy beyond Python's: restart_delay and its
// exponential backoff, fatal_retry_after, and the daemon exits
// exit_on_fatal and exit_on_exit ask for. With none of these keys set,
// every function here does what Python's Subprocess does.

// ExitRequest asks the daemon to stop everything (normal shutdown order)
// and exit with Status, because Process met its exit_on_fatal or
// exit_on_exit condition. Reason says why, for the main log.
type ExitRequest struct {
	Process string
	Group   string
	Status  int
	Reason  string
}

// exitCode is the status a daemon exits with for a child's wait status:
// the child's exit status, or 128+N for death by signal N.
func exitCode(ws syscall.WaitStatus) int {
	switch {
	case ws.Exited():
		return ws.ExitStatus()
	case ws.Signaled():
		return 128 + int(ws.Signal())
	}
	return 1
}

// afterExit decides what follows an exit from RUNNING while the
// supervisor runs (the aAutorestart action): a spawn, a delayed spawn
// (BACKOFF until restart_delay/backoff passes), or, when the process will
// not be restarted and has exit_on_exit, a daemon exit. mu is held.
func (p *process) afterExit(expected bool, ex *Exit) {
	restart := false
	switch p.cfg.Autorestart {
	case config.AutorestartAlways:
		restart = true
	case config.AutorestartUnexpected:
		restart = !expected
	}
	if !restart {
		if p.cfg.ExitOnExit && ex != nil {
			_, msg := signals.WaitStatus(ex.Status)
			code := exitCode(ex.Status)
			p.requestExit(code, fmt.Sprintf("%s exited (%s) and will not be restarted (exit_on_exit)", p.namespec(), msg))
		}
		return
	}
	d := p.restartDelay()
	if d <= 0 {
		p.fire(evSpawn, nil)
		return
	}
	p.logf(config.LevelInfo, "delaying restart of %s by %d seconds (restart_delay)", p.cfg.Name, int(d/time.Second))
	p.fire(evDelay, nil)
	p.spawnerr = fmt.Sprintf("restarting in %d seconds", int(d/time.Second))
	p.armTimer(d, evRetry)
}

// restartDelay is the wait before an autorestart: restart_delay, or with
// restart_backoff_max, max(restart_delay, 1) doubled for each consecutive
// exit within restart_backoff_reset seconds of entering RUNNING, capped.
// mu is held.
func (p *process) restartDelay() time.Duration {
	c := p.cfg
	sec := time.Second
	if c.RestartBackoffMax <= 0 {
		return time.Duration(c.RestartDelay) * sec
	}
	up := p.s.clock.Now().Sub(p.runningSince)
	if up >= time.Duration(c.RestartBackoffReset)*sec {
		p.quickExits = 0
		return time.Duration(c.RestartDelay) * sec
	}
	p.quickExits++
	limit := time.Duration(max(c.RestartBackoffMax, c.RestartDelay)) * sec
	d := time.Duration(max(c.RestartDelay, 1)) * sec
	for i := 1; i < p.quickExits && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
}

// afterGiveUp runs when retries are exhausted and the process entered
// FATAL: a daemon exit for exit_on_fatal (or exit_on_exit, since the
// process will not run again), else a retry after fatal_retry_after.
// mu is held.
func (p *process) afterGiveUp() {
	if p.s.State() != SupervisorRunning {
		return
	}
	c := p.cfg
	switch {
	case c.ExitOnFatal:
		p.requestExit(1, fmt.Sprintf("%s entered FATAL (exit_on_fatal)", p.namespec()))
	case c.FatalRetryAfter > 0:
		p.logf(config.LevelInfo, "%s will be retried in %d seconds (fatal_retry_after)", p.cfg.Name, c.FatalRetryAfter)
		p.armTimer(time.Duration(c.FatalRetryAfter)*time.Second, evFatalRetry)
	case c.ExitOnExit:
		p.requestExit(1, fmt.Sprintf("%s entered FATAL and will not be restarted (exit_on_exit)", p.namespec()))
	}
}

// requestExit logs why the daemon is going to exit and queues the
// request, in order with the transitions, for Options.OnExitRequest.
// mu is held.
func (p *process) requestExit(status int, reason string) {
	p.logf(config.LevelCritical, "%s: stopping all processes, supervisord will exit with status %d", reason, status)
	p.lastSeq = p.s.enqueue(note{exit: &ExitRequest{
		Process: p.cfg.Name, Group: p.group.cfg.Name, Status: status, Reason: reason,
	}})
}
