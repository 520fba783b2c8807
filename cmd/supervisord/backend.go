package main

import (
	"context"
	"os"
	"strings"

	"github.com/gosupervisor/gosupervisor/config"
	"github.com/gosupervisor/gosupervisor/events"
	"github.com/gosupervisor/gosupervisor/internal/faults"
	"github.com/gosupervisor/gosupervisor/internal/namespec"
	"github.com/gosupervisor/gosupervisor/logrot"
	"github.com/gosupervisor/gosupervisor/procman"
	"github.com/gosupervisor/gosupervisor/rpc"
)

// The rpc.Backend of one run. The rpc package checks the SHUTDOWN_STATE
// rule through State before calling the rest.
var _ rpc.Backend = (*instance)(nil)

// waitLoaded holds a caller that needs the process table until every
// group of the startup config is in it: the socket answers at once, but
// no client sees part of the config.
func (inst *instance) waitLoaded() { <-inst.loaded }

func (inst *instance) State() procman.SupervisorState {
	return procman.SupervisorState(inst.d.mood.Load())
}
func (inst *instance) PID() int               { return os.Getpid() }
func (inst *instance) Identification() string { return inst.cfg.Supervisord.Identifier }

// Shutdown is supervisor.shutdown: the mood changes at once; the main loop
// stops the processes and exits.
func (inst *instance) Shutdown() error {
	inst.waitLoaded()
	inst.d.requestStop(procman.SupervisorShutdown)
	return nil
}

// Restart is supervisor.restart: a reload in the same process.
func (inst *instance) Restart() error {
	inst.waitLoaded()
	if inst.cfg.Supervisord.ReloadKeepsRunning {
		// The answer goes out first: the re-exec waits for the requests
		// in progress.
		go inst.d.reloadKeeping(inst)
		return nil
	}
	inst.d.requestStop(procman.SupervisorRestarting)
	return nil
}

// ReloadConfig is supervisor.reloadConfig: read the config again (the
// command line still overrides it) and diff its groups with the active
// ones. The new config is what addProcessGroup and getAllConfigInfo use.
func (inst *instance) ReloadConfig() (added, changed, removed []string, err error) {
	inst.waitLoaded()
	cfg, err := inst.d.realize()
	if err != nil {
		msg := err.Error()
		return nil, nil, nil, rpc.NewFault(faults.CantReread, msg)
	}
	inst.mu.Lock()
	inst.latest = cfg
	active := &config.Config{Groups: append([]*config.Group(nil), inst.active...)}
	inst.mu.Unlock()
	added, changed, removed = config.Diff(active, cfg)
	return added, changed, removed, nil
}

// AddProcessGroup activates a group of the last config read.
func (inst *instance) AddProcessGroup(name string) error {
	inst.waitLoaded()
	inst.mu.Lock()
	var g *config.Group
	for _, c := range inst.latest.Groups {
		if c.Name == name {
			g = c
			break
		}
	}
	_, active := inst.activeGroup(name)
	inst.mu.Unlock()
	if g == nil {
		return rpc.NewFault(faults.BadName, name)
	}
	if active {
		return rpc.NewFault(faults.AlreadyAdded, name)
	}
	return inst.addGroup(g)
}

// RemoveProcessGroup deactivates a stopped group.
func (inst *instance) RemoveProcessGroup(name string) error {
	inst.waitLoaded()
	return inst.removeGroup(name)
}

func (inst *instance) MainLogFile() string { return inst.mainlog.Target() }
func (inst *instance) ClearMainLog() error { return inst.mainlog.Clear() }

func toRPCInfo(p procman.ProcessInfo) rpc.ProcessInfo {
	return rpc.ProcessInfo{
		Name:          p.Name,
		Group:         p.Group,
		Start:         p.Start,
		Stop:          p.Stop,
		Now:           p.Now,
		State:         p.State,
		SpawnErr:      p.Spawnerr,
		ExitStatus:    p.ExitStatus,
		StdoutLogfile: p.StdoutLogfile,
		StderrLogfile: p.StderrLogfile,
		PID:           p.PID,
	}
}

func toRPCResults(rs []procman.Result) []rpc.Result {
	out := make([]rpc.Result, len(rs))
	for i, r := range rs {
		if r.Err != nil {
			out[i] = rpc.ResultFault(r.Group, r.Name, r.Err)
		} else {
			out[i] = rpc.ResultOK(r.Group, r.Name)
		}
	}
	return out
}

func (inst *instance) ProcessInfo(namespec string) (rpc.ProcessInfo, error) {
	inst.waitLoaded()
	p, err := inst.sup.Info(namespec)
	if err != nil {
		return rpc.ProcessInfo{}, err
	}
	return toRPCInfo(p), nil
}

func (inst *instance) AllProcessInfo(dst []rpc.ProcessInfo) []rpc.ProcessInfo {
	inst.waitLoaded()
	for p := range inst.sup.Infos() {
		dst = append(dst, toRPCInfo(p))
	}
	return dst
}

// AllConfigInfo is getAllConfigInfo over the last config read: AUTO log
// paths show resolved for the processes of active groups that came from
// that config, "auto" otherwise, as in Python.
func (inst *instance) AllConfigInfo() []rpc.ConfigInfo {
	inst.waitLoaded()
	inst.mu.Lock()
	defer inst.mu.Unlock()
	var out []rpc.ConfigInfo
	for _, g := range inst.latest.Groups {
		_, inuse := inst.activeGroup(g.Name)
		for _, p := range g.Processes {
			resolved, haveResolved := inst.resolved[p]
			logPath := func(lc config.LogConfig, i int) string {
				switch {
				case lc.File == config.LogAuto && haveResolved && resolved[i] != "":
					return resolved[i]
				case lc.File == config.LogAuto:
					return "auto"
				case lc.File == config.LogNone:
					return "none"
				}
				return lc.File
			}
			ci := rpc.ConfigInfo{
				Autostart:             p.Autostart,
				Directory:             noneIfEmpty(p.Directory),
				Command:               p.Command,
				Exitcodes:             p.Exitcodes,
				Group:                 g.Name,
				GroupPrio:             g.Priority,
				InUse:                 inuse,
				KillAsGroup:           p.Killasgroup,
				Name:                  p.Name,
				ProcessPrio:           p.Priority,
				RedirectStderr:        p.RedirectStderr,
				StartRetries:          p.Startretries,
				StartSecs:             p.Startsecs,
				StdoutCaptureMaxbytes: p.Stdout.CaptureMaxbytes,
				StdoutEventsEnabled:   p.Stdout.EventsEnabled,
				StdoutLogfile:         logPath(p.Stdout, 0),
				StdoutLogfileBackups:  p.Stdout.Backups,
				StdoutLogfileMaxbytes: p.Stdout.Maxbytes,
				StdoutSyslog:          p.Stdout.Syslog,
				StopSignal:            p.Stopsignal,
				StopWaitSecs:          p.Stopwaitsecs,
				StderrCaptureMaxbytes: p.Stderr.CaptureMaxbytes,
				StderrEventsEnabled:   p.Stderr.EventsEnabled,
				StderrLogfile:         logPath(p.Stderr, 1),
				StderrLogfileBackups:  p.Stderr.Backups,
				StderrLogfileMaxbytes: p.Stderr.Maxbytes,
				StderrSyslog:          p.Stderr.Syslog,
				ServerURL:             p.ServerURL,
			}
			if p.ServerURL == "" || strings.EqualFold(p.ServerURL, "AUTO") {
				ci.ServerURL = "none" // Python stores AUTO as None
			}
			if p.User != nil {
				uid := p.User.UID
				ci.UID = &uid
			}
			out = append(out, ci)
		}
	}
	return out
}

func noneIfEmpty(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func (inst *instance) StartProcess(ctx context.Context, namespec string, wait bool) ([]rpc.Result, bool, error) {
	inst.waitLoaded()
	rs, isGroup, err := inst.sup.Start(ctx, namespec, wait)
	return toRPCResults(rs), isGroup, err
}

func (inst *instance) StartProcessGroup(ctx context.Context, name string, wait bool) ([]rpc.Result, error) {
	inst.waitLoaded()
	rs, err := inst.sup.StartGroup(ctx, name, wait)
	return toRPCResults(rs), err
}

func (inst *instance) StartAllProcesses(ctx context.Context, wait bool) []rpc.Result {
	inst.waitLoaded()
	return toRPCResults(inst.sup.StartAll(ctx, wait))
}

func (inst *instance) StopProcess(ctx context.Context, namespec string, wait bool) ([]rpc.Result, bool, error) {
	inst.waitLoaded()
	rs, isGroup, err := inst.sup.Stop(ctx, namespec, wait)
	return toRPCResults(rs), isGroup, err
}

func (inst *instance) StopProcessGroup(ctx context.Context, name string, wait bool) ([]rpc.Result, error) {
	inst.waitLoaded()
	rs, err := inst.sup.StopGroup(ctx, name, wait)
	return toRPCResults(rs), err
}

func (inst *instance) StopAllProcesses(ctx context.Context, wait bool) []rpc.Result {
	inst.waitLoaded()
	return toRPCResults(inst.sup.StopAll(ctx, wait))
}

func (inst *instance) SignalProcess(namespec, sig string) ([]rpc.Result, bool, error) {
	inst.waitLoaded()
	rs, isGroup, err := inst.sup.Signal(namespec, sig)
	return toRPCResults(rs), isGroup, err
}

func (inst *instance) SignalProcessGroup(name, sig string) ([]rpc.Result, error) {
	inst.waitLoaded()
	rs, err := inst.sup.SignalGroup(name, sig)
	return toRPCResults(rs), err
}

func (inst *instance) SignalAllProcesses(sig string) []rpc.Result {
	inst.waitLoaded()
	return toRPCResults(inst.sup.SignalAll(sig))
}

// ProcessLogFile is the resolved log path of one process's channel.
func (inst *instance) ProcessLogFile(namespec, channel string) (string, error) {
	inst.waitLoaded()
	p, err := inst.sup.Info(namespec)
	if err != nil {
		return "", err
	}
	if channel == "stderr" {
		return p.StderrLogfile, nil
	}
	return p.StdoutLogfile, nil
}

// channelsOf returns the log channels of one process.
func (inst *instance) channelsOf(group, name string) []*logrot.Channel {
	inst.mu.Lock()
	defer inst.mu.Unlock()
	var out []*logrot.Channel
	for _, ch := range inst.channels[group] {
		if ch.Config().ProcessName == name {
			out = append(out, ch)
		}
	}
	return out
}

// ClearProcessLogs is clearProcessLogs: BAD_NAME for an unknown process or
// a group spec, FAILED: namespec (as given) when a log cannot be cleared.
func (inst *instance) ClearProcessLogs(namespec string) error {
	inst.waitLoaded()
	p, err := inst.sup.Info(namespec)
	if err != nil {
		return err
	}
	for _, ch := range inst.channelsOf(p.Group, p.Name) {
		if err := ch.Clear(); err != nil {
			return rpc.NewFault(faults.Failed, namespec)
		}
	}
	return nil
}

// ClearAllProcessLogs clears every active process's logs, in priority
// order as Python's clearall does; a failure names the process as it does
// (make_namespec).
func (inst *instance) ClearAllProcessLogs(_ context.Context) []rpc.Result {
	inst.waitLoaded()
	var out []rpc.Result
	for _, p := range inst.sup.AllInfoByPriority() {
		r := rpc.ResultOK(p.Group, p.Name)
		for _, ch := range inst.channelsOf(p.Group, p.Name) {
			if err := ch.Clear(); err != nil {
				r = rpc.ResultFault(p.Group, p.Name, rpc.NewFault(faults.Failed, namespec.Make(p.Group, p.Name)))
				break
			}
		}
		out = append(out, r)
	}
	return out
}

func (inst *instance) SendProcessStdin(namespec string, data []byte) error {
	inst.waitLoaded()
	return inst.sup.SendStdin(namespec, data)
}

func (inst *instance) SendRemoteCommEvent(typ, data string) error {
	inst.waitLoaded()
	inst.d.bus.Publish(events.NewRemoteCommunicationEvent(typ, data))
	return nil
}
