package rpc

import (
	"context"
	"fmt"
	"time"

	"github.com/gosupervisor/gosupervisor/internal/faults"
	"github.com/gosupervisor/gosupervisor/internal/timedelta"
	"github.com/gosupervisor/gosupervisor/procman"
)

// ProcessInfo is what the Backend reports about one process. The rpc
// package derives statename and description from it.
type ProcessInfo struct {
	Name          string
	Group         string
	Start         int64 // epoch seconds of the last spawn, 0 if never
	Stop          int64 // epoch seconds of the last exit, 0 if never
	Now           int64 // the backend's clock; 0 means "use time.Now()"
	State         procman.State
	SpawnErr      string
	ExitStatus    int
	StdoutLogfile string // resolved path, "" for NONE
	StderrLogfile string // resolved path, "" for NONE
	PID           int
}

// Description is the human text Python's getProcessInfo computes
// (_interpretProcessInfo): uptime for RUNNING, spawnerr for BACKOFF/FATAL,
// the local stop time (or "Not started") for STOPPED/EXITED, "" otherwise.
func (p *ProcessInfo) Description() string { return p.describe(time.Local) }

// describe is Description with stop dates in loc.
func (p *ProcessInfo) describe(loc *time.Location) string {
	switch p.State {
	case procman.Running:
		return fmt.Sprintf("pid %d, uptime %s", p.PID, timedelta.String(p.uptime()))
	case procman.Fatal, procman.Backoff:
		if p.SpawnErr != "" {
			return p.SpawnErr
		}
		return fmt.Sprintf("unknown error (try \"tail %s\")", p.Name)
	case procman.Stopped, procman.Exited:
		if p.Start != 0 {
			return time.Unix(cappedInt(p.Stop), 0).In(loc).Format("Jan 02 03:04 PM")
		}
		return "Not started"
	}
	return ""
}

// uptime is now - start in seconds (capped as Python's info has them), 0
// when the clock was set back.
func (p *ProcessInfo) uptime() int64 {
	now := p.Now
	if now == 0 {
		now = time.Now().Unix()
	}
	return max(cappedInt(now)-cappedInt(p.Start), 0)
}

// ConfigInfo is one entry of getAllConfigInfo. String fields hold exactly
// what is sent: a path, or "none" for None and "auto" for an unresolved
// AUTO value.
type ConfigInfo struct {
	Autostart             bool
	Directory             string // path or "none"
	UID                   *int   // nil is sent as "none"
	Command               string
	Exitcodes             []int
	Group                 string
	GroupPrio             int
	InUse                 bool
	KillAsGroup           bool
	Name                  string
	ProcessPrio           int
	RedirectStderr        bool
	StartRetries          int
	StartSecs             int
	StdoutCaptureMaxbytes int64
	StdoutEventsEnabled   bool
	StdoutLogfile         string // path, "none" or "auto"
	StdoutLogfileBackups  int
	StdoutLogfileMaxbytes int64
	StdoutSyslog          bool
	StopSignal            int
	StopWaitSecs          int
	StderrCaptureMaxbytes int64
	StderrEventsEnabled   bool
	StderrLogfile         string // path, "none" or "auto"
	StderrLogfileBackups  int
	StderrLogfileMaxbytes int64
	StderrSyslog          bool
	ServerURL             string // URL or "none"
}

func (c *ConfigInfo) toStruct() Struct {
	var uid any = "none"
	if c.UID != nil {
		uid = *c.UID
	}
	exit := c.Exitcodes
	if exit == nil {
		exit = []int{}
	}
	return Struct{
		{"autostart", c.Autostart},
		{"directory", c.Directory},
		{"uid", uid},
		{"command", c.Command},
		{"exitcodes", exit},
		{"group", c.Group},
		{"group_prio", c.GroupPrio},
		{"inuse", c.InUse},
		{"killasgroup", c.KillAsGroup},
		{"name", c.Name},
		{"process_prio", c.ProcessPrio},
		{"redirect_stderr", c.RedirectStderr},
		{"startretries", c.StartRetries},
		{"startsecs", c.StartSecs},
		{"stdout_capture_maxbytes", c.StdoutCaptureMaxbytes},
		{"stdout_events_enabled", c.StdoutEventsEnabled},
		{"stdout_logfile", c.StdoutLogfile},
		{"stdout_logfile_backups", c.StdoutLogfileBackups},
		{"stdout_logfile_maxbytes", c.StdoutLogfileMaxbytes},
		{"stdout_syslog", c.StdoutSyslog},
		{"stopsignal", c.StopSignal},
		{"stopwaitsecs", c.StopWaitSecs},
		{"stderr_capture_maxbytes", c.StderrCaptureMaxbytes},
		{"stderr_events_enabled", c.StderrEventsEnabled},
		{"stderr_logfile", c.StderrLogfile},
		{"stderr_logfile_backups", c.StderrLogfileBackups},
		{"stderr_logfile_maxbytes", c.StderrLogfileMaxbytes},
		{"stderr_syslog", c.StderrSyslog},
		{"serverurl", c.ServerURL},
	}
}

// Result is one entry of a group/all call: Status is Success (80) with
// Description "OK", or a fault code with the fault string.
type Result struct {
	Name        string // process name
	Group       string
	Status      int
	Description string
}

// ResultOK and ResultFault build Results.
func ResultOK(group, name string) Result {
	return Result{Name: name, Group: group, Status: faults.Success, Description: "OK"}
}

// ResultFault builds a Result from an error, with the fault AsFault
// chooses.
func ResultFault(group, name string, err error) Result {
	f := AsFault(err)
	return Result{Name: name, Group: group, Status: f.Code, Description: f.String}
}

func (r *Result) toStruct() Struct {
	return Struct{
		{"name", r.Name},
		{"group", r.Group},
		{"status", r.Status},
		{"description", r.Description},
	}
}

// Backend is what the daemon provides to the RPC layer. Its errors are
// sent as AsFault chooses: a *Fault as it is, procman's and logrot's typed
// errors by their kind, anything else as FAILED with its text. The rpc
// package does the SHUTDOWN_STATE check (via State), argument coercion,
// readLog/tail rules and method dispatch; the Backend resolves names and
// acts.
//
// Namespecs follow Python: "name" is group=name,process=name; "g:p" one
// process; "g:" or "g:*" a whole group. Methods taking a single process
// must return BAD_NAME: <spec> for unknown names and for group specs,
// except Start/Stop/SignalProcess, which, given a group spec, run the
// group operation and return isGroup=true with its results.
//
// Blocking methods get a context that is cancelled when the Server shuts
// down (not when the client goes away: like Python, a started operation
// runs to its end). Every method may be called concurrently from many
// connections; a blocking call stalls only its own connection.
type Backend interface {
	// State is the supervisor's state (RUNNING, RESTARTING, SHUTDOWN).
	State() procman.SupervisorState
	PID() int
	Identification() string
	// Shutdown and Restart only request the action and return at once.
	Shutdown() error
	Restart() error
	// ReloadConfig re-reads the config (CANT_REREAD on a parse error) and
	// returns group names added, changed and removed.
	ReloadConfig() (added, changed, removed []string, err error)
	AddProcessGroup(name string) error    // BAD_NAME, ALREADY_ADDED
	RemoveProcessGroup(name string) error // BAD_NAME, STILL_RUNNING

	// MainLogFile is the supervisord log path, "" when there is none.
	MainLogFile() string
	// ClearMainLog removes and reopens the main log (FAILED on error).
	ClearMainLog() error

	ProcessInfo(namespec string) (ProcessInfo, error)
	// AllProcessInfo appends every active process to dst and returns the
	// result; rpc sorts by (group, name). rpc recycles the slice, so the
	// backend must not keep it.
	AllProcessInfo(dst []ProcessInfo) []ProcessInfo
	// AllConfigInfo returns every configured process; rpc sorts by name.
	AllConfigInfo() []ConfigInfo

	// StartProcess: NO_FILE, NOT_EXECUTABLE, ALREADY_STARTED, FAILED,
	// SPAWN_ERROR, ABNORMAL_TERMINATION per Python. With wait it returns
	// once the process is RUNNING or has failed.
	StartProcess(ctx context.Context, namespec string, wait bool) (results []Result, isGroup bool, err error)
	StartProcessGroup(ctx context.Context, name string, wait bool) ([]Result, error)
	StartAllProcesses(ctx context.Context, wait bool) []Result
	// StopProcess: NOT_RUNNING, FAILED; with wait it returns once stopped.
	StopProcess(ctx context.Context, namespec string, wait bool) (results []Result, isGroup bool, err error)
	StopProcessGroup(ctx context.Context, name string, wait bool) ([]Result, error)
	StopAllProcesses(ctx context.Context, wait bool) []Result
	// Signals arrive as the client sent them ("HUP", "sigusr1", "9");
	// the backend validates them (BAD_SIGNAL: <sig>) per process.
	SignalProcess(namespec, sig string) (results []Result, isGroup bool, err error)
	SignalProcessGroup(name, sig string) ([]Result, error)
	SignalAllProcesses(sig string) []Result

	// ProcessLogFile returns the configured log path of channel "stdout"
	// or "stderr" ("" for NONE) or BAD_NAME.
	ProcessLogFile(namespec, channel string) (string, error)
	ClearProcessLogs(namespec string) error // BAD_NAME, FAILED: name
	ClearAllProcessLogs(ctx context.Context) []Result
	// SendProcessStdin: BAD_NAME, NOT_RUNNING, NO_FILE (closed stdin).
	SendProcessStdin(namespec string, data []byte) error
	SendRemoteCommEvent(typ, data string) error
}
