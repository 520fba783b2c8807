package procman

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gosupervisor/gosupervisor/config"
	"github.com/gosupervisor/gosupervisor/internal/errno"
	"github.com/gosupervisor/gosupervisor/internal/signals"
	"github.com/gosupervisor/gosupervisor/probes"
	"github.com/gosupervisor/gosupervisor/procstat"
)

// This file connects a process to its ready check, health check and memory
// limit (package probes): one probes.Monitor per run, started at the spawn
// and stopped when the child is gone or being stopped. A run with a ready
// check stays STARTING until startsecs passed and the check succeeded; a
// ready_timeout stops the child (stopsignal, then SIGKILL after
// stopwaitsecs) and its exit is the failed start (BACKOFF, retries, FATAL)
// with the check's failure as spawnerr. A failing health check or memory
// limit stops the process and starts it again.

// probeRun is the probe state of a process. It is guarded by the
// process's mu, except tap.
type probeRun struct {
	mon           *probes.Monitor
	notify        *probes.NotifySocket // made before the fork, handed to mon
	startsecsDone bool                 // startsecs passed while waiting for the ready check
	readyFailed   string               // why ready_timeout ended this start (spawnerr)
	restart       bool                 // stopped by a check: start again once STOPPED
	lastCheck     time.Time
	lastError     string
	unhealthy     bool
}

// OutputTap feeds a process's output to its log: ready check. The daemon
// creates one per process whose ready check is log:REGEX, calls Offer from
// the log channels, and returns it in Output.Tap. Offer takes no process
// lock.
type OutputTap struct {
	cur atomic.Pointer[tapTarget]
}

type tapTarget struct {
	pid int
	mon *probes.Monitor
}

// Offer hands output of pid on channel ("stdout" or "stderr") to the
// current run's check; output of an earlier run is ignored.
func (t *OutputTap) Offer(pid int, channel string, data []byte) {
	if t == nil {
		return
	}
	if cur := t.cur.Load(); cur != nil && cur.pid == pid {
		cur.mon.Output(channel, data)
	}
}

// prepareProbes runs before the fork: it makes the run's sd_notify socket
// and returns the environment entries the child gets. mu is held.
func (p *process) prepareProbes() ([]string, error) {
	p.pr.readyFailed = ""
	p.pr.startsecsDone = false
	p.pr.unhealthy = false
	r := p.cfg.Probes.Ready
	if r == nil || r.Kind != config.CheckNotify {
		return nil, nil
	}
	dir, err := p.s.notifyDir()
	if err != nil {
		return nil, err
	}
	sock, err := probes.ListenNotify(probes.NotifyPath(dir, p.s.probe.notifySeq.Add(1)))
	if err != nil {
		return nil, err
	}
	if u := p.cfg.User; u != nil && os.Getuid() == 0 && u.UID != 0 {
		if err := sock.Chown(u.UID, u.GID); err != nil {
			sock.Close()
			return nil, fmt.Errorf("notify socket: %w", err)
		}
	}
	p.pr.notify = sock
	return []string{"NOTIFY_SOCKET=" + sock.Path()}, nil
}

// startProbes starts the run's Monitor once the child exists. mu is held.
func (p *process) startProbes(pid int) {
	pc := p.cfg.Probes
	if !pc.Any() {
		return
	}
	attempt := p.attempt
	// guard runs f under mu if the run that registered it is still current.
	guard := func(f func()) func() {
		return func() {
			p.mu.Lock()
			if p.attempt == attempt && p.pid == pid {
				f()
			}
			p.unlock()
		}
	}
	hooks := probes.Hooks{
		Exec: p.execCheck,
		RSS:  func() (int64, bool) { return p.s.treeRSS(pid, pc.MemoryCheckInterval/2) },
		Checked: func(at time.Time, err error) {
			guard(func() {
				p.pr.lastCheck = at
				p.pr.lastError = ""
				if err != nil {
					p.pr.lastError = err.Error()
				}
			})()
		},
		Ready:        guard(p.onReady),
		ReadyTimeout: func(err error) { guard(func() { p.onReadyTimeout(err) })() },
		Unhealthy:    func(err error) { guard(func() { p.onUnhealthy(err) })() },
		Healthy: guard(func() {
			p.pr.unhealthy = false
			p.logf(config.LevelInfo, "healthy: %s passes its health check again", p.cfg.Name)
		}),
		MemoryExceeded: func(rss int64) { guard(func() { p.onMemory(rss) })() },
	}
	p.pr.mon = probes.Start(pc, p.s.clock, p.pr.notify, hooks)
	p.pr.notify = nil // the Monitor owns it now
	if p.out.Tap != nil && p.pr.mon.WantsLines() {
		p.out.Tap.cur.Store(&tapTarget{pid: pid, mon: p.pr.mon})
	}
}

// stopProbes ends the run's checks. mu is held.
func (p *process) stopProbes() {
	if p.pr.notify != nil {
		p.pr.notify.Close()
		p.pr.notify = nil
	}
	if p.pr.mon == nil {
		return
	}
	if p.out.Tap != nil {
		p.out.Tap.cur.Store(nil)
	}
	mon := p.pr.mon
	p.pr.mon = nil
	// Stop waits for nothing: a check in flight is cancelled and its
	// result ignored (the guard sees another pid or attempt).
	mon.Stop()
}

// holdForReady reports whether startsecs passing must not make the
// process RUNNING yet, because its ready check has not succeeded. mu is
// held.
func (p *process) holdForReady() bool {
	if p.pr.mon == nil || !p.pr.mon.NeedsReady() || p.pr.mon.IsReady() {
		return false
	}
	p.pr.startsecsDone = true
	return true
}

// onReady: the ready check succeeded. mu is held.
func (p *process) onReady() {
	p.logf(config.LevelInfo, "ready: %s passed its ready check (%s)", p.cfg.Name, p.cfg.Probes.Ready.Spec)
	// A child that already died is not made RUNNING: its exit is on the
	// way and is a failed start.
	if p.state == Starting && p.pr.startsecsDone && !p.s.reaper.exited(p.pid) {
		p.fire(evStartsecs, nil)
	}
}

// onReadyTimeout: ready_timeout passed first. The child is stopped; its
// exit while STARTING is the failed start. mu is held.
func (p *process) onReadyTimeout(err error) {
	if p.state != Starting {
		return
	}
	p.pr.readyFailed = err.Error()
	p.logf(config.LevelWarn, "not ready: %s: %s", p.cfg.Name, p.pr.readyFailed)
	p.stopProbes()
	p.cancelTimer()
	p.sendKill(syscall.Signal(p.cfg.Stopsignal), p.cfg.Stopasgroup)
}

// failedStartMsg is the spawnerr of an exit while STARTING.
func (p *process) failedStartMsg(def string) string {
	if p.pr.readyFailed != "" {
		return p.pr.readyFailed
	}
	return def
}

// onUnhealthy: healthcheck_retries checks failed in a row. mu is held.
func (p *process) onUnhealthy(err error) {
	p.pr.unhealthy = true
	if p.state != Running {
		return
	}
	if p.cfg.Autorestart == config.AutorestartNever {
		p.logf(config.LevelWarn, "unhealthy: %s: %v (autorestart=false: not restarted)", p.cfg.Name, err)
		return
	}
	p.logf(config.LevelWarn, "unhealthy: %s: %v; restarting it", p.cfg.Name, err)
	p.restartForCheck()
}

// onMemory: two samples in a row above memory_max. mu is held.
func (p *process) onMemory(rss int64) {
	if p.state != Running && p.state != Starting {
		return
	}
	msg := fmt.Sprintf("memory of %s and its descendants is %d bytes, above memory_max %d on two samples in a row", p.cfg.Name, rss, p.cfg.Probes.MemoryMax)
	p.pr.lastError = msg
	p.pr.lastCheck = p.s.clock.Now()
	p.logf(config.LevelWarn, "memory: %s; restarting it", msg)
	p.restartForCheck()
}

// restartForCheck stops the process and starts it again once STOPPED.
// mu is held.
func (p *process) restartForCheck() {
	p.pr.restart = true
	if !p.fire(evStop, nil) {
		p.pr.restart = false
	}
}

// afterStoppedForCheck starts a process that a failing check stopped,
// once it is STOPPED and the supervisor still runs. mu is held.
func (p *process) afterStoppedForCheck() {
	if !p.pr.restart || p.state == Stopping {
		return
	}
	p.pr.restart = false
	if p.state == Stopped && p.s.State() == SupervisorRunning && !p.removed {
		p.fire(evSpawn, nil)
	}
}

// probeHealth fills the probe fields of h. mu is held.
func (p *process) probeHealth(h *Health) {
	h.LastCheck = p.pr.lastCheck
	h.LastError = p.pr.lastError
	h.Healthy = h.Ready && !p.pr.unhealthy
	if r := p.cfg.Probes.Ready; r != nil {
		h.ReadyCheck = r.Spec
	}
	if c := p.cfg.Probes.Healthcheck; c != nil {
		h.HealthCheck = c.Spec
	}
}

// execCheck runs an exec: check like the program itself: its environment,
// user and directory, in a process group of its own, through the reaper.
// When ctx ends first the check's process group is killed.
func (p *process) execCheck(ctx context.Context, command string) error {
	p.mu.Lock()
	cfg := p.cfg
	penv, envErr := p.programEnv()
	p.mu.Unlock()
	if envErr != nil {
		return envErr
	}
	base := p.s.environ()
	filename, argv, err := resolveCommand(command, searchPath(penv, base))
	if err != nil {
		return err
	}
	devnull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer devnull.Close()
	sys := &syscall.SysProcAttr{Setpgid: true}
	if u := cfg.User; u != nil && os.Getuid() == 0 && u.UID != 0 {
		sys.Credential = &syscall.Credential{Uid: uint32(u.UID), Gid: uint32(u.GID), Groups: supplementaryGroups(u)}
	}
	fd := devnull.Fd()
	attr := &syscall.ProcAttr{
		Dir:   cfg.Directory,
		Env:   childEnv(base, p.s.serverURL(cfg), cfg.Name, p.group.cfg.Name, penv),
		Files: []uintptr{fd, fd, fd},
		Sys:   sys,
	}
	done := make(chan Exit, 1)
	pid, err := p.s.reaper.Start(false, func() (int, error) {
		return syscall.ForkExec(filename, argv, attr)
	}, func(ex Exit) { done <- ex })
	if err != nil {
		return fmt.Errorf("couldn't exec %s: %s", argv[0], errno.NameOr(err))
	}
	select {
	case ex := <-done:
		if ex.Status.Exited() && ex.Status.ExitStatus() == 0 {
			return nil
		}
		_, msg := signals.WaitStatus(ex.Status)
		return errors.New(msg)
	case <-ctx.Done():
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		<-done
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return errors.New("timed out")
		}
		return ctx.Err()
	}
}

// probeShared is what the runs of all processes share: the sd_notify
// socket directory and the /proc sampler for memory_max.
type probeShared struct {
	notifyOnce sync.Once
	notifyPath string
	notifyErr  error
	notifySeq  atomic.Uint64
	statsOnce  sync.Once
	stats      *procstat.Sampler
}

// notifyDir creates the notify socket directory on first use.
func (s *Supervisor) notifyDir() (string, error) {
	s.probe.notifyOnce.Do(func() {
		s.probe.notifyPath, s.probe.notifyErr = probes.NotifyDir()
	})
	return s.probe.notifyPath, s.probe.notifyErr
}

// closeProbes removes the notify socket directory. Close calls it.
func (s *Supervisor) closeProbes() {
	s.probe.notifyOnce.Do(func() {}) // no directory after this
	if s.probe.notifyPath != "" {
		os.RemoveAll(s.probe.notifyPath)
	}
}

// treeRSS samples the resident bytes of pid and its descendants, sharing
// a /proc pass up to maxAge old among all processes.
func (s *Supervisor) treeRSS(pid int, maxAge time.Duration) (int64, bool) {
	s.probe.statsOnce.Do(func() {
		s.probe.stats = s.opts.Sampler
		if s.probe.stats == nil {
			s.probe.stats = procstat.New(procstat.Options{})
		}
	})
	snap, err := s.probe.stats.Snapshot(maxAge)
	if err != nil {
		return 0, false
	}
	u, ok := snap.Tree(pid)
	if !ok && maxAge > 0 {
		// The pass predates this child: take a fresh one.
		if snap, err = s.probe.stats.Snapshot(0); err != nil {
			return 0, false
		}
		u, ok = snap.Tree(pid)
	}
	return u.RSSBytes, ok
}
