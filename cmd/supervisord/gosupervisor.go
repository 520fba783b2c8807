package main

import (
	"errors"
	"strings"
	"time"

	"github.com/gosupervisor/gosupervisor/config"
	"github.com/gosupervisor/gosupervisor/internal/faults"
	"github.com/gosupervisor/gosupervisor/internal/namespec"
	"github.com/gosupervisor/gosupervisor/logrot"
	"github.com/gosupervisor/gosupervisor/procman"
	"github.com/gosupervisor/gosupervisor/rpc"
)

// The gosupervisor namespace: served only with
// [rpcinterface:gosupervisor] naming rpc.GosupervisorFactory.
var _ rpc.Extensions = (*instance)(nil)

// gosupervisorSection is the rpcinterface section name that the
// gosupervisor factory must be registered under (Python names a namespace
// after its section).
const gosupervisorSection = "gosupervisor"

// isGosupervisorInterface reports whether ri enables the gosupervisor
// namespace.
func isGosupervisorInterface(ri config.RPCInterface) bool {
	return ri.Name == gosupervisorSection && strings.ReplaceAll(strings.TrimSpace(ri.Factory), " ", "") == rpc.GosupervisorFactory
}

// gosupervisorEnabled reports whether cfg enables the namespace.
func gosupervisorEnabled(cfg *config.Config) bool {
	for _, ri := range cfg.RPCInterfaces {
		if isGosupervisorInterface(ri) {
			return true
		}
	}
	return false
}

// healthSampleAge is how old a /proc snapshot may be for a health answer:
// a burst of calls (a ctl "health" per process) shares one pass.
const healthSampleAge = time.Second

func toRPCHealth(h procman.Health) rpc.ProcessHealth {
	out := rpc.ProcessHealth{
		Name:      h.Name,
		Group:     h.Group,
		Ready:     h.Ready,
		Healthy:   h.Healthy,
		LastError: h.LastError,
		Restarts:  h.Restarts,
		DependsOn: h.DependsOn,
	}
	if !h.LastCheck.IsZero() {
		out.LastCheck = h.LastCheck.Unix()
	}
	return out
}

// ProcessHealth is gosupervisor.getProcessHealth.
func (inst *instance) ProcessHealth(namespec string) (rpc.ProcessHealth, error) {
	inst.waitLoaded()
	h, err := inst.sup.Health(namespec)
	if err != nil {
		return rpc.ProcessHealth{}, err
	}
	out := []rpc.ProcessHealth{toRPCHealth(h)}
	inst.addResources([]procman.Health{h}, out)
	return out[0], nil
}

// AllProcessHealth is gosupervisor.getAllProcessHealth.
func (inst *instance) AllProcessHealth() []rpc.ProcessHealth {
	inst.waitLoaded()
	all := inst.sup.AllHealth()
	out := make([]rpc.ProcessHealth, len(all))
	for i, h := range all {
		out[i] = toRPCHealth(h)
	}
	inst.addResources(all, out)
	return out
}

// addResources fills rss and cpu_seconds of out[i] from the process tree
// of hs[i]'s pid, with one shared /proc pass; a pass that misses a running
// pid (it predates a spawn) is replaced by a fresh one. Where sampling is
// unavailable they stay 0.
func (inst *instance) addResources(hs []procman.Health, out []rpc.ProcessHealth) {
	maxAge := healthSampleAge
	for {
		snap, err := inst.stats.Snapshot(maxAge)
		if err != nil {
			return
		}
		missed := false
		for i, h := range hs {
			if h.PID <= 0 {
				continue
			}
			if u, ok := snap.Tree(h.PID); ok {
				out[i].RSS, out[i].CPUSeconds = u.RSSBytes, u.CPUSeconds
			} else {
				missed = true
			}
		}
		if !missed || maxAge == 0 {
			return
		}
		maxAge = 0
	}
}

// RotateLogs is gosupervisor.rotateLogs: "main", "all", "group:*" or one
// process. Each file rotates at its last line boundary; an empty one is
// left alone.
func (inst *instance) RotateLogs(name string) error {
	inst.waitLoaded()
	if name == "main" {
		if err := inst.mainlog.Rotate(); err != nil {
			if errors.Is(err, logrot.ErrNoFile) {
				return rpc.NewFault(faults.NoFile, inst.mainlog.Target())
			}
			return rpc.NewFault(faults.Failed, "main: "+err.Error())
		}
		return nil
	}
	var procs []procman.ProcessInfo
	switch group, proc, _ := strings.Cut(name, ":"); {
	case name == "all":
		procs = inst.sup.AllInfo()
	case proc == "*":
		for _, p := range inst.sup.AllInfo() {
			if p.Group == group {
				procs = append(procs, p)
			}
		}
		if len(procs) == 0 {
			return rpc.NewFault(faults.BadName, name)
		}
	default:
		p, err := inst.sup.Info(name)
		if err != nil {
			return err
		}
		procs = []procman.ProcessInfo{p}
	}
	for _, p := range procs {
		for _, ch := range inst.channelsOf(p.Group, p.Name) {
			if err := ch.Rotate(); err != nil {
				return rpc.NewFault(faults.Failed, namespec.Make(p.Group, p.Name)+": "+err.Error())
			}
		}
	}
	return nil
}
