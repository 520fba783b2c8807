package procman

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/gosupervisor/gosupervisor/config"
	"github.com/gosupervisor/gosupervisor/internal/account"
	"github.com/gosupervisor/gosupervisor/internal/clock"
	"github.com/gosupervisor/gosupervisor/internal/errno"
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

// spawnFailed records a spawn error and moves STARTING -> BACKOFF.
func (p *process) spawnFailed(msg string) {
	p.stopProbes()
	p.spawnerr = msg
	p.logf(config.LevelInfo, "spawnerr: %s", msg)
	p.fire(evSpawnFailed, nil)
}

// dispatchersFailed is a spawn that failed before the fork, while making
// the pipes or opening the logs (Python's make_dispatchers).
func (p *process) dispatchersFailed(err error) {
	if errors.Is(err, syscall.EMFILE) {
		p.spawnFailed(fmt.Sprintf("too many open files to spawn '%s'", p.cfg.Name))
		return
	}
	p.spawnFailed(fmt.Sprintf("unknown error making dispatchers for '%s': %s", p.cfg.Name, errno.NameOr(err)))
}

// spawn forks and execs the child; the state is already STARTING. It is
// Python's Subprocess.spawn after the STARTING change. A spawn that runs
// out of descriptors while others are in flight tries again alone
// (spawngate.go).
func (p *process) spawn() {
	g := &p.s.spawns
	g.enter()
	retry := p.spawnOnce(false)
	g.leave()
	if retry {
		g.retryAlone(func() { p.spawnOnce(true) })
	}
}

// emfileRetry reports whether a spawn that failed with err should be
// tried again alone instead of failing: EMFILE on a first attempt.
func emfileRetry(err error, final bool) bool {
	return !final && errors.Is(err, syscall.EMFILE)
}

// spawnOnce is one spawn attempt. Unless final, it reports EMFILE by
// returning true, with nothing left open, instead of failing the spawn.
func (p *process) spawnOnce(final bool) (retry bool) {
	cfg := p.cfg
	name := cfg.Name
	base := p.s.environ()
	penv, envErr := p.programEnv()
	filename, argv, err := resolveCommand(cfg.Command, searchPath(penv, base))
	if err != nil {
		p.spawnFailed(err.Error())
		return
	}

	probeEnv, err := p.prepareProbes()
	if err != nil {
		p.spawnFailed(err.Error())
		return
	}
	for _, sink := range []OutputSink{p.out.Stdout, p.out.Stderr} {
		if pr, ok := sink.(Preparer); ok {
			if err := pr.Prepare(); err != nil {
				if emfileRetry(err, final) {
					return true
				}
				p.dispatchersFailed(err)
				return
			}
		}
	}

	var parent, child []*os.File
	closeAll := func(fs []*os.File) {
		for _, f := range fs {
			f.Close()
		}
	}
	pipe := func() (r, w *os.File, err error) { return os.Pipe() }
	var stdinR, stdinW, stdoutR, stdoutW, stderrR, stderrW *os.File
	if sock := p.group.fcgi; sock != nil {
		// A FastCGI child gets the group's listening socket as fd 0 and
		// no stdin pipe.
		f, serr := sock.acquire()
		if serr != nil {
			p.spawnFailed(fmt.Sprintf("Could not create FastCGI socket %s: %v", sock.cfg.URL, serr))
			return
		}
		p.fcgiHeld = true
		stdinR = f
	} else {
		stdinR, stdinW, err = stdinPipe()
		if err == nil {
			parent, child = append(parent, stdinW), append(child, stdinR)
		}
	}
	if err == nil {
		stdoutR, stdoutW, err = pipe()
	}
	if err == nil {
		parent, child = append(parent, stdoutR), append(child, stdoutW)
		if !cfg.RedirectStderr {
			stderrR, stderrW, err = pipe()
			if err == nil {
				parent, child = append(parent, stderrR), append(child, stderrW)
			}
		}
	}
	// noChild undoes a spawn that made no child (our pipes or ForkExec's
	// status pipe failed, before the fork): EMFILE is retried unless
	// final, anything else fails the spawn as Python's make_pipes does.
	noChild := func(err error) (retry bool) {
		closeAll(parent)
		closeAll(child)
		p.releaseFCGI()
		if emfileRetry(err, final) {
			return true
		}
		p.dispatchersFailed(err)
		return false
	}
	if err != nil {
		return noChild(err)
	}
	errW := stderrW
	if cfg.RedirectStderr {
		errW = stdoutW
	}

	sys := &syscall.SysProcAttr{Setpgid: true}
	setuidMsg := ""
	if u := cfg.User; u != nil {
		switch cur := os.Getuid(); {
		case cur == u.UID:
		case cur != 0:
			setuidMsg = fmt.Sprintf("couldn't setuid to %d: Can't drop privilege as nonroot user\n", u.UID)
		default:
			sys.Credential = &syscall.Credential{Uid: uint32(u.UID), Gid: uint32(u.GID), Groups: supplementaryGroups(u)}
		}
	}
	if setuidMsg == "" && envErr != nil {
		// Where Python's child fails a bad directory=: after the
		// privileges are dropped, before the exec.
		setuidMsg = envErr.Error() + "\n"
	}
	program := argv[0]
	if len(cfg.Rlimits) > 0 {
		// The child sets the limits and drops privileges itself
		// (rlimit_linux.go).
		filename, argv = rlimitCommand(cfg.Rlimits, sys.Credential, filename, argv)
		sys.Credential = nil
	}
	attr := &syscall.ProcAttr{
		Dir:   cfg.Directory,
		Env:   append(childEnv(base, p.s.serverURL(cfg), name, p.group.cfg.Name, penv), probeEnv...),
		Files: []uintptr{stdinR.Fd(), stdoutW.Fd(), errW.Fd()},
		Sys:   sys,
	}
	var pid int
	if setuidMsg == "" {
		pid, err = p.s.reaper.start(cfg.Umask != nil, func() (int, error) {
			if cfg.Umask != nil {
				// The umask is process-wide: this spawn holds the
				// reaper lock exclusively, and the window is one fork.
				old := syscall.Umask(int(*cfg.Umask))
				defer syscall.Umask(old)
			}
			return syscall.ForkExec(filename, argv, attr)
		}, sub{cb: p.onExit, quick: p.quickExit})
	}

	childMsg := ""
	switch {
	case setuidMsg != "":
		childMsg = setuidMsg
	case err != nil && (errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE)):
		// ForkExec's own status pipe, before the fork: no child was
		// made, as when our pipes fail.
		return noChild(err)
	case err != nil && (errors.Is(err, syscall.EAGAIN)):
		p.spawnFailed(fmt.Sprintf("Too many processes in process table to spawn '%s'", name))
	case err != nil && errors.Is(err, syscall.ENOMEM):
		p.spawnFailed(fmt.Sprintf("unknown error during fork for '%s': %s", name, errno.NameOr(err)))
	case err != nil:
		// The child was forked but failed before exec: Python's child
		// writes why to its stderr and exits 127.
		if cfg.Directory != "" {
			if fi, serr := os.Stat(cfg.Directory); serr != nil || !fi.IsDir() {
				cerr := serr
				if cerr == nil {
					cerr = syscall.ENOTDIR
				}
				childMsg = fmt.Sprintf("couldn't chdir to %s: %s\n", cfg.Directory, errno.NameOr(cerr))
				break
			}
		}
		childMsg = fmt.Sprintf("couldn't exec %s: %s\n", program, errno.NameOr(err))
	}
	if childMsg != "" {
		_, _ = errW.Write([]byte("supervisor: " + childMsg + "supervisor: child process was not spawned\n"))
	}
	closeAll(child)
	if err != nil && childMsg == "" {
		closeAll(parent)
		p.releaseFCGI()
		return
	}

	p.pid = pid
	p.stdin, p.stdinBuf, p.stdinBroken = stdinW, nil, false
	sinkFor := func(s OutputSink) OutputSink {
		if s == nil {
			return discardSink{}
		}
		return s
	}
	sinkFor(p.out.Stdout).Consume(stdoutR, pid)
	if stderrR != nil {
		sinkFor(p.out.Stderr).Consume(stderrR, pid)
	}

	if childMsg != "" {
		// No child exists; its exit (status 127) arrives as if reaped.
		attempt := p.attempt
		if cfg.Startsecs == 0 {
			p.fire(evStartsecs, nil)
		}
		go func() {
			settleOutput(p.out, 0) // what the "child" wrote above
			p.mu.Lock()
			if p.attempt == attempt && p.pid == 0 && (p.state == Starting || p.state == Running) {
				p.fire(evExit, &Exit{Status: syscall.WaitStatus(127 << 8), Time: time.Now()})
			}
			p.unlock()
		}()
		return
	}

	p.logf(config.LevelInfo, "spawned: '%s' with pid %d", name, pid)
	p.startProbes(pid)
	if cfg.Startsecs <= 0 {
		if !p.holdForReady() {
			p.fire(evStartsecs, nil)
		}
	} else {
		p.armTimer(time.Duration(cfg.Startsecs)*time.Second, evStartsecs)
	}
	return false
}

// releaseFCGI drops this process's reference on the FastCGI socket.
func (p *process) releaseFCGI() {
	if p.fcgiHeld {
		p.fcgiHeld = false
		p.group.fcgi.release()
	}
}

// supplementaryGroups is the setgroups list drop_privileges gives u's
// account (named as the passwd entry of its uid names it).
func supplementaryGroups(u *config.User) []uint32 {
	name := u.Name
	if acct, err := user.LookupId(strconv.Itoa(u.UID)); err == nil {
		name = acct.Username
	}
	var out []uint32
	for _, g := range account.Groups(name, u.GID) {
		out = append(out, uint32(g))
	}
	return out
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
