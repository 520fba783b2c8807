package main

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestLastOutputBeforeExit is the case, 40 times at once: a
// program that prints and exits at once (always too quickly: startsecs is
// long, so a loaded machine cannot make it RUNNING), in the foreground at loglevel
// debug; its "stdout output" line must come before its "exited:" and
// "gave up:" lines, as in Python, which drains a child's pipes first, and
// the SIGCHLD lines follow the exits.
func TestLastOutputBeforeExit(t *testing.T) {
	const n = 40
	var conf strings.Builder
	for i := range n {
		fmt.Fprintf(&conf, "[program:w%02d]\ncommand=bash -c 'echo -e \"\\x88\"'\nstartsecs=30\nstartretries=0\nautorestart=false\n\n", i)
	}
	e := newEnv(t, "", map[string]string{"words": conf.String()})
	d := e.startForeground()
	want := map[string]string{}
	for i := range n {
		want[fmt.Sprintf("w%02d:w%02d", i, i)] = "FATAL"
	}
	e.waitStates(want)
	waitFor(t, 10*time.Second, "every gave up line", func() bool {
		return strings.Count(d.output(), "gave up: w") == n
	})
	out := d.output()
	for i := range n {
		name := fmt.Sprintf("w%02d", i)
		o := strings.Index(out, "DEBG '"+name+"' stdout output:")
		x := strings.Index(out, "exited: "+name+" ")
		g := strings.Index(out, "gave up: "+name+" ")
		if o < 0 || x < o || g < o {
			t.Errorf("%s: output at %d, exited at %d, gave up at %d", name, o, x, g)
		}
	}
	// Python logs "received SIGCHLD" once the exits it brought were
	// handled: never before the first exit line, and after the last.
	const chld = "DEBG received SIGCHLD indicating a child quit"
	if first, exited := strings.Index(out, chld), strings.Index(out, "exited: w"); first < exited {
		t.Errorf("a SIGCHLD line (at %d) before any exit line (at %d)", first, exited)
	}
	if strings.LastIndex(out, chld) < strings.LastIndex(out, "exited: w") {
		t.Errorf("no SIGCHLD line after the last exit line")
	}
	if t.Failed() {
		t.Logf("output:\n%s", out)
	}
}
