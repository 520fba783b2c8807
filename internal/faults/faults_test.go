package faults

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"testing"
)

// TestCatalogue checks every code and name against Python's
// supervisor.xmlrpc.Faults and getFaultDescription, when Debian's
// supervisor is installed; the table below stands in for it otherwise.
func TestCatalogue(t *testing.T) {
	want := map[string]int{
		"UNKNOWN_METHOD": 1, "INCORRECT_PARAMETERS": 2, "BAD_ARGUMENTS": 3,
		"SIGNATURE_UNSUPPORTED": 4, "SHUTDOWN_STATE": 6, "BAD_NAME": 10,
		"BAD_SIGNAL": 11, "NO_FILE": 20, "NOT_EXECUTABLE": 21, "FAILED": 30,
		"ABNORMAL_TERMINATION": 40, "SPAWN_ERROR": 50, "ALREADY_STARTED": 60,
		"NOT_RUNNING": 70, "SUCCESS": 80, "ALREADY_ADDED": 90,
		"STILL_RUNNING": 91, "CANT_REREAD": 92,
	}
	const script = `import json
from supervisor.xmlrpc import Faults, getFaultDescription
print(json.dumps({k: v for k, v in vars(Faults).items() if k.isupper()}))
print(json.dumps([getFaultDescription(c) for c in (0, 5, 12, 93)]))`
	if out, err := exec.Command("/usr/bin/python3", "-c", script).Output(); err == nil {
		lines := bytes.SplitN(out, []byte("\n"), 2)
		py := map[string]int{}
		var unknown []string
		if err := json.Unmarshal(lines[0], &py); err != nil {
			t.Fatalf("python output %q: %v", out, err)
		}
		if err := json.Unmarshal(lines[1], &unknown); err != nil {
			t.Fatalf("python output %q: %v", out, err)
		}
		for _, u := range unknown {
			if u != "UNKNOWN" {
				t.Errorf("Python's description of an unlisted code is %q", u)
			}
		}
		want = py
	} else {
		t.Logf("no Python supervisor (%v): checking against the built-in table", err)
	}
	if len(names) != len(want) {
		t.Errorf("%d codes, want %d", len(names), len(want))
	}
	for name, code := range want {
		if got := Name(code); got != name {
			t.Errorf("Name(%d) = %q, want %q", code, got, name)
		}
	}
	for _, code := range []int{0, 5, 12, 93, -1} {
		if got := Name(code); got != "UNKNOWN" {
			t.Errorf("Name(%d) = %q, want UNKNOWN", code, got)
		}
	}
}
