package main

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSIGTERMStopsAutostartWave: a SIGTERM that arrives while the autostart
// processes are still being spawned stops the wave (the processes not yet
// spawned never are) instead of being handled once every spawn is done.
// The programs have distinct priorities, so they spawn one after another.
func TestSIGTERMStopsAutostartWave(t *testing.T) {
	const n = 300
	var conf strings.Builder
	for i := range n {
		fmt.Fprintf(&conf, "[program:p%03d]\ncommand=/bin/sleep 1000\npriority=%d\nstartsecs=0\nstdout_logfile=NONE\nstderr_logfile=NONE\n\n", i, i+1)
	}
	e := newEnv(t, "", map[string]string{"wave": conf.String()})
	d := e.startForeground()
	waitFor(t, 30*time.Second, "the first spawn", func() bool {
		return strings.Contains(e.mainLog(), "spawned: 'p")
	})
	d.signal(syscall.SIGTERM)
	if st := d.wait(60 * time.Second); !st.Exited() || st.ExitStatus() != 0 {
		t.Fatalf("exit status: %v", st)
	}
	killLeftovers(t)
	log := e.mainLog()
	spawned := strings.Count(log, "INFO spawned: 'p")
	if spawned == n {
		t.Fatalf("all %d programs were spawned after the SIGTERM", n)
	}
	if stopped := strings.Count(log, "stopped: p"); stopped != spawned {
		t.Errorf("%d spawned, %d stopped:\n%s", spawned, stopped, log)
	}
	if !strings.Contains(log, "received SIGTERM indicating exit request") {
		t.Fatalf("no SIGTERM line:\n%s", log)
	}
	t.Logf("%d of %d programs spawned before the SIGTERM stopped the wave", spawned, n)
}
