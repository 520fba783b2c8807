package procman

import "strconv"

// State is a process state (supervisor.states.ProcessStates).
type State int

// Process states with Python's codes.
const (
	Stopped  State = 0
	Starting State = 10
	Running  State = 20
	Backoff  State = 30
	Stopping State = 40
	Exited   State = 100
	Fatal    State = 200
	Unknown  State = 1000
)

// AllStates lists every process state in code order.
var AllStates = []State{Stopped, Starting, Running, Backoff, Stopping, Exited, Fatal, Unknown}

// String is the state name Python reports (statename).
func (s State) String() string {
	switch s {
	case Stopped:
		return "STOPPED"
	case Starting:
		return "STARTING"
	case Running:
		return "RUNNING"
	case Backoff:
		return "BACKOFF"
	case Stopping:
		return "STOPPING"
	case Exited:
		return "EXITED"
	case Fatal:
		return "FATAL"
	case Unknown:
		return "UNKNOWN"
	}
	return "State(" + strconv.Itoa(int(s)) + ")"
}

// IsStopped reports membership of STOPPED_STATES (STOPPED, EXITED, FATAL, UNKNOWN).
func (s State) IsStopped() bool {
	return s == Stopped || s == Exited || s == Fatal || s == Unknown
}

// IsRunning reports membership of RUNNING_STATES (RUNNING, BACKOFF, STARTING).
func (s State) IsRunning() bool {
	return s == Running || s == Backoff || s == Starting
}

// IsSignallable reports membership of SIGNALLABLE_STATES (RUNNING, STARTING, STOPPING).
func (s State) IsSignallable() bool {
	return s == Running || s == Starting || s == Stopping
}

// SupervisorState is supervisord's own state (SupervisorStates).
type SupervisorState int

// Supervisor states with Python's codes.
const (
	SupervisorFatal      SupervisorState = 2
	SupervisorRunning    SupervisorState = 1
	SupervisorRestarting SupervisorState = 0
	SupervisorShutdown   SupervisorState = -1
)

// String is Python's statename for getState.
func (s SupervisorState) String() string {
	switch s {
	case SupervisorFatal:
		return "FATAL"
	case SupervisorRunning:
		return "RUNNING"
	case SupervisorRestarting:
		return "RESTARTING"
	case SupervisorShutdown:
		return "SHUTDOWN"
	}
	return "SupervisorState(" + strconv.Itoa(int(s)) + ")"
}
