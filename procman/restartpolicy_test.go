package procman

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gosupervisor/gosupervisor/config"
)

func (r *recorder) countLog(line string) int {
	n := 0
	for _, l := range r.logLines() {
		if l == line {
			n++
		}
	}
	return n
}

func wantInfoState(t *testing.T, s *Supervisor, spec string, want State) ProcessInfo {
	t.Helper()
	info, err := s.Info(spec)
	if err != nil {
		t.Fatal(err)
	}
	if info.State != want {
		t.Fatalf("%s is %s, want %s (%+v)", spec, info.State, want, info)
	}
	return info
}

// TestRestartDelay: an autorestart after an exit from RUNNING waits
// restart_delay in BACKOFF; a stop while waiting cancels it.
func TestRestartDelay(t *testing.T) {
	clk := newFakeClock()
	s, rec := newTestSupervisor(t, Options{Clock: clk})
	p := proc("x", "sleep", "30")
	p.Startsecs = 0
	p.Autorestart = config.AutorestartAlways
	p.RestartDelay = 5
	if err := s.AddGroup(homogeneous(p)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Start(bg, "x", true); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Signal("x", "KILL"); err != nil {
		t.Fatal(err)
	}
	rec.waitState(t, "x", Backoff, 10*time.Second)
	wantStates(t, rec, "x", "STARTING", "RUNNING", "EXITED", "BACKOFF")
	info := wantInfoState(t, s, "x", Backoff)
	if info.Spawnerr != "restarting in 5 seconds" || info.PID != 0 {
		t.Errorf("waiting: %+v", info)
	}
	if !rec.hasLog("INFO delaying restart of x by 5 seconds (restart_delay)") {
		t.Errorf("no delay log: %q", rec.logLines())
	}
	trs := rec.transitions("x")
	if last := trs[len(trs)-1]; last.From != Exited || last.Tries != 0 {
		t.Errorf("BACKOFF transition %+v", last)
	}
	clk.Advance(4 * time.Second)
	wantInfoState(t, s, "x", Backoff)
	clk.Advance(time.Second)
	rec.waitState(t, "x", Running, 10*time.Second)
	wantStates(t, rec, "x", "STARTING", "RUNNING", "EXITED", "BACKOFF", "STARTING", "RUNNING")

	// A stop while the delay runs is final.
	if _, _, err := s.Signal("x", "KILL"); err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, "second BACKOFF", 10*time.Second, func() bool { return len(rec.states("x")) == 8 })
	if _, _, err := s.Stop(bg, "x", true); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
	wantInfoState(t, s, "x", Stopped)
	wantStates(t, rec, "x", "STARTING", "RUNNING", "EXITED", "BACKOFF", "STARTING", "RUNNING", "EXITED", "BACKOFF", "STOPPED")
}

// TestRestartBackoff: quick consecutive exits double the delay from
// max(restart_delay, 1) up to restart_backoff_max; staying up for
// restart_backoff_reset resets it.
func TestRestartBackoff(t *testing.T) {
	clk := newFakeClock()
	s, rec := newTestSupervisor(t, Options{Clock: clk})
	p := proc("x", "sleep", "30")
	p.Startsecs = 0
	p.Autorestart = config.AutorestartUnexpected
	p.RestartBackoffMax = 5
	p.RestartBackoffReset = 60
	if err := s.AddGroup(homogeneous(p)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Start(bg, "x", true); err != nil {
		t.Fatal(err)
	}
	crash := func(wantDelay int) {
		t.Helper()
		line := fmt.Sprintf("INFO delaying restart of x by %d seconds (restart_delay)", wantDelay)
		before := rec.countLog(line)
		if _, _, err := s.Signal("x", "KILL"); err != nil {
			t.Fatal(err)
		}
		rec.waitFor(t, line, 10*time.Second, func() bool { return rec.countLog(line) == before+1 })
		wantInfoState(t, s, "x", Backoff)
		clk.Advance(time.Duration(wantDelay)*time.Second - time.Millisecond)
		wantInfoState(t, s, "x", Backoff)
		clk.Advance(time.Millisecond)
		wantInfoState(t, s, "x", Running)
	}
	for _, d := range []int{1, 2, 4, 5, 5} {
		crash(d)
	}
	clk.Advance(59 * time.Second)
	crash(5)
	// Up for restart_backoff_reset: restarted at once (restart_delay 0),
	// and the doubling starts over.
	clk.Advance(60 * time.Second)
	n := len(rec.states("x"))
	if _, _, err := s.Signal("x", "KILL"); err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, "immediate restart", 10*time.Second, func() bool { return len(rec.states("x")) == n+3 })
	wantInfoState(t, s, "x", Running)
	crash(1)
	crash(2)
	if pend := clk.pending(); pend != 0 {
		t.Errorf("%d timers left while RUNNING", pend)
	}
}

func TestRestartDelayFromBackoffUnit(t *testing.T) {
	cases := []struct {
		delay, max, reset int
		up                time.Duration
		quick             int
		want              time.Duration
	}{
		{0, 0, 60, 0, 0, 0},
		{3, 0, 60, 0, 0, 3 * time.Second},
		{0, 10, 60, time.Second, 0, time.Second},
		{0, 10, 60, time.Second, 3, 8 * time.Second},
		{0, 10, 60, time.Second, 4, 10 * time.Second},
		{0, 10, 60, time.Second, 400, 10 * time.Second},
		{3, 10, 60, time.Minute, 4, 3 * time.Second},
		{20, 10, 60, time.Second, 0, 20 * time.Second},
	}
	for _, c := range cases {
		clk := newFakeClock()
		cfg := proc("x")
		cfg.RestartDelay, cfg.RestartBackoffMax, cfg.RestartBackoffReset = c.delay, c.max, c.reset
		p := &process{s: &Supervisor{clock: clk}, cfg: cfg, runningSince: clk.Now().Add(-c.up), quickExits: c.quick}
		if got := p.restartDelay(); got != c.want {
			t.Errorf("%+v: delay %v, want %v", c, got, c.want)
		}
	}
}

// TestFatalRetryAfter: a FATAL process is started again after
// fatal_retry_after, with Python's retry rules for that new start.
func TestFatalRetryAfter(t *testing.T) {
	clk := newFakeClock()
	s, rec := newTestSupervisor(t, Options{Clock: clk})
	p := proc("x", "exit", "1")
	p.Startretries = 0
	p.FatalRetryAfter = 30
	if err := s.AddGroup(homogeneous(p)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Start(bg, "x", false); err != nil {
		t.Fatal(err)
	}
	rec.waitState(t, "x", Fatal, 10*time.Second)
	if !rec.hasLog("INFO x will be retried in 30 seconds (fatal_retry_after)") {
		t.Errorf("no retry log: %q", rec.logLines())
	}
	clk.Advance(29 * time.Second)
	wantInfoState(t, s, "x", Fatal)
	clk.Advance(time.Second)
	rec.waitFor(t, "second FATAL", 10*time.Second, func() bool { return len(rec.states("x")) == 6 })
	wantStates(t, rec, "x", "STARTING", "BACKOFF", "FATAL", "STARTING", "BACKOFF", "FATAL")
	if !rec.hasLog("INFO retrying x after 30 seconds in FATAL state (fatal_retry_after)") {
		t.Errorf("no retrying log: %q", rec.logLines())
	}
	// A manual start while the retry is pending replaces it.
	if _, _, err := s.Start(bg, "x", false); err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, "third FATAL", 10*time.Second, func() bool { return len(rec.states("x")) == 9 })
	if pend := clk.pending(); pend != 1 {
		t.Errorf("%d timers pending, want the one retry", pend)
	}
}

type exitRequests struct {
	mu  sync.Mutex
	got []ExitRequest
	rec *recorder
}

func (e *exitRequests) on(r ExitRequest) {
	e.mu.Lock()
	e.got = append(e.got, r)
	e.mu.Unlock()
	e.rec.poke()
}

func (e *exitRequests) list() []ExitRequest {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]ExitRequest(nil), e.got...)
}

func TestExitOnExit(t *testing.T) {
	cases := []struct {
		name        string
		steps       []string
		kill        bool
		autorestart config.Autorestart
		want        *ExitRequest
	}{
		{"status", []string{"exit", "3"}, false, config.AutorestartNever,
			&ExitRequest{Process: "x", Group: "x", Status: 3, Reason: "x exited (exit status 3) and will not be restarted (exit_on_exit)"}},
		{"expected", []string{"exit", "0"}, false, config.AutorestartUnexpected,
			&ExitRequest{Process: "x", Group: "x", Status: 0, Reason: "x exited (exit status 0) and will not be restarted (exit_on_exit)"}},
		{"signal", []string{"sleep", "30"}, true, config.AutorestartNever,
			&ExitRequest{Process: "x", Group: "x", Status: 137, Reason: "x exited (terminated by SIGKILL) and will not be restarted (exit_on_exit)"}},
		{"restarted", []string{"sleep", "30"}, true, config.AutorestartAlways, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			clk := newFakeClock()
			rec := newRecorder()
			reqs := &exitRequests{rec: rec}
			s, _ := newTestSupervisor(t, Options{Clock: clk, Logger: rec, OnTransition: rec.onTransition, OnExitRequest: reqs.on})
			rec.s = s
			rec.s = s
			p := proc("x", c.steps...)
			p.Startsecs = 0
			p.Autorestart = c.autorestart
			p.ExitOnExit = true
			if err := s.AddGroup(homogeneous(p)); err != nil {
				t.Fatal(err)
			}
			if _, _, err := s.Start(bg, "x", true); err != nil {
				t.Fatal(err)
			}
			if c.kill {
				if _, _, err := s.Signal("x", "KILL"); err != nil {
					t.Fatal(err)
				}
			}
			if c.want == nil {
				rec.waitFor(t, "restart", 10*time.Second, func() bool { return len(rec.states("x")) >= 5 })
				if got := reqs.list(); len(got) != 0 {
					t.Errorf("exit requested: %+v", got)
				}
				return
			}
			rec.waitFor(t, "exit request", 10*time.Second, func() bool { return len(reqs.list()) > 0 })
			if d := cmp.Diff([]ExitRequest{*c.want}, reqs.list()); d != "" {
				t.Errorf("requests (-want +got):\n%s", d)
			}
			want := fmt.Sprintf("CRIT %s: stopping all processes, supervisord will exit with status %d", c.want.Reason, c.want.Status)
			rec.waitFor(t, want, 10*time.Second, func() bool { return rec.hasLog(want) })
			// The EXITED event comes before the request.
			if st := rec.states("x"); st[len(st)-1] != "EXITED" {
				t.Errorf("states %v", st)
			}
		})
	}
}

func TestExitOnFatal(t *testing.T) {
	clk := newFakeClock()
	rec := newRecorder()
	reqs := &exitRequests{rec: rec}
	s, _ := newTestSupervisor(t, Options{Clock: clk, Logger: rec, OnTransition: rec.onTransition, OnExitRequest: reqs.on})
	p := proc("x", "exit", "1")
	p.Startretries = 1
	p.ExitOnFatal = true
	p.FatalRetryAfter = 10 // exit_on_fatal wins
	q := proc("y", "sleep", "30")
	q.Startsecs = 0
	q.ExitOnFatal = true
	if err := s.AddGroups([]*config.Group{homogeneous(p), homogeneous(q)}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Start(bg, "x", false); err != nil {
		t.Fatal(err)
	}
	rec.waitState(t, "x", Backoff, 10*time.Second)
	clk.Advance(time.Second)
	rec.waitState(t, "x", Fatal, 10*time.Second)
	rec.waitFor(t, "exit request", 10*time.Second, func() bool { return len(reqs.list()) > 0 })
	want := []ExitRequest{{Process: "x", Group: "x", Status: 1, Reason: "x entered FATAL (exit_on_fatal)"}}
	if d := cmp.Diff(want, reqs.list()); d != "" {
		t.Errorf("requests (-want +got):\n%s", d)
	}
	if clk.pending() != 0 {
		t.Errorf("a fatal retry was armed")
	}
	// Shutdown's BACKOFF -> FATAL is not a give-up: no request.
	if _, _, err := s.Start(bg, "y", true); err != nil {
		t.Fatal(err)
	}
	if err := s.Shutdown(bg); err != nil {
		t.Fatal(err)
	}
	if got := reqs.list(); len(got) != 1 {
		t.Errorf("requests after shutdown: %+v", got)
	}
	for _, l := range rec.logLines() {
		if strings.Contains(l, "y:y") {
			t.Errorf("log about y: %s", l)
		}
	}
}
