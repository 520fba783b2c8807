package config

import (
	"encoding/json"
	"os/exec"
	"testing"
)

// TestLogLevels checks each level's number, name and description against
// supervisor.loggers' LevelsByName and LevelsByDescription when Debian's
// supervisor is installed, and against the values written here otherwise.
func TestLogLevels(t *testing.T) {
	byName := map[string]int{"CRIT": 50, "ERRO": 40, "WARN": 30, "INFO": 20, "DEBG": 10, "TRAC": 5, "BLAT": 3}
	byDesc := map[string]int{"critical": 50, "error": 40, "warn": 30, "info": 20, "debug": 10, "trace": 5, "blather": 3}
	const script = `import json
from supervisor import loggers
print(json.dumps([{k: v for k, v in vars(c).items() if not k.startswith('_')}
                  for c in (loggers.LevelsByName, loggers.LevelsByDescription)]))`
	if out, err := exec.Command("/usr/bin/python3", "-c", script).Output(); err == nil {
		var py [2]map[string]int
		if err := json.Unmarshal(out, &py); err != nil {
			t.Fatalf("python output %q: %v", out, err)
		}
		byName, byDesc = py[0], py[1]
	} else {
		t.Logf("no Python supervisor (%v): checking against the values written here", err)
	}
	if len(byName) != len(logLevels) || len(byDesc) != len(logLevels) {
		t.Errorf("%d levels, Python has %d names and %d descriptions", len(logLevels), len(byName), len(byDesc))
	}
	for name, n := range byName {
		if got := LogLevel(n).Name(); got != name {
			t.Errorf("LogLevel(%d).Name() = %q, want %q", n, got, name)
		}
	}
	for desc, n := range byDesc {
		if got := LogLevel(n).Description(); got != desc {
			t.Errorf("LogLevel(%d).Description() = %q, want %q", n, got, desc)
		}
		for _, v := range []string{desc, " " + desc, "X" + desc} {
			l, err := loggingLevel(v)
			if ok := v == desc; (err == nil) != ok || ok && int(l) != n {
				t.Errorf("loggingLevel(%q) = %d, %v", v, l, err)
			}
		}
	}
	if l, err := loggingLevel("INFO"); err != nil || l != LevelInfo {
		t.Errorf("loggingLevel(INFO) = %d, %v; Python lowers the value first", l, err)
	}
	if got, want := LogLevel(7).Name(), "Level(7)"; got != want {
		t.Errorf("LogLevel(7).Name() = %q, want %q", got, want)
	}
	if got, want := LogLevel(7).Description(), "level(7)"; got != want {
		t.Errorf("LogLevel(7).Description() = %q, want %q", got, want)
	}
}
