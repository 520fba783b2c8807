package states

import (
	"encoding/json"
	"os/exec"
	"slices"
	"testing"
)

// TestStates checks codes, names and sets against supervisor.states when
// Debian's supervisor is installed, and against the values written here
// otherwise.
func TestStates(t *testing.T) {
	type pyStates struct {
		Process    map[string]int `json:"process"`
		Supervisor map[string]int `json:"supervisor"`
		Stopped    []int          `json:"stopped"`
		Running    []int          `json:"running"`
		Signal     []int          `json:"signallable"`
	}
	want := pyStates{
		Process: map[string]int{"STOPPED": 0, "STARTING": 10, "RUNNING": 20, "BACKOFF": 30,
			"STOPPING": 40, "EXITED": 100, "FATAL": 200, "UNKNOWN": 1000},
		Supervisor: map[string]int{"FATAL": 2, "RUNNING": 1, "RESTARTING": 0, "SHUTDOWN": -1},
		Stopped:    []int{0, 100, 200, 1000},
		Running:    []int{10, 20, 30},
		Signal:     []int{10, 20, 40},
	}
	const script = `import json
from supervisor import states as s
names = lambda c: {k: v for k, v in vars(c).items() if k.isupper()}
print(json.dumps({"process": names(s.ProcessStates), "supervisor": names(s.SupervisorStates),
    "stopped": sorted(s.STOPPED_STATES), "running": sorted(s.RUNNING_STATES),
    "signallable": sorted(s.SIGNALLABLE_STATES)}))`
	if out, err := exec.Command("/usr/bin/python3", "-c", script).Output(); err == nil {
		want = pyStates{}
		if err := json.Unmarshal(out, &want); err != nil {
			t.Fatalf("python output %q: %v", out, err)
		}
	} else {
		t.Logf("no Python supervisor (%v): checking against the values written here", err)
	}
	if len(Process) != len(want.Process) {
		t.Errorf("%d process states, want %d", len(Process), len(want.Process))
	}
	for name, code := range want.Process {
		if got, ok := ProcessName(code); !ok || got != name {
			t.Errorf("ProcessName(%d) = %q, %v; want %q", code, got, ok, name)
		}
		if !slices.Contains(Process, code) {
			t.Errorf("Process lacks %d", code)
		}
	}
	for name, code := range want.Supervisor {
		if got, ok := SupervisorName(code); !ok || got != name {
			t.Errorf("SupervisorName(%d) = %q, %v; want %q", code, got, ok, name)
		}
	}
	for _, code := range []int{-2, 3, 5, 999} {
		if _, ok := ProcessName(code); ok {
			t.Errorf("ProcessName(%d) is a state", code)
		}
		if _, ok := SupervisorName(code); ok {
			t.Errorf("SupervisorName(%d) is a state", code)
		}
	}
	for _, code := range Process {
		if got := IsStopped(code); got != slices.Contains(want.Stopped, code) {
			t.Errorf("IsStopped(%d) = %v", code, got)
		}
		if got := IsRunning(code); got != slices.Contains(want.Running, code) {
			t.Errorf("IsRunning(%d) = %v", code, got)
		}
		if got := IsSignallable(code); got != slices.Contains(want.Signal, code) {
			t.Errorf("IsSignallable(%d) = %v", code, got)
		}
	}
}
