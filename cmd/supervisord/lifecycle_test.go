package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestExitOnExitEndsTheDaemon: when a program with exit_on_exit exits and
// will not be restarted, supervisord stops the rest and exits with its
// status, saying so in the main log.
func TestExitOnExitEndsTheDaemon(t *testing.T) {
	for _, c := range []struct {
		name, exit string
		status     int
	}{{"status", "exit 7", 7}, {"signal", "kill -KILL $$", 137}} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, "", map[string]string{
				"main": "[program:main]\ncommand=/bin/sh -c 'while [ ! -e %(here)s/../go ]; do sleep 0.05; done; " + c.exit + "'\n" +
					"startsecs=0\nautorestart=false\nexit_on_exit=true\n",
				"side": "[program:side]\ncommand=/bin/sleep 1000\nstartsecs=0\n",
			})
			d := e.startForeground()
			infos := e.waitStates(map[string]string{"main:main": "RUNNING", "side:side": "RUNNING"})
			e.write("go", "")
			st := d.wait(30 * time.Second)
			if !st.Exited() || st.ExitStatus() != c.status {
				t.Fatalf("supervisord ended with %v, want exit status %d; log:\n%s", st, c.status, e.mainLog())
			}
			log := e.mainLog()
			for _, want := range []string{
				"process main ended the daemon: main exited (",
				"and will not be restarted (exit_on_exit)",
				"stopped: side (terminated by SIGTERM)",
			} {
				if !strings.Contains(log, want) {
					t.Errorf("main log lacks %q:\n%s", want, log)
				}
			}
			assertGone(t, pidsOf(infos))
		})
	}
}

// TestLifecycleConfigErrors: bad issue-13 values stop supervisord at
// startup with exit status 2, naming what is wrong.
func TestLifecycleConfigErrors(t *testing.T) {
	for _, c := range []struct {
		name, progs, want string
	}{
		{"cycle", "[program:a]\ncommand=/bin/cat\ndepends_on=b\n[program:b]\ncommand=/bin/cat\ndepends_on=a\n",
			"Error: depends_on cycle: a -> b -> a in section 'program:a' (file: "},
		{"unknown", "[program:a]\ncommand=/bin/cat\ndepends_on=nope\n",
			"Error: depends_on names unknown program 'nope' in section 'program:a' (file: "},
		{"rlimit", "[program:a]\ncommand=/bin/cat\nrlimits=nofiles=1\n",
			"Error: invalid rlimits value 'nofiles=1': unknown resource 'nofiles'"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, "", map[string]string{"p": c.progs})
			out, err := exec.Command(ourBin, "-n", "-c", e.conf).CombinedOutput()
			ee, ok := err.(*exec.ExitError)
			if !ok || ee.ExitCode() != 2 {
				t.Fatalf("exit %v, want status 2; output %q", err, out)
			}
			if !strings.HasPrefix(string(out), c.want) || !strings.Contains(string(out), filepath.Join(e.dir, "progs", "p.conf")) {
				t.Errorf("output %q, want it to start with %q and name the file", out, c.want)
			}
			if _, err := os.Stat(e.pidfile()); err == nil {
				t.Errorf("a pidfile was written")
			}
		})
	}
}
