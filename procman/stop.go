package procman

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"syscall"
	"time"

	"github.com/gosupervisor/gosupervisor/config"
	"github.com/gosupervisor/gosupervisor/internal/signals"
)

// Stop is stopProcess; a group spec is stopProcessGroup (see Start). With
// wait it blocks until the process is in a stopped state (after SIGKILL if
// stopwaitsecs passes), or ctx ends.
func (s *Supervisor) Stop(ctx context.Context, spec string, wait bool) ([]Result, bool, error) {
	g, p, err := s.lookup(spec)
	if err != nil {
		return nil, false, err
	}
	if p == nil {
		res, err := s.StopGroup(ctx, g.cfg.Name, wait)
		return res, true, err
	}
	w, err := s.stopOne(p, spec, wait)
	if err == nil && w != nil {
		err = w(ctx)
	}
	s.settle(p)
	return nil, false, err
}

// errStillAlive ends a Stop wait for a child that outlived SIGKILL.
var errStillAlive = errors.New("still alive after SIGKILL")

func (s *Supervisor) stopOne(p *process, spec string, wait bool) (func(context.Context) error, error) {
	p.mu.Lock()
	p.pr.restart = false // a stop request cancels a restart a failing check began (probes.go)
	if p.cancelDependencyStart() {
		p.unlock()
		return nil, nil
	}
	if f := requestFault(reqStop, p.state, spec); f != nil {
		p.unlock()
		return nil, f
	}
	if p.state == Backoff {
		p.logf(config.LevelDebug, "Attempted to kill %s, which is in BACKOFF state.", p.cfg.Name)
	} else if p.pid == 0 {
		msg := fmt.Sprintf("attempted to kill %s with sig %s but it wasn't running", p.cfg.Name, signals.Name(p.cfg.Stopsignal))
		p.logf(config.LevelDebug, "%s", msg)
		p.unlock()
		return nil, reqError(ErrFailed, msg)
	}
	p.laststopreport = time.Time{}
	attempt := p.attempt
	p.fire(evStop, nil)
	killErr := p.killErr
	p.killErr = ""
	done := p.state.IsStopped()
	p.unlock()
	if killErr != "" {
		return nil, reqError(ErrFailed, killErr)
	}
	if !wait || done {
		return nil, nil
	}
	return func(ctx context.Context) error {
		report := func() {
			if p.state == Stopping {
				now := p.s.clock.Now()
				if now.Sub(p.laststopreport) > 2*time.Second || p.laststopreport.IsZero() {
					p.logf(config.LevelInfo, "waiting for %s to stop", p.cfg.Name)
					p.laststopreport = now
				}
			}
		}
		p.mu.Lock()
		report()
		pid := p.pid
		p.mu.Unlock()
		// SIGKILL goes out after stopwaitsecs; a child still there
		// killGrace later (one the kernel does not let die) is given up
		// on rather than waited for forever. One that has died and only
		// waits for the reaper (behind on a loaded box) is waited for:
		// its exit is on its way.
		ctx, cancel := context.WithCancelCause(ctx)
		defer cancel(nil)
		giveUp := newGiveUpTimer(p.s.clock, time.Duration(p.cfg.Stopwaitsecs)*time.Second+killGrace,
			func() bool { return pid != 0 && p.s.reaper.exited(pid) }, func() { cancel(errStillAlive) })
		defer giveUp.stop()
		err := p.waitFor(ctx, report, func() (bool, error) {
			return p.state.IsStopped() || p.attempt != attempt, nil
		})
		if err != nil && errors.Is(context.Cause(ctx), errStillAlive) {
			msg := fmt.Sprintf("%s (pid %d) is still alive %v after SIGKILL", spec, pid, killGrace)
			p.logf(config.LevelCritical, "%s", msg)
			return reqError(ErrFailed, msg)
		}
		return err
	}, nil
}

// StopGroup is stopProcessGroup: it stops the group's running processes
// (RUNNING, STARTING, BACKOFF), sending stop signals in descending priority
// order, and returns one Result per process in completion order.
func (s *Supervisor) StopGroup(ctx context.Context, name string, wait bool) ([]Result, error) {
	ps, err := s.groupProcesses(name)
	if err != nil {
		return nil, err
	}
	slices.Reverse(ps)
	return s.stopMany(ctx, ps, wait), nil
}

// StopAll is stopAllProcesses (descending priority order).
func (s *Supervisor) StopAll(ctx context.Context, wait bool) []Result {
	ps := s.allProcesses()
	slices.Reverse(ps)
	return s.stopMany(ctx, ps, wait)
}

func (s *Supervisor) stopMany(ctx context.Context, ps []*process, wait bool) []Result {
	if batches, ordered := s.dependencyBatches(ps); ordered {
		return s.stopInBatches(ctx, batches, wait)
	}
	return s.runMany(ctx, ps, false, true, State.IsRunning, func(p *process) (func(context.Context) error, error) {
		return s.stopOne(p, p.namespec(), wait)
	})
}

// Signal is signalProcess; a group spec is signalProcessGroup (see Start).
// sig is a name or number as Python's signal_number accepts.
func (s *Supervisor) Signal(spec, sig string) ([]Result, bool, error) {
	g, p, err := s.lookup(spec)
	if err != nil {
		return nil, false, err
	}
	if p == nil {
		res, err := s.SignalGroup(g.cfg.Name, sig)
		return res, true, err
	}
	return nil, false, s.signalOne(p, spec, sig)
}

func (s *Supervisor) signalOne(p *process, spec, sigText string) error {
	sig, err := ParseSignal(sigText)
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.unlock()
	if f := requestFault(reqSignal, p.state, spec); f != nil {
		return f
	}
	name := p.cfg.Name
	if p.pid == 0 {
		msg := fmt.Sprintf("attempted to send %s sig %s but it wasn't running", name, signals.Name(int(sig)))
		p.logf(config.LevelDebug, "%s", msg)
		return reqError(ErrFailed, msg)
	}
	p.logf(config.LevelDebug, "sending %s (pid %d) sig %s", name, p.pid, signals.Name(int(sig)))
	if err := s.kill(p.pid, sig); err != nil {
		if err == syscall.ESRCH {
			p.logf(config.LevelDebug, "unable to signal %s (pid %d), it probably just now exited on its own: %v", name, p.pid, err)
			return nil
		}
		msg := fmt.Sprintf("unknown problem sending sig %s (%d):%v", name, p.pid, err)
		p.logf(config.LevelCritical, "%s", msg)
		p.fire(evSignalError, nil)
		return reqError(ErrFailed, msg)
	}
	return nil
}

// SignalGroup is signalProcessGroup: it signals the group's signallable
// processes (RUNNING, STARTING, STOPPING) synchronously, in priority order.
func (s *Supervisor) SignalGroup(name, sig string) ([]Result, error) {
	ps, err := s.groupProcesses(name)
	if err != nil {
		return nil, err
	}
	return s.signalMany(ps, sig), nil
}

// SignalAll is signalAllProcesses.
func (s *Supervisor) SignalAll(sig string) []Result {
	return s.signalMany(s.allProcesses(), sig)
}

func (s *Supervisor) signalMany(ps []*process, sig string) []Result {
	return s.runMany(context.Background(), ps, false, false, State.IsSignallable, func(p *process) (func(context.Context) error, error) {
		return nil, s.signalOne(p, p.namespec(), sig)
	})
}

// SendStdin is sendProcessStdin: NOT_RUNNING without a live child (or while
// stopping), NO_FILE once the child's stdin is closed. Bytes the pipe cannot
// take at once are queued and written in the background.
func (s *Supervisor) SendStdin(spec string, data []byte) error {
	p, err := s.lookupProcess(spec)
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.unlock()
	if f := requestFault(reqStdin, p.state, spec); f != nil {
		return f
	}
	if p.pid == 0 {
		return reqError(ErrNotRunning, spec)
	}
	return p.writeStdin(data, spec)
}
