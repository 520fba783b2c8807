package main

import (
	"fmt"
	"os"
	"syscall"

	"github.com/gosupervisor/gosupervisor/config"
	"github.com/gosupervisor/gosupervisor/internal/faults"
	"github.com/gosupervisor/gosupervisor/internal/namespec"
	"github.com/gosupervisor/gosupervisor/logrot"
	"github.com/gosupervisor/gosupervisor/procman"
	"github.com/gosupervisor/gosupervisor/rpc"
)

// The new image's side of an upgrade (upgrade.go is the old one's). The
// state is read and the config loaded before anything is touched; if
// either fails, the state goes back to the old binary (handover.Fallback)
// with the reason, and that image resumes and answers the call with the
// fault. Once both worked, this image takes over: it serves the inherited
// sockets, adopts the processes (procman), reads their pipes on (logrot),
// restores the event pools and answers the upgrade call.

// inheritedListener finds the handed-over socket of an HTTP server
// section (same family and address) and takes it out of the state.
func (d *daemon) inheritedListener(hs config.HTTPServer) *os.File {
	if d.taken == nil {
		return nil
	}
	ls := d.taken.State.Listeners
	for i, l := range ls {
		match := l.Family == hs.Family && (hs.Family == "unix" && l.File == hs.File ||
			hs.Family == "inet" && l.Host == hs.Host && (l.Port == hs.Port || hs.Port == 0))
		if match {
			d.taken.State.Listeners = append(ls[:i:i], ls[i+1:]...)
			return os.NewFile(uintptr(l.FD), "listener")
		}
	}
	return nil
}

// resolvedLog is the log path a handed-over process had for channel
// ("" when there is no record).
func (d *daemon) resolvedLog(group, process, channel string) (string, bool) {
	if d.taken == nil {
		return "", false
	}
	for _, l := range d.taken.State.Logs {
		if l.Group == group && l.Process == process {
			if channel == "stdout" {
				return l.Stdout, true
			}
			return l.Stderr, true
		}
	}
	return "", false
}

// takeOver is runOnce's startup after a hand-over, instead of announcing
// and autostarting: pools and groups are added without events, the
// processes adopted, the pools restored, and only processes that are new
// in the config autostart (start).
func (inst *instance) takeOver(groups []*config.Group) (start func()) {
	d := inst.d
	t := d.taken
	st := t.State
	handed := map[string]bool{}
	for _, a := range st.Processes {
		handed[a.Group] = true
	}
	for _, g := range groups {
		if !handed[g.Name] {
			continue // new (or changed) in the config: announced as usual
		}
		if g.Kind == config.KindEventListener {
			if err := inst.addPool(g); err != nil {
				inst.mainlog.Log(config.LevelError, fmt.Sprintf("could not add event listener pool %s: %v", g.Name, err))
				continue
			}
		}
		inst.mu.Lock()
		inst.announced[g.Name] = true // no PROCESS_GROUP_ADDED: nothing was added
		inst.mu.Unlock()
	}
	start, errs := inst.addGroups(groups)
	for i, err := range errs {
		if err != nil {
			inst.mainlog.Log(config.LevelError, fmt.Sprintf("could not add group %s: %v", groups[i].Name, err))
		}
	}
	if missing, err := d.bus.Restore(st.Events); err != nil {
		inst.mainlog.Log(config.LevelError, "upgrade: event pools: "+err.Error())
	} else if len(missing) > 0 {
		inst.mainlog.Log(config.LevelWarn, fmt.Sprintf("upgrade: event pools no longer configured, their buffered events are dropped: %v", missing))
	}
	// Pipes first: the processes' exits must find their output handled.
	for _, p := range st.Pipes {
		var ch *logrot.Channel
		for _, c := range inst.channelsOf(p.Group, p.Process) {
			if c.Config().Channel == p.Channel {
				ch = c
			}
		}
		if ch == nil {
			// No log channel (the program left the config): the pipe
			// is read and dropped so the child never blocks.
			syscall.CloseOnExec(p.FD)
			inst.mainlog.Log(config.LevelWarn, fmt.Sprintf("upgrade: no %s channel for %s (pid %d): its output is discarded", p.Channel, namespec.Make(p.Group, p.Process), p.PID))
			go discardPipe(os.NewFile(uintptr(p.FD), "pipe"))
			continue
		}
		ch.Attach([]logrot.Pipe{{FD: p.FD, PID: p.PID}})
	}
	unmatched, err := inst.sup.Adopt(st.Processes)
	if err != nil {
		inst.mainlog.Log(config.LevelError, "upgrade: "+err.Error())
	}
	for _, a := range unmatched {
		if a.StdinFD >= 0 {
			syscall.Close(a.StdinFD)
		}
		if a.PID <= 0 {
			continue
		}
		// Its program left the config: stop it, as update would.
		spec := namespec.Make(a.Group, a.Name)
		inst.mainlog.Log(config.LevelWarn, fmt.Sprintf("upgrade: %s (pid %d) is no longer in the configuration: sending SIGTERM", spec, a.PID))
		syscall.Kill(a.PID, syscall.SIGTERM) //nolint:errcheck // it may be gone already; the reaper tells
		pid := a.PID
		d.reaper.Adopt(pid, func(ex procman.Exit) {
			d.logf(config.LevelInfo, "stopped: %s (pid %d, %s)", spec, pid, waitText(ex.Status))
		})
	}
	return start
}

// finishTakeOver answers the upgrade call and logs the take-over, once the
// servers accept again.
func (inst *instance) finishTakeOver() {
	d := inst.d
	t := d.taken
	st := t.State
	for _, l := range st.Listeners {
		syscall.Close(l.FD) // a socket no section uses any more
	}
	if t.Refused != "" {
		msg := "upgrade failed: the new binary refused the hand-over: " + t.Refused + "; this supervisord resumed"
		inst.mainlog.Log(config.LevelCritical, msg)
		if r := st.Reply; r != nil {
			rpc.WriteHandoffReply(os.NewFile(uintptr(r.FD), "reply"), r.HTTPVersion, nil, rpc.NewFault(faults.Failed, "upgrade: the new binary refused the hand-over: "+t.Refused)) //nolint:errcheck // the caller may be gone
		}
	} else if st.Reload {
		inst.mainlog.Log(config.LevelInfo, fmt.Sprintf("reloaded (pid %d), %d processes kept running", os.Getpid(), len(st.Processes)))
	} else {
		inst.mainlog.Log(config.LevelInfo, fmt.Sprintf("upgraded in place (pid %d): %s -> %s; %d processes taken over", os.Getpid(), st.From, ownVersion(), len(st.Processes)))
		if r := st.Reply; r != nil {
			rpc.WriteHandoffReply(os.NewFile(uintptr(r.FD), "reply"), r.HTTPVersion, ownVersion(), nil) //nolint:errcheck // the caller may be gone
		}
	}
	t.Close()
	d.taken = nil
}

func discardPipe(f *os.File) {
	buf := make([]byte, 32<<10)
	for {
		if _, err := f.Read(buf); err != nil {
			f.Close()
			return
		}
	}
}
