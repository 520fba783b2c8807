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
// priority first, waiting for each group to stop (stopwaitsecs and SIGKILL
// apply) before the next; within a group processes get their stop signal in
// descending priority, and BACKOFF ones become FATAL. If ctx ends first,
// every remaining child is killed with SIGKILL. When Shutdown returns no
// child is left and every transition has been delivered (so it must not
// be called from an OnTransition callback).
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
	// One batch per group in descending priority (each group's processes
	// in descending priority), cut further by depends_on (depends.go).
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
		// A group gets its longest stopwaitsecs, then killGrace after the
		// SIGKILL; a child still not gone is left to the sweep below.
		var wait time.Duration
		for _, p := range ps {
			wait = max(wait, time.Duration(p.cfg.Stopwaitsecs)*time.Second)
		}
		expired := make(chan struct{})
		t := s.clock.AfterFunc(wait+killGrace, func() { close(expired) })
		for {
			if !anyUnstopped(ps) {
				break
			}
			if now := time.Now(); now.Sub(lastReport) > 3*time.Second {
				lastReport = now
				var names []string
				for _, p := range s.allProcesses() {
					p.mu.Lock()
					if !p.state.IsStopped() {
						names = append(names, p.cfg.Name)
					}
					p.mu.Unlock()
				}
				if len(names) > 0 {
					s.logf(config.LevelInfo, "waiting for %s to die", strings.Join(names, ", "))
				}
			}
			timedOut, werr := waitAnyChange(ctx, expired, ps, time.Second)
			if werr != nil {
				err = werr
			}
			if werr != nil || timedOut {
				break
			}
		}
		t.Stop()
	}
	// Whatever is left (ctx ended, or a pid in UNKNOWN) is killed outright.
	// A child we may not signal (it changed its uid) or one that does not
	// die of SIGKILL is left behind, with a line saying so: Shutdown ends.
	var dying []*process
	for _, p := range s.allProcesses() {
		p.mu.Lock()
		if p.pid != 0 {
			target := p.pid
			if p.cfg.Killasgroup || p.cfg.Stopasgroup {
				target = -p.pid
			}
			p.logf(config.LevelWarn, "killing '%s' (%d) with SIGKILL", p.cfg.Name, p.pid)
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

// awaitGone waits, at most killGrace on the Clock, until every process of
// ps has been reaped, and logs the ones left behind.
func (s *Supervisor) awaitGone(ps []*process) {
	if len(ps) == 0 {
		return
	}
	expired := make(chan struct{})
	t := s.clock.AfterFunc(killGrace, func() { close(expired) })
	defer t.Stop()
	for _, p := range ps {
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
			}
			for _, p := range ps {
				p.mu.Lock()
				if p.pid != 0 {
					p.logf(config.LevelCritical, "left behind: '%s' (pid %d) is still alive %v after SIGKILL", p.cfg.Name, p.pid, killGrace)
				}
				p.mu.Unlock()
			}
			return
		}
	}
}

func anyUnstopped(ps []*process) bool {
	for _, p := range ps {
		p.mu.Lock()
		st := p.state
		p.mu.Unlock()
		if !st.IsStopped() {
			return true
		}
	}
	return false
}

// waitAnyChange waits until some process in ps changes state, d passes,
// expired is closed (it reports true) or ctx ends.
func waitAnyChange(ctx context.Context, expired <-chan struct{}, ps []*process, d time.Duration) (bool, error) {
	var ch chan struct{}
	for _, p := range ps {
		p.mu.Lock()
		if !p.state.IsStopped() {
			ch = p.changed
		}
		p.mu.Unlock()
		if ch != nil {
			break
		}
	}
	if ch == nil {
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
