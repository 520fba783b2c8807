package main

import (
	"strings"

	"github.com/gosupervisor/gosupervisor/config"
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
	return toRPCHealth(h), nil
}

// AllProcessHealth is gosupervisor.getAllProcessHealth.
func (inst *instance) AllProcessHealth() []rpc.ProcessHealth {
	inst.waitLoaded()
	all := inst.sup.AllHealth()
	out := make([]rpc.ProcessHealth, len(all))
	for i, h := range all {
		out[i] = toRPCHealth(h)
	}
	return out
}
