package procman

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/gosupervisor/gosupervisor/config"
)

// depends_on: a start of a process first starts what it depends on,
// recursively, and waits until each is ready; stops (stop all, shutdown)
// take dependents down before their dependencies.
//
// Autorestarts and fatal_retry_after restarts do not wait for
// dependencies: they follow Python's timing.

// ready reports whether a dependency counts as ready. This is the one
// place that decides it: RUNNING, which with a ready= check (probes) means
// the check passed, since such a process stays STARTING until then.
// mu is held.
func (p *process) ready() bool { return p.state == Running }

// cancelDependencyStart cancels a start waiting for its dependencies (a
// stop request) and reports whether there was one. mu is held.
func (p *process) cancelDependencyStart() bool {
	if !p.depStarting || p.depCancel == nil {
		return false
	}
	select {
	case <-p.depCancel:
	default:
		close(p.depCancel)
	}
	return true
}

// notifyWaiters wakes everyone waiting on p without a state change (a
// dependency start finished, or readiness changed). mu is held.
func (p *process) notifyWaiters() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// dependencies resolves p's depends_on against the active groups, as
// config.DependencyTargets does at load.
func (s *Supervisor) dependencies(p *process) ([]*process, error) {
	if len(p.cfg.DependsOn) == 0 {
		return nil, nil
	}
	s.mu.RLock()
	var cfgs []*config.Group
	byCfg := map[*config.Process]*process{}
	for _, g := range s.order {
		cfgs = append(cfgs, g.cfg)
		for _, q := range g.procs {
			byCfg[q.cfg] = q
		}
	}
	s.mu.RUnlock()
	var out []*process
	for _, spec := range p.cfg.DependsOn {
		ts := config.DependencyTargets(cfgs, spec)
		if len(ts) == 0 {
			return nil, fmt.Errorf("%s is not an active program", spec)
		}
		for _, t := range ts {
			if q := byCfg[t]; q != nil && !slices.Contains(out, q) {
				out = append(out, q)
			}
		}
	}
	return out, nil
}

// startAfterDependencies is the wait of a start of p (which has
// depends_on; p.depStarting is set): make every dependency ready, then
// start p as startProcess does (waiting for RUNNING when wait is set).
func (s *Supervisor) startAfterDependencies(p *process, spec string, wait bool) func(context.Context) error {
	p.mu.Lock()
	cancelled := p.depCancel
	p.mu.Unlock()
	return func(ctx context.Context) error {
		dctx, cancel := context.WithCancel(ctx)
		go func() {
			select {
			case <-cancelled:
				cancel()
			case <-dctx.Done():
			}
		}()
		err := s.awaitDependencies(dctx, p, []*process{p})
		cancel()
		// The wait ends in s.start, under the lock that fires the spawn
		// (a dependent waiting on p must never see it STOPPED and no
		// longer waiting in between), or here when there is no spawn.
		endWait := func() {
			p.mu.Lock()
			if p.depStarting {
				p.depStarting = false
				p.notifyWaiters()
			}
			p.unlock()
		}
		select {
		case <-cancelled:
			// A stop came first: the start ends as one stopped while
			// STARTING does.
			endWait()
			p.logf(config.LevelInfo, "start of %s cancelled while waiting for its dependencies", p.cfg.Name)
			return reqError(ErrAbnormalTermination, spec)
		default:
		}
		if err != nil {
			endWait()
			if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
				return err
			}
			if s.State() != SupervisorRunning {
				return &Error{Kind: ErrShuttingDown}
			}
			p.logf(config.LevelWarn, "not starting %s: %v", p.cfg.Name, err)
			return reqError(ErrSpawnError, fmt.Sprintf("%s (%v)", spec, err))
		}
		w, err := s.start(p, spec, wait, false)
		endWait() // s.start refused
		if err == nil && w != nil {
			err = w(ctx)
		}
		return err
	}
}

// awaitDependencies makes each dependency of p ready, in depends_on order.
// chain is the path of dependents that led here (to refuse a cycle the
// active configuration may have, e.g. after an update).
func (s *Supervisor) awaitDependencies(ctx context.Context, p *process, chain []*process) error {
	deps, err := s.dependencies(p)
	if err != nil {
		return fmt.Errorf("dependency %w", err)
	}
	for _, d := range deps {
		if slices.Contains(chain, d) {
			return fmt.Errorf("dependency cycle through %s", d.namespec())
		}
		if err := s.ensureReady(ctx, d, append(chain, d)); err != nil {
			return fmt.Errorf("dependency %s %w", d.namespec(), err)
		}
	}
	return nil
}

// ensureReady starts d if it is stopped (after its own dependencies) and
// waits until it has been ready since; FATAL, a stop or an exit before
// that is an error.
func (s *Supervisor) ensureReady(ctx context.Context, d *process, chain []*process) error {
	d.mu.Lock()
	if d.ready() {
		d.mu.Unlock()
		return nil
	}
	idle := (d.state == Stopped || d.state == Exited || d.state == Fatal) && !d.depStarting
	d.mu.Unlock()
	if idle {
		if err := s.awaitDependencies(ctx, d, chain); err != nil {
			return fmt.Errorf("not started: %w", err)
		}
	}
	d.mu.Lock()
	switch {
	case d.removed:
		d.unlock()
		return fmt.Errorf("was removed")
	case s.State() != SupervisorRunning:
		d.unlock()
		return fmt.Errorf("not started: supervisor is shutting down")
	case (d.state == Stopped || d.state == Exited || d.state == Fatal) && !d.depStarting:
		d.logf(config.LevelInfo, "starting %s, a dependency of %s", d.cfg.Name, chain[len(chain)-2].cfg.Name)
		d.quickExits = 0
		d.fire(evSpawn, nil)
	}
	// The attempt whose RUNNING counts: the current one, or for a process
	// not started yet (another start waits for its own dependencies) the
	// next.
	base := d.attempt
	if d.state != Starting && d.state != Backoff && d.state != Running {
		base++
	}
	d.unlock()
	return d.waitFor(ctx, nil, func() (bool, error) {
		switch {
		case d.ready() || d.runningAttempt >= base:
			return true, nil
		case d.depStarting, d.state == Starting, d.state == Backoff:
			return false, nil
		case d.state == Fatal:
			if d.spawnerr != "" {
				return true, fmt.Errorf("entered FATAL: %s", d.spawnerr)
			}
			return true, fmt.Errorf("entered FATAL")
		}
		return true, fmt.Errorf("is %s", d.state)
	})
}

// stopBatches is the stop order of stop all and shutdown: groups in
// descending priority, each group's processes in descending priority,
// then reordered so that dependents stop before what they depend on, and
// cut into batches each stopped (and waited for) before the next. With no
// depends_on it is one batch per group priority: Python's order, except
// that Python also waits between groups of equal priority.
func (s *Supervisor) stopBatches() [][]*process {
	groups := s.sortedGroups()
	var order []*process
	for i := len(groups) - 1; i >= 0; i-- {
		ps := byPriority(groups[i].procs)
		slices.Reverse(ps)
		order = append(order, ps...)
	}
	batches, _ := s.dependencyBatches(order)
	return batches
}

// dependencyBatches reorders a stop order (stably) so that every process
// comes after the processes in it that depend on it, and cuts it where the
// group priority changes or a process is a dependency of one already in
// the batch.
// ordered reports whether any dependency was among them.
func (s *Supervisor) dependencyBatches(order []*process) (batches [][]*process, ordered bool) {
	deps, dependents := s.edgesWithin(order)
	sorted := order
	if len(deps) > 0 {
		sorted = stableOrder(order, dependents)
	}
	var cur []*process
	needed := map[*process]bool{} // dependencies of the processes in cur
	for _, p := range sorted {
		if len(cur) > 0 && (cur[0].group.cfg.Priority != p.group.cfg.Priority || needed[p]) {
			batches = append(batches, cur)
			cur = nil
			clear(needed)
		}
		cur = append(cur, p)
		for _, d := range deps[p] {
			needed[d] = true
		}
	}
	if len(cur) > 0 {
		batches = append(batches, cur)
	}
	return batches, len(deps) > 0
}

// stopInBatches is stopMany for an order that dependencies cut into
// several batches: each batch is stopped and, before the next, waited for.
func (s *Supervisor) stopInBatches(ctx context.Context, batches [][]*process, wait bool) []Result {
	var out []Result
	for i, b := range batches {
		out = append(out, s.runMany(ctx, b, false, true, State.IsRunning, func(p *process) (func(context.Context) error, error) {
			return s.stopOne(p, p.namespec(), wait || i < len(batches)-1)
		})...)
	}
	return out
}

// autostartAfterDependencies is the autostart of a process with
// depends_on: its dependencies are started (autostart or not) and waited
// for, then it is spawned. A failure is logged.
func (s *Supervisor) autostartAfterDependencies(p *process) {
	w, err := s.start(p, p.namespec(), false, true)
	if err == nil && w != nil {
		err = w(context.Background())
	}
	if err != nil && !errors.Is(err, ErrShuttingDown) {
		s.logf(config.LevelWarn, "autostart of %s failed: %v", p.cfg.Name, err)
	}
}

// startOrder reorders a start order (stably) so that every process comes
// after those of ps it depends on. ok reports whether any did.
func (s *Supervisor) startOrder(ps []*process) (ordered []*process, ok bool) {
	deps, _ := s.edgesWithin(ps)
	if len(deps) == 0 {
		return ps, false
	}
	return stableOrder(ps, deps), true
}

// edgesWithin is the dependencies among ps: each process's dependencies
// in ps but itself, in order, and the reverse (what depends on each).
func (s *Supervisor) edgesWithin(ps []*process) (deps, dependents map[*process][]*process) {
	in := make(map[*process]bool, len(ps))
	for _, p := range ps {
		in[p] = true
	}
	deps, dependents = map[*process][]*process{}, map[*process][]*process{}
	for _, p := range ps {
		ds, _ := s.dependencies(p)
		for _, d := range ds {
			if in[d] && d != p {
				deps[p] = append(deps[p], d)
				dependents[d] = append(dependents[d], p)
			}
		}
	}
	return deps, dependents
}

// stableOrder is ps reordered so that each process comes after its
// blockers: the first process of the rest whose blockers are all taken
// goes next, so the given order holds where nothing forces otherwise. A
// cycle (refused at load) falls back to the given order.
func stableOrder(ps []*process, blockers map[*process][]*process) []*process {
	out := make([]*process, 0, len(ps))
	taken := make(map[*process]bool, len(ps))
	rest := slices.Clone(ps)
	for len(rest) > 0 {
		next := 0
		for i, p := range rest {
			if !slices.ContainsFunc(blockers[p], func(b *process) bool { return !taken[b] }) {
				next = i
				break
			}
		}
		p := rest[next]
		rest = slices.Delete(rest, next, next+1)
		taken[p] = true
		out = append(out, p)
	}
	return out
}
