package procman

import (
	"cmp"
	"context"
	"fmt"
	"iter"
	"slices"
	"strings"
	"sync"

	"github.com/gosupervisor/gosupervisor/config"
	"github.com/gosupervisor/gosupervisor/internal/namespec"
)

// Groups: adding, removing and looking up process groups by name.

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
		return nil, reqError(ErrBadName, "")
	}
	s.mu.Lock()
	_, active := s.groups[cfg.Name]
	if active || s.adding[cfg.Name] {
		s.mu.Unlock()
		return nil, reqError(ErrAlreadyAdded, cfg.Name)
	}
	s.adding[cfg.Name] = true
	s.mu.Unlock()

	g := &group{cfg: cfg, procs: make([]*process, 0, len(cfg.Processes))}
	if len(cfg.Processes) > smallGroup {
		g.by = make(map[string]*process, len(cfg.Processes))
	}
	if cfg.Kind == config.KindFastCGI && cfg.Socket != nil {
		// Like FastCGIProcessGroup: fail early if the socket cannot be made.
		g.fcgi = &fcgiSocket{cfg: cfg.Socket, log: s.logf}
		if _, err := g.fcgi.acquire(); err != nil {
			s.mu.Lock()
			delete(s.adding, cfg.Name)
			s.mu.Unlock()
			return nil, reqError(ErrFailed, fmt.Sprintf("Could not create FastCGI socket %s: %v", cfg.Socket.URL, err))
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
		if g.by != nil {
			g.by[pc.Name] = p
		}
	}

	s.mu.Lock()
	delete(s.adding, cfg.Name)
	s.groups[cfg.Name] = g
	s.order = append(s.order, g)
	s.lexical, s.lexicalOK = nil, false
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
		if s.State() == SupervisorRunning && !p.removed && p.cfg.Autostart && p.state == Stopped && p.laststart.IsZero() && !p.depStarting {
			if len(p.cfg.DependsOn) > 0 {
				// Its dependencies may take long to be ready: wait
				// for them aside, without holding up the next priority.
				p.unlock()
				go s.autostartAfterDependencies(p)
				return nil, nil
			}
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
		return reqError(ErrBadName, name)
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
		s.lexical, s.lexicalOK = nil, false
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

// lookup resolves a namespec as _getGroupAndProcess does: an unknown group
// or process is BAD_NAME with the spec as given; a group spec returns p nil.
func (s *Supervisor) lookup(spec string) (*group, *process, error) {
	gname, pname := namespec.Split(spec)
	s.mu.RLock()
	defer s.mu.RUnlock()
	g, ok := s.groups[gname]
	if !ok {
		return nil, nil, reqError(ErrBadName, spec)
	}
	if pname == "" {
		return g, nil, nil
	}
	p := g.process(pname)
	if p == nil {
		return nil, nil, reqError(ErrBadName, spec)
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
		return nil, reqError(ErrBadName, spec)
	}
	return p, nil
}

// Info is getProcessInfo. A group spec is BAD_NAME.
func (s *Supervisor) Info(spec string) (ProcessInfo, error) {
	p, err := s.lookupProcess(spec)
	if err != nil {
		return ProcessInfo{}, err
	}
	return p.info(p.s.clock.Now()), nil
}

// AllInfo is getAllProcessInfo: sorted by group name, then process name.
func (s *Supervisor) AllInfo() []ProcessInfo {
	return slices.AppendSeq(make([]ProcessInfo, 0, len(s.lexicalProcesses())), s.Infos())
}

// Infos yields AllInfo's facts one by one, for a caller that converts
// them into a slice of its own (the RPC answer) without this one's
// garbage.
func (s *Supervisor) Infos() iter.Seq[ProcessInfo] {
	return func(yield func(ProcessInfo) bool) {
		now := s.clock.Now()
		for _, p := range s.lexicalProcesses() {
			if !yield(p.info(now)) {
				return
			}
		}
	}
}

// AllInfoByPriority is getAllProcessInfo's facts in Python's
// _getAllProcesses() order: groups by ascending priority, then their
// processes by ascending priority (clearAllProcessLogs answers so).
func (s *Supervisor) AllInfoByPriority() []ProcessInfo {
	ps := s.allProcesses()
	out := make([]ProcessInfo, len(ps))
	now := s.clock.Now()
	for i, p := range ps {
		out[i] = p.info(now)
	}
	return out
}

// lexicalProcesses is Python's _getAllProcesses(lexical=True): every
// process, sorted by group name, then process name. The order is kept
// until a group is added or removed (getAllProcessInfo at thousands of
// processes would spend milliseconds sorting); callers must not modify it.
func (s *Supervisor) lexicalProcesses() []*process {
	s.mu.RLock()
	ps, ok := s.lexical, s.lexicalOK
	s.mu.RUnlock()
	if ok {
		return ps
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.lexicalOK {
		ps = nil
		for _, g := range s.order {
			ps = append(ps, g.procs...)
		}
		slices.SortFunc(ps, func(a, b *process) int {
			return cmp.Or(strings.Compare(a.group.cfg.Name, b.group.cfg.Name), strings.Compare(a.cfg.Name, b.cfg.Name))
		})
		s.lexical, s.lexicalOK = ps, true
	}
	return s.lexical
}

// groupProcesses resolves a group name for the group methods.
func (s *Supervisor) groupProcesses(name string) ([]*process, error) {
	s.mu.RLock()
	g, ok := s.groups[name]
	s.mu.RUnlock()
	if !ok {
		return nil, reqError(ErrBadName, name)
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
