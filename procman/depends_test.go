package procman

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/config"
)

// index is the position of the first transition of name to state, or -1.
func (r *recorder) index(name string, to State) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, tr := range r.trs {
		if tr.Process == name && tr.To == to {
			return i
		}
	}
	return -1
}

func startAsync(s *Supervisor, spec string, wait bool) chan error {
	done := make(chan error, 1)
	go func() {
		_, _, err := s.Start(context.Background(), spec, wait)
		done <- err
	}()
	return done
}

func result(t *testing.T, done chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(time.Minute):
		t.Fatal("start did not return")
	}
	return nil
}

func TestDependsOnStartsAndWaits(t *testing.T) {
	clk := newFakeClock()
	s, rec := newTestSupervisor(t, Options{Clock: clk})
	c := proc("cache", "sleep", "30")
	db := proc("db", "sleep", "30")
	db.DependsOn = []string{"cache"}
	web := proc("web", "sleep", "30")
	web.DependsOn = []string{"db"}
	web.Startsecs = 0
	if err := s.AddGroups([]*config.Group{homogeneous(c), homogeneous(db), homogeneous(web)}); err != nil {
		t.Fatal(err)
	}
	done := startAsync(s, "web", true)
	rec.waitState(t, "cache", Starting, 10*time.Second)
	// A second start while the first waits is ALREADY_STARTED.
	_, _, err := s.Start(bg, "web", false)
	wantFault(t, err, ErrAlreadyStarted, "web")
	wantInfoState(t, s, "web", Stopped)
	wantInfoState(t, s, "db", Stopped)
	clk.Advance(time.Second)
	rec.waitState(t, "db", Starting, 10*time.Second)
	wantInfoState(t, s, "web", Stopped)
	clk.Advance(time.Second)
	if err := result(t, done); err != nil {
		t.Fatal(err)
	}
	wantInfoState(t, s, "web", Running)
	if !(rec.index("cache", Running) < rec.index("db", Starting) && rec.index("db", Running) < rec.index("web", Starting)) {
		t.Errorf("start order wrong: %+v", rec.trs)
	}
	for _, l := range []string{"INFO starting cache, a dependency of db", "INFO starting db, a dependency of web"} {
		if !rec.hasLog(l) {
			t.Errorf("no log %q in %q", l, rec.logLines())
		}
	}
	// Everything is ready now: a restart of web does not wait.
	if _, _, err := s.Stop(bg, "web", true); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Start(bg, "web", true); err != nil {
		t.Fatal(err)
	}
	wantStates(t, rec, "cache", "STARTING", "RUNNING")
}

func TestDependsOnFailure(t *testing.T) {
	cases := []struct {
		name    string
		setup   func(db *config.Process)
		subject string
	}{
		{"fatal", func(db *config.Process) { db.Command = helperCommand("exit", "1"); db.Startretries = 1 },
			"web (dependency db entered FATAL: Exited too quickly (process log may have details))"},
		{"no such command", func(db *config.Process) { db.Command = "/nonexistent/db"; db.Startretries = 0 },
			"web (dependency db entered FATAL: can't find command '/nonexistent/db')"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			clk := newFakeClock()
			s, rec := newTestSupervisor(t, Options{Clock: clk})
			db := proc("db")
			c.setup(db)
			web := proc("web", "sleep", "30")
			web.DependsOn = []string{"db"}
			if err := s.AddGroups([]*config.Group{homogeneous(db), homogeneous(web)}); err != nil {
				t.Fatal(err)
			}
			done := startAsync(s, "web", true)
			rec.waitFor(t, "db BACKOFF or FATAL", 10*time.Second, func() bool {
				return rec.index("db", Backoff) >= 0
			})
			if rec.index("db", Fatal) < 0 {
				clk.Advance(time.Second) // the one retry
			}
			err := result(t, done)
			wantFault(t, err, ErrSpawnError, c.subject)
			if st := rec.states("web"); len(st) != 0 {
				t.Errorf("web was spawned: %v", st)
			}
			if !rec.hasLog("WARN not starting web: " + c.subject[len("web ("):len(c.subject)-1]) {
				t.Errorf("logs %q", rec.logLines())
			}
		})
	}
}

func TestDependsOnGroupsAndAutostart(t *testing.T) {
	clk := newFakeClock()
	s, rec := newTestSupervisor(t, Options{Clock: clk})
	a, b := proc("a", "sleep", "30"), proc("b", "sleep", "30")
	a.Startsecs, b.Startsecs = 0, 0
	web := proc("web", "sleep", "30")
	web.Startsecs = 0
	web.Autostart = true
	web.Priority = 1 // before the backends in priority order
	web.DependsOn = []string{"backends:*"}
	if err := s.AddGroups([]*config.Group{
		{Name: "backends", Priority: 999, Processes: []*config.Process{a, b}},
		{Name: "web", Priority: 1, Processes: []*config.Process{web}},
	}); err != nil {
		t.Fatal(err)
	}
	// The backends do not autostart, but web's autostart starts them.
	rec.waitState(t, "web", Running, 10*time.Second)
	if !(rec.index("a", Running) < rec.index("web", Starting) && rec.index("b", Running) < rec.index("web", Starting)) {
		t.Errorf("order: %+v", rec.trs)
	}

	// Stop all: web (a dependent) is stopped before a and b, although
	// its group has the lower priority.
	res := s.StopAll(bg, false)
	if len(res) != 3 {
		t.Errorf("StopAll results %+v", res)
	}
	if w := rec.index("web", Stopped); w < 0 || w > rec.index("a", Stopping) || w > rec.index("b", Stopping) {
		t.Errorf("stop order: %+v", rec.trs)
	}
}

func TestDependsOnShutdownOrder(t *testing.T) {
	clk := newFakeClock()
	s, rec := newTestSupervisor(t, Options{Clock: clk})
	db := proc("db", "sleep", "30")
	db.Startsecs = 0
	db.Priority = 1000 // stopped first by priority alone
	web := proc("web", "sleep", "30")
	web.Startsecs = 0
	web.DependsOn = []string{"db"}
	other := proc("other", "sleep", "30")
	other.Startsecs = 0
	other.Priority = 2000
	if err := s.AddGroups([]*config.Group{homogeneous(db), homogeneous(web), homogeneous(other)}); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"web", "other"} {
		if _, _, err := s.Start(bg, n, true); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Shutdown(bg); err != nil {
		t.Fatal(err)
	}
	o, w, d := rec.index("other", Stopped), rec.index("web", Stopped), rec.index("db", Stopping)
	if !(o < w && w < d) {
		t.Errorf("shutdown order other %d, web %d, db %d: %+v", o, w, d, rec.trs)
	}
}

func TestDependencyBatches(t *testing.T) {
	s, _ := newTestSupervisor(t, Options{})
	mk := func(name string, prio int, deps ...string) *config.Process {
		p := proc(name)
		p.Priority = prio
		p.DependsOn = deps
		return p
	}
	// No dependencies: one batch per group, Python's order.
	if err := s.AddGroups([]*config.Group{
		{Name: "g1", Priority: 1, Processes: []*config.Process{mk("a", 1), mk("b", 2)}},
		{Name: "g2", Priority: 2, Processes: []*config.Process{mk("c", 1)}},
	}); err != nil {
		t.Fatal(err)
	}
	names := func(bs [][]*process) [][]string {
		var out [][]string
		for _, b := range bs {
			var ns []string
			for _, p := range b {
				ns = append(ns, p.cfg.Name)
			}
			out = append(out, ns)
		}
		return out
	}
	eq := func(a, b [][]string) bool {
		return slices.EqualFunc(a, b, func(x, y []string) bool { return slices.Equal(x, y) })
	}
	if got, want := names(s.stopBatches()), [][]string{{"c"}, {"b", "a"}}; !eq(got, want) {
		t.Errorf("batches %v, want %v", got, want)
	}
	// b depends on a within g3; f in g4 depends on d.
	if err := s.AddGroups([]*config.Group{
		{Name: "g3", Priority: 3, Processes: []*config.Process{mk("d", 1), mk("e", 2, "d")}},
		{Name: "g0", Priority: 0, Processes: []*config.Process{mk("f", 1, "g3:d")}},
	}); err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"e"}, {"c"}, {"b", "a"}, {"f"}, {"d"}}
	if got := names(s.stopBatches()); !eq(got, want) {
		t.Errorf("batches %v, want %v", got, want)
	}
}

// TestDependsOnWithinAGroupStart: a group start reports every process,
// the dependency first, and spawns the dependent once it is ready.
func TestDependsOnWithinAGroupStart(t *testing.T) {
	clk := newFakeClock()
	s, rec := newTestSupervisor(t, Options{Clock: clk})
	db := proc("db", "sleep", "30")
	db.Priority = 2
	web := proc("web", "sleep", "30")
	web.Priority = 1
	web.Startsecs = 0
	web.DependsOn = []string{"stack:db"}
	if err := s.AddGroup(&config.Group{Name: "stack", Priority: 1, Processes: []*config.Process{web, db}}); err != nil {
		t.Fatal(err)
	}
	done := make(chan []Result, 1)
	go func() {
		res, _ := s.StartGroup(bg, "stack", true)
		done <- res
	}()
	rec.waitState(t, "db", Starting, 10*time.Second)
	clk.Advance(time.Second)
	var res []Result
	select {
	case res = <-done:
	case <-time.After(time.Minute):
		t.Fatal("StartGroup did not return")
	}
	// Both waits end on db's RUNNING: completion order is either.
	slices.SortFunc(res, func(a, b Result) int { return strings.Compare(a.Name, b.Name) })
	if len(res) != 2 || res[0].Name != "db" || res[1].Name != "web" || res[0].Err != nil || res[1].Err != nil {
		t.Errorf("results %+v", res)
	}
	if rec.index("db", Running) > rec.index("web", Starting) {
		t.Errorf("order %+v", rec.trs)
	}
}

// TestStopCancelsADependencyStart: a stop of a process whose start waits
// for its dependencies cancels that start (ABNORMAL_TERMINATION, as a stop
// during STARTING gives); the dependency keeps starting.
func TestStopCancelsADependencyStart(t *testing.T) {
	clk := newFakeClock()
	s, rec := newTestSupervisor(t, Options{Clock: clk})
	db := proc("db", "sleep", "30")
	web := proc("web", "sleep", "30")
	web.DependsOn = []string{"db"}
	if err := s.AddGroups([]*config.Group{homogeneous(db), homogeneous(web)}); err != nil {
		t.Fatal(err)
	}
	done := startAsync(s, "web", true)
	rec.waitState(t, "db", Starting, 10*time.Second)
	if _, _, err := s.Stop(bg, "web", true); err != nil {
		t.Fatalf("stop of a waiting start: %v", err)
	}
	wantFault(t, result(t, done), ErrAbnormalTermination, "web")
	clk.Advance(time.Second)
	rec.waitState(t, "db", Running, 10*time.Second)
	if st := rec.states("web"); len(st) != 0 {
		t.Errorf("web was spawned: %v", st)
	}
	// Nothing is pending any more: a stop is NOT_RUNNING, a start works.
	_, _, err := s.Stop(bg, "web", true)
	wantFault(t, err, ErrNotRunning, "web")
	done = startAsync(s, "web", true)
	rec.waitState(t, "web", Starting, 10*time.Second)
	clk.Advance(time.Second)
	if err := result(t, done); err != nil {
		t.Fatal(err)
	}
}

// TestDependencyWhoseOwnStartWaits: a dependency that ran before and
// whose own start now waits for its dependencies is not taken as ready.
func TestDependencyWhoseOwnStartWaits(t *testing.T) {
	clk := newFakeClock()
	s, rec := newTestSupervisor(t, Options{Clock: clk})
	z := proc("z", "sleep", "30")
	y := proc("y", "sleep", "30")
	y.Startsecs = 0
	y.DependsOn = []string{"z"}
	x := proc("x", "sleep", "30")
	x.Startsecs = 0
	x.DependsOn = []string{"y"}
	if err := s.AddGroups([]*config.Group{homogeneous(z), homogeneous(y), homogeneous(x)}); err != nil {
		t.Fatal(err)
	}
	done := startAsync(s, "y", true)
	rec.waitState(t, "z", Starting, 10*time.Second)
	clk.Advance(time.Second)
	if err := result(t, done); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"y", "z"} {
		if _, _, err := s.Stop(bg, n, true); err != nil {
			t.Fatal(err)
		}
	}
	doneY := startAsync(s, "y", true)
	rec.waitFor(t, "z STARTING again", 10*time.Second, func() bool { return len(rec.states("z")) == 5 })
	doneX := startAsync(s, "x", true)
	// x must wait for y, which waits for z. (Had x taken y's earlier
	// RUNNING as ready, it would start before y's second RUNNING: checked
	// below.)
	px, _ := s.lookupProcess("x")
	rec.waitFor(t, "x's start to wait", 10*time.Second, func() bool {
		px.mu.Lock()
		defer px.mu.Unlock()
		return px.depStarting || px.attempt > 0
	})
	if st := rec.states("x"); len(st) != 0 {
		t.Fatalf("x spawned while y is STOPPED: %v", st)
	}
	clk.Advance(time.Second)
	if err := result(t, doneY); err != nil {
		t.Fatal(err)
	}
	if err := result(t, doneX); err != nil {
		t.Fatal(err)
	}
	if rec.index("x", Starting) < 0 {
		t.Fatal("x never started")
	}
	trs := rec.transitions("y")
	last := -1
	rec.mu.Lock()
	for i, tr := range rec.trs {
		if tr.Process == "y" && tr.To == Running {
			last = i
		}
	}
	xs := -1
	for i, tr := range rec.trs {
		if tr.Process == "x" && tr.To == Starting {
			xs = i
		}
	}
	rec.mu.Unlock()
	if xs < last {
		t.Errorf("x started before y's second RUNNING: %+v", trs)
	}
}
