package procman

import (
	"time"
)

// Health is what the gosupervisor namespace reports about a process besides
// getProcessInfo: readiness, health checks, restarts and dependencies.
type Health struct {
	Name      string
	Group     string
	PID       int  // 0 when not running (for resource sampling by the caller)
	Ready     bool // RUNNING: startsecs passed (and the ready check, when set)
	Healthy   bool // ready, and not failing its health check
	LastCheck time.Time
	LastError string
	Restarts  int // spawns after the first
	DependsOn []string
	// ReadyCheck and HealthCheck are the ready= and healthcheck= values as
	// configured, "" when none is set (a dashboard shows only what is checked).
	ReadyCheck  string
	HealthCheck string
}

// health snapshots Health. mu must not be held.
func (p *process) health() Health {
	p.mu.Lock()
	defer p.mu.Unlock()
	h := Health{
		Name:      p.cfg.Name,
		Group:     p.group.cfg.Name,
		PID:       p.pid,
		Ready:     p.state == Running,
		Restarts:  max(int(p.attempt)-1, 0),
		DependsOn: p.cfg.DependsOn,
	}
	p.probeHealth(&h)
	return h
}

// Health reports one process (BAD_NAME for unknown names and group specs).
func (s *Supervisor) Health(spec string) (Health, error) {
	p, err := s.lookupProcess(spec)
	if err != nil {
		return Health{}, err
	}
	return p.health(), nil
}

// AllHealth reports every process, sorted by group name, then process name.
func (s *Supervisor) AllHealth() []Health {
	ps := s.lexicalProcesses()
	out := make([]Health, len(ps))
	for i, p := range ps {
		out[i] = p.health()
	}
	return out
}
