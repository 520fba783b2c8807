package rpc

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gosupervisor/gosupervisor/internal/faults"
	"github.com/gosupervisor/gosupervisor/internal/namespec"
	"github.com/gosupervisor/gosupervisor/procman"
)

// fakeProc is one process of fakeBackend.
type fakeProc struct {
	info   ProcessInfo
	cfg    ConfigInfo
	stdout string
	stderr string
	stdin  []byte
}

// fakeBackend is an in-memory Backend with procman-like semantics, used to
// exercise the rpc layer.
type fakeBackend struct {
	mu       sync.Mutex
	state    procman.SupervisorState
	pid      int
	ident    string
	mainLog  string
	groups   map[string][]*fakeProc
	inactive map[string][]*fakeProc // configured but not added
	nextPID  int
	// startGate, when set, holds a waited start (in STARTING) until it
	// is closed; startEntered (if set) gets a value once the start waits.
	startGate    chan struct{}
	startEntered chan struct{}
	now          int64 // fixed clock when non-zero
	calls        []string
	events       [][2]string
}

func newFakeBackend() *fakeBackend {
	return &fakeBackend{state: procman.SupervisorRunning, pid: 4242, ident: "supervisor",
		groups: map[string][]*fakeProc{}, inactive: map[string][]*fakeProc{}, nextPID: 1000}
}

func (f *fakeBackend) addProc(group, name string) *fakeProc {
	p := &fakeProc{info: ProcessInfo{Name: name, Group: group, State: procman.Stopped},
		cfg: ConfigInfo{Name: name, Group: group, Command: "/bin/sleep 1000", Exitcodes: []int{0},
			Directory: "none", ServerURL: "none", StdoutLogfile: "none", StderrLogfile: "none",
			GroupPrio: 999, ProcessPrio: 999, InUse: true, StopSignal: 15}}
	f.groups[group] = append(f.groups[group], p)
	return p
}

func (f *fakeBackend) record(format string, a ...any) {
	f.calls = append(f.calls, fmt.Sprintf(format, a...))
}

func (f *fakeBackend) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func (f *fakeBackend) State() procman.SupervisorState {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.state
}
func (f *fakeBackend) PID() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.pid
}
func (f *fakeBackend) Identification() string { return f.ident }
func (f *fakeBackend) Shutdown() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("shutdown")
	f.state = procman.SupervisorShutdown
	return nil
}
func (f *fakeBackend) Restart() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("restart")
	f.state = procman.SupervisorRestarting
	return nil
}
func (f *fakeBackend) ReloadConfig() ([]string, []string, []string, error) {
	var added []string
	for g := range f.inactive {
		added = append(added, g)
	}
	sort.Strings(added)
	return added, nil, nil, nil
}
func (f *fakeBackend) AddProcessGroup(name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.groups[name]; ok {
		return NewFault(faults.AlreadyAdded, name)
	}
	ps, ok := f.inactive[name]
	if !ok {
		return NewFault(faults.BadName, name)
	}
	delete(f.inactive, name)
	f.groups[name] = ps
	return nil
}
func (f *fakeBackend) RemoveProcessGroup(name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	ps, ok := f.groups[name]
	if !ok {
		return NewFault(faults.BadName, name)
	}
	for _, p := range ps {
		if p.info.State.IsRunning() || p.info.State == procman.Stopping {
			return NewFault(faults.StillRunning, name)
		}
	}
	delete(f.groups, name)
	f.inactive[name] = ps
	return nil
}
func (f *fakeBackend) MainLogFile() string { return f.mainLog }
func (f *fakeBackend) ClearMainLog() error { f.record("clearlog"); return nil }

// lookup resolves a namespec; p is nil for a group spec.
func (f *fakeBackend) lookup(ns string) (group string, p *fakeProc, err error) {
	g, name := namespec.Split(ns)
	ps, ok := f.groups[g]
	if !ok {
		return "", nil, NewFault(faults.BadName, ns)
	}
	if name == "" {
		return g, nil, nil
	}
	for _, q := range ps {
		if q.info.Name == name {
			return g, q, nil
		}
	}
	return "", nil, NewFault(faults.BadName, ns)
}

func (f *fakeBackend) snapshot(p *fakeProc) ProcessInfo {
	i := p.info
	i.StdoutLogfile, i.StderrLogfile = p.stdout, p.stderr
	i.Now = f.now
	return i
}

func (f *fakeBackend) ProcessInfo(ns string) (ProcessInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, p, err := f.lookup(ns)
	if err != nil {
		return ProcessInfo{}, err
	}
	if p == nil {
		return ProcessInfo{}, NewFault(faults.BadName, ns)
	}
	return f.snapshot(p), nil
}

func (f *fakeBackend) AllProcessInfo(out []ProcessInfo) []ProcessInfo {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, ps := range f.groups {
		for _, p := range ps {
			out = append(out, f.snapshot(p))
		}
	}
	return out
}

func (f *fakeBackend) AllConfigInfo() []ConfigInfo {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []ConfigInfo
	for _, m := range []map[string][]*fakeProc{f.groups, f.inactive} {
		for _, ps := range m {
			for _, p := range ps {
				out = append(out, p.cfg)
			}
		}
	}
	return out
}

// groupProcs returns a group's processes sorted by name (priority order in
// the fake).
func (f *fakeBackend) groupProcs(g string) []*fakeProc {
	ps := append([]*fakeProc(nil), f.groups[g]...)
	sort.Slice(ps, func(i, j int) bool { return ps[i].info.Name < ps[j].info.Name })
	return ps
}

func (f *fakeBackend) allProcs() []*fakeProc {
	var names []string
	for g := range f.groups {
		names = append(names, g)
	}
	sort.Strings(names)
	var out []*fakeProc
	for _, g := range names {
		out = append(out, f.groupProcs(g)...)
	}
	return out
}

func (f *fakeBackend) startOne(ctx context.Context, p *fakeProc, wait bool) error {
	f.mu.Lock()
	ns := namespec.Make(p.info.Group, p.info.Name)
	if strings.HasPrefix(p.cfg.Command, "/nonexistent") {
		f.mu.Unlock()
		return NewFault(faults.NoFile, "can't find command '"+p.cfg.Command+"'")
	}
	if p.info.State.IsRunning() {
		f.mu.Unlock()
		return NewFault(faults.AlreadyStarted, ns)
	}
	f.record("start %s", ns)
	f.nextPID++
	p.info.PID = f.nextPID
	p.info.Start = time.Now().Unix()
	p.info.State = procman.Starting
	gate, entered := f.startGate, f.startEntered
	f.mu.Unlock()
	if !wait {
		return nil
	}
	if entered != nil {
		entered <- struct{}{}
	}
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	f.mu.Lock()
	p.info.State = procman.Running
	f.mu.Unlock()
	return nil
}

func (f *fakeBackend) stopOne(p *fakeProc) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	ns := namespec.Make(p.info.Group, p.info.Name)
	if !p.info.State.IsRunning() {
		return NewFault(faults.NotRunning, ns)
	}
	f.record("stop %s", ns)
	p.info.State = procman.Stopped
	p.info.Stop = time.Now().Unix()
	p.info.PID = 0
	return nil
}

// runAll runs op concurrently on the processes pred selects and collects
// results in completion order.
func (f *fakeBackend) runAll(ps []*fakeProc, pred func(*fakeProc) bool, op func(*fakeProc) error) []Result {
	f.mu.Lock()
	var sel []*fakeProc
	for _, p := range ps {
		if pred(p) {
			sel = append(sel, p)
		}
	}
	f.mu.Unlock()
	var mu sync.Mutex
	var wg sync.WaitGroup
	out := []Result{}
	for _, p := range sel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := op(p)
			r := ResultOK(p.info.Group, p.info.Name)
			if err != nil {
				r = ResultFault(p.info.Group, p.info.Name, err)
			}
			mu.Lock()
			out = append(out, r)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}

func notRunning(p *fakeProc) bool { return !p.info.State.IsRunning() }
func running(p *fakeProc) bool    { return p.info.State.IsRunning() }
func signallable(p *fakeProc) bool {
	return p.info.State == procman.Running || p.info.State == procman.Starting || p.info.State == procman.Stopping
}

func (f *fakeBackend) StartProcess(ctx context.Context, ns string, wait bool) ([]Result, bool, error) {
	f.mu.Lock()
	g, p, err := f.lookup(ns)
	f.mu.Unlock()
	if err != nil {
		return nil, false, err
	}
	if p == nil {
		r, err := f.StartProcessGroup(ctx, g, wait)
		return r, true, err
	}
	return nil, false, f.startOne(ctx, p, wait)
}
func (f *fakeBackend) StartProcessGroup(ctx context.Context, name string, wait bool) ([]Result, error) {
	f.mu.Lock()
	if _, ok := f.groups[name]; !ok {
		f.mu.Unlock()
		return nil, NewFault(faults.BadName, name)
	}
	ps := f.groupProcs(name)
	f.mu.Unlock()
	return f.runAll(ps, notRunning, func(p *fakeProc) error { return f.startOne(ctx, p, wait) }), nil
}
func (f *fakeBackend) StartAllProcesses(ctx context.Context, wait bool) []Result {
	f.mu.Lock()
	ps := f.allProcs()
	f.mu.Unlock()
	return f.runAll(ps, notRunning, func(p *fakeProc) error { return f.startOne(ctx, p, wait) })
}
func (f *fakeBackend) StopProcess(ctx context.Context, ns string, wait bool) ([]Result, bool, error) {
	f.mu.Lock()
	g, p, err := f.lookup(ns)
	f.mu.Unlock()
	if err != nil {
		return nil, false, err
	}
	if p == nil {
		r, err := f.StopProcessGroup(ctx, g, wait)
		return r, true, err
	}
	return nil, false, f.stopOne(p)
}
func (f *fakeBackend) StopProcessGroup(ctx context.Context, name string, wait bool) ([]Result, error) {
	f.mu.Lock()
	if _, ok := f.groups[name]; !ok {
		f.mu.Unlock()
		return nil, NewFault(faults.BadName, name)
	}
	ps := f.groupProcs(name)
	f.mu.Unlock()
	return f.runAll(ps, running, f.stopOne), nil
}
func (f *fakeBackend) StopAllProcesses(ctx context.Context, wait bool) []Result {
	f.mu.Lock()
	ps := f.allProcs()
	f.mu.Unlock()
	return f.runAll(ps, running, f.stopOne)
}

func validSignal(sig string) bool {
	if n, err := strconv.Atoi(strings.TrimSpace(sig)); err == nil {
		return n > 0 && n < 32
	}
	s := strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(sig)), "SIG")
	switch s {
	case "HUP", "INT", "QUIT", "KILL", "TERM", "USR1", "USR2", "STOP", "CONT":
		return true
	}
	return false
}

func (f *fakeBackend) signalOne(p *fakeProc, sig string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !validSignal(sig) {
		return NewFault(faults.BadSignal, sig)
	}
	ns := namespec.Make(p.info.Group, p.info.Name)
	if !signallable(p) {
		return NewFault(faults.NotRunning, ns)
	}
	f.record("signal %s %s", ns, sig)
	return nil
}

func (f *fakeBackend) SignalProcess(ns, sig string) ([]Result, bool, error) {
	f.mu.Lock()
	g, p, err := f.lookup(ns)
	f.mu.Unlock()
	if err != nil {
		return nil, false, err
	}
	if p == nil {
		r, err := f.SignalProcessGroup(g, sig)
		return r, true, err
	}
	return nil, false, f.signalOne(p, sig)
}
func (f *fakeBackend) SignalProcessGroup(name, sig string) ([]Result, error) {
	f.mu.Lock()
	if _, ok := f.groups[name]; !ok {
		f.mu.Unlock()
		return nil, NewFault(faults.BadName, name)
	}
	ps := f.groupProcs(name)
	f.mu.Unlock()
	return f.runAll(ps, signallable, func(p *fakeProc) error { return f.signalOne(p, sig) }), nil
}
func (f *fakeBackend) SignalAllProcesses(sig string) []Result {
	f.mu.Lock()
	ps := f.allProcs()
	f.mu.Unlock()
	return f.runAll(ps, signallable, func(p *fakeProc) error { return f.signalOne(p, sig) })
}

func (f *fakeBackend) ProcessLogFile(ns, channel string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, p, err := f.lookup(ns)
	if err != nil {
		return "", err
	}
	if p == nil {
		return "", NewFault(faults.BadName, ns)
	}
	if channel == "stderr" {
		return p.stderr, nil
	}
	return p.stdout, nil
}
func (f *fakeBackend) ClearProcessLogs(ns string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, p, err := f.lookup(ns)
	if err != nil {
		return err
	}
	if p == nil {
		return NewFault(faults.BadName, ns)
	}
	f.record("clear %s", ns)
	return nil
}
func (f *fakeBackend) ClearAllProcessLogs(ctx context.Context) []Result {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := []Result{}
	for _, p := range f.allProcs() {
		out = append(out, ResultOK(p.info.Group, p.info.Name))
	}
	return out
}
func (f *fakeBackend) SendProcessStdin(ns string, data []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, p, err := f.lookup(ns)
	if err != nil {
		return err
	}
	if p == nil {
		return NewFault(faults.BadName, ns)
	}
	if p.info.PID == 0 || p.info.State == procman.Stopping {
		return NewFault(faults.NotRunning, ns)
	}
	p.stdin = append(p.stdin, data...)
	return nil
}
func (f *fakeBackend) SendRemoteCommEvent(typ, data string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.events = append(f.events, [2]string{typ, data})
	return nil
}
