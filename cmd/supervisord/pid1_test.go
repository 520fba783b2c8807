package main

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/internal/testchild"
)

// TestContainerPID1 runs supervisord as PID 1 of a new pid namespace, as in
// a container: it reaps orphans re-parented to it (logging them as Python
// does), reports pid 1, and on SIGTERM stops everything and exits 0.
func TestContainerPID1(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("creating a pid namespace with unshare needs root")
	}
	refused := func(format string, args ...any) {
		t.Helper()
		msg := fmt.Sprintf(format, args...)
		if os.Getenv("GOSUPERVISOR_SKIP_PID1") == "1" {
			t.Skipf("%s (GOSUPERVISOR_SKIP_PID1=1)", msg)
		}
		t.Fatalf("%s; set GOSUPERVISOR_SKIP_PID1=1 to skip the PID 1 tests here", msg)
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		refused("unshare(1) is not installed: %v", err)
	}
	if out, err := exec.Command(unshare, "--pid", "--fork", "--mount-proc", "true").CombinedOutput(); err != nil {
		refused("the kernel refuses a pid namespace: %v: %s", err, out)
	}
	e := newEnv(t, "", map[string]string{
		// The subshell's sleep is orphaned at once and re-parented to PID 1.
		"orphaner": "[program:orphaner]\ncommand=/bin/sh -c '(sleep 0.2 &); exec sleep 1000'\nstartsecs=0\n",
	})
	cmd := exec.Command(unshare, "--pid", "--fork", "--kill-child", "--mount-proc", ourBin, "-n", "-c", e.conf)
	out := &testchild.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		select {
		case <-done:
		default:
			cmd.Process.Kill()
			<-done
		}
		killLeftovers(t)
	})
	waitFor(t, 15*time.Second, "supervisord in the namespace", func() bool {
		var pid int
		return e.rpc("supervisor.getPID", nil, &pid) == nil && pid == 1
	})
	waitFor(t, 10*time.Second, "the orphan to be reaped by PID 1", func() bool {
		return strings.Contains(e.mainLog(), "INFO reaped unknown pid ")
	})
	e.waitStates(map[string]string{"orphaner:orphaner": "RUNNING"})
	var hostPID int
	for _, p := range descendants(cmd.Process.Pid) {
		if b, _ := os.ReadFile("/proc/" + itoa(p) + "/cmdline"); strings.HasPrefix(string(b), ourBin+"\x00") {
			hostPID = p
		}
	}
	if hostPID == 0 {
		t.Fatal("supervisord not found under unshare")
	}
	kids := descendants(hostPID)
	syscall.Kill(hostPID, syscall.SIGTERM)
	select {
	case <-done:
		if waitErr != nil {
			t.Errorf("unshare/supervisord exit: %v\n%s", waitErr, out.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("supervisord (PID 1) did not exit on SIGTERM")
	}
	assertReaped(t, kids)
	if !strings.Contains(e.mainLog(), "WARN received SIGTERM indicating exit request") {
		t.Errorf("no SIGTERM line:\n%s", e.mainLog())
	}
}
