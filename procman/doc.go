// Package procman owns supervised processes: the supervisor 4.2.5 process
// state machine (STOPPED, STARTING, RUNNING, BACKOFF, STOPPING, EXITED,
// FATAL, UNKNOWN), spawning children as process-group leaders, the single
// reaper that owns wait4 (and reaps orphans as PID 1), stop escalation to
// SIGKILL, process groups, and the faults that start/stop/signal requests
// get. It knows nothing about log files or XML-RPC: a child's output pipes
// are handed to an OutputSink, and every state transition is published
// through a callback.
//
// Concurrency: each process has one owner, its mutex; every transition goes
// through (*process).fire, which consults the transition table in table.go.
// Exits arrive from the reaper, timeouts from the injectable Clock, requests
// from API callers; all of them take the process mutex. Transition callbacks
// are delivered in order, outside every process lock.
package procman
