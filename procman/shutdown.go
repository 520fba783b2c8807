package procman

import (
	"context"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/gosupervisor/gosupervisor/config"
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
	groups := s.sortedGroups()
	var lastReport time.Time
	var err error
	for i := len(groups) - 1; i >= 0 && err == nil; i-- {
		ps := byPriority(groups[i].procs)
		slices.Reverse(ps)
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
			if werr := waitAnyChange(ctx, ps, time.Second); werr != nil {
				err = werr
				break
			}
		}
	}
	// Whatever is left (ctx ended, or a pid in UNKNOWN) is killed outright.
	all := s.allProcesses()
	for _, p := range all {
		p.mu.Lock()
		if p.pid != 0 {
			target := p.pid
			if p.cfg.Killasgroup || p.cfg.Stopasgroup {
				target = -p.pid
			}
			p.logf(config.LevelWarn, "killing '%s' (%d) with SIGKILL", p.cfg.Name, p.pid)
			_ = syscall.Kill(target, syscall.SIGKILL)
		}
		p.mu.Unlock()
	}
	for _, p := range all {
		for {
			p.mu.Lock()
			pid, ch := p.pid, p.changed
			p.mu.Unlock()
			if pid == 0 {
				break
			}
			<-ch
		}
	}
	s.drain()
	return err
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

// waitAnyChange waits until some process in ps changes state, d passes, or
// ctx ends.
func waitAnyChange(ctx context.Context, ps []*process, d time.Duration) error {
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
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ch:
	case <-t.C:
	case <-ctx.Done():
		return ctx.Err()
	}
	return nil
}
