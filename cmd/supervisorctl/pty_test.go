package main

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestPythonDaemon runs the checks that need a daemon but do not compare
// whole outputs, against one Python supervisord.
func TestPythonDaemon(t *testing.T) {
	needOracle(t)
	needBinaries(t)
	d := newDaemon(t, "python")
	d.start()
	t.Run("fg", func(t *testing.T) { testFg(t, d) })
	t.Run("terminal auth", func(t *testing.T) { testTerminalAuth(t, d) })
	d.stop()
	assertNoChildren(t)
}

// testFg checks fg end to end against Python's daemon: the typed line
// reaches the process's stdin (cat echoes it into its log) and EOF on
// stdin leaves the foreground. What the log streams show in between
// depends on timing, so only the frame is compared.
func testFg(t *testing.T, d *testDaemon) {
	r := runCtl(t, ourCtl, ctlRun{args: []string{"-c", d.conf, "fg", "cat"}, stdin: "hello from fg\n", dir: d.dir})
	if r.Exit != 0 || !strings.HasPrefix(r.Stdout, "==> Press Ctrl-C to exit <==\n") ||
		!strings.HasSuffix(r.Stdout, "Exiting foreground\n") || r.Stderr != "" {
		t.Errorf("fg cat: exit %d\nstdout:\n%s\nstderr:\n%s", r.Exit, r.Stdout, r.Stderr)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		log, err := d.call("supervisor.readProcessStdoutLog", "cat", 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		if log == "hello from fg\n" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("cat's log is %q, want the line fg sent", log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// testTerminalAuth runs the interactive shell of both clients on a
// terminal against a daemon that wants a password: the username is
// echoed, the password is read from the terminal without echo (not taken
// as a command), and the shell goes on with the credentials. The two
// screens must be the same.
func testTerminalAuth(t *testing.T, d *testDaemon) {
	args := []string{"-s", "http://127.0.0.1:" + fmt.Sprint(d.port)}
	var screens [2]string
	for i, bin := range []string{pyCtl, ourCtl} {
		p := startOnPty(t, bin, d.dir, args...)
		p.waitLine("Username:")
		p.send("user\n")
		p.waitLine("Password:")
		p.send("pw\n")
		p.waitLine(prompt)
		p.send("status sleeper\n")
		p.waitFor("the second prompt", func(s string) bool { return strings.Count(s, prompt[:len(prompt)-1]) == 2 })
		p.waitLine(prompt)
		p.send("\x04")
		if code := p.wait(); code != 0 {
			t.Errorf("%s: exit %d", bin, code)
		}
		<-p.readDone
		screens[i] = regexp.MustCompile(`pid \d+, uptime [0-9:]+`).ReplaceAllString(p.scr.Text(), "pid N, uptime T")
	}
	if screens[0] != screens[1] {
		t.Errorf("on a terminal\npython:\n%s\n\nours:\n%s", screens[0], screens[1])
	}
	if strings.Contains(screens[1], "pw") || !regexp.MustCompile(`supervisor> status sleeper\nsleeper +RUNNING`).MatchString(screens[1]) {
		t.Errorf("ours on a terminal:\n%s", screens[1])
	}
}
