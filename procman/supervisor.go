package procman

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gosupervisor/gosupervisor/config"
)

// Logger receives supervisord main-log messages, with Python's texts and
// levels. It is called with process locks held: it must not call back into
// the Supervisor.
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
	// Output returns, once per process when its group is added, the sinks
	// for its output and the log paths ProcessInfo reports. nil:
	// DefaultOutput.
	Output func(*config.Group, *config.Process) Output
	// Clock drives startsecs, backoff and stopwaitsecs. nil: RealClock.
	Clock Clock
	// Environ is supervisord's environment for children and PATH lookup.
	// nil: os.Environ() at each spawn.
	Environ []string
	// ServerURL is SUPERVISOR_SERVER_URL for processes whose serverurl is
	// AUTO ("" to leave it unset).
	ServerURL string
	// Reaper is a shared reaper. nil: New starts one (reaping every child
	// when ReapAll or when we are PID 1) and Close stops it.
	Reaper  *Reaper
	ReapAll bool
	// Location is the zone for stop dates in descriptions. nil: time.Local.
	Location *time.Location
}

// Result is one entry of a group/all operation (startProcessGroup & co).
type Result struct {
	Name        string
	Group       string
	Status      int    // Success (80) or a fault code
	Description string // "OK" or the fault string
}

// Supervisor owns the process groups and their processes.
type Supervisor struct {
	opts      Options
	clock     Clock
	loc       *time.Location
	reaper    *Reaper
	ownReaper bool
	state     atomic.Int32

	mu     sync.RWMutex // guards groups, order and adding
	groups map[string]*group
	adding map[string]bool // names whose AddGroup is building the group
	order  []*group        // insertion order

	qmu        sync.Mutex
	queue      []note
	delivering bool
	enqSeq     uint64     // notes queued so far
	delivSeq   uint64     // notes delivered so far
	drained    *sync.Cond // on qmu: delivSeq grew or delivery went idle

	shutdownMu sync.Mutex // one Shutdown at a time
	closeOnce  sync.Once
}

type group struct {
	cfg   *config.Group
	fcgi  *fcgiSocket // [fcgi-program:x] groups only
	procs []*process  // config order
	by    map[string]*process
}

type note struct {
	tr    *Transition
	group string
	added bool
}

// New returns a Supervisor in state RUNNING with no groups.
func New(opts Options) (*Supervisor, error) {
	s := &Supervisor{opts: opts, groups: make(map[string]*group), adding: make(map[string]bool)}
	s.clock = opts.Clock
	if s.clock == nil {
		s.clock = RealClock{}
	}
	s.loc = opts.Location
	if s.loc == nil {
		s.loc = time.Local
	}
	s.reaper = opts.Reaper
	if s.reaper == nil {
		s.reaper = NewReaper(opts.ReapAll || os.Getpid() == 1, func(ex Exit) {
			_, msg := decodeWaitStatus(ex.Status)
			s.logf(config.LevelInfo, "reaped unknown pid %d (%s)", ex.Pid, msg)
		})
		s.ownReaper = true
	}
	s.drained = sync.NewCond(&s.qmu)
	s.state.Store(int32(SupervisorRunning))
	return s, nil
}

// State is the supervisor state (RUNNING, RESTARTING, SHUTDOWN).
func (s *Supervisor) State() SupervisorState { return SupervisorState(s.state.Load()) }

func (s *Supervisor) logf(level config.LogLevel, format string, args ...any) {
	if s.opts.Logger != nil {
		s.opts.Logger.Log(level, fmt.Sprintf(format, args...))
	}
}

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

// enqueue queues a note and returns its sequence number.
func (s *Supervisor) enqueue(n note) uint64 {
	s.qmu.Lock()
	s.enqSeq++
	seq := s.enqSeq
	s.queue = append(s.queue, n)
	s.qmu.Unlock()
	return seq
}

// delivered returns once the note numbered seq (and all before it) has been
// delivered. Like drain, it must not be called from a callback.
func (s *Supervisor) delivered(seq uint64) {
	s.qmu.Lock()
	for s.delivSeq < seq {
		if !s.delivering {
			s.qmu.Unlock()
			s.flush()
			s.qmu.Lock()
			continue
		}
		s.drained.Wait()
	}
	s.qmu.Unlock()
}

// settle waits until p's transitions so far have been delivered, so a
// request returns after the events it caused were published.
func (s *Supervisor) settle(p *process) {
	p.mu.Lock()
	seq := p.lastSeq
	p.mu.Unlock()
	s.delivered(seq)
}

// flush delivers queued notes in order; one goroutine delivers at a time.
func (s *Supervisor) flush() {
	s.qmu.Lock()
	if s.delivering {
		s.qmu.Unlock()
		return
	}
	s.delivering = true
	for len(s.queue) > 0 {
		batch := s.queue
		s.queue = nil
		s.qmu.Unlock()
		for _, n := range batch {
			switch {
			case n.tr != nil:
				if s.opts.OnTransition != nil {
					s.opts.OnTransition(*n.tr)
				}
			case s.opts.OnGroup != nil:
				s.opts.OnGroup(n.group, n.added)
			}
		}
		s.qmu.Lock()
		s.delivSeq += uint64(len(batch))
		s.drained.Broadcast()
	}
	s.delivering = false
	if s.drained != nil {
		s.drained.Broadcast()
	}
	s.qmu.Unlock()
}

// drain returns once every queued note has been delivered (by us or by the
// goroutine delivering). It must not be called from a callback.
func (s *Supervisor) drain() {
	s.flush()
	s.qmu.Lock()
	for s.delivering || len(s.queue) > 0 {
		if !s.delivering {
			s.qmu.Unlock()
			s.flush()
			s.qmu.Lock()
			continue
		}
		s.drained.Wait()
	}
	s.qmu.Unlock()
}

// byPriority returns ps stably sorted by ascending priority.
func byPriority(ps []*process) []*process {
	out := slices.Clone(ps)
	slices.SortStableFunc(out, func(a, b *process) int { return cmp.Compare(a.cfg.Priority, b.cfg.Priority) })
	return out
}

// sortedGroups returns the groups stably sorted by ascending priority.
func (s *Supervisor) sortedGroups() []*group {
	s.mu.RLock()
	out := slices.Clone(s.order)
	s.mu.RUnlock()
	slices.SortStableFunc(out, func(a, b *group) int { return cmp.Compare(a.cfg.Priority, b.cfg.Priority) })
	return out
}

// AddGroup activates a group. An active group of that name gets
// ALREADY_ADDED. While the supervisor runs, autostart processes are spawned
// at once, in priority order. The Output hook is called without any
// Supervisor lock held.
func (s *Supervisor) AddGroup(cfg *config.Group) error {
	return s.AddGroups([]*config.Group{cfg})
}

// AddGroups activates several groups (supervisord's startup), then spawns
// their autostart processes in ascending (group priority, process priority)
// order, processes of equal priority in parallel. It returns the first
// error; the other groups are still added.
func (s *Supervisor) AddGroups(cfgs []*config.Group) error {
	start, errs := s.AddGroupsDeferred(cfgs)
	start()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// AddGroupsDeferred is AddGroups in two steps: when it returns, every group
// that could be added is in the process table (its processes STOPPED), and
// start spawns their autostart processes. supervisord's startup serves
// RPC in between, so a client never sees part of the configuration. errs
// has one entry per cfg (nil when it was added).
func (s *Supervisor) AddGroupsDeferred(cfgs []*config.Group) (start func(), errs []error) {
	errs = make([]error, len(cfgs))
	var added []*group
	for i, cfg := range cfgs {
		g, err := s.addGroup(cfg)
		if err != nil {
			errs[i] = err
			continue
		}
		added = append(added, g)
	}
	var once sync.Once
	return func() { once.Do(func() { s.autostart(added) }) }, errs
}

func (s *Supervisor) addGroup(cfg *config.Group) (*group, error) {
	if cfg == nil {
		return nil, fault(BadName, "")
	}
	s.mu.Lock()
	_, active := s.groups[cfg.Name]
	if active || s.adding[cfg.Name] {
		s.mu.Unlock()
		return nil, fault(AlreadyAdded, cfg.Name)
	}
	s.adding[cfg.Name] = true
	s.mu.Unlock()

	g := &group{cfg: cfg, by: make(map[string]*process, len(cfg.Processes))}
	if cfg.Kind == config.KindFastCGI && cfg.Socket != nil {
		// Like FastCGIProcessGroup: fail early if the socket cannot be made.
		g.fcgi = &fcgiSocket{cfg: cfg.Socket, log: s.logf}
		if _, err := g.fcgi.acquire(); err != nil {
			s.mu.Lock()
			delete(s.adding, cfg.Name)
			s.mu.Unlock()
			return nil, fault(Failed, fmt.Sprintf("Could not create FastCGI socket %s: %v", cfg.Socket.URL, err))
		}
		g.fcgi.release()
	}
	outFn := s.opts.Output
	if outFn == nil {
		outFn = DefaultOutput
	}
	for _, pc := range cfg.Processes {
		p := newProcess(s, g, pc, outFn(cfg, pc))
		g.procs = append(g.procs, p)
		g.by[pc.Name] = p
	}

	s.mu.Lock()
	delete(s.adding, cfg.Name)
	s.groups[cfg.Name] = g
	s.order = append(s.order, g)
	s.enqueue(note{group: cfg.Name, added: true})
	s.mu.Unlock()
	s.flush()
	return g, nil
}

// autostart spawns the never-started autostart processes of groups (what
// Python's first transition tick does), while the supervisor runs.
func (s *Supervisor) autostart(groups []*group) {
	slices.SortStableFunc(groups, func(a, b *group) int { return cmp.Compare(a.cfg.Priority, b.cfg.Priority) })
	var ps []*process
	for _, g := range groups {
		ps = append(ps, byPriority(g.procs)...)
	}
	s.runMany(context.Background(), ps, true, false, func(st State) bool { return st == Stopped }, func(p *process) (func(context.Context) error, error) {
		p.mu.Lock()
		if s.State() == SupervisorRunning && !p.removed && p.cfg.Autostart && p.state == Stopped && p.laststart.IsZero() {
			p.fire(evSpawn, nil)
		}
		p.unlock()
		return nil, nil
	})
}

// RemoveGroup deactivates a stopped group: BAD_NAME when unknown,
// STILL_RUNNING when a process is not in a stopped state.
func (s *Supervisor) RemoveGroup(name string) error {
	s.mu.Lock()
	g, ok := s.groups[name]
	if !ok {
		s.mu.Unlock()
		return fault(BadName, name)
	}
	for _, p := range g.procs {
		p.mu.Lock()
	}
	var err error
	for _, p := range g.procs {
		if f := requestFault(reqRemove, p.state, name); f != nil {
			err = f
			break
		}
	}
	if err == nil {
		delete(s.groups, name)
		s.order = slices.DeleteFunc(s.order, func(x *group) bool { return x == g })
		for _, p := range g.procs {
			p.removed = true
			p.cancelTimer()
			p.closeStdin()
		}
		s.enqueue(note{group: name, added: false})
	}
	for _, p := range g.procs {
		p.mu.Unlock()
	}
	s.mu.Unlock()
	s.flush()
	return err
}

// GroupNames lists the active groups in priority order.
func (s *Supervisor) GroupNames() []string {
	var out []string
	for _, g := range s.sortedGroups() {
		out = append(out, g.cfg.Name)
	}
	return out
}

// SplitNamespec is Python's split_namespec: "g:p" -> (g, p); "g:" and
// "g:*" -> (g, "") meaning the whole group; "p" -> (p, p).
func SplitNamespec(spec string) (groupName, processName string) {
	g, p, ok := strings.Cut(spec, ":")
	if !ok {
		return spec, spec
	}
	if p == "*" {
		p = ""
	}
	return g, p
}

// lookup resolves a namespec as _getGroupAndProcess does: an unknown group
// or process is BAD_NAME with the spec as given; a group spec returns p nil.
func (s *Supervisor) lookup(spec string) (*group, *process, error) {
	gname, pname := SplitNamespec(spec)
	s.mu.RLock()
	defer s.mu.RUnlock()
	g, ok := s.groups[gname]
	if !ok {
		return nil, nil, fault(BadName, spec)
	}
	if pname == "" {
		return g, nil, nil
	}
	p, ok := g.by[pname]
	if !ok {
		return nil, nil, fault(BadName, spec)
	}
	return g, p, nil
}

// lookupProcess is lookup for single-process methods: a group spec is
// BAD_NAME.
func (s *Supervisor) lookupProcess(spec string) (*process, error) {
	_, p, err := s.lookup(spec)
	if err != nil {
		return nil, err
	}
	if p == nil {
		return nil, fault(BadName, spec)
	}
	return p, nil
}

// Info is getProcessInfo. A group spec is BAD_NAME.
func (s *Supervisor) Info(spec string) (ProcessInfo, error) {
	p, err := s.lookupProcess(spec)
	if err != nil {
		return ProcessInfo{}, err
	}
	return p.info(), nil
}

// AllInfo is getAllProcessInfo: sorted by group name, then process name.
func (s *Supervisor) AllInfo() []ProcessInfo {
	s.mu.RLock()
	var ps []*process
	for _, g := range s.order {
		ps = append(ps, g.procs...)
	}
	s.mu.RUnlock()
	slices.SortFunc(ps, func(a, b *process) int {
		return cmp.Or(strings.Compare(a.group.cfg.Name, b.group.cfg.Name), strings.Compare(a.cfg.Name, b.cfg.Name))
	})
	out := make([]ProcessInfo, len(ps))
	for i, p := range ps {
		out[i] = p.info()
	}
	return out
}

// groupProcesses resolves a group name for the group methods.
func (s *Supervisor) groupProcesses(name string) ([]*process, error) {
	s.mu.RLock()
	g, ok := s.groups[name]
	s.mu.RUnlock()
	if !ok {
		return nil, fault(BadName, name)
	}
	return byPriority(g.procs), nil
}

// allProcesses lists every process in ascending (group, process) priority.
func (s *Supervisor) allProcesses() []*process {
	var out []*process
	for _, g := range s.sortedGroups() {
		out = append(out, byPriority(g.procs)...)
	}
	return out
}

// ---- start ----

// Start is startProcess. For a process spec it starts one process and
// returns (nil, false, err); for a group spec ("g:" or "g:*") it is
// startProcessGroup and returns (results, true, err). With wait it blocks
// until the process is RUNNING or failed (SPAWN_ERROR,
// ABNORMAL_TERMINATION), or ctx ends.
func (s *Supervisor) Start(ctx context.Context, spec string, wait bool) ([]Result, bool, error) {
	g, p, err := s.lookup(spec)
	if err != nil {
		return nil, false, err
	}
	if p == nil {
		res, err := s.StartGroup(ctx, g.cfg.Name, wait)
		return res, true, err
	}
	w, err := s.startOne(p, spec, wait)
	if err == nil && w != nil {
		err = w(ctx)
	}
	s.settle(p)
	return nil, false, err
}

// startOne does the synchronous part of startProcess and returns the wait
// still to do (nil when done).
func (s *Supervisor) startOne(p *process, spec string, wait bool) (func(context.Context) error, error) {
	if s.State() != SupervisorRunning {
		return nil, fault(ShutdownState, "")
	}
	path := searchPath(p.penv, s.environ())
	if _, _, err := resolveCommand(p.cfg.Command, path); err != nil {
		ce := err.(*commandError)
		return nil, fault(ce.code, ce.msg)
	}
	p.mu.Lock()
	switch {
	case p.removed:
		p.unlock()
		return nil, fault(BadName, spec)
	case s.State() != SupervisorRunning:
		// Checked again under the lock: a shutdown that already passed
		// this process must not find a new child behind it.
		p.unlock()
		return nil, fault(ShutdownState, "")
	}
	if f := requestFault(reqStart, p.state, spec); f != nil {
		p.unlock()
		return nil, f
	}
	p.fire(evSpawn, nil)
	attempt := p.attempt
	spawnerr := p.spawnerr
	state := p.state
	p.unlock()
	if spawnerr != "" {
		return nil, fault(SpawnError, spec)
	}
	if !wait || state == Running {
		return nil, nil
	}
	return func(ctx context.Context) error {
		return p.waitFor(ctx, nil, func() (bool, error) {
			switch {
			case p.runningAttempt == attempt:
				return true, nil
			case p.attempt != attempt || p.spawnerr != "":
				return true, fault(SpawnError, spec)
			case p.state != Starting && p.state != Running:
				return true, fault(AbnormalTermination, spec)
			}
			return false, nil
		})
	}, nil
}

// waitFor blocks until cond (called with mu held) reports done, re-checking
// on every state change; tick (may be nil) runs with mu held every 2 s.
func (p *process) waitFor(ctx context.Context, tick func(), cond func() (bool, error)) error {
	var tickc chan struct{}
	var t Timer
	arm := func() {
		c := make(chan struct{})
		tickc = c
		t = p.s.clock.AfterFunc(2*time.Second, func() { close(c) })
	}
	if tick != nil {
		arm()
		defer func() { t.Stop() }()
	}
	for {
		p.mu.Lock()
		done, err := cond()
		ch := p.changed
		p.mu.Unlock()
		if done {
			return err
		}
		select {
		case <-ch:
		case <-tickc:
			p.mu.Lock()
			tick()
			p.mu.Unlock()
			arm()
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// StartGroup is startProcessGroup: it starts the group's processes that are
// not running, in priority order, and returns one Result per process, in
// completion order (synchronous failures first).
func (s *Supervisor) StartGroup(ctx context.Context, name string, wait bool) ([]Result, error) {
	ps, err := s.groupProcesses(name)
	if err != nil {
		return nil, err
	}
	return s.startMany(ctx, ps, wait), nil
}

// StartAll is startAllProcesses.
func (s *Supervisor) StartAll(ctx context.Context, wait bool) []Result {
	return s.startMany(ctx, s.allProcesses(), wait)
}

func (s *Supervisor) startMany(ctx context.Context, ps []*process, wait bool) []Result {
	return s.runMany(ctx, ps, true, true, func(st State) bool { return !st.IsRunning() }, func(p *process) (func(context.Context) error, error) {
		return s.startOne(p, p.namespec(), wait)
	})
}

// spawnWorkers bounds the spawns a group start runs at once.
func spawnWorkers() int { return max(2, 2*runtime.GOMAXPROCS(0)) }

// samePriority reports whether a and b may be spawned concurrently: same
// group priority and same process priority.
func samePriority(a, b *process) bool {
	return a.group.cfg.Priority == b.group.cfg.Priority && a.cfg.Priority == b.cfg.Priority
}

// runMany is Python's make_allfunc: for each process the predicate accepts,
// run op (and with settle, wait until the transitions it caused were
// delivered). Synchronous outcomes come first, in iteration order; the waits
// left run concurrently and their outcomes follow in completion order. With
// parallel, ops on processes of equal priority run concurrently (fork+exec
// dominates a start), and a priority level is finished before the next
// begins, so ordering by priority holds.
func (s *Supervisor) runMany(ctx context.Context, ps []*process, parallel, settle bool, pred func(State) bool, op func(*process) (func(context.Context) error, error)) []Result {
	result := func(p *process, err error) Result {
		r := Result{Name: p.cfg.Name, Group: p.group.cfg.Name, Status: Success, Description: "OK"}
		if err != nil {
			if f, ok := err.(*Error); ok {
				r.Status, r.Description = f.Code, f.Error()
			} else {
				r.Status, r.Description = Failed, FaultName(Failed)+": "+err.Error()
			}
		}
		return r
	}
	syncRes := make([]*Result, len(ps))
	var mu sync.Mutex
	var async []Result
	var waits sync.WaitGroup
	run := func(i int) {
		p := ps[i]
		p.mu.Lock()
		st := p.state
		p.mu.Unlock()
		if !pred(st) {
			return
		}
		w, err := op(p)
		if err != nil || w == nil {
			if settle {
				s.settle(p)
			}
			r := result(p, err)
			syncRes[i] = &r
			return
		}
		waits.Add(1)
		go func() {
			defer waits.Done()
			err := w(ctx)
			if settle {
				s.settle(p)
			}
			r := result(p, err)
			mu.Lock()
			async = append(async, r)
			mu.Unlock()
		}()
	}
	for i := 0; i < len(ps); {
		j := i + 1
		for parallel && j < len(ps) && samePriority(ps[i], ps[j]) {
			j++
		}
		if j-i == 1 {
			run(i)
			i = j
			continue
		}
		wave := make(chan int)
		var workers sync.WaitGroup
		for range min(spawnWorkers(), j-i) {
			workers.Add(1)
			go func() {
				defer workers.Done()
				for k := range wave {
					run(k)
				}
			}()
		}
		for k := i; k < j; k++ {
			wave <- k
		}
		close(wave)
		workers.Wait()
		i = j
	}
	waits.Wait()
	results := []Result{}
	for _, r := range syncRes {
		if r != nil {
			results = append(results, *r)
		}
	}
	return append(results, async...)
}

// ---- stop ----

// Stop is stopProcess; a group spec is stopProcessGroup (see Start). With
// wait it blocks until the process is in a stopped state (after SIGKILL if
// stopwaitsecs passes), or ctx ends.
func (s *Supervisor) Stop(ctx context.Context, spec string, wait bool) ([]Result, bool, error) {
	g, p, err := s.lookup(spec)
	if err != nil {
		return nil, false, err
	}
	if p == nil {
		res, err := s.StopGroup(ctx, g.cfg.Name, wait)
		return res, true, err
	}
	w, err := s.stopOne(p, spec, wait)
	if err == nil && w != nil {
		err = w(ctx)
	}
	s.settle(p)
	return nil, false, err
}

func (s *Supervisor) stopOne(p *process, spec string, wait bool) (func(context.Context) error, error) {
	p.mu.Lock()
	if f := requestFault(reqStop, p.state, spec); f != nil {
		p.unlock()
		return nil, f
	}
	if p.state == Backoff {
		p.logf(config.LevelDebug, "Attempted to kill %s, which is in BACKOFF state.", p.cfg.Name)
	} else if p.pid == 0 {
		msg := fmt.Sprintf("attempted to kill %s with sig %s but it wasn't running", p.cfg.Name, SigName(p.cfg.Stopsignal))
		p.logf(config.LevelDebug, "%s", msg)
		p.unlock()
		return nil, fault(Failed, msg)
	}
	p.laststopreport = time.Time{}
	attempt := p.attempt
	p.fire(evStop, nil)
	killErr := p.killErr
	p.killErr = ""
	done := p.state.IsStopped()
	p.unlock()
	if killErr != "" {
		return nil, fault(Failed, killErr)
	}
	if !wait || done {
		return nil, nil
	}
	return func(ctx context.Context) error {
		report := func() {
			if p.state == Stopping {
				now := p.s.clock.Now()
				if now.Sub(p.laststopreport) > 2*time.Second || p.laststopreport.IsZero() {
					p.logf(config.LevelInfo, "waiting for %s to stop", p.cfg.Name)
					p.laststopreport = now
				}
			}
		}
		p.mu.Lock()
		report()
		p.mu.Unlock()
		return p.waitFor(ctx, report, func() (bool, error) {
			return p.state.IsStopped() || p.attempt != attempt, nil
		})
	}, nil
}

// StopGroup is stopProcessGroup: it stops the group's running processes
// (RUNNING, STARTING, BACKOFF), sending stop signals in descending priority
// order, and returns one Result per process in completion order.
func (s *Supervisor) StopGroup(ctx context.Context, name string, wait bool) ([]Result, error) {
	ps, err := s.groupProcesses(name)
	if err != nil {
		return nil, err
	}
	slices.Reverse(ps)
	return s.stopMany(ctx, ps, wait), nil
}

// StopAll is stopAllProcesses (descending priority order).
func (s *Supervisor) StopAll(ctx context.Context, wait bool) []Result {
	ps := s.allProcesses()
	slices.Reverse(ps)
	return s.stopMany(ctx, ps, wait)
}

func (s *Supervisor) stopMany(ctx context.Context, ps []*process, wait bool) []Result {
	return s.runMany(ctx, ps, false, true, State.IsRunning, func(p *process) (func(context.Context) error, error) {
		return s.stopOne(p, p.namespec(), wait)
	})
}

// ---- signal ----

// Signal is signalProcess; a group spec is signalProcessGroup (see Start).
// sig is a name or number as Python's signal_number accepts.
func (s *Supervisor) Signal(spec, sig string) ([]Result, bool, error) {
	g, p, err := s.lookup(spec)
	if err != nil {
		return nil, false, err
	}
	if p == nil {
		res, err := s.SignalGroup(g.cfg.Name, sig)
		return res, true, err
	}
	return nil, false, s.signalOne(p, spec, sig)
}

func (s *Supervisor) signalOne(p *process, spec, sigText string) error {
	sig, err := ParseSignal(sigText)
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.unlock()
	if f := requestFault(reqSignal, p.state, spec); f != nil {
		return f
	}
	name := p.cfg.Name
	if p.pid == 0 {
		msg := fmt.Sprintf("attempted to send %s sig %s but it wasn't running", name, SigName(int(sig)))
		p.logf(config.LevelDebug, "%s", msg)
		return fault(Failed, msg)
	}
	p.logf(config.LevelDebug, "sending %s (pid %d) sig %s", name, p.pid, SigName(int(sig)))
	if err := syscall.Kill(p.pid, sig); err != nil {
		if err == syscall.ESRCH {
			p.logf(config.LevelDebug, "unable to signal %s (pid %d), it probably just now exited on its own: %v", name, p.pid, err)
			return nil
		}
		msg := fmt.Sprintf("unknown problem sending sig %s (%d):%v", name, p.pid, err)
		p.logf(config.LevelCritical, "%s", msg)
		p.fire(evSignalError, nil)
		return fault(Failed, msg)
	}
	return nil
}

// SignalGroup is signalProcessGroup: it signals the group's signallable
// processes (RUNNING, STARTING, STOPPING) synchronously, in priority order.
func (s *Supervisor) SignalGroup(name, sig string) ([]Result, error) {
	ps, err := s.groupProcesses(name)
	if err != nil {
		return nil, err
	}
	return s.signalMany(ps, sig), nil
}

// SignalAll is signalAllProcesses.
func (s *Supervisor) SignalAll(sig string) []Result {
	return s.signalMany(s.allProcesses(), sig)
}

func (s *Supervisor) signalMany(ps []*process, sig string) []Result {
	return s.runMany(context.Background(), ps, false, false, State.IsSignallable, func(p *process) (func(context.Context) error, error) {
		return nil, s.signalOne(p, p.namespec(), sig)
	})
}

// SendStdin is sendProcessStdin: NOT_RUNNING without a live child (or while
// stopping), NO_FILE once the child's stdin is closed. Bytes the pipe cannot
// take at once are queued and written in the background.
func (s *Supervisor) SendStdin(spec string, data []byte) error {
	p, err := s.lookupProcess(spec)
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.unlock()
	if f := requestFault(reqStdin, p.state, spec); f != nil {
		return f
	}
	if p.pid == 0 {
		return fault(NotRunning, spec)
	}
	return p.writeStdin(data, spec)
}

// ---- shutdown ----

// Shutdown sets the state to SHUTDOWN and stops every group, highest group
// priority first, waiting for each group to stop (stopwaitsecs and SIGKILL
// apply) before the next; within a group processes get their stop signal in
// descending priority, and BACKOFF ones become FATAL. If ctx ends first,
// every remaining child is killed with SIGKILL. When Shutdown returns no
// child is left and every transition has been delivered (so it must not
// be called from an OnTransition callback).
func (s *Supervisor) Shutdown(ctx context.Context) error {
	return s.shutdown(ctx, SupervisorShutdown)
}

// Restart is Shutdown with the state RESTARTING (a reload follows).
func (s *Supervisor) Restart(ctx context.Context) error {
	return s.shutdown(ctx, SupervisorRestarting)
}

func (s *Supervisor) shutdown(ctx context.Context, to SupervisorState) error {
	if s.State() == SupervisorRunning || to == SupervisorShutdown {
		s.state.Store(int32(to))
	}
	s.shutdownMu.Lock()
	defer s.shutdownMu.Unlock()
	groups := s.sortedGroups()
	var lastReport time.Time
	var err error
	for i := len(groups) - 1; i >= 0 && err == nil; i-- {
		ps := byPriority(groups[i].procs)
		slices.Reverse(ps)
		for _, p := range ps {
			p.mu.Lock()
			switch p.state {
			case Running, Starting:
				if p.pid != 0 {
					p.fire(evStop, nil)
				}
			case Backoff:
				p.fire(evAbandon, nil)
			}
			p.unlock()
		}
		for {
			if !anyUnstopped(ps) {
				break
			}
			if now := time.Now(); now.Sub(lastReport) > 3*time.Second {
				lastReport = now
				var names []string
				for _, p := range s.allProcesses() {
					p.mu.Lock()
					if !p.state.IsStopped() {
						names = append(names, p.cfg.Name)
					}
					p.mu.Unlock()
				}
				if len(names) > 0 {
					s.logf(config.LevelInfo, "waiting for %s to die", strings.Join(names, ", "))
				}
			}
			if werr := waitAnyChange(ctx, ps, time.Second); werr != nil {
				err = werr
				break
			}
		}
	}
	// Whatever is left (ctx ended, or a pid in UNKNOWN) is killed outright.
	all := s.allProcesses()
	for _, p := range all {
		p.mu.Lock()
		if p.pid != 0 {
			target := p.pid
			if p.cfg.Killasgroup || p.cfg.Stopasgroup {
				target = -p.pid
			}
			p.logf(config.LevelWarn, "killing '%s' (%d) with SIGKILL", p.cfg.Name, p.pid)
			_ = syscall.Kill(target, syscall.SIGKILL)
		}
		p.mu.Unlock()
	}
	for _, p := range all {
		for {
			p.mu.Lock()
			pid, ch := p.pid, p.changed
			p.mu.Unlock()
			if pid == 0 {
				break
			}
			<-ch
		}
	}
	s.drain()
	return err
}

func anyUnstopped(ps []*process) bool {
	for _, p := range ps {
		p.mu.Lock()
		st := p.state
		p.mu.Unlock()
		if !st.IsStopped() {
			return true
		}
	}
	return false
}

// waitAnyChange waits until some process in ps changes state, d passes, or
// ctx ends.
func waitAnyChange(ctx context.Context, ps []*process, d time.Duration) error {
	var ch chan struct{}
	for _, p := range ps {
		p.mu.Lock()
		if !p.state.IsStopped() {
			ch = p.changed
		}
		p.mu.Unlock()
		if ch != nil {
			break
		}
	}
	if ch == nil {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ch:
	case <-t.C:
	case <-ctx.Done():
		return ctx.Err()
	}
	return nil
}

// Close shuts down (if Shutdown was not called), stops the reaper it owns
// and delivers pending notifications.
func (s *Supervisor) Close() error {
	var err error
	s.closeOnce.Do(func() {
		err = s.shutdown(context.Background(), SupervisorShutdown)
		if s.ownReaper {
			s.reaper.Close()
		}
		s.drain()
	})
	return err
}
