package procman

import "fmt"

// event is something that happens to a process and may move it to another
// state. Events are fired only by the process's owner (under its mutex).
type event int

const (
	evSpawn       event = iota // a spawn is requested: RPC start, autostart, autorestart
	evRetry                    // the backoff delay elapsed
	evSpawnFailed              // the child could not be created (spawnerr set)
	evStartsecs                // the child stayed up for startsecs
	evExit                     // the child was reaped
	evStop                     // an administrative stop
	evStopTimeout              // stopwaitsecs elapsed while STOPPING
	evGiveUp                   // retries exhausted, or shutdown met a BACKOFF process
	evSignalError              // sending a signal failed with an unexpected error
	evAbandon                  // shutdown met a BACKOFF process (Python's stop_all give_up)
	evDelay                    // an autorestart waits for restart_delay (restartpolicy.go)
	evFatalRetry               // fatal_retry_after elapsed in FATAL
	numEvents
)

var eventNames = [...]string{"spawn", "retry", "spawn-failed", "startsecs", "exit", "stop", "stop-timeout", "give-up", "signal-error", "abandon", "delay", "fatal-retry"}

func (e event) String() string {
	if e >= 0 && int(e) < len(eventNames) {
		return eventNames[e]
	}
	return fmt.Sprintf("event(%d)", int(e))
}

// action is a side effect of a transition, run by (*process).fire in the
// order of the bits below, after the state has changed and been published.
type action uint32

const (
	aCancelTimer  action = 1 << iota // forget any startsecs/backoff/stopwait timer
	aClearPid                        // the child is gone: pid 0, close stdin, record laststop
	aTooQuickly                      // spawnerr "Exited too quickly", log the early exit
	aRecordExit                      // exitstatus, expected flag, "exited:" log, Bad exit code
	aRecordStop                      // exitstatus, "stopped:" log
	aResetBackoff                    // backoff = 0
	aIncBackoff                      // backoff++, then retry after backoff seconds or give up
	aSpawn                           // fork/exec the child (fires evSpawnFailed or arms startsecs)
	aRunning                         // "success:" log
	aSendStop                        // send stopsignal, arm the stopwaitsecs timer
	aSendKill                        // send SIGKILL, re-arm the stopwaitsecs timer
	aGaveUp                          // "gave up:" log
	aAutorestart                     // respawn per autorestart while the supervisor runs
)

type transitionKey struct {
	from State
	ev   event
}

type transitionRule struct {
	to      State
	actions action
}

// transitions is the whole process state machine. A (state, event) pair
// that is not in the table is not a legal edge: fire refuses it.
var transitions = map[transitionKey]transitionRule{
	{Stopped, evSpawn}:    {Starting, aCancelTimer | aSpawn},
	{Exited, evSpawn}:     {Starting, aCancelTimer | aSpawn},
	{Fatal, evSpawn}:      {Starting, aCancelTimer | aSpawn},
	{Backoff, evSpawn}:    {Starting, aCancelTimer | aSpawn},
	{Backoff, evRetry}:    {Starting, aCancelTimer | aSpawn},
	{Fatal, evFatalRetry}: {Starting, aCancelTimer | aSpawn},
	{Exited, evDelay}:     {Backoff, aCancelTimer},

	{Starting, evSpawnFailed}: {Backoff, aCancelTimer | aIncBackoff},
	{Starting, evStartsecs}:   {Running, aCancelTimer | aResetBackoff | aRunning},

	// An exit while STARTING is always too quick: the startsecs timer checks
	// that the child is still alive before it moves to RUNNING.
	{Starting, evExit}: {Backoff, aCancelTimer | aClearPid | aTooQuickly | aIncBackoff},
	{Running, evExit}:  {Exited, aCancelTimer | aClearPid | aRecordExit | aResetBackoff | aAutorestart},
	{Stopping, evExit}: {Stopped, aCancelTimer | aClearPid | aRecordStop},
	{Unknown, evExit}:  {Exited, aCancelTimer | aClearPid | aRecordExit},

	{Starting, evStop}:        {Stopping, aCancelTimer | aSendStop},
	{Running, evStop}:         {Stopping, aCancelTimer | aSendStop},
	{Backoff, evStop}:         {Stopped, aCancelTimer},
	{Stopping, evStopTimeout}: {Stopping, aSendKill},
	// A start that failed its ready check is stopped while STARTING
	// (probes.go); its exit is the failed start.
	{Starting, evStopTimeout}: {Starting, aSendKill},

	{Backoff, evGiveUp}:  {Fatal, aCancelTimer | aResetBackoff | aGaveUp},
	{Backoff, evAbandon}: {Fatal, aCancelTimer | aResetBackoff},

	{Starting, evSignalError}: {Unknown, aCancelTimer},
	{Running, evSignalError}:  {Unknown, aCancelTimer},
	{Stopping, evSignalError}: {Unknown, aCancelTimer},
}

// request is something a caller asks of a process.
type request int

const (
	reqStart  request = iota // startProcess
	reqStop                  // stopProcess
	reqSignal                // signalProcess
	reqStdin                 // sendProcessStdin
	reqRemove                // removeProcessGroup (per member)
	numRequests
)

// requestFault decides, in one place, whether a process in state st may take
// req, and if not, which fault it gets. name is the namespec as the caller
// gave it (for reqRemove: the group name).
func requestFault(req request, st State, name string) *Error {
	switch req {
	case reqStart:
		switch {
		case st.IsRunning():
			return reqError(ErrAlreadyStarted, name)
		case st == Unknown:
			return reqError(ErrFailed, name+" is in an unknown process state")
		case st == Stopping:
			// Python would neither spawn nor fail here; the wait then
			// reports ABNORMAL_TERMINATION. We say so at once.
			return reqError(ErrAbnormalTermination, name)
		}
	case reqStop:
		if !st.IsRunning() {
			return reqError(ErrNotRunning, name)
		}
	case reqSignal:
		if !st.IsSignallable() {
			return reqError(ErrNotRunning, name)
		}
	case reqStdin:
		// Python: "not process.pid or process.killing".
		if st != Starting && st != Running {
			return reqError(ErrNotRunning, name)
		}
	case reqRemove:
		if !st.IsStopped() {
			return reqError(ErrStillRunning, name)
		}
	default:
		return reqError(ErrFailed, fmt.Sprintf("unknown request %d", int(req)))
	}
	return nil
}
