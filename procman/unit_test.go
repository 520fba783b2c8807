package procman

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gosupervisor/gosupervisor/config"
)

// TestLateTimersChangeNothing: timers armed for a state the process has
// left (startsecs after a stop, stopwaitsecs after the child died, a
// backoff retry after a stop) never move it: no RUNNING, no SIGKILL, no
// respawn, and no timer is left armed.
func TestLateTimersChangeNothing(t *testing.T) {
	clk := newFakeClock()
	s, rec := newTestSupervisor(t, Options{Clock: clk})
	slow := proc("slow", "sleep", "60")
	slow.Startsecs = 5
	slow.Stopwaitsecs = 3
	flaky := proc("flaky", "exit", "1")
	for _, p := range []*config.Process{slow, flaky} {
		if err := s.AddGroup(homogeneous(p)); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := s.Start(bg, "slow", false); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Stop(bg, "slow", true); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Start(bg, "flaky", false); err != nil {
		t.Fatal(err)
	}
	rec.waitState(t, "flaky", Backoff, 10*time.Second)
	if _, _, err := s.Stop(bg, "flaky", true); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
	s.drain()
	wantStates(t, rec, "slow", "STARTING", "STOPPING", "STOPPED")
	wantStates(t, rec, "flaky", "STARTING", "BACKOFF", "STOPPED")
	for _, l := range rec.logLines() {
		if strings.Contains(l, "success:") || strings.Contains(l, "SIGKILL") {
			t.Errorf("late timer acted: %q", l)
		}
	}
	if n := clk.pending(); n != 0 {
		t.Errorf("%d timers still armed", n)
	}
}

func TestRequestFaults(t *testing.T) {
	want := map[request]map[State]error{
		reqStart:  {Stopped: nil, Starting: ErrAlreadyStarted, Running: ErrAlreadyStarted, Backoff: ErrAlreadyStarted, Stopping: ErrAbnormalTermination, Exited: nil, Fatal: nil, Unknown: ErrFailed},
		reqStop:   {Stopped: ErrNotRunning, Starting: nil, Running: nil, Backoff: nil, Stopping: ErrNotRunning, Exited: ErrNotRunning, Fatal: ErrNotRunning, Unknown: ErrNotRunning},
		reqSignal: {Stopped: ErrNotRunning, Starting: nil, Running: nil, Backoff: ErrNotRunning, Stopping: nil, Exited: ErrNotRunning, Fatal: ErrNotRunning, Unknown: ErrNotRunning},
		reqStdin:  {Stopped: ErrNotRunning, Starting: nil, Running: nil, Backoff: ErrNotRunning, Stopping: ErrNotRunning, Exited: ErrNotRunning, Fatal: ErrNotRunning, Unknown: ErrNotRunning},
		reqRemove: {Stopped: nil, Starting: ErrStillRunning, Running: ErrStillRunning, Backoff: ErrStillRunning, Stopping: ErrStillRunning, Exited: nil, Fatal: nil, Unknown: nil},
	}
	for req := request(0); req < numRequests; req++ {
		for _, st := range AllStates {
			f := requestFault(req, st, "g:p")
			var kind error
			if f != nil {
				kind = f.Kind
			}
			if kind != want[req][st] {
				t.Errorf("request %d in %s: %v, want %v", req, st, kind, want[req][st])
			}
		}
	}
	if got := requestFault(reqStart, Unknown, "x").Subject; got != "x is in an unknown process state" {
		t.Errorf("unknown state start: %q", got)
	}
	if got := requestFault(reqStop, Exited, "g:x").Subject; got != "g:x" {
		t.Errorf("stop: %q", got)
	}
}

func TestErrorString(t *testing.T) {
	for _, c := range []struct {
		e    *Error
		want string
	}{
		{reqError(ErrBadName, "foo"), "no such process or group: foo"},
		{reqError(ErrBadName, ""), "no such process or group: "},
		{&Error{Kind: ErrShuttingDown}, "supervisor is shutting down"},
		{reqError(ErrNoFile, "can't find command '/x'"), "no such file: can't find command '/x'"},
	} {
		if got := c.e.Error(); got != c.want {
			t.Errorf("%q, want %q", got, c.want)
		}
		if !errors.Is(c.e, c.e.Kind) {
			t.Errorf("%v is not its kind", c.e)
		}
	}
}

// TestParseSignal: signal_number's answers (internal/signals checks them
// against Python) and ErrBadSignal naming the value as given.
func TestParseSignal(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int
		bad  bool
	}{
		{"hup", 1, false}, {"SIGHUP", 1, false}, {" term ", 15, false}, {"9", 9, false},
		{"0", 0, false}, {"sig_dfl", 0, false}, {"SIG_IGN", 1, false}, {"usr2", 12, false},
		{"iot", 6, false}, {"cld", 17, false}, {"rtmin", 34, false}, {"64", 64, false},
		{"35", 0, true}, {"-1", 0, true}, {"foo", 0, true}, {"1.5", 0, true}, {"", 0, true}, {"65", 0, true},
	} {
		sig, err := ParseSignal(c.in)
		if c.bad {
			var e *Error
			if !errors.As(err, &e) || e.Kind != ErrBadSignal || e.Subject != c.in {
				t.Errorf("%q: %v, want BAD_SIGNAL", c.in, err)
			}
			continue
		}
		if err != nil || int(sig) != c.want {
			t.Errorf("%q: %d %v, want %d", c.in, sig, err, c.want)
		}
	}
}

func TestResolveCommand(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "exe")
	noexec := filepath.Join(dir, "noexec")
	sub := filepath.Join(dir, "sub")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(noexec, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		cmd      string
		path     []string
		wantFile string
		wantArgv []string
		code     error
		msg      string
	}{
		{cmd: exe + " a 'b c'", wantFile: exe, wantArgv: []string{exe, "a", "b c"}},
		{cmd: "exe -x", path: []string{"/nonexistent", dir}, wantFile: exe, wantArgv: []string{"exe", "-x"}},
		{cmd: "exe", path: []string{dir + "/"}, wantFile: dir + "/exe", wantArgv: []string{"exe"}},
		{cmd: "nosuch", path: []string{dir}, code: ErrNoFile, msg: "can't find command 'nosuch'"},
		{cmd: "/nonexistent/binary", code: ErrNoFile, msg: "can't find command '/nonexistent/binary'"},
		{cmd: sub, code: ErrNotExecutable, msg: "command at '" + sub + "' is a directory"},
		{cmd: "sub", path: []string{dir}, code: ErrNotExecutable, msg: "command at '" + sub + "' is a directory"},
		{cmd: noexec, code: ErrNotExecutable, msg: "command at '" + noexec + "' is not executable"},
		{cmd: "", code: ErrNotExecutable, msg: "command is empty"},
		{cmd: "   ", code: ErrNotExecutable, msg: "command is empty"},
		{cmd: "a 'b", code: ErrNotExecutable, msg: `can't parse command "a 'b": No closing quotation`},
		{cmd: `a \`, code: ErrNotExecutable, msg: `can't parse command 'a \\': No escaped character`},
	} {
		file, argv, err := resolveCommand(c.cmd, c.path)
		if c.code != nil {
			var ce *commandError
			if !errors.As(err, &ce) || ce.kind != c.code || ce.msg != c.msg {
				t.Errorf("%q: %v, want %v %q", c.cmd, err, c.code, c.msg)
			}
			continue
		}
		if err != nil || file != c.wantFile || !slices.Equal(argv, c.wantArgv) {
			t.Errorf("%q: %q %q %v", c.cmd, file, argv, err)
		}
	}
}

func TestSearchPath(t *testing.T) {
	for _, c := range []struct {
		prog []envVar
		base []string
		want []string
	}{
		{nil, []string{"PATH=/a:/b"}, []string{"/a", "/b"}},
		{[]envVar{{"PATH", "/p"}}, []string{"PATH=/a"}, []string{"/p"}},
		{[]envVar{{"PATH", ""}}, []string{"PATH=/a"}, []string{""}},
		{nil, []string{"PATH="}, defaultPath},
		{nil, []string{"HOME=/"}, defaultPath},
	} {
		if got := searchPath(c.prog, c.base); !slices.Equal(got, c.want) {
			t.Errorf("%v %v: %q, want %q", c.prog, c.base, got, c.want)
		}
	}
}

func TestChildEnv(t *testing.T) {
	got := childEnv([]string{"HOME=/root", "PATH=/bin", "SUPERVISOR_ENABLED=0", "HOME=/other"}, "unix:///tmp/s.sock", "p1", "g", []envVar{{"A", "1"}, {"PATH", "/x"}})
	want := []string{"HOME=/other", "PATH=/x", "SUPERVISOR_ENABLED=1", "SUPERVISOR_SERVER_URL=unix:///tmp/s.sock", "SUPERVISOR_PROCESS_NAME=p1", "SUPERVISOR_GROUP_NAME=g", "A=1"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Error(diff)
	}
	got = childEnv(nil, "", "p", "g", nil)
	if slices.ContainsFunc(got, func(s string) bool { return s == "SUPERVISOR_SERVER_URL=" }) {
		t.Errorf("empty server url exported: %q", got)
	}
}

// TestAllInfoFollowsGroupChanges: the lexical order AllInfo and AllHealth
// keep between calls follows every group added and removed.
func TestAllInfoFollowsGroupChanges(t *testing.T) {
	s, _ := newTestSupervisor(t, Options{})
	group := func(name string, procs ...string) *config.Group {
		g := &config.Group{Name: name, Priority: 999}
		for _, p := range procs {
			g.Processes = append(g.Processes, proc(p, "sleep", "30"))
		}
		return g
	}
	names := func() string {
		var out []string
		for _, in := range s.AllInfo() {
			out = append(out, in.Group+":"+in.Name)
		}
		var health []string
		for _, h := range s.AllHealth() {
			health = append(health, h.Group+":"+h.Name)
		}
		if !slices.Equal(out, health) {
			t.Errorf("AllInfo %v, AllHealth %v", out, health)
		}
		return strings.Join(out, " ")
	}
	steps := []struct {
		add    *config.Group
		remove string
		want   string
	}{
		{want: ""},
		{add: group("m", "z", "a"), want: "m:a m:z"},
		{add: group("b", "x"), want: "b:x m:a m:z"},
		{add: group("y", "c"), want: "b:x m:a m:z y:c"},
		{remove: "m", want: "b:x y:c"},
		{add: group("a", "q"), want: "a:q b:x y:c"},
		{remove: "y", want: "a:q b:x"},
	}
	for i, st := range steps {
		if st.add != nil {
			if err := s.AddGroup(st.add); err != nil {
				t.Fatal(err)
			}
		}
		if st.remove != "" {
			if err := s.RemoveGroup(st.remove); err != nil {
				t.Fatal(err)
			}
		}
		for range 2 { // computed, then kept
			if got := names(); got != st.want {
				t.Fatalf("step %d: AllInfo %q, want %q", i, got, st.want)
			}
		}
	}
}
