package procman

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gosupervisor/gosupervisor/config"
)

var bg = context.Background()

// equateErrors compares errors by kind and text.
var equateErrors = cmp.Comparer(func(a, b error) bool {
	return a == b || a != nil && b != nil && errors.Is(a, errors.Unwrap(b)) && a.Error() == b.Error()
})

// wantFault checks that err is an *Error of that kind and subject ("*":
// any subject).
func wantFault(t *testing.T, err error, kind error, subject string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, kind) {
		t.Fatalf("got %v, want %v", err, kind)
	}
	if subject != "*" && e.Subject != subject {
		t.Fatalf("got subject %q, want %q", e.Subject, subject)
	}
}

func wantStates(t *testing.T, rec *recorder, name string, want ...string) {
	t.Helper()
	if diff := cmp.Diff(want, rec.states(name)); diff != "" {
		t.Fatalf("%s states (-want +got):\n%s", name, diff)
	}
}

func TestStartStopLifecycle(t *testing.T) {
	clk := newFakeClock()
	s, rec := newTestSupervisor(t, Options{Clock: clk})
	p := proc("sleeper", "sleep", "30")
	if err := s.AddGroup(homogeneous(p)); err != nil {
		t.Fatal(err)
	}
	info, _ := s.Info("sleeper")
	if info.State != Stopped || info.Start != 0 || info.PID != 0 {
		t.Fatalf("fresh: %+v", info)
	}
	if _, _, err := s.Start(bg, "sleeper", false); err != nil {
		t.Fatal(err)
	}
	info, _ = s.Info("sleeper")
	if info.State != Starting || info.PID == 0 || info.Start != clk.Now().Unix() {
		t.Fatalf("starting: %+v", info)
	}
	pid := info.PID
	if !rec.hasLog(fmt.Sprintf("INFO spawned: 'sleeper' with pid %d", pid)) {
		t.Errorf("no spawned log: %q", rec.logLines())
	}
	// Not RUNNING before startsecs.
	clk.Advance(999 * time.Millisecond)
	if info, _ = s.Info("sleeper"); info.State != Starting {
		t.Fatalf("RUNNING before startsecs: %+v", info)
	}
	clk.Advance(time.Millisecond)
	rec.waitState(t, "sleeper", Running, 30*time.Second)
	if !rec.hasLog("INFO success: sleeper entered RUNNING state, process has stayed up for > than 1 seconds (startsecs)") {
		t.Errorf("no success log: %q", rec.logLines())
	}
	clk.Advance(13 * time.Second)
	info, _ = s.Info("sleeper")
	if up := info.Now - info.Start; up != 14 || info.PID != pid {
		t.Errorf("uptime %d s, pid %d, want 14 s, %d", up, info.PID, pid)
	}
	if _, _, err := s.Start(bg, "sleeper", true); err == nil {
		t.Fatal("second start succeeded")
	} else {
		wantFault(t, err, ErrAlreadyStarted, "sleeper")
	}
	if _, _, err := s.Stop(bg, "sleeper", true); err != nil {
		t.Fatal(err)
	}
	info, _ = s.Info("sleeper")
	if info.State != Stopped || info.PID != 0 || info.ExitStatus != -1 {
		t.Fatalf("stopped: %+v", info)
	}
	if info.Stop != clk.Now().Unix() {
		t.Errorf("stop %d, want %d", info.Stop, clk.Now().Unix())
	}
	wantStates(t, rec, "sleeper", "STARTING", "RUNNING", "STOPPING", "STOPPED")
	for _, l := range []string{
		fmt.Sprintf("DEBG killing sleeper (pid %d) with signal SIGTERM", pid),
		"INFO waiting for sleeper to stop",
		"WARN stopped: sleeper (terminated by SIGTERM)",
	} {
		if !rec.hasLog(l) {
			t.Errorf("missing log %q in %q", l, rec.logLines())
		}
	}
	trs := rec.transitions("sleeper")
	if trs[0].From != Stopped || trs[0].Tries != 0 || trs[1].PID != pid || trs[3].PID != pid || trs[3].From != Stopping {
		t.Errorf("transition data: %+v", trs)
	}
	if _, _, err := s.Stop(bg, "sleeper", true); err == nil {
		t.Fatal("stop of stopped process succeeded")
	} else {
		wantFault(t, err, ErrNotRunning, "sleeper")
	}
}

func TestExitCodesAndAutorestart(t *testing.T) {
	for _, c := range []struct {
		name        string
		code        string
		exitcodes   []int
		autorestart config.Autorestart
		expected    bool
		restarts    bool
		log         string
	}{
		{"expected-never", "0", []int{0}, config.AutorestartNever, true, false, "INFO exited: %s (exit status 0; expected)"},
		{"expected-unexpected", "2", []int{0, 2}, config.AutorestartUnexpected, true, false, "INFO exited: %s (exit status 2; expected)"},
		{"unexpected-unexpected", "3", []int{0}, config.AutorestartUnexpected, false, true, "WARN exited: %s (exit status 3; not expected)"},
		{"expected-always", "0", []int{0}, config.AutorestartAlways, true, true, "INFO exited: %s (exit status 0; expected)"},
		{"unexpected-never", "1", []int{0}, config.AutorestartNever, false, false, "WARN exited: %s (exit status 1; not expected)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, rec := newTestSupervisor(t, Options{})
			p := proc("x", "sleep", "0.2", "exit", c.code)
			p.Startsecs = 0
			p.Exitcodes = c.exitcodes
			p.Autorestart = c.autorestart
			if err := s.AddGroup(homogeneous(p)); err != nil {
				t.Fatal(err)
			}
			if _, _, err := s.Start(bg, "x", true); err != nil {
				t.Fatal(err)
			}
			rec.waitFor(t, "exit", 10*time.Second, func() bool { return slices.Contains(rec.states("x"), "EXITED") })
			if c.restarts {
				rec.waitFor(t, "restart", 10*time.Second, func() bool { return len(rec.states("x")) >= 4 })
				wantStatesPrefix(t, rec, "x", "STARTING", "RUNNING", "EXITED", "STARTING")
			} else {
				// An autorestart is queued with the EXITED it follows.
				s.drain()
				wantStates(t, rec, "x", "STARTING", "RUNNING", "EXITED")
				info, _ := s.Info("x")
				code, _ := strconv.Atoi(c.code)
				if info.ExitStatus != code || info.State != Exited {
					t.Errorf("info %+v", info)
				}
				if !c.expected && info.Spawnerr != "Bad exit code "+c.code {
					t.Errorf("spawnerr %q", info.Spawnerr)
				}
			}
			tr := rec.transitions("x")[2]
			if tr.Expected != c.expected || tr.From != Running || tr.PID == 0 {
				t.Errorf("EXITED transition %+v", tr)
			}
			if !rec.hasLog(fmt.Sprintf(c.log, "x")) {
				t.Errorf("missing %q in %q", fmt.Sprintf(c.log, "x"), rec.logLines())
			}
		})
	}
}

func wantStatesPrefix(t *testing.T, rec *recorder, name string, want ...string) {
	t.Helper()
	got := rec.states(name)
	if len(got) < len(want) || !slices.Equal(got[:len(want)], want) {
		t.Fatalf("%s states %v, want prefix %v", name, got, want)
	}
}

func TestDeathBySignalIsUnexpected(t *testing.T) {
	s, rec := newTestSupervisor(t, Options{})
	p := proc("k", "sleep", "0.1", "selfkill", "9")
	p.Startsecs = 0
	p.Exitcodes = []int{0, 1, 255}
	if err := s.AddGroup(homogeneous(p)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Start(bg, "k", true); err != nil {
		t.Fatal(err)
	}
	rec.waitState(t, "k", Exited, 10*time.Second)
	info, _ := s.Info("k")
	if info.ExitStatus != -1 || info.Spawnerr != "Bad exit code -1" {
		t.Errorf("info %+v", info)
	}
	if !rec.hasLog("WARN exited: k (terminated by SIGKILL; not expected)") {
		t.Errorf("logs %q", rec.logLines())
	}
	if rec.transitions("k")[2].Expected {
		t.Error("signal death published as expected")
	}
}

// TestFastExitNeverExited is the race Python loses: /bin/true with
// startsecs=1 must end in BACKOFF/FATAL, never EXITED. The clock is a
// fake one that never reaches startsecs: on a real one a box loaded
// enough to leave /bin/true unscheduled for a second legitimately
// makes it RUNNING first (seen once at load > 200).
func TestFastExitNeverExited(t *testing.T) {
	truePath := "/bin/true"
	if _, err := os.Stat(truePath); err != nil {
		t.Skip("no /bin/true")
	}
	s, rec := newTestSupervisor(t, Options{Clock: newFakeClock()})
	var names []string
	for i := 0; i < 20; i++ {
		name := fmt.Sprintf("true%02d", i)
		names = append(names, name)
		p := proc(name)
		p.Command = truePath
		p.Startretries = 0
		if err := s.AddGroup(homogeneous(p)); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range names {
		_, _, err := s.Start(bg, name, true)
		wantFault(t, err, ErrSpawnError, name)
	}
	for _, name := range names {
		rec.waitState(t, name, Fatal, 30*time.Second)
		wantStates(t, rec, name, "STARTING", "BACKOFF", "FATAL")
		info, _ := s.Info(name)
		if info.Spawnerr != "Exited too quickly (process log may have details)" {
			t.Errorf("%s: %+v", name, info)
		}
	}
	if !rec.hasLog("INFO gave up: true00 entered FATAL state, too many start retries too quickly") {
		t.Errorf("no gave up log")
	}
	if !rec.hasLog("WARN exited: true00 (exit status 0; not expected)") {
		t.Errorf("no early exit log: %q", rec.logLines())
	}
}

func TestBackoffRetriesThenFatal(t *testing.T) {
	clk := newFakeClock()
	s, rec := newTestSupervisor(t, Options{Clock: clk})
	startFlaky(t, s, 2)
	rec.waitTransitions(t, "flaky", 2)
	// The retry comes exactly backoff seconds later: 1 s, then 2 s.
	clk.Advance(999 * time.Millisecond)
	s.drain() // Advance ran the due timers; what they caused is queued
	wantStates(t, rec, "flaky", "STARTING", "BACKOFF")
	clk.Advance(time.Millisecond)
	rec.waitTransitions(t, "flaky", 4)
	clk.Advance(1999 * time.Millisecond)
	s.drain()
	if n := len(rec.states("flaky")); n != 4 {
		t.Fatalf("retried early: %v", rec.states("flaky"))
	}
	clk.Advance(time.Millisecond)
	rec.waitTransitions(t, "flaky", 7)
	wantStates(t, rec, "flaky", "STARTING", "BACKOFF", "STARTING", "BACKOFF", "STARTING", "BACKOFF", "FATAL")
	var tries []int
	for _, tr := range rec.transitions("flaky") {
		tries = append(tries, tr.Tries)
	}
	if want := []int{0, 1, 1, 2, 2, 3, 0}; !slices.Equal(tries, want) {
		t.Errorf("tries %v, want %v", tries, want)
	}
	if clk.pending() != 0 {
		t.Errorf("%d timers pending in FATAL", clk.pending())
	}
	// FATAL can be started again, and the counter starts over.
	if _, _, err := s.Start(bg, "flaky", false); err != nil {
		t.Fatal(err)
	}
	rec.waitTransitions(t, "flaky", 9)
	if tr := rec.transitions("flaky")[8]; tr.To != Backoff || tr.Tries != 1 {
		t.Errorf("after FATAL restart: %+v", tr)
	}
	// BACKOFF -> STOPPED on stop, without a signal and without a retry.
	if _, _, err := s.Stop(bg, "flaky", true); err != nil {
		t.Fatal(err)
	}
	wantStatesPrefix(t, rec, "flaky", "STARTING", "BACKOFF", "STARTING", "BACKOFF", "STARTING", "BACKOFF", "FATAL", "STARTING", "BACKOFF", "STOPPED")
	clk.Advance(10 * time.Second)
	s.drain()
	if n := len(rec.states("flaky")); n != 10 {
		t.Errorf("activity after stop: %v", rec.states("flaky"))
	}
}

func TestStopEscalatesToSIGKILL(t *testing.T) {
	clk := newFakeClock()
	s, rec := newTestSupervisor(t, Options{Clock: clk})
	info := startStubborn(t, s, "stubborn", 2)
	done := make(chan error, 1)
	go func() { _, _, err := s.Stop(bg, "stubborn", true); done <- err }()
	rec.waitState(t, "stubborn", Stopping, 30*time.Second)
	// Just short of stopwaitsecs: no SIGKILL yet (the SIGTERM is ignored;
	// the "stopped:" line below says which signal ended it).
	clk.Advance(2*time.Second - time.Millisecond)
	s.drain()
	if rec.hasLog(fmt.Sprintf("WARN killing 'stubborn' (%d) with SIGKILL", info.PID)) {
		t.Fatal("SIGKILL before stopwaitsecs")
	}
	clk.Advance(time.Millisecond)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	wantStates(t, rec, "stubborn", "STARTING", "RUNNING", "STOPPING", "STOPPED")
	for _, l := range []string{
		fmt.Sprintf("WARN killing 'stubborn' (%d) with SIGKILL", info.PID),
		fmt.Sprintf("DEBG killing stubborn (pid %d) with signal SIGKILL", info.PID),
		"WARN stopped: stubborn (terminated by SIGKILL)",
	} {
		if !rec.hasLog(l) {
			t.Errorf("missing %q in %q", l, rec.logLines())
		}
	}
}

func TestStopAsGroupKillsGrandchildren(t *testing.T) {
	for _, asGroup := range []bool{true, false} {
		t.Run(fmt.Sprint("stopasgroup=", asGroup), func(t *testing.T) {
			s, _ := newTestSupervisor(t, Options{})
			out := newLineSink()
			s.opts.Output = func(*config.Group, *config.Process) Output { return Output{Stdout: out} }
			p := proc("parent", "child", "30", "pgid", "sleep", "30")
			p.Startsecs = 0
			p.Stopasgroup, p.Killasgroup = asGroup, asGroup
			if err := s.AddGroup(homogeneous(p)); err != nil {
				t.Fatal(err)
			}
			if _, _, err := s.Start(bg, "parent", true); err != nil {
				t.Fatal(err)
			}
			gc, _ := strconv.Atoi(strings.TrimPrefix(out.next(t), "grandchild="))
			var pid, pgid int
			fmt.Sscanf(out.next(t), "pid=%d pgid=%d", &pid, &pgid)
			if pid != pgid {
				t.Fatalf("child is not a process group leader: pid %d pgid %d", pid, pgid)
			}
			if _, _, err := s.Stop(bg, "parent", true); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(30 * time.Second) // bounds a hang
			for pidAlive(gc) && time.Now().Before(deadline) && asGroup {
				time.Sleep(10 * time.Millisecond)
			}
			if alive := pidAlive(gc); alive == asGroup {
				t.Errorf("grandchild alive=%v with stopasgroup=%v", alive, asGroup)
			}
			if !asGroup {
				_ = syscall.Kill(gc, syscall.SIGKILL)
			}
		})
	}
}

func TestSpawnErrors(t *testing.T) {
	dir := t.TempDir()
	noexec := filepath.Join(dir, "noexec")
	if err := os.WriteFile(noexec, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, rec := newTestSupervisor(t, Options{Clock: newFakeClock()})
	for _, c := range []struct {
		name, command string
		code          error
		text          string
	}{
		{"missing", "/nonexistent/binary", ErrNoFile, "can't find command '/nonexistent/binary'"},
		{"nopath", "definitely-not-on-path-xyz", ErrNoFile, "can't find command 'definitely-not-on-path-xyz'"},
		{"dir", dir, ErrNotExecutable, "command at '" + dir + "' is a directory"},
		{"noexec", noexec, ErrNotExecutable, "command at '" + noexec + "' is not executable"},
		{"quote", "'oops", ErrNotExecutable, "can't parse command \"'oops\": No closing quotation"},
	} {
		p := proc(c.name)
		p.Command = c.command
		if err := s.AddGroup(homogeneous(p)); err != nil {
			t.Fatal(err)
		}
		_, _, err := s.Start(bg, c.name, true)
		wantFault(t, err, c.code, c.text)
		if st := rec.states(c.name); len(st) != 0 {
			t.Errorf("%s: RPC pre-check still spawned: %v", c.name, st)
		}
	}
	// Autostart goes through spawn: the error lands in BACKOFF with spawnerr.
	p := proc("auto")
	p.Command = "/nonexistent/binary"
	p.Autostart = true
	p.Startretries = 0
	if err := s.AddGroup(homogeneous(p)); err != nil {
		t.Fatal(err)
	}
	rec.waitState(t, "auto", Fatal, 30*time.Second)
	wantStates(t, rec, "auto", "STARTING", "BACKOFF", "FATAL")
	info, _ := s.Info("auto")
	if info.Spawnerr != "can't find command '/nonexistent/binary'" {
		t.Errorf("info %+v", info)
	}
	if !rec.hasLog("INFO spawnerr: can't find command '/nonexistent/binary'") {
		t.Errorf("logs %q", rec.logLines())
	}
}

// TestChildSideFailuresLookLikePython: where Python's forked child fails
// before exec, it writes why to stderr and exits 127; Go's ForkExec reports
// the failure to us instead, and we reproduce what Python's user sees
// (checked against supervisord 4.2.5).
func TestChildSideFailuresLookLikePython(t *testing.T) {
	badexec := filepath.Join(t.TempDir(), "badexec")
	if err := os.WriteFile(badexec, []byte("garbage\n\x00\x01"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, dir, command, stderr string
		startsecs                  int
		states                     []string
	}{
		{"nodir", "/nonexistent/dir", "", "supervisor: couldn't chdir to /nonexistent/dir: ENOENT\n", 1, []string{"STARTING", "BACKOFF", "FATAL"}},
		{"badexec", "", badexec, "supervisor: couldn't exec " + badexec + ": ENOEXEC\n", 1, []string{"STARTING", "BACKOFF", "FATAL"}},
		{"nodir0", "/nonexistent/dir", "", "supervisor: couldn't chdir to /nonexistent/dir: ENOENT\n", 0, []string{"STARTING", "RUNNING", "EXITED"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, rec := newTestSupervisor(t, Options{})
			errOut := &BufferSink{}
			s.opts.Output = func(*config.Group, *config.Process) Output { return Output{Stderr: errOut} }
			p := proc(c.name, "sleep", "1")
			if c.command != "" {
				p.Command = c.command
			}
			p.Directory = c.dir
			p.Startretries = 0
			p.Startsecs = c.startsecs
			if err := s.AddGroup(homogeneous(p)); err != nil {
				t.Fatal(err)
			}
			_, _, err := s.Start(bg, c.name, true)
			if c.startsecs > 0 {
				wantFault(t, err, ErrSpawnError, c.name)
			} else if err != nil {
				t.Fatal(err)
			}
			last := c.states[len(c.states)-1]
			rec.waitFor(t, last, 30*time.Second, func() bool { return len(rec.states(c.name)) == len(c.states) })
			wantStates(t, rec, c.name, c.states...)
			errOut.Wait()
			if want := c.stderr + "supervisor: child process was not spawned\n"; errOut.String() != want {
				t.Errorf("stderr %q, want %q", errOut.String(), want)
			}
			if l := "WARN exited: " + c.name + " (exit status 127; not expected)"; !rec.hasLog(l) {
				t.Errorf("no %q in %q", l, rec.logLines())
			}
			if info, _ := s.Info(c.name); info.ExitStatus != 0 && c.startsecs > 0 || c.startsecs == 0 && info.ExitStatus != 127 {
				t.Errorf("info %+v", info)
			}
		})
	}
}

func TestNamespecsAndFaults(t *testing.T) {
	s, rec := newTestSupervisor(t, Options{})
	a := proc("a", "sleep", "30")
	b := proc("b", "sleep", "30")
	a.Startsecs, b.Startsecs = 0, 0
	if err := s.AddGroup(&config.Group{Name: "grp", Priority: 5, Processes: []*config.Process{a, b}}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		spec string
	}{{"nosuch"}, {"grp"}, {"grp:*"}, {"grp:"}, {"grp:zz"}, {"x:a"}, {""}} {
		_, err := s.Info(c.spec)
		wantFault(t, err, ErrBadName, c.spec)
		wantFault(t, s.SendStdin(c.spec, []byte("x")), ErrBadName, c.spec)
	}
	_, _, err := s.Start(bg, "nosuch:*", true)
	wantFault(t, err, ErrBadName, "nosuch:*")
	_, err = s.StartGroup(bg, "nosuch", true)
	wantFault(t, err, ErrBadName, "nosuch")

	res, isGroup, err := s.Start(bg, "grp:*", true)
	if err != nil || !isGroup {
		t.Fatal(err, isGroup)
	}
	want := []Result{{"a", "grp", nil}, {"b", "grp", nil}}
	if diff := cmp.Diff(want, res, equateErrors); diff != "" {
		t.Fatal(diff)
	}
	// Running processes are skipped by a group start.
	res, err = s.StartGroup(bg, "grp", true)
	if err != nil || len(res) != 0 {
		t.Fatalf("restart of running group: %v %v", res, err)
	}
	_, _, err = s.Start(bg, "grp:a", true)
	wantFault(t, err, ErrAlreadyStarted, "grp:a")
	_, _, err = s.Signal("grp:a", "nosig")
	wantFault(t, err, ErrBadSignal, "nosig")
	if _, _, err := s.Signal("grp:a", "hup"); err != nil {
		t.Fatal(err)
	}
	rec.waitState(t, "a", Exited, 30*time.Second) // SIGHUP kills the helper
	if !rec.hasLog("WARN exited: a (terminated by SIGHUP; not expected)") {
		t.Errorf("logs %q", rec.logLines())
	}
	_, _, err = s.Signal("grp:a", "HUP")
	wantFault(t, err, ErrNotRunning, "grp:a")
	wantFault(t, s.SendStdin("grp:a", []byte("x")), ErrNotRunning, "grp:a")
	wantFault(t, s.RemoveGroup("grp"), ErrStillRunning, "grp")
	wantFault(t, s.RemoveGroup("nosuch"), ErrBadName, "nosuch")
	wantFault(t, s.AddGroup(&config.Group{Name: "grp"}), ErrAlreadyAdded, "grp")
	// A group signal skips what cannot be signalled and reports a bad
	// signal per process.
	res, err = s.SignalGroup("grp", "bogus")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]Result{{"b", "grp", reqError(ErrBadSignal, "bogus")}}, res, equateErrors); diff != "" {
		t.Error(diff)
	}
	res, isGroup, err = s.Stop(bg, "grp:", true)
	if err != nil || !isGroup {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]Result{{"b", "grp", nil}}, res, equateErrors); diff != "" {
		t.Error(diff)
	}
	if err := s.RemoveGroup("grp"); err != nil {
		t.Fatal(err)
	}
	_, err = s.Info("grp:a")
	wantFault(t, err, ErrBadName, "*")
	rec.mu.Lock()
	groups := slices.Clone(rec.group)
	rec.mu.Unlock()
	if diff := cmp.Diff([]string{"grp true", "grp false"}, groups); diff != "" {
		t.Error(diff)
	}
}

func TestStartWaitAbnormalAndSpawnError(t *testing.T) {
	s, rec := newTestSupervisor(t, Options{})
	quick := proc("quick", "exit", "1")
	// It exits long before startsecs however slow the box is (with
	// startsecs=1 a loaded box could see it RUNNING first).
	quick.Startsecs = 60
	if err := s.AddGroup(homogeneous(quick)); err != nil {
		t.Fatal(err)
	}
	_, _, err := s.Start(bg, "quick", true)
	wantFault(t, err, ErrSpawnError, "quick")

	// Stopped by someone else while we wait for RUNNING.
	slow := proc("slow", "sleep", "30")
	slow.Startsecs = 300
	if err := s.AddGroup(homogeneous(slow)); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, _, err := s.Start(bg, "slow", true); done <- err }()
	rec.waitState(t, "slow", Starting, 30*time.Second)
	if _, _, err := s.Stop(bg, "slow", false); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		wantFault(t, err, ErrAbnormalTermination, "slow")
	case <-time.After(30 * time.Second):
		t.Fatal("the waiting start did not end when the process was stopped")
	}
	rec.waitState(t, "slow", Stopped, 30*time.Second)

	// A cancelled context ends the wait.
	ctx, cancel := context.WithTimeout(bg, 100*time.Millisecond)
	defer cancel()
	_, _, err = s.Start(ctx, "slow", true)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v", err)
	}
}

func TestSendStdin(t *testing.T) {
	s, rec := newTestSupervisor(t, Options{})
	out := newLineSink()
	s.opts.Output = func(*config.Group, *config.Process) Output { return Output{Stdout: out} }
	cat := proc("cat", "cat", "exit", "0")
	cat.Startsecs = 0
	closer := proc("closer", "closestdin", "out", "closed", "sleep", "30")
	closer.Startsecs = 0
	for _, p := range []*config.Process{cat, closer} {
		if err := s.AddGroup(homogeneous(p)); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := s.Start(bg, "cat", true); err != nil {
		t.Fatal(err)
	}
	if err := s.SendStdin("cat", []byte("hello\n")); err != nil {
		t.Fatal(err)
	}
	if got := out.next(t); got != "hello" {
		t.Fatalf("echo %q", got)
	}
	// More than a pipe holds: queued and written in the background.
	big := strings.Repeat("y", 200000) + "\n"
	if err := s.SendStdin("cat", []byte(big)); err != nil {
		t.Fatal(err)
	}
	if got := out.next(t); got != big[:len(big)-1] {
		t.Fatalf("big line: %d bytes", len(got))
	}
	if _, _, err := s.Start(bg, "closer", true); err != nil {
		t.Fatal(err)
	}
	if got := out.next(t); got != "closed" {
		t.Fatal(got)
	}
	wantFault(t, s.SendStdin("closer", []byte("x\n")), ErrNoFile, "closer")
	wantFault(t, s.SendStdin("closer", []byte("x\n")), ErrNoFile, "closer")
	_ = rec
}

func TestChildEnvironmentDirectoryUmask(t *testing.T) {
	dir := t.TempDir()
	s, _ := newTestSupervisor(t, Options{ServerURL: "unix:///tmp/x.sock", Environ: []string{"PATH=/usr/bin:/bin", "FROMSUPERVISORD=yes"}})
	out := &BufferSink{}
	s.opts.Output = func(*config.Group, *config.Process) Output { return Output{Stdout: out} }
	p := proc("envy", "env", "SUPERVISOR_ENABLED,SUPERVISOR_PROCESS_NAME,SUPERVISOR_GROUP_NAME,SUPERVISOR_SERVER_URL,FROMSUPERVISORD,MINE", "pwd", "umask", "err", "to-stdout")
	p.Environment = append(p.Environment, config.EnvVar{Key: "MINE", Value: "a b"})
	p.Directory = dir
	um := os.FileMode(0o027)
	p.Umask = &um
	p.RedirectStderr = true
	if err := s.AddGroup(&config.Group{Name: "g", Processes: []*config.Process{p}}); err != nil {
		t.Fatal(err)
	}
	p.Startsecs = 0
	if _, _, err := s.Start(bg, "g:envy", true); err != nil {
		t.Fatal(err)
	}
	out.Wait()
	want := "SUPERVISOR_ENABLED=1 true\nSUPERVISOR_PROCESS_NAME=envy true\nSUPERVISOR_GROUP_NAME=g true\n" +
		"SUPERVISOR_SERVER_URL=unix:///tmp/x.sock true\nFROMSUPERVISORD=yes true\nMINE=a b true\n" +
		"pwd=" + dir + "\numask=027\nto-stdout\n"
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Error(diff)
	}
}

func TestGroupsPriorityOrder(t *testing.T) {
	s, rec := newTestSupervisor(t, Options{})
	mk := func(name string, prio int) *config.Process {
		p := proc(name, "sleep", "30")
		p.Startsecs = 0
		p.Priority = prio
		return p
	}
	// Config order is (priority, name); AddGroup keeps it.
	g1 := &config.Group{Name: "late", Priority: 900, Processes: []*config.Process{mk("l1", 1), mk("l2", 2)}}
	g2 := &config.Group{Name: "early", Priority: 100, Processes: []*config.Process{mk("e1", 10), mk("e2", 20)}}
	for _, g := range []*config.Group{g1, g2} {
		if err := s.AddGroup(g); err != nil {
			t.Fatal(err)
		}
	}
	res := s.StartAll(bg, true)
	var names []string
	for _, r := range res {
		names = append(names, r.Group+":"+r.Name)
	}
	if diff := cmp.Diff([]string{"early:e1", "early:e2", "late:l1", "late:l2"}, names); diff != "" {
		t.Errorf("start order (-want +got)\n%s", diff)
	}
	order := func(to State) []string {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		var out []string
		for _, tr := range rec.trs {
			if tr.To == to {
				out = append(out, tr.Process)
			}
		}
		return out
	}
	if diff := cmp.Diff([]string{"e1", "e2", "l1", "l2"}, order(Starting)); diff != "" {
		t.Error(diff)
	}
	info := s.AllInfo()
	var all []string
	for _, in := range info {
		all = append(all, in.Group+":"+in.Name)
	}
	if diff := cmp.Diff([]string{"early:e1", "early:e2", "late:l1", "late:l2"}, all); diff != "" {
		t.Error(diff)
	}
	if err := s.Shutdown(bg); err != nil {
		t.Fatal(err)
	}
	if s.State() != SupervisorShutdown {
		t.Errorf("state %s", s.State())
	}
	if diff := cmp.Diff([]string{"l2", "l1", "e2", "e1"}, order(Stopping)); diff != "" {
		t.Errorf("shutdown order (-want +got)\n%s", diff)
	}
	_, _, err := s.Start(bg, "late:l1", true)
	wantFault(t, err, ErrShuttingDown, "")
}

func TestShutdownTurnsBackoffFatal(t *testing.T) {
	clk := newFakeClock()
	s, rec := newTestSupervisor(t, Options{Clock: clk})
	startFlaky(t, s, 3)
	rec.waitState(t, "flaky", Backoff, 30*time.Second)
	if err := s.Shutdown(bg); err != nil {
		t.Fatal(err)
	}
	wantStates(t, rec, "flaky", "STARTING", "BACKOFF", "FATAL")
	if rec.hasLog("INFO gave up: flaky entered FATAL state, too many start retries too quickly") {
		t.Error("shutdown logged a give-up, Python does not")
	}
	clk.Advance(time.Minute)
	s.drain()
	wantStates(t, rec, "flaky", "STARTING", "BACKOFF", "FATAL")
}

func TestShutdownContextKillsStragglers(t *testing.T) {
	s, rec := newTestSupervisor(t, Options{})
	startStubborn(t, s, "stubborn", 3600)
	ctx, cancel := context.WithTimeout(bg, 200*time.Millisecond)
	defer cancel()
	if err := s.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown: %v", err)
	}
	info, _ := s.Info("stubborn")
	if info.PID != 0 || info.State != Stopped {
		t.Fatalf("after shutdown: %+v", info)
	}
	if !rec.hasLog("WARN stopped: stubborn (terminated by SIGKILL)") {
		t.Errorf("logs %q", rec.logLines())
	}
}

func TestAutostartOnAddGroup(t *testing.T) {
	s, rec := newTestSupervisor(t, Options{})
	a := proc("auto", "sleep", "30")
	a.Autostart = true
	a.Startsecs = 0
	m := proc("manual", "sleep", "30")
	if err := s.AddGroup(&config.Group{Name: "g", Processes: []*config.Process{a, m}}); err != nil {
		t.Fatal(err)
	}
	rec.waitState(t, "auto", Running, 30*time.Second)
	if st := rec.states("manual"); len(st) != 0 {
		t.Errorf("manual process started: %v", st)
	}
	rec.mu.Lock()
	first := rec.group[0]
	rec.mu.Unlock()
	if first != "g true" {
		t.Errorf("group event %q", first)
	}
}

// TestSignalErrorGoesUnknown drives the UNKNOWN state: a stop signal the
// kernel rejects (a config that skipped validation) is an unexpected kill
// error, as in Python's Subprocess.kill.
func TestSignalErrorGoesUnknown(t *testing.T) {
	s, rec := newTestSupervisor(t, Options{})
	p := proc("odd", "sleep", "30")
	p.Startsecs = 0
	p.Stopsignal = 99
	if err := s.AddGroup(homogeneous(p)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Start(bg, "odd", true); err != nil {
		t.Fatal(err)
	}
	info, _ := s.Info("odd")
	_, _, err := s.Stop(bg, "odd", true)
	wantFault(t, err, ErrFailed, fmt.Sprintf("unknown problem killing odd (%d):invalid argument", info.PID))
	wantStates(t, rec, "odd", "STARTING", "RUNNING", "STOPPING", "UNKNOWN")
	_, _, err = s.Start(bg, "odd", true)
	wantFault(t, err, ErrFailed, "odd is in an unknown process state")
	_, _, err = s.Stop(bg, "odd", true)
	wantFault(t, err, ErrNotRunning, "odd")
	// Shutdown still leaves no child: the pid is killed outright.
	if err := s.Shutdown(bg); err != nil {
		t.Fatal(err)
	}
	wantStates(t, rec, "odd", "STARTING", "RUNNING", "STOPPING", "UNKNOWN", "EXITED")
	if info, _ := s.Info("odd"); info.PID != 0 {
		t.Fatalf("pid left: %+v", info)
	}
}

func TestStopGroupResultsInCompletionOrder(t *testing.T) {
	clk := newFakeClock()
	s, rec := newTestSupervisor(t, Options{Clock: clk})
	out := newLineSink()
	s.opts.Output = func(*config.Group, *config.Process) Output { return Output{Stdout: out} }
	fast := proc("fast", "sleep", "30")
	slow := proc("slow", "ignoreterm", "out", "ready", "sleep", "30")
	fast.Startsecs, slow.Startsecs = 0, 0
	slow.Priority = 1 // lower priority: signalled after fast
	g := &config.Group{Name: "g", Processes: []*config.Process{slow, fast}}
	if err := s.AddGroup(g); err != nil {
		t.Fatal(err)
	}
	if res := s.StartAll(bg, true); len(res) != 2 {
		t.Fatal(res)
	}
	out.next(t)
	done := make(chan []Result, 1)
	go func() { res, _ := s.StopGroup(bg, "g", true); done <- res }()
	rec.waitState(t, "fast", Stopped, 30*time.Second)
	rec.waitState(t, "slow", Stopping, 30*time.Second)
	clk.Advance(10 * time.Second) // SIGKILL for the stubborn one
	res := <-done
	want := []Result{{"fast", "g", nil}, {"slow", "g", nil}}
	if diff := cmp.Diff(want, res, equateErrors); diff != "" {
		t.Error(diff)
	}
	// Stop signals go out in descending priority order.
	var stopping []string
	rec.mu.Lock()
	for _, tr := range rec.trs {
		if tr.To == Stopping {
			stopping = append(stopping, tr.Process)
		}
	}
	rec.mu.Unlock()
	if diff := cmp.Diff([]string{"fast", "slow"}, stopping); diff != "" {
		t.Error(diff)
	}
	res = s.SignalAll("HUP")
	if len(res) != 0 {
		t.Errorf("signal of stopped processes: %v", res)
	}
}

func TestUserCredentials(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("switching users needs root")
	}
	idBin := lookBin(t, "/usr/bin/id")
	s, _ := newTestSupervisor(t, Options{})
	out := &BufferSink{}
	s.opts.Output = func(*config.Group, *config.Process) Output { return Output{Stdout: out} }
	p := proc("who")
	p.Command = idBin
	p.Startsecs = 0
	p.User = &config.User{Name: "nobody", UID: 65534, GID: 65534}
	if err := s.AddGroup(homogeneous(p)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Start(bg, "who", true); err != nil {
		t.Fatal(err)
	}
	out.Wait()
	got := out.String()
	if !strings.HasPrefix(got, "uid=65534(nobody) gid=65534") || strings.Contains(got, "(root)") {
		t.Errorf("id printed %q", got)
	}
}

// TestShutdownRacesStarts: starts racing a shutdown never leave a child
// behind once Shutdown returns.
func TestShutdownRacesStarts(t *testing.T) {
	sleep := lookBin(t, "/bin/sleep")
	s, _ := newTestSupervisor(t, Options{Logger: discardLogger{}})
	var gs []*config.Group
	for i := 0; i < 40; i++ {
		p := proc(fmt.Sprintf("r%02d", i))
		p.Command = sleep + " 30"
		p.Startsecs = 0
		p.Environment = nil
		gs = append(gs, homogeneous(p))
	}
	if err := s.AddGroups(gs); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				_, _, _ = s.Start(bg, fmt.Sprintf("r%02d", (i*7+w)%40), false)
			}
		}()
	}
	// Let the starters get going before the shutdown races them.
	deadline := time.Now().Add(time.Minute) // bounds a hang
	for started := 0; started < 8; {
		started = 0
		for _, in := range s.AllInfo() {
			if in.PID != 0 {
				started++
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d processes started", started)
		}
		time.Sleep(time.Millisecond)
	}
	if err := s.Shutdown(bg); err != nil {
		t.Fatal(err)
	}
	if kids := children(); len(kids) != 0 {
		t.Errorf("children alive after Shutdown returned: %v", kids)
	}
	close(stop)
	wg.Wait()
	for _, in := range s.AllInfo() {
		if in.PID != 0 {
			t.Errorf("%s has pid %d after shutdown", in.Name, in.PID)
		}
	}
}

func TestFastCGISocket(t *testing.T) {
	sockPath := filepath.Join(t.TempDir(), "fcgi.sock")
	s, rec := newTestSupervisor(t, Options{})
	out := newLineSink()
	s.opts.Output = func(*config.Group, *config.Process) Output { return Output{Stdout: out} }
	a := proc("f0", "sockname", "sleep", "30")
	b := proc("f1", "sockname", "sleep", "30")
	a.Startsecs, b.Startsecs = 0, 0
	g := &config.Group{Name: "fcgi", Kind: config.KindFastCGI, Processes: []*config.Process{a, b},
		Socket: &config.FCGISocket{URL: "unix://" + sockPath, OwnerUID: -1, OwnerGID: -1, Mode: 0o700}}
	if err := s.AddGroup(g); err != nil {
		t.Fatal(err)
	}
	if res := s.StartAll(bg, true); len(res) != 2 || res[0].Err != nil || res[1].Err != nil {
		t.Fatalf("start: %v", res)
	}
	for i := 0; i < 2; i++ {
		if got := out.next(t); got != "unix:"+sockPath {
			t.Fatalf("fd 0: %q", got)
		}
	}
	fi, err := os.Stat(sockPath)
	if err != nil || fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0o700 {
		t.Fatalf("socket file: %v %v", fi, err)
	}
	c, err := net.Dial("unix", sockPath)
	if err != nil {
		t.Fatalf("dial while running: %v", err)
	}
	c.Close()
	wantFault(t, s.SendStdin("fcgi:f0", []byte("x")), ErrNoFile, "fcgi:f0")
	// One process stopped: the other still holds the socket.
	if _, _, err := s.Stop(bg, "fcgi:f0", true); err != nil {
		t.Fatal(err)
	}
	if c, err := net.Dial("unix", sockPath); err != nil {
		t.Fatalf("dial with one holder left: %v", err)
	} else {
		c.Close()
	}
	if _, _, err := s.Stop(bg, "fcgi:f1", true); err != nil {
		t.Fatal(err)
	}
	if _, err := net.Dial("unix", sockPath); err == nil {
		t.Fatal("socket still listening with no process")
	}
	if !rec.hasLog("INFO Closing socket unix://" + sockPath) {
		t.Errorf("logs %q", rec.logLines())
	}
	// A socket that cannot be made fails the group early.
	bad := &config.Group{Name: "bad", Kind: config.KindFastCGI, Processes: []*config.Process{proc("b0")},
		Socket: &config.FCGISocket{URL: "unix:///nonexistent/dir/s.sock", OwnerUID: -1, OwnerGID: -1}}
	err = s.AddGroup(bad)
	wantFault(t, err, ErrFailed, "*")
	if !strings.Contains(err.Error(), "Could not create FastCGI socket unix:///nonexistent/dir/s.sock") {
		t.Errorf("error %q", err)
	}
	if _, err := s.Info("bad:b0"); err == nil {
		t.Error("failed group was added")
	}
}

// TestReaperLeavesForeignChildren: unless we are PID 1 the reaper reaps only
// its own children, even while someone else's zombie is waiting to be
// collected, and os/exec's Wait still gets its child's status.
func TestReaperLeavesForeignChildren(t *testing.T) {
	s, rec := newTestSupervisor(t, Options{})
	foreign := exec.Command(lookBin(t, "/bin/sh"), "-c", "exit 7")
	if err := foreign.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait (without reaping) until it is a zombie nobody has waited for.
	deadline := time.Now().Add(time.Minute) // bounds a hang
	for {
		if pid, err := waitidPeek(pPID, foreign.Process.Pid); err != nil || pid == foreign.Process.Pid {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the foreign child did not exit")
		}
		time.Sleep(time.Millisecond)
	}
	p := proc("mine", "sleep", "0.1", "exit", "3")
	p.Startsecs = 0
	if err := s.AddGroup(homogeneous(p)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Start(bg, "mine", true); err != nil {
		t.Fatal(err)
	}
	rec.waitState(t, "mine", Exited, 30*time.Second)
	if info, _ := s.Info("mine"); info.ExitStatus != 3 {
		t.Errorf("exit status %d", info.ExitStatus)
	}
	err := foreign.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 7 {
		t.Fatalf("foreign Wait: %v", err)
	}
}
