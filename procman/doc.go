// Package procman owns supervised processes: the supervisor 4.2.5 process
// state machine (STOPPED, STARTING, RUNNING, BACKOFF, STOPPING, EXITED,
// FATAL, UNKNOWN), spawning children as process-group leaders, the single
// reaper that owns wait4 (and reaps orphans as PID 1), stop escalation to
// SIGKILL, process groups, and which requests a process's state refuses. It
// knows nothing about log files or XML-RPC: a child's output pipes
// are handed to an OutputSink, and every state transition is published
// through a callback. Beyond Python, opt-in per program (issue 13):
// depends_on ordering of starts and stops (depends.go), restart_delay and
// its backoff, fatal_retry_after, exit_on_fatal/exit_on_exit requests to
// the daemon (restartpolicy.go), env_file (envfile.go) and rlimits set by
// a re-exec'd helper before the program's exec (rlimit_linux.go).
//
// Concurrency: each process has one owner, its mutex; every transition goes
// through (*process).fire, which consults the transition table in table.go.
// Exits arrive from the reaper, timeouts from the injectable Clock, requests
// from API callers; all of them take the process mutex. Transition callbacks
// are delivered in order, outside every process lock.
//
// API, in the order supervisord uses it:
//
//	New(Options) (*Supervisor, error)          a supervisor in state RUNNING
//	NewReaper(reapAll, orphan) *Reaper         the one wait4 owner (share it across reloads)
//	(*Supervisor).AddGroups([]*config.Group)   startup: add all, autostart by priority
//	(*Supervisor).AddGroup / RemoveGroup       addProcessGroup / removeProcessGroup
//	(*Supervisor).Info(spec) / AllInfo()       getProcessInfo / getAllProcessInfo
//	(*Supervisor).Start(ctx, spec, wait)       startProcess; a "g:*" spec returns the group's results
//	(*Supervisor).StartGroup / StartAll        startProcessGroup / startAllProcesses
//	(*Supervisor).Stop / StopGroup / StopAll   the stop counterparts
//	(*Supervisor).Signal / SignalGroup / SignalAll
//	(*Supervisor).SendStdin(spec, data)        sendProcessStdin
//	(*Supervisor).State()                      RUNNING, RESTARTING, SHUTDOWN
//	(*Supervisor).Shutdown(ctx) / Restart(ctx) stop everything in reverse priority
//	(*Supervisor).Close()                      shut down if needed, release the reaper
//
// A refused request returns an *Error: its Kind (ErrBadName, ErrNotRunning,
// ...; test with errors.Is) and the subject Python's fault text names. The
// rpc package turns it into the XML-RPC fault. A cancelled ctx returns
// ctx.Err() instead.
package procman
