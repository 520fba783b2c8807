package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/gosupervisor/gosupervisor/config"
	"github.com/gosupervisor/gosupervisor/handover"
	"github.com/gosupervisor/gosupervisor/internal/faults"
	"github.com/gosupervisor/gosupervisor/internal/namespec"
	"github.com/gosupervisor/gosupervisor/logrot"
	"github.com/gosupervisor/gosupervisor/procman"
	"github.com/gosupervisor/gosupervisor/rpc"
)

// The old image's side of gosupervisor.upgrade (issue 16): check the
// binary on disk, quiesce everything (HTTP front paused, process table
// frozen, pipes detached at a chunk boundary, event bus frozen), write the
// state and exec. If the exec fails everything is let go again and the
// call gets the fault. The new image's side is adopt.go.

// pauseWait bounds how long the upgrade waits for the requests in
// progress (a tail -f stream never ends by itself).
const pauseWait = 3 * time.Second

// Version is gosupervisor.getVersion.
func (inst *instance) Version() string { return ownVersion() }

// Upgrade is gosupervisor.upgrade.
func (inst *instance) Upgrade(ctx context.Context) error {
	inst.waitLoaded()
	return inst.d.upgrade(ctx, inst)
}

// reloadKeeping is SIGHUP and supervisor.restart with reload_keeps_running:
// the config is read again and applied as update does (removed and changed
// groups are stopped and removed here, with their old settings), then the
// running binary is executed again with the state; the new image adds the
// new and changed groups and adopts the rest. If the exec fails, the new
// groups are added in this image instead.
func (d *daemon) reloadKeeping(inst *instance) {
	if !d.upgrading.TryLock() {
		d.log(config.LevelWarn, "reload ignored: an upgrade or reload is in progress")
		return
	}
	defer d.upgrading.Unlock()
	if name := inst.fcgiGroup(); name != "" {
		d.logf(config.LevelWarn, "reload_keeps_running: [fcgi-program:%s] cannot be handed over: reloading the usual way, stopping every program", name)
		d.requestStop(procman.SupervisorRestarting)
		return
	}
	cfg, err := d.realize()
	if err != nil {
		// As a plain reload with a broken config: keep what runs.
		d.logf(config.LevelCritical, "could not re-read the configuration, keeping the running one: %v", err)
		return
	}
	inst.mu.Lock()
	active := &config.Config{Groups: append([]*config.Group(nil), inst.active...)}
	inst.latest = cfg
	inst.mu.Unlock()
	added, changed, removed := config.Diff(active, cfg)
	d.logf(config.LevelInfo, "reloading, keeping the programs running (reload_keeps_running): added %v, changed %v, removed %v", added, changed, removed)
	for _, name := range append(append([]string{}, removed...), changed...) {
		if _, err := inst.sup.StopGroup(context.Background(), name, true); err != nil {
			d.logf(config.LevelError, "reload: stop %s: %v", name, err)
		}
		if err := inst.removeGroup(name); err != nil {
			d.logf(config.LevelError, "reload: remove %s: %v", name, err)
		}
	}
	st, undo, err := inst.quiesce(context.Background(), false)
	if err == nil {
		st.Reload = true
		err = handover.Exec("/proc/self/exe", d.argv, st)
	}
	undo()
	d.logf(config.LevelError, "reload: re-executing failed, this image applies the new config itself: %v", err)
	for _, g := range cfg.Groups {
		if slices.Contains(added, g.Name) || slices.Contains(changed, g.Name) {
			if err := inst.addGroup(g); err != nil {
				d.logf(config.LevelError, "reload: add %s: %v", g.Name, err)
			}
		}
	}
}

func (d *daemon) upgrade(ctx context.Context, inst *instance) error {
	if !d.upgrading.TryLock() {
		return rpc.NewFault(faults.Failed, "upgrade: an upgrade is already in progress")
	}
	defer d.upgrading.Unlock()
	if procman.SupervisorState(d.mood.Load()) != procman.SupervisorRunning {
		return rpc.NewFault(faults.ShutdownState, "")
	}
	if d.exe == "" {
		return rpc.NewFault(faults.Failed, "upgrade: the supervisord binary could not be located at start")
	}
	if name := inst.fcgiGroup(); name != "" {
		return rpc.NewFault(faults.Failed, "upgrade: [fcgi-program:"+name+"] cannot be handed over (its socket is not); stop and remove the group first")
	}
	line, err := handover.Check(d.exe)
	if err != nil {
		d.logf(config.LevelError, "upgrade refused: %v", err)
		return rpc.NewFault(faults.Failed, "upgrade: "+err.Error())
	}
	if _, err := d.realize(); err != nil {
		d.logf(config.LevelError, "upgrade refused: the configuration cannot be read: %v", err)
		return rpc.NewFault(faults.Failed, "upgrade: the configuration cannot be read: "+err.Error())
	}
	d.logf(config.LevelInfo, "upgrading in place: executing %s (%s)", d.exe, line)

	st, undo, err := inst.quiesce(ctx, true)
	if err != nil {
		undo()
		d.logf(config.LevelError, "upgrade failed: %v", err)
		return rpc.NewFault(faults.Failed, "upgrade: "+err.Error())
	}
	err = handover.Exec(d.exe, d.argv, st)
	// Still here: the exec failed and this image stays in charge.
	undo()
	d.logf(config.LevelError, "upgrade failed, this supervisord stays in charge: %v", err)
	return rpc.NewFault(faults.Failed, "upgrade: "+err.Error())
}

// quiesce stops every moving part and returns the state to hand over
// (with reply, the connection of ctx's request too, to be answered by the
// new image), and undo, which lets everything go on (call it when the exec did not
// happen; it is safe after a partial quiesce).
func (inst *instance) quiesce(ctx context.Context, reply bool) (*handover.State, func(), error) {
	d := inst.d
	var undos []func()
	undo := func() {
		for i := len(undos) - 1; i >= 0; i-- {
			undos[i]()
		}
		undos = nil
	}
	st := &handover.State{From: ownVersion(), Daemonized: d.child != nil || d.daemonized}
	if m := inst.cfg.Supervisord.Logfile; m != "syslog" {
		st.MainLog = m
	}

	pctx, cancel := context.WithTimeout(ctx, pauseWait)
	defer cancel()
	if err := inst.srv.Pause(pctx, ctx); err != nil {
		return nil, undo, fmt.Errorf("pause the HTTP servers: %w", err)
	}
	undos = append(undos, inst.srv.Resume)

	// Listener writes to stdin go aside while the table is frozen.
	inst.stdinHold.hold()
	undos = append(undos, func() { inst.stdinHold.release(inst.sup) })
	fr := inst.sup.Freeze()
	undos = append(undos, fr.Thaw)

	inst.mu.Lock()
	var chs []*logrot.Channel
	for _, g := range inst.active {
		chs = append(chs, inst.channels[g.Name]...)
		for _, p := range g.Processes {
			if paths, ok := inst.resolved[p]; ok {
				st.Logs = append(st.Logs, handover.LogPaths{Group: g.Name, Process: p.Name, Stdout: paths[0], Stderr: paths[1]})
			}
		}
	}
	inst.mu.Unlock()
	detached := logrot.DetachAll(chs)
	undos = append(undos, func() {
		for i, ch := range chs {
			ch.Attach(detached[i])
		}
	})
	for i, ch := range chs {
		cc := ch.Config()
		for _, p := range detached[i] {
			st.Pipes = append(st.Pipes, handover.Pipe{Group: cc.GroupName, Process: cc.ProcessName, Channel: cc.Channel, PID: p.PID, FD: p.FD})
		}
	}

	busState, thaw := d.bus.Freeze()
	undos = append(undos, thaw)
	st.Events = busState
	st.Processes = fr.Snapshot()
	held := inst.stdinHold.taken()
	for i := range st.Processes {
		a := &st.Processes[i]
		if data := held[namespec.Make(a.Group, a.Name)]; len(data) > 0 {
			a.StdinPending = append(a.StdinPending, data...)
		}
	}

	var files []*os.File
	undos = append(undos, func() {
		for _, f := range files {
			f.Close()
		}
	})
	for i, l := range inst.listeners {
		f, err := l.File()
		if err != nil {
			return nil, undo, fmt.Errorf("hand over the socket of %s: %w", inst.cfg.HTTPServers[i].Section, err)
		}
		files = append(files, f)
		hs := inst.cfg.HTTPServers[i]
		st.Listeners = append(st.Listeners, handover.Listener{Family: hs.Family, Host: hs.Host, Port: l.Port(), File: hs.File, FD: fileFD(f)})
	}
	if !reply {
		return st, undo, nil
	}
	if f, version, err := rpc.HandoffConn(ctx); err == nil {
		files = append(files, f)
		st.Reply = &handover.Reply{FD: fileFD(f), HTTPVersion: version}
	} else {
		d.logf(config.LevelWarn, "upgrade: the caller's connection cannot be handed over (%v); it will be closed", err)
	}
	return st, undo, nil
}

// fileFD is f's descriptor, read without Fd (which would make it
// blocking).
func fileFD(f *os.File) int {
	fd := -1
	if rc, err := f.SyscallConn(); err == nil {
		_ = rc.Control(func(u uintptr) { fd = int(u) })
	}
	return fd
}

// stdinHold keeps the event envelopes written to listeners while the
// process table is frozen: the pool must not block on a process lock.
type stdinHold struct {
	mu   sync.Mutex
	on   bool
	data map[string][]byte
}

func (h *stdinHold) hold() {
	h.mu.Lock()
	h.on, h.data = true, map[string][]byte{}
	h.mu.Unlock()
}

// write keeps data when held; it reports whether it did.
func (h *stdinHold) write(spec string, data []byte) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.on {
		return false
	}
	h.data[spec] = append(h.data[spec], data...)
	return true
}

// taken returns what was kept so far (it goes on being kept).
func (h *stdinHold) taken() map[string][]byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make(map[string][]byte, len(h.data))
	for k, v := range h.data {
		out[k] = append([]byte(nil), v...)
	}
	return out
}

// release writes what was kept and stops keeping.
func (h *stdinHold) release(sup *procman.Supervisor) {
	h.mu.Lock()
	data := h.data
	h.on, h.data = false, nil
	h.mu.Unlock()
	for spec, b := range data {
		_ = sup.SendStdin(spec, b)
	}
}

// fcgiGroup names an active [fcgi-program:x] group ("" for none): their
// shared socket is not part of the hand-over.
func (inst *instance) fcgiGroup() string {
	inst.mu.Lock()
	defer inst.mu.Unlock()
	for _, g := range inst.active {
		if g.Kind == config.KindFastCGI {
			return g.Name
		}
	}
	return ""
}
