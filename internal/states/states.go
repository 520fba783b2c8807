// Package states owns supervisor.states: the process state codes and
// names (ProcessStates), the STOPPED, RUNNING and SIGNALLABLE sets, and
// supervisord's own state codes and names (SupervisorStates). procman's
// typed states and supervisorctl both read them from here.
package states

// Process state codes (ProcessStates).
const (
	Stopped  = 0
	Starting = 10
	Running  = 20
	Backoff  = 30
	Stopping = 40
	Exited   = 100
	Fatal    = 200
	Unknown  = 1000
)

// Process lists every process state code in code order.
var Process = []int{Stopped, Starting, Running, Backoff, Stopping, Exited, Fatal, Unknown}

// ProcessName is getProcessStateDescription: the state's name, and false
// for a code that is not a process state.
func ProcessName(code int) (string, bool) {
	switch code {
	case Stopped:
		return "STOPPED", true
	case Starting:
		return "STARTING", true
	case Running:
		return "RUNNING", true
	case Backoff:
		return "BACKOFF", true
	case Stopping:
		return "STOPPING", true
	case Exited:
		return "EXITED", true
	case Fatal:
		return "FATAL", true
	case Unknown:
		return "UNKNOWN", true
	}
	return "", false
}

// IsStopped reports membership of STOPPED_STATES (STOPPED, EXITED, FATAL,
// UNKNOWN).
func IsStopped(code int) bool {
	return code == Stopped || code == Exited || code == Fatal || code == Unknown
}

// IsRunning reports membership of RUNNING_STATES (RUNNING, BACKOFF,
// STARTING).
func IsRunning(code int) bool {
	return code == Running || code == Backoff || code == Starting
}

// IsSignallable reports membership of SIGNALLABLE_STATES (RUNNING,
// STARTING, STOPPING).
func IsSignallable(code int) bool {
	return code == Running || code == Starting || code == Stopping
}

// Supervisor state codes (SupervisorStates).
const (
	SupervisorFatal      = 2
	SupervisorRunning    = 1
	SupervisorRestarting = 0
	SupervisorShutdown   = -1
)

// SupervisorName is getSupervisorStateDescription: the state's name, and
// false for a code that is not a supervisor state.
func SupervisorName(code int) (string, bool) {
	switch code {
	case SupervisorFatal:
		return "FATAL", true
	case SupervisorRunning:
		return "RUNNING", true
	case SupervisorRestarting:
		return "RESTARTING", true
	case SupervisorShutdown:
		return "SHUTDOWN", true
	}
	return "", false
}
