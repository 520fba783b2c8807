package procman

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/config"
)

// pid1Env makes the test binary run pid1Main: supervise as PID 1 of a new
// pid namespace.
const pid1Env = "PROCMAN_PID1"

// TestPID1 runs this binary as PID 1 in a new pid namespace, supervising a
// child that double-forks orphans; every orphan must be reaped by our reaper
// and the managed child's exit status must be right.
func TestPID1(t *testing.T) {
	unshare := needPIDNamespace(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, unshare, "--pid", "--fork", "--mount-proc", exe)
	cmd.Env = append(os.Environ(), pid1Env+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("pid 1 run failed: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "PID1 OK orphans=5 exitstatus=3 state=EXITED zombies=0") {
		t.Fatalf("unexpected pid 1 report:\n%s", out)
	}
}

// skipPID1Env, set to 1, skips the PID 1 tests where the kernel will not
// make a pid namespace; without it they fail there, so CI (root) never
// silently loses them.
const skipPID1Env = "GOSUPERVISOR_SKIP_PID1"

// needPIDNamespace returns unshare(1)'s path once it has made a pid
// namespace; the test is skipped only when not root or when skipPID1Env
// says so, and fails with the reason otherwise.
func needPIDNamespace(t *testing.T) string {
	t.Helper()
	if os.Getuid() != 0 {
		t.Skip("creating a pid namespace with unshare needs root")
	}
	refused := func(format string, args ...any) {
		t.Helper()
		msg := fmt.Sprintf(format, args...)
		if os.Getenv(skipPID1Env) == "1" {
			t.Skipf("%s (%s=1)", msg, skipPID1Env)
		}
		t.Fatalf("%s; set %s=1 to skip the PID 1 tests here", msg, skipPID1Env)
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		refused("unshare(1) is not installed: %v", err)
	}
	if out, err := exec.Command(unshare, "--pid", "--fork", "--mount-proc", "true").CombinedOutput(); err != nil {
		refused("the kernel refuses a pid namespace: %v: %s", err, out)
	}
	return unshare
}

type countingLogger struct {
	mu     sync.Mutex
	reaped int
	lines  []string
}

func (c *countingLogger) Log(_ config.LogLevel, msg string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lines = append(c.lines, msg)
	if strings.HasPrefix(msg, "reaped unknown pid ") {
		c.reaped++
	}
}

func (c *countingLogger) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reaped
}

func pid1Main() int {
	fail := func(format string, args ...any) int {
		fmt.Printf("PID1 FAIL "+format+"\n", args...)
		return 1
	}
	if os.Getpid() != 1 {
		return fail("pid is %d, not 1", os.Getpid())
	}
	log := &countingLogger{}
	s, err := New(Options{Logger: log}) // PID 1: the reaper reaps every child
	if err != nil {
		return fail("New: %v", err)
	}
	p := proc("managed", "orphans", "5", "sleep", "0.5", "exit", "3")
	p.Startsecs = 0
	if err := s.AddGroup(homogeneous(p)); err != nil {
		return fail("AddGroup: %v", err)
	}
	if _, _, err := s.Start(context.Background(), "managed", true); err != nil {
		return fail("Start: %v", err)
	}
	deadline := time.Now().Add(time.Minute)
	var info ProcessInfo
	for time.Now().Before(deadline) {
		info, _ = s.Info("managed")
		if info.State == Exited && log.count() >= 5 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := s.Close(); err != nil {
		return fail("Close: %v", err)
	}
	zombies := 0
	for _, pid := range children() {
		if !pidAlive(pid) {
			zombies++
		}
	}
	fmt.Printf("PID1 OK orphans=%d exitstatus=%d state=%s zombies=%d\n", log.count(), info.ExitStatus, info.State, zombies)
	if log.count() != 5 {
		log.mu.Lock()
		fmt.Println(strings.Join(log.lines, "\n"))
		log.mu.Unlock()
	}
	return 0
}
