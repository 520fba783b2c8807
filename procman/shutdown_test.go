package procman

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/config"
	"github.com/gosupervisor/gosupervisor/internal/testchild"
)

// unkillableEnv makes the test binary run unkillableMain; its value is the
// path of the setuid-root copy of this binary the supervised child runs.
const unkillableEnv = "PROCMAN_UNKILLABLE"

// TestShutdownLeavesUnkillableChild runs a supervisor as user nobody whose
// child makes itself root (through a setuid-root copy of this binary), so
// every signal the supervisor sends it fails with EPERM. Stop must answer
// (FAILED, UNKNOWN state) and Shutdown must end, saying what it left
// behind and why, instead of waiting forever.
func TestShutdownLeavesUnkillableChild(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root: the supervisor runs as nobody and its child becomes root again")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir, ok := testchild.SetuidDir(t, "procman-suid-", 0o755)
	if !ok {
		t.Fatal("no filesystem here honours setuid bits (tried TMPDIR, /var/tmp, the package directory)")
	}
	sup := filepath.Join(dir, "supervisor.test")
	suid := filepath.Join(dir, "suid-helper")
	testchild.CopyFile(t, exe, sup, 0o755)
	testchild.SetuidCopy(t, suid)
	ctx, cancel := context.WithTimeout(bg, 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, sup)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), unkillableEnv+"="+suid)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	b, err := cmd.CombinedOutput()
	out := string(b)
	if m := regexp.MustCompile(`child=(\d+)`).FindStringSubmatch(out); m != nil {
		pid, _ := strconv.Atoi(m[1])
		_ = syscall.Kill(pid, syscall.SIGKILL) // root may; the supervisor could not
	}
	if err != nil {
		t.Fatalf("supervisor as nobody: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`child=(\d+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no child pid reported:\n%s", out)
	}
	pid := m[1]
	for _, want := range []string{
		"stop: failed: unknown problem killing rootchild (" + pid + "):operation not permitted\n",
		"state after stop: UNKNOWN\n",
		"shutdown: <nil>\n",
		"log: killing 'rootchild' (" + pid + ") with SIGKILL\n",
		"log: left behind: 'rootchild' (pid " + pid + ") could not be killed: EPERM\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
}

// unkillableMain is the supervisor side of TestShutdownLeavesUnkillableChild.
func unkillableMain(helper string) int {
	fail := func(format string, args ...any) int {
		fmt.Printf("FAIL "+format+"\n", args...)
		return 1
	}
	if os.Getuid() == 0 {
		return fail("running as root")
	}
	log := &countingLogger{}
	out := newLineSink()
	s, err := New(Options{Logger: log, Output: func(*config.Group, *config.Process) Output { return Output{Stdout: out} }})
	if err != nil {
		return fail("New: %v", err)
	}
	p := proc("rootchild")
	p.Command = helper + " becomeroot sleep 120"
	p.Startsecs = 0
	if err := s.AddGroup(homogeneous(p)); err != nil {
		return fail("AddGroup: %v", err)
	}
	if _, _, err := s.Start(bg, "rootchild", true); err != nil {
		return fail("Start: %v", err)
	}
	info, _ := s.Info("rootchild")
	fmt.Printf("child=%d\n", info.PID)
	select {
	case line := <-out.lines:
		if line != "uid=0" {
			return fail("child says %q", line)
		}
	case <-time.After(30 * time.Second):
		return fail("child did not report its uid")
	}
	_, _, err = s.Stop(bg, "rootchild", true)
	fmt.Printf("stop: %v\n", err)
	info, _ = s.Info("rootchild")
	fmt.Printf("state after stop: %s\n", info.State)
	done := make(chan error, 1)
	go func() { done <- s.Shutdown(bg) }()
	select {
	case err := <-done:
		fmt.Printf("shutdown: %v\n", err)
	case <-time.After(60 * time.Second):
		return fail("Shutdown did not end")
	}
	s.flushLogs()
	log.mu.Lock()
	for _, l := range log.lines {
		fmt.Println("log: " + l)
	}
	log.mu.Unlock()
	return 0
}

// TestStopAndShutdownGiveUpOnChildOutlivingSIGKILL: a child that SIGKILL
// does not end (the kernel keeps a process in uninterruptible sleep; here
// the supervisor's kill is made to not deliver SIGKILL) ends a waiting Stop
// killGrace after the SIGKILL, and Shutdown after its sweep, on the clock.
func TestStopAndShutdownGiveUpOnChildOutlivingSIGKILL(t *testing.T) {
	clk := newFakeClock()
	s, rec := newTestSupervisor(t, Options{Clock: clk})
	var swallow atomic.Bool
	swallow.Store(true)
	s.kill = func(pid int, sig syscall.Signal) error {
		if sig == syscall.SIGKILL && swallow.Load() {
			return nil
		}
		return syscall.Kill(pid, sig)
	}
	info := startStubborn(t, s, "tough", 3)
	done := make(chan error, 1)
	go func() { _, _, err := s.Stop(bg, "tough", true); done <- err }()
	rec.waitState(t, "tough", Stopping, 10*time.Second)
	advanceUntil(t, clk, done, func(err error) {
		wantFault(t, err, ErrFailed, fmt.Sprintf("tough (pid %d) is still alive 5s after SIGKILL", info.PID))
	})
	if in, _ := s.Info("tough"); in.State != Stopping || in.PID != info.PID {
		t.Fatalf("after the stop gave up: %+v", in)
	}
	if !rec.hasLog(fmt.Sprintf("WARN killing 'tough' (%d) with SIGKILL", info.PID)) {
		t.Errorf("no SIGKILL before giving up: %q", rec.logLines())
	}

	sd := make(chan error, 1)
	go func() { sd <- s.Shutdown(bg) }()
	advanceUntil(t, clk, sd, func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	})
	if l := fmt.Sprintf("CRIT left behind: 'tough' (pid %d) is still alive 5s after SIGKILL", info.PID); !rec.hasLog(l) {
		t.Errorf("missing %q in %q", l, rec.logLines())
	}
	if !pidAlive(info.PID) {
		t.Fatal("the child died: the test did not exercise a child outliving SIGKILL")
	}
	// Let the cleanup's Close really kill it.
	swallow.Store(false)
	_ = syscall.Kill(info.PID, syscall.SIGKILL)
	rec.waitState(t, "tough", Stopped, 10*time.Second)
}

// advanceUntil moves the fake clock a second at a time until done yields,
// then hands the value to check.
func advanceUntil(t *testing.T, clk *fakeClock, done <-chan error, check func(error)) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case err := <-done:
			check(err)
			return
		case <-deadline:
			t.Fatalf("still waiting after the clock moved %v", clk.Now().Sub(newFakeClock().Now()))
		case <-time.After(5 * time.Millisecond):
			clk.Advance(time.Second)
		}
	}
}

// TestShutdownStopsEqualPriorityGroupsTogether: the groups of one priority
// get their stop signals together (the last configured first) and are
// waited for as one batch; a group of a lower priority gets its signal only
// once all of them have stopped.
func TestShutdownStopsEqualPriorityGroupsTogether(t *testing.T) {
	clk := newFakeClock()
	s, rec := newTestSupervisor(t, Options{Clock: clk})
	out := newLineSink()
	s.opts.Output = func(*config.Group, *config.Process) Output { return Output{Stdout: out} }
	names := []string{"low", "b1", "b2", "b3"}
	for i, name := range names {
		p := proc(name, "ignoreterm", "out", "ready", "sleep", "60")
		p.Startsecs = 0
		p.Stopwaitsecs = 30
		g := homogeneous(p)
		g.Priority = 20
		if i == 0 {
			g.Priority = 10
		}
		if err := s.AddGroup(g); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range s.StartAll(bg, true) {
		if r.Err != nil {
			t.Fatalf("start %s: %v", r.Name, r.Err)
		}
	}
	for range names {
		out.next(t) // SIGTERM is ignored from here on
	}
	last := func(name string) string {
		st := rec.states(name)
		return st[len(st)-1]
	}
	done := make(chan error, 1)
	go func() { done <- s.Shutdown(bg) }()
	rec.waitFor(t, "b1, b2, b3 STOPPING", 30*time.Second, func() bool {
		return last("b1") == "STOPPING" && last("b2") == "STOPPING" && last("b3") == "STOPPING"
	})
	if got := last("low"); got != "RUNNING" {
		t.Fatalf("low is %s while its higher priorities stop", got)
	}
	clk.Advance(30 * time.Second) // stopwaitsecs: SIGKILL for b1, b2, b3
	rec.waitState(t, "low", Stopping, 30*time.Second)
	for _, name := range names[1:] {
		if got := last(name); got != "STOPPED" {
			t.Errorf("%s is %s when low is signalled", name, got)
		}
	}
	clk.Advance(30 * time.Second)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var order []string
	rec.mu.Lock()
	for _, tr := range rec.trs {
		if tr.To == Stopping {
			order = append(order, tr.Process)
		}
	}
	rec.mu.Unlock()
	if got, want := strings.Join(order, " "), "b3 b2 b1 low"; got != want {
		t.Errorf("stop signal order %q, want %q", got, want)
	}
}
