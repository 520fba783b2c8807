package procman

import (
	"context"
	"runtime"
	"sync"
	"time"

	"github.com/gosupervisor/gosupervisor/config"
	"github.com/gosupervisor/gosupervisor/internal/clock"
)

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
	return s.start(p, spec, wait, true)
}

// start is startOne; with deps, a process with depends_on first waits for
// its dependencies (in the returned wait).
func (s *Supervisor) start(p *process, spec string, wait, deps bool) (func(context.Context) error, error) {
	if s.State() != SupervisorRunning {
		return nil, &Error{Kind: ErrShuttingDown}
	}
	penv, _ := p.programEnv()
	path := searchPath(penv, s.environ())
	if _, _, err := resolveCommand(p.cfg.Command, path); err != nil {
		ce := err.(*commandError)
		return nil, reqError(ce.kind, ce.msg)
	}
	p.mu.Lock()
	switch {
	case p.removed:
		p.unlock()
		return nil, reqError(ErrBadName, spec)
	case s.State() != SupervisorRunning:
		// Checked again under the lock: a shutdown that already passed
		// this process must not find a new child behind it.
		p.unlock()
		return nil, &Error{Kind: ErrShuttingDown}
	}
	if f := requestFault(reqStart, p.state, spec); f != nil {
		p.unlock()
		return nil, f
	}
	if p.depStarting && deps {
		p.unlock()
		return nil, reqError(ErrAlreadyStarted, spec)
	}
	p.quickExits = 0
	if deps && len(p.cfg.DependsOn) > 0 {
		p.depStarting = true
		p.depCancel = make(chan struct{})
		p.unlock()
		return s.startAfterDependencies(p, spec, wait), nil
	}
	if p.depStarting {
		// The start that waited for p's dependencies (deps false) spawns
		// now: its wait ends with the spawn, unless a stop cancelled it.
		p.depStarting = false
		p.notifyWaiters()
		select {
		case <-p.depCancel:
			p.logf(config.LevelInfo, "start of %s cancelled while waiting for its dependencies", p.cfg.Name)
			p.unlock()
			return nil, reqError(ErrAbnormalTermination, spec)
		default:
		}
	}
	p.fire(evSpawn, nil)
	attempt := p.attempt
	spawnerr := p.spawnerr
	state := p.state
	p.unlock()
	if spawnerr != "" {
		return nil, reqError(ErrSpawnError, spec)
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
				return true, reqError(ErrSpawnError, spec)
			case p.state != Starting && p.state != Running:
				return true, reqError(ErrAbnormalTermination, spec)
			}
			return false, nil
		})
	}, nil
}

// waitFor blocks until cond (called with mu held) reports done, re-checking
// on every state change; tick (may be nil) runs with mu held every 2 s.
func (p *process) waitFor(ctx context.Context, tick func(), cond func() (bool, error)) error {
	var tickc chan struct{}
	var t clock.Timer
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
	parallel := true
	if ordered, ok := s.startOrder(ps); ok {
		// Dependencies first, one at a time, so each gets its own
		// result before a dependent's start waits for it.
		ps, parallel = ordered, false
	}
	return s.runMany(ctx, ps, parallel, true, func(st State) bool { return !st.IsRunning() }, func(p *process) (func(context.Context) error, error) {
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
		return Result{Name: p.cfg.Name, Group: p.group.cfg.Name, Err: err}
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
