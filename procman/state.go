package procman

import (
	"strconv"

	"github.com/gosupervisor/gosupervisor/internal/states"
)

// State is a process state (supervisor.states.ProcessStates; codes, names
// and sets live in internal/states).
type State int

// Process states with Python's codes.
const (
	Stopped  State = states.Stopped
	Starting State = states.Starting
	Running  State = states.Running
	Backoff  State = states.Backoff
	Stopping State = states.Stopping
	Exited   State = states.Exited
	Fatal    State = states.Fatal
	Unknown  State = states.Unknown
)

// AllStates lists every process state in code order.
var AllStates = []State{Stopped, Starting, Running, Backoff, Stopping, Exited, Fatal, Unknown}

// String is the state name Python reports (statename).
func (s State) String() string {
	if n, ok := states.ProcessName(int(s)); ok {
		return n
	}
	return "State(" + strconv.Itoa(int(s)) + ")"
}

// IsStopped reports membership of STOPPED_STATES (STOPPED, EXITED, FATAL, UNKNOWN).
func (s State) IsStopped() bool { return states.IsStopped(int(s)) }

// IsRunning reports membership of RUNNING_STATES (RUNNING, BACKOFF, STARTING).
func (s State) IsRunning() bool { return states.IsRunning(int(s)) }

// IsSignallable reports membership of SIGNALLABLE_STATES (RUNNING, STARTING, STOPPING).
func (s State) IsSignallable() bool { return states.IsSignallable(int(s)) }

// SupervisorState is supervisord's own state (SupervisorStates).
type SupervisorState int

// Supervisor states with Python's codes.
const (
	SupervisorFatal      SupervisorState = states.SupervisorFatal
	SupervisorRunning    SupervisorState = states.SupervisorRunning
	SupervisorRestarting SupervisorState = states.SupervisorRestarting
	SupervisorShutdown   SupervisorState = states.SupervisorShutdown
)

// String is Python's statename for getState.
func (s SupervisorState) String() string {
	if n, ok := states.SupervisorName(int(s)); ok {
		return n
	}
	return "SupervisorState(" + strconv.Itoa(int(s)) + ")"
}
