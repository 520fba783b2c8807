package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gosupervisor/gosupervisor/config"
	"github.com/gosupervisor/gosupervisor/events"
	"github.com/gosupervisor/gosupervisor/handover"
	"github.com/gosupervisor/gosupervisor/internal/pyrepr"
	"github.com/gosupervisor/gosupervisor/internal/signals"
	"github.com/gosupervisor/gosupervisor/logrot"
	"github.com/gosupervisor/gosupervisor/metrics"
	"github.com/gosupervisor/gosupervisor/procman"
	"github.com/gosupervisor/gosupervisor/procstat"
	"github.com/gosupervisor/gosupervisor/rpc"
	"github.com/gosupervisor/gosupervisor/webui"
)

// daemon is one supervisord process: it survives reloads (SIGHUP,
// supervisor.restart), each of which is a new run over a freshly read
// config, as Python's main() loop makes a new Supervisor each time.
type daemon struct {
	progname string
	args     []string
	cli      *cli
	cwd      string
	stderr   io.Writer
	child    *daemonChild // non-nil in the daemonized copy

	mood   atomic.Int32 // a procman.SupervisorState: RUNNING, RESTARTING, SHUTDOWN
	wake   chan struct{}
	sigs   chan os.Signal
	reaper *procman.Reaper
	bus    *events.Bus
	syslog *logrot.Syslog

	logMu   sync.Mutex
	mainlog *logrot.MainLog // the current run's, nil between runs

	rootWarned atomic.Bool // the default-search warning is printed once

	// Observability (observe.go), for the daemon's whole life.
	sampler *procstat.Sampler
	metrics *metrics.Metrics
	trimmer *memTrimmer // returns a burst's garbage to the OS (memtrim.go)
	// dashboard is the web dashboard (dashboard = true), kept across
	// reloads with its resource history.
	dashboard *webui.UI
	current   atomic.Pointer[instance] // the run whose processes a scrape reports
	ping      chan chan struct{}       // /healthz asks the main loop

	// exitStatus is the status a shutdown asked for by exit_on_fatal or
	// exit_on_exit ends the daemon with (exitAsked says one did).
	exitAsked  atomic.Bool
	exitStatus atomic.Int32

	// In-place upgrade (upgrade.go, adopt.go).
	argv       []string        // the command line, for the exec
	exe        string          // the binary, resolved at start
	daemonized bool            // detached by an earlier image
	upgrading  sync.Mutex      // one upgrade at a time
	taken      *handover.Taken // the hand-over this image started with, until taken over
}

// requestExit is procman's OnExitRequest: the first request shuts the
// daemon down in normal order, to exit with its status.
func (d *daemon) requestExit(r procman.ExitRequest) {
	if !d.exitAsked.CompareAndSwap(false, true) {
		return
	}
	// procman logged why, in order with the process's own messages.
	d.exitStatus.Store(int32(r.Status))
	d.requestStop(procman.SupervisorShutdown)
}

// realize reads the configuration the command line names (or the first
// default path that exists), applying the command line overrides.
func (d *daemon) realize() (*config.Config, error) {
	path := d.cli.configFile
	if path == "" {
		if os.Getuid() == 0 && d.child == nil && d.rootWarned.CompareAndSwap(false, true) {
			fmt.Fprintf(d.stderr, "UserWarning: %s\n", config.RootSearchWarning)
		}
		p, err := config.Find(d.progname)
		if err != nil {
			return nil, &usageError{msg: err.Error()}
		}
		path = p
	}
	// Relative paths (the config file's and those inside it) resolve
	// against the directory supervisord started in, also on a reload
	// after daemon mode changed to "directory" (Python resolves them
	// against the new cwd then, so such a reload fails).
	if wd, _ := os.Getwd(); !filepath.IsAbs(path) && wd != d.cwd {
		path = filepath.Join(d.cwd, path)
	}
	cfg, err := config.Load(path, config.LoadOptions{Overrides: &d.cli.overrides, Cwd: d.cwd})
	if err != nil {
		return nil, &usageError{msg: err.Error()}
	}
	return cfg, nil
}

// log writes to the current main log (dropped between runs).
func (d *daemon) log(level config.LogLevel, msg string) {
	d.logMu.Lock()
	m := d.mainlog
	d.logMu.Unlock()
	if m != nil {
		m.Log(level, msg)
	}
}

func (d *daemon) logf(level config.LogLevel, format string, args ...any) {
	d.log(level, fmt.Sprintf(format, args...))
}

// requestStop sets the mood (shutdown or restart) and wakes the main loop.
func (d *daemon) requestStop(mood procman.SupervisorState) {
	d.mood.Store(int32(mood))
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// serve runs the daemon until it shuts down; it returns the exit status.
// A non-nil error is a startup failure (reported as a usage error).
func (d *daemon) serve(cfg *config.Config) (int, error) {
	d.wake = make(chan struct{}, 1)
	d.sigs = make(chan os.Signal, 16)
	signal.Notify(d.sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGHUP, syscall.SIGUSR2)
	defer signal.Stop(d.sigs)
	// SIGCHLD is procman's reaper's; it is logged (see runOnce) once the
	// exits it brought were handled, as Python does.

	var adopted []int
	if d.taken != nil {
		adopted = procman.AdoptedPIDs(d.taken.State.Processes)
	}
	d.reaper = procman.NewReaperAdopting(os.Getpid() == 1, func(ex procman.Exit) {
		d.logf(config.LevelInfo, "reaped unknown pid %d (%s)", ex.Pid, waitText(ex.Status))
	}, adopted)
	defer d.reaper.Close()
	d.syslog = logrot.NewSyslog("supervisord")
	defer d.syslog.Close()
	d.observe()
	d.trimmer = newMemTrimmer(trimTick, trimBurst, trimQuiet)
	defer d.trimmer.close()
	d.bus = events.NewBus(events.Options{
		Identifier: cfg.Supervisord.Identifier,
		Logger:     mainLogger{d},
		Observe:    d.metrics.CountEvent,
	})
	defer d.bus.Close()

	first := true
	for {
		restart, err := d.runOnce(cfg, first)
		if err != nil {
			return 2, err
		}
		if !restart {
			return int(d.exitStatus.Load()), nil
		}
		first = false
		newCfg, err := d.realize()
		if err != nil {
			// Python's supervisord exits here (usage() with stderr on
			// /dev/null when daemonized). We keep running on the config
			// we had and say why in the main log.
			d.reportReloadFailure(cfg, err)
		} else {
			cfg = newCfg
		}
		d.bus.SetIdentifier(cfg.Supervisord.Identifier)
	}
}

// reportReloadFailure logs a config that could not be re-read on restart
// into the log of the config still in use.
func (d *daemon) reportReloadFailure(cfg *config.Config, err error) {
	m, lerr := logrot.NewMainLog(d.mainLogOptions(cfg))
	if lerr != nil {
		fmt.Fprintf(d.stderr, "Error: %v\n", err)
		return
	}
	m.Log(config.LevelCritical, "could not re-read the configuration, restarting with the previous one: "+err.Error())
	m.Close()
}

func (d *daemon) mainLogOptions(cfg *config.Config) logrot.MainLogOptions {
	s := cfg.Supervisord
	opt := logrot.MainLogOptions{
		Logfile:  s.Logfile,
		MaxBytes: s.LogfileMaxbytes,
		Backups:  s.LogfileBackups,
		Level:    s.Loglevel,
		Syslog:   d.syslog,
		// Opt-in (gosupervisor) keys.
		Compress:    s.LogfileCompress,
		MaxAgeDays:  s.LogfileMaxAgeDays,
		RotateEvery: s.LogfileRotateEvery,
		JSON:        s.LogfileFormat == config.LogFormatJSON,
	}
	if s.Nodaemon && !s.Silent && d.child == nil {
		opt.Stdout = os.Stdout
	}
	return opt
}

// runOnce is one pass of Python's Supervisor.main()/run(): privileges,
// rlimits (first pass only), the main log, AUTO log cleanup, the HTTP
// servers, daemonizing (first pass only), the pidfile, the groups, then
// the main loop until a shutdown or restart completes. It reports whether
// a restart was requested.
func (d *daemon) runOnce(cfg *config.Config, first bool) (restart bool, err error) {
	s := cfg.Supervisord
	d.mood.Store(int32(procman.SupervisorRunning))

	criticals := append([]string{}, cfg.Criticals...)
	infos := append([]string{}, cfg.Infos...)
	crit, uidInfos, err := setUID(s.User)
	if err != nil {
		return false, err
	}
	criticals = append(criticals, crit...)
	infos = append(infos, uidInfos...)
	if first {
		rl, err := setRlimits(s.Minfds, s.Minprocs)
		if err != nil {
			return false, err
		}
		infos = append(infos, rl...)
	}

	mainlog, err := logrot.NewMainLog(d.mainLogOptions(cfg))
	if err != nil {
		return false, fmt.Errorf("cannot open the log file %s: %w", s.Logfile, err)
	}
	d.logMu.Lock()
	d.mainlog = mainlog
	d.logMu.Unlock()
	defer func() {
		d.logMu.Lock()
		d.mainlog = nil
		d.logMu.Unlock()
		mainlog.Close()
	}()
	if !first {
		// A restart that cannot come up (say, a port now taken by
		// another program) ends the daemon as in Python; say why where
		// a daemon's operator will look.
		defer func() {
			if err != nil {
				mainlog.Log(config.LevelCritical, "could not restart: "+err.Error())
			}
		}()
	}
	for _, m := range criticals {
		mainlog.Log(config.LevelCritical, m)
	}
	for _, m := range cfg.Warnings {
		mainlog.Log(config.LevelWarn, m)
	}
	for _, m := range infos {
		mainlog.Log(config.LevelInfo, m)
	}

	takeOver := first && d.taken != nil
	if !s.Nocleanup && !takeOver {
		if _, err := logrot.CleanupAutoLogs(s.Childlogdir, s.Identifier); err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				mainlog.Log(config.LevelWarn, strings.TrimPrefix(line, "logrot: "))
			}
		}
	}

	inst, err := newInstance(d, cfg, mainlog)
	if err != nil {
		return false, err
	}
	defer inst.close()
	d.current.Store(inst)
	defer d.current.Store(nil)
	// Through procman's log queue, so the line follows the exit lines of
	// the children this SIGCHLD reaped (and their last output).
	d.reaper.OnReaped(func() {
		inst.sup.Log(config.LevelDebug, "received SIGCHLD indicating a child quit")
	})
	defer d.reaper.OnReaped(nil)

	if err := inst.openServers(); err != nil {
		return false, err
	}

	pidWritten := false
	if d.child != nil && first {
		// Python's parent logs this just before exiting; ours exits
		// once we report ready, after this line.
		mainlog.Log(config.LevelBlather, "supervisord forked; parent exiting")
		mainlog.Log(config.LevelInfo, "daemonizing the supervisord process")
		if s.Directory != "" {
			if err := os.Chdir(s.Directory); err != nil {
				mainlog.Log(config.LevelCritical, fmt.Sprintf("can't chdir into %s: %v", pyrepr.Str(s.Directory), err))
			} else {
				mainlog.Log(config.LevelInfo, "set current directory: "+pyrepr.Str(s.Directory))
			}
		}
		syscall.Umask(int(s.Umask))
	}
	pid := os.Getpid()
	if err := os.WriteFile(s.Pidfile, fmt.Appendf(nil, "%d\n", pid), 0o644); err != nil {
		mainlog.Log(config.LevelCritical, "could not write pidfile "+s.Pidfile)
	} else {
		pidWritten = true
		mainlog.Log(config.LevelInfo, fmt.Sprintf("supervisord started with pid %d", pid))
	}
	defer func() {
		if pidWritten {
			os.Remove(s.Pidfile)
		}
	}()

	// The socket answers at once (getState, getPID...); whatever needs
	// the process table waits until every group is in it, so no client
	// sees part of the config (Python answers nothing until its first
	// spawn pass is over). The autostart processes spawn after that, with
	// the socket answering throughout; the daemon-mode launcher returns
	// once the spawns are done.
	inst.serve()
	var start func()
	if takeOver {
		start = inst.takeOver(cfg.Groups)
		close(inst.loaded)
		inst.finishTakeOver()
	} else {
		inst.announce(cfg.Groups)
		var errs []error
		start, errs = inst.addGroups(cfg.Groups)
		for i, err := range errs {
			if err != nil {
				mainlog.Log(config.LevelError, fmt.Sprintf("could not add group %s: %v", cfg.Groups[i].Name, err))
			}
		}
		close(inst.loaded)
		d.bus.Publish(events.NewSupervisorStateEvent(true))
	}
	// The autostart wave runs while the loop handles signals: a SIGTERM
	// (or SIGHUP) during it moves procman out of RUNNING, which stops the
	// spawns not yet made, and the shutdown stops the ones that were.
	spawned := make(chan struct{})
	go func() {
		defer close(spawned)
		start()
		// Reading the config and spawning leave garbage: give its
		// pages back now rather than a tick later (memtrim.go).
		d.trimmer.trim()
		if first {
			d.child.ready()
		}
	}()
	restart = d.loop(inst)
	<-spawned
	return restart, nil
}

// loop handles signals and stop requests until every process is stopped
// after a shutdown or restart request; it reports whether to restart.
func (d *daemon) loop(inst *instance) bool {
	var stopped chan struct{}
	for {
		select {
		case sig := <-d.sigs:
			d.handleSignal(inst, sig.(syscall.Signal))
		case <-d.wake:
		case reply := <-d.ping:
			close(reply) // /healthz: the loop answers
		case <-stopped:
			return procman.SupervisorState(d.mood.Load()) == procman.SupervisorRestarting
		}
		if procman.SupervisorState(d.mood.Load()) < procman.SupervisorRunning && stopped == nil {
			stopped = make(chan struct{})
			d.bus.Publish(events.NewSupervisorStateEvent(false))
			restart := procman.SupervisorState(d.mood.Load()) == procman.SupervisorRestarting
			go func() {
				defer close(stopped)
				if restart {
					inst.sup.Restart(context.Background())
				} else {
					inst.sup.Shutdown(context.Background())
				}
			}()
		}
	}
}

// handleSignal is Supervisor.handle_signal.
func (d *daemon) handleSignal(inst *instance, sig syscall.Signal) {
	name := signals.Name(int(sig))
	// The exit and restart lines go through procman's log queue, after
	// the lines of what happened before the signal was taken (a spawn
	// wave queues its "spawned:" lines faster than a loaded box writes
	// them); SIGUSR2's line must reach the old file before the reopen.
	queued := func(level config.LogLevel, format string, args ...any) {
		inst.sup.Log(level, fmt.Sprintf(format, args...))
	}
	switch sig {
	case syscall.SIGTERM, syscall.SIGINT, syscall.SIGQUIT:
		queued(config.LevelWarn, "received %s indicating exit request", name)
		d.mood.Store(int32(procman.SupervisorShutdown))
	case syscall.SIGHUP:
		if procman.SupervisorState(d.mood.Load()) == procman.SupervisorShutdown {
			queued(config.LevelWarn, "ignored %s indicating restart request (shutdown in progress)", name)
			return
		}
		queued(config.LevelWarn, "received %s indicating restart request", name)
		if inst.cfg.Supervisord.ReloadKeepsRunning {
			go d.reloadKeeping(inst)
			return
		}
		d.mood.Store(int32(procman.SupervisorRestarting))
	case syscall.SIGUSR2:
		d.logf(config.LevelInfo, "received %s indicating log reopen request", name)
		inst.reopenLogs()
	default:
		d.logf(config.LevelBlather, "received %s indicating nothing", name)
	}
}

// waitText is Python's decode_wait_status message.
func waitText(ws syscall.WaitStatus) string {
	_, msg := signals.WaitStatus(ws)
	return msg
}

// mainLogger sends procman's and events' messages to the main log.
type mainLogger struct{ d *daemon }

func (l mainLogger) Log(level config.LogLevel, msg string) { l.d.log(level, msg) }

// Enabled is procman.LevelLogger: lines the main log would drop are not
// formatted. Without a main log (yet) every level is taken, as Log does.
func (l mainLogger) Enabled(level config.LogLevel) bool {
	l.d.logMu.Lock()
	m := l.d.mainlog
	l.d.logMu.Unlock()
	return m == nil || m.Enabled(level)
}

// Batch is procman.BatchLogger: the lines f logs are written at once.
func (l mainLogger) Batch(f func()) {
	l.d.logMu.Lock()
	m := l.d.mainlog
	l.d.logMu.Unlock()
	if m == nil {
		f()
		return
	}
	m.Batch(f)
}

// LogProcess is procman.FieldLogger: a line about a process, with the
// fields the JSON main log shows.
func (l mainLogger) LogProcess(level config.LogLevel, msg string, f procman.LogFields) {
	l.d.logMu.Lock()
	m := l.d.mainlog
	l.d.logMu.Unlock()
	if m == nil {
		return
	}
	pf := logrot.ProcessFields{Process: f.Process, Group: f.Group, PID: f.PID, ExitStatus: f.ExitStatus}
	if f.Transition {
		pf.FromState, pf.ToState = f.From.String(), f.To.String()
	}
	m.LogProcess(level, msg, pf)
}

// shutdownServers closes the HTTP front, giving in-flight requests a moment.
func shutdownServers(srv *rpc.Server, ls []*rpc.Listener) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if srv != nil {
		if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			_ = err
		}
	}
	for _, l := range ls {
		l.Close()
	}
}
