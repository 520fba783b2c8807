package procman

import (
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/gosupervisor/gosupervisor/config"
)

// Hand-over of the process table across an in-place re-exec of supervisord
// (gosupervisor.upgrade, issue 16). The pid of the daemon is kept, so the
// children stay ours: the old image freezes the table (Freeze), records
// every process (Snapshot) and execs; the new image rebuilds each process
// in its recorded state without spawning (Adopt), registers its pid with
// the reaper and re-arms its pending timer for the time that was left.
// procman stays the one owner of process state on both sides.

// Adopted is one process as handed over: everything the state machine
// needs to go on where the old image stopped.
type Adopted struct {
	Group      string    `json:"group"`
	Name       string    `json:"name"`
	State      State     `json:"state"`
	PID        int       `json:"pid"`
	Start      time.Time `json:"start"`
	Stop       time.Time `json:"stop"`
	StopReport time.Time `json:"stop_report"`
	Backoff    int       `json:"backoff"`
	Spawnerr   string    `json:"spawnerr"`
	ExitStatus int       `json:"exitstatus"`
	Expected   bool      `json:"expected"`
	// Attempt and RunningAttempt count spawns (restarts in health).
	Attempt        uint64    `json:"attempt"`
	RunningAttempt uint64    `json:"running_attempt"`
	RunningSince   time.Time `json:"running_since"`
	QuickExits     int       `json:"quick_exits"`
	// Timer is the pending startsecs/backoff/stopwaitsecs/restart_delay/
	// fatal_retry_after timer ("" for none) and TimerAt its deadline.
	Timer   string    `json:"timer,omitempty"`
	TimerAt time.Time `json:"timer_at"`
	// StdinFD is our end of the child's stdin (-1: none), StdinPending
	// what was queued for it and not yet written.
	StdinFD      int    `json:"stdin_fd"`
	StdinPending []byte `json:"stdin_pending,omitempty"`
	// Exit is the child's exit when it was reaped but not yet handled.
	Exit *Exit `json:"exit,omitempty"`
}

// Frozen is a Supervisor whose state cannot change: no spawn, no exit, no
// timer, no request is handled until Thaw (if the exec fails) or the
// process image is replaced.
type Frozen struct {
	s      *Supervisor
	procs  []*process
	thawed bool
}

// Freeze stops every state change: each process's owner lock is taken (so
// requests, timers and exit deliveries wait), then the reaper's (so no
// child is reaped or spawned), and the transitions and log lines queued
// so far are delivered.
func (s *Supervisor) Freeze() *Frozen {
	procs := s.allProcesses()
	for _, p := range procs {
		p.mu.Lock()
	}
	s.reaper.mu.Lock()
	s.drain()
	s.flushLogs()
	return &Frozen{s: s, procs: procs}
}

// Thaw lets the frozen Supervisor go on (the exec failed).
func (f *Frozen) Thaw() {
	if f.thawed {
		return
	}
	f.thawed = true
	f.s.reaper.mu.Unlock()
	for _, p := range f.procs {
		p.unlock()
	}
}

// Snapshot records every process. stdinFD gives the descriptor to hand
// over for a child's stdin (the caller clears its close-on-exec flag).
func (f *Frozen) Snapshot() []Adopted {
	out := make([]Adopted, 0, len(f.procs))
	for _, p := range f.procs {
		a := Adopted{
			Group: p.group.cfg.Name, Name: p.cfg.Name,
			State: p.state, PID: p.pid,
			Start: p.laststart, Stop: p.laststop, StopReport: p.laststopreport,
			Backoff: p.backoff, Spawnerr: p.spawnerr, ExitStatus: p.exitstatus, Expected: p.expected,
			Attempt: p.attempt, RunningAttempt: p.runningAttempt, RunningSince: p.runningSince,
			QuickExits: p.quickExits, StdinFD: -1,
		}
		if p.timer != nil {
			a.Timer, a.TimerAt = p.timerEv.String(), p.timerAt
		}
		if p.stdin != nil && !p.stdinBroken {
			a.StdinFD = rawFD(p.stdin)
			a.StdinPending = append([]byte(nil), p.stdinBuf...)
		}
		if p.pid != 0 {
			if ex, ok := f.s.reaper.inflightExit(p.pid); ok {
				a.Exit = &ex
			}
		}
		out = append(out, a)
	}
	return out
}

// AdoptedPIDs lists the children of a hand-over, for NewReaperAdopting.
func AdoptedPIDs(as []Adopted) []int {
	var pids []int
	for _, a := range as {
		if a.PID > 0 {
			pids = append(pids, a.PID)
		}
	}
	return pids
}

// eventByName maps a timer's recorded event back.
func eventByName(name string) (event, bool) {
	for i, n := range eventNames {
		if n == name {
			return event(i), true
		}
	}
	return 0, false
}

// Adopt puts handed-over processes in the state they were in: each one
// named by a (group, name) of an active group takes the recorded state,
// pid, counters and timer, its stdin, and its pid is watched by the
// reaper again; stdout and stderr pipes are the caller's (logrot), to be
// given to the process's sinks. No transition is published (nothing
// changed). It returns the records no active process matched (their
// descriptors are not touched) and the first error.
func (s *Supervisor) Adopt(as []Adopted) (unmatched []Adopted, err error) {
	now := s.clock.Now()
	for _, a := range as {
		s.mu.RLock()
		g := s.groups[a.Group]
		var p *process
		if g != nil {
			p = g.process(a.Name)
		}
		s.mu.RUnlock()
		if p == nil {
			unmatched = append(unmatched, a)
			continue
		}
		p.mu.Lock()
		if p.pid != 0 || p.attempt != 0 {
			p.unlock()
			if err == nil {
				err = fmt.Errorf("adopt %s: the process was already started", p.namespec())
			}
			continue
		}
		p.state, p.pid = a.State, a.PID
		p.laststart, p.laststop, p.laststopreport = a.Start, a.Stop, a.StopReport
		p.backoff, p.spawnerr, p.exitstatus, p.expected = a.Backoff, a.Spawnerr, a.ExitStatus, a.Expected
		p.attempt, p.runningAttempt, p.runningSince, p.quickExits = a.Attempt, a.RunningAttempt, a.RunningSince, a.QuickExits
		if a.StdinFD >= 0 {
			syscall.CloseOnExec(a.StdinFD)
			p.stdin = os.NewFile(uintptr(a.StdinFD), "stdin")
		}
		if a.Timer != "" {
			if ev, ok := eventByName(a.Timer); ok {
				p.armTimer(max(a.TimerAt.Sub(now), 0), ev)
			}
		}
		if p.pid != 0 && (p.state == Starting || p.state == Running) {
			p.startProbes(p.pid)
		}
		if len(a.StdinPending) > 0 {
			_ = p.writeStdin(a.StdinPending, p.namespec())
		}
		pid := p.pid
		p.unlock()
		switch {
		case a.Exit != nil:
			// Reaped by the old image, not yet handled.
			go p.onExit(*a.Exit)
		case pid != 0:
			s.reaper.Adopt(pid, p.onExit)
		}
		p.logf(config.LevelDebug, "adopted %s in state %s (pid %d)", p.cfg.Name, a.State, a.PID)
	}
	s.flush()
	return unmatched, err
}

// rawFD is f's descriptor, read without Fd (which would make it blocking).
func rawFD(f *os.File) int {
	fd := -1
	if rc, err := f.SyscallConn(); err == nil {
		_ = rc.Control(func(u uintptr) { fd = int(u) })
	}
	return fd
}
