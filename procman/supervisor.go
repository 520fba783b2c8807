package procman

import (
	"context"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gosupervisor/gosupervisor/config"
	"github.com/gosupervisor/gosupervisor/internal/clock"
	"github.com/gosupervisor/gosupervisor/internal/signals"
	"github.com/gosupervisor/gosupervisor/procstat"
)

// Logger receives supervisord main-log messages, with Python's texts and
// levels, in order, from one goroutine at a time and never with a lock of
// the Supervisor held: a Logger that blocks delays only the messages after
// it (see logq.go), and it may call back into the Supervisor.
type Logger interface {
	Log(level config.LogLevel, msg string)
}

// Transition is one published process state change, with the values the
// PROCESS_STATE_* events carry, frozen when the change happened.
type Transition struct {
	Process  string
	Group    string
	From, To State
	PID      int  // the child's pid (the old pid for EXITED/STOPPED)
	Tries    int  // backoff counter (the "tries" of STARTING/BACKOFF)
	Expected bool // EXITED only: the exit status was in exitcodes
	Time     time.Time
}

// Options configures a Supervisor. Every field is optional.
type Options struct {
	Logger Logger
	// OnTransition receives every process state change, in order, never
	// with a process lock held. Start and Stop (and their group forms)
	// return only after the changes they caused were delivered, and
	// Shutdown after all were; so OnTransition may call Info, Signal and
	// SendStdin, but not Start, Stop or Shutdown.
	OnTransition func(Transition)
	// OnGroup is told when a group was added or removed, through the same
	// ordered queue (so PROCESS_GROUP_ADDED precedes its autostarts).
	OnGroup func(name string, added bool)
	// OnExitRequest is told, through the same ordered queue, when a
	// process with exit_on_fatal or exit_on_exit asks the daemon to stop
	// everything and exit (restartpolicy.go). nil: the request is only
	// logged.
	OnExitRequest func(ExitRequest)
	// Output returns, once per process when its group is added, the sinks
	// for its output and the log paths ProcessInfo reports. nil:
	// DefaultOutput.
	Output func(*config.Group, *config.Process) Output
	// Clock drives startsecs, backoff and stopwaitsecs. nil: RealClock.
	Clock clock.Clock
	// Environ is supervisord's environment for children and PATH lookup.
	// nil: os.Environ() at each spawn.
	Environ []string
	// ServerURL is SUPERVISOR_SERVER_URL for processes whose serverurl is
	// AUTO ("" to leave it unset).
	ServerURL string
	// Reaper is a shared reaper. nil: New starts one (reaping every child
	// when we are PID 1) and Close stops it.
	Reaper *Reaper
	// Sampler measures memory for memory_max. nil: one of its own.
	Sampler *procstat.Sampler
}

// Result is one entry of a group/all operation (startProcessGroup & co).
type Result struct {
	Name  string
	Group string
	Err   error // nil on success
}

// Supervisor owns the process groups and their processes.
type Supervisor struct {
	opts      Options
	clock     clock.Clock
	reaper    *Reaper
	ownReaper bool
	spawns    spawnGate // parallel spawns near RLIMIT_NOFILE (spawngate.go)
	state     atomic.Int32

	mu     sync.RWMutex // guards groups, order, lexical and adding
	groups map[string]*group
	adding map[string]bool // names whose AddGroup is building the group
	order  []*group        // insertion order
	// lexical is every process by (group name, name), valid while
	// lexicalOK (lexicalProcesses); a group change drops it.
	lexical   []*process
	lexicalOK bool

	qmu        sync.Mutex
	queue      []note
	delivering bool
	enqSeq     uint64     // notes queued so far
	delivSeq   uint64     // notes delivered so far
	drained    *sync.Cond // on qmu: delivSeq grew or delivery went idle

	logMu      sync.Mutex // guards the log queue (logq.go)
	logQueue   []logEntry
	logDropped int
	logQueued  uint64 // messages queued so far (not counting dropped ones)
	logDone    uint64 // messages handed to the Logger so far
	logStuck   bool   // the last awaitLogs gave up, with logDone at logStuckAt
	logStuckAt uint64
	logging    bool       // a goroutine is delivering logQueue
	logIdle    *sync.Cond // on logMu: logDone grew or logging became false

	kill func(pid int, sig syscall.Signal) error // syscall.Kill; tests replace it

	probe probeShared // notify sockets, /proc sampler (probes.go)

	shutdownMu sync.Mutex // one Shutdown at a time
	closeOnce  sync.Once
}

type group struct {
	cfg   *config.Group
	fcgi  *fcgiSocket         // [fcgi-program:x] groups only
	procs []*process          // config order
	by    map[string]*process // by name, for groups of more than smallGroup
}

// smallGroup is the size up to which a group finds its processes by
// scanning procs: most groups are one program's one process, and a map
// per group cost some 200 bytes each (1.2 MB at 6,000 programs).
const smallGroup = 8

// process returns the group's process called name, nil if none.
func (g *group) process(name string) *process {
	if g.by != nil {
		return g.by[name]
	}
	for i := len(g.procs) - 1; i >= 0; i-- { // the last of a name, as the map kept
		if g.procs[i].cfg.Name == name {
			return g.procs[i]
		}
	}
	return nil
}

type note struct {
	tr    *Transition
	exit  *ExitRequest
	group string
	added bool
}

// New returns a Supervisor in state RUNNING with no groups.
func New(opts Options) (*Supervisor, error) {
	s := &Supervisor{opts: opts, groups: make(map[string]*group), adding: make(map[string]bool)}
	s.clock = opts.Clock
	if s.clock == nil {
		s.clock = clock.Real{}
	}
	s.reaper = opts.Reaper
	if s.reaper == nil {
		s.reaper = NewReaper(os.Getpid() == 1, func(ex Exit) {
			_, msg := signals.WaitStatus(ex.Status)
			s.logf(config.LevelInfo, "reaped unknown pid %d (%s)", ex.Pid, msg)
		})
		s.ownReaper = true
	}
	s.drained = sync.NewCond(&s.qmu)
	s.logIdle = sync.NewCond(&s.logMu)
	s.kill = syscall.Kill
	s.state.Store(int32(SupervisorRunning))
	return s, nil
}

// State is the supervisor state (RUNNING, RESTARTING, SHUTDOWN).
func (s *Supervisor) State() SupervisorState { return SupervisorState(s.state.Load()) }

func (s *Supervisor) environ() []string {
	if s.opts.Environ != nil {
		return s.opts.Environ
	}
	return os.Environ()
}

func (s *Supervisor) serverURL(p *config.Process) string {
	if p.ServerURL == "" || p.ServerURL == "AUTO" {
		return s.opts.ServerURL
	}
	return p.ServerURL
}

// Close shuts down (if Shutdown was not called), stops the reaper it owns
// and delivers pending notifications and log messages.
func (s *Supervisor) Close() error {
	var err error
	s.closeOnce.Do(func() {
		err = s.shutdown(context.Background(), SupervisorShutdown)
		s.closeProbes()
		if s.ownReaper {
			s.reaper.Close()
		}
		s.drain()
		s.flushLogs()
	})
	return err
}
