package procman

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"strconv"
	"syscall"
	"time"

	"github.com/gosupervisor/gosupervisor/config"
	"github.com/gosupervisor/gosupervisor/internal/account"
	"github.com/gosupervisor/gosupervisor/internal/errno"
)

// Spawning a child: its pipes, the fork+exec through the reaper, and what
// a spawn that fails before or at the fork does to the process state.

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
