package procman

import (
	"context"
	"errors"
	"strings"
	"syscall"
	"time"

	"github.com/gosupervisor/gosupervisor/config"
	"github.com/gosupervisor/gosupervisor/internal/errno"
)

// Shutdown sets the state to SHUTDOWN and stops every group, highest group
// priority first, waiting for the groups of one priority to stop
// (stopwaitsecs and SIGKILL apply) before the next; within a priority the
// groups get their stop signals in Python's order (the last configured
// first), each group's processes in descending priority, and BACKOFF ones
// become FATAL. If ctx ends first, every remaining child is killed with
// SIGKILL. When Shutdown returns no child is left and every transition has
// been delivered (so it must not be called from an OnTransition callback).
func (s *Supervisor) Shutdown(ctx context.Context) error {
	return s.shutdown(ctx, SupervisorShutdown)
}

// Restart is Shutdown with the state RESTARTING (a reload follows).
func (s *Supervisor) Restart(ctx context.Context) error {
	return s.shutdown(ctx, SupervisorRestarting)
}

func (s *Supervisor) shutdown(ctx context.Context, to SupervisorState) error {
	if s.State() == SupervisorRunning || to == SupervisorShutdown {
		s.state.Store(int32(to))
	}
	s.shutdownMu.Lock()
	defer s.shutdownMu.Unlock()
	// One batch per group priority, highest first (each group's
	// processes in descending priority), cut further by depends_on
	// (depends.go).
	batches := s.stopBatches()
	var lastReport time.Time
	var err error
	for i := 0; i < len(batches) && err == nil; i++ {
		ps := batches[i]
		for _, p := range ps {
			p.mu.Lock()
			switch p.state {
			case Running, Starting:
				if p.pid != 0 {
					p.fire(evStop, nil)
				}
			case Backoff:
				p.fire(evAbandon, nil)
			}
			p.unlock()
		}
		// A batch gets its longest stopwaitsecs, then killGrace after the
		// SIGKILL; a child still not gone is left to the sweep below.
		// One that has died and only waits for the reaper is waited for
		// (giveup.go): the next batch is not signalled before its exit
		// is handled, so the priority order holds.
		var wait time.Duration
		for _, p := range ps {
			wait = max(wait, time.Duration(p.cfg.Stopwaitsecs)*time.Second)
		}
		expired := make(chan struct{})
		t := newGiveUpTimer(s.clock, wait+killGrace, func() bool { return s.allDead(ps) }, func() { close(expired) })
		// ps[:next] are stopped: a process stays stopped during a
		// shutdown (nothing restarts it), so each is checked about once
		// however many exits the batch brings.
		next := 0
		for {
			for next < len(ps) && ps[next].stopped() {
				next++
			}
			if next == len(ps) {
				break
			}
			if now := time.Now(); now.Sub(lastReport) > 3*time.Second {
				lastReport = now
				s.reportUnstopped()
			}
			timedOut, werr := waitChange(ctx, expired, ps[next], time.Second)
			if werr != nil {
				err = werr
			}
			if werr != nil || timedOut {
				break
			}
		}
		t.stop()
	}
	// Whatever is left (ctx ended, or a pid in UNKNOWN) is killed outright.
	// A child we may not signal (it changed its uid) or one that does not
	// die of SIGKILL is left behind, with a line saying so: Shutdown ends.
	var dying []*process
	for _, p := range s.allProcesses() {
		p.mu.Lock()
		if p.pid != 0 && s.reaper.exited(p.pid) {
			dying = append(dying, p) // dead: its exit is on its way
		} else if p.pid != 0 {
			target := p.pid
			if p.cfg.Killasgroup || p.cfg.Stopasgroup {
				target = -p.pid
			}
			p.logf(config.LevelWarn, "killing '%s' (%d) with SIGKILL", p.cfg.Name, p.pid)
			s.reaper.Expect(p.pid)
			if kerr := s.kill(target, syscall.SIGKILL); kerr != nil && !errors.Is(kerr, syscall.ESRCH) {
				p.logf(config.LevelCritical, "left behind: '%s' (pid %d) could not be killed: %s", p.cfg.Name, p.pid, errno.NameOr(kerr))
			} else {
				dying = append(dying, p)
			}
		}
		p.mu.Unlock()
	}
	s.awaitGone(dying)
	s.drain()
	s.awaitLogs()
	return err
}

// killGrace is how long a child may take to die after SIGKILL before
// Shutdown leaves it behind and a waiting Stop gives up on it.
const killGrace = 5 * time.Second

// awaitGone waits until every process of ps has been reaped and its exit
// handled. Every killGrace on the Clock it logs the ones still alive as
// left behind and stops waiting for them; one that has died and only
// waits for the reaper or its delivery is waited for.
func (s *Supervisor) awaitGone(ps []*process) {
	for len(ps) > 0 {
		expired := make(chan struct{})
		t := s.clock.AfterFunc(killGrace, func() { close(expired) })
		ps = waitGone(ps, expired)
		t.Stop()
		var dead []*process
		for _, p := range ps {
			p.mu.Lock()
			switch {
			case p.pid == 0:
			case s.reaper.exited(p.pid):
				dead = append(dead, p)
			default:
				p.logf(config.LevelCritical, "left behind: '%s' (pid %d) is still alive %v after SIGKILL", p.cfg.Name, p.pid, killGrace)
			}
			p.mu.Unlock()
		}
		ps = dead
	}
}

// waitGone waits until every process of ps has no pid, or expired is
// closed; it returns the ones that still had one then.
func waitGone(ps []*process, expired <-chan struct{}) []*process {
	for i, p := range ps {
		for {
			p.mu.Lock()
			pid, ch := p.pid, p.changed
			p.mu.Unlock()
			if pid == 0 {
				break
			}
			select {
			case <-ch:
				continue
			case <-expired:
				return ps[i:]
			}
		}
	}
	return nil
}

// allDead reports whether every process of ps not stopped yet has a child
// that has exited (a zombie, or reaped with its exit not yet handled).
func (s *Supervisor) allDead(ps []*process) bool {
	for _, p := range ps {
		p.mu.Lock()
		pid, stopped := p.pid, p.state.IsStopped()
		p.mu.Unlock()
		if !stopped && (pid == 0 || !s.reaper.exited(pid)) {
			return false
		}
	}
	return true
}

// stopped reports whether p is in a stopped state.
func (p *process) stopped() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.state.IsStopped()
}

// reportUnstopped logs Python's "waiting for x, y to die" naming every
// process not yet stopped.
func (s *Supervisor) reportUnstopped() {
	var names []string
	for _, p := range s.allProcesses() {
		if !p.stopped() {
			names = append(names, p.cfg.Name)
		}
	}
	if len(names) > 0 {
		s.logf(config.LevelInfo, "waiting for %s to die", strings.Join(names, ", "))
	}
}

// waitChange waits until p changes state (at once if it is stopped), d
// passes, expired is closed (it reports true) or ctx ends.
func waitChange(ctx context.Context, expired <-chan struct{}, p *process, d time.Duration) (bool, error) {
	p.mu.Lock()
	ch := p.changed
	stopped := p.state.IsStopped()
	p.mu.Unlock()
	if stopped {
		return false, nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ch:
	case <-t.C:
	case <-expired:
		return true, nil
	case <-ctx.Done():
		return false, ctx.Err()
	}
	return false, nil
}
