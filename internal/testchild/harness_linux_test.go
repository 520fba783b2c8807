package testchild

import (
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// TestChildren: a child is listed alive, then as a zombie once killed and
// not waited for, and not at all once reaped.
func TestChildren(t *testing.T) {
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	state := func() string {
		for _, c := range Children() {
			if c.PID == pid {
				return c.State
			}
		}
		return ""
	}
	if s := state(); s == "" || s == "Z" {
		t.Errorf("running child %d listed as %q", pid, s)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for state() != "Z" {
		if time.Now().After(deadline) {
			t.Fatalf("killed child %d never listed as a zombie (state %q)", pid, state())
		}
		time.Sleep(5 * time.Millisecond)
	}
	_ = cmd.Wait()
	if s := state(); s != "" {
		t.Errorf("reaped child %d still listed (%q)", pid, s)
	}
}
