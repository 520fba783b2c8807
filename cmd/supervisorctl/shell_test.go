package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// ptyProc is a program running on a pseudo-terminal (its controlling
// terminal) whose output is kept on an emulated screen.
type ptyProc struct {
	t        *testing.T
	master   *os.File
	scr      *screen
	cmd      *exec.Cmd
	done     chan struct{}
	readDone chan struct{}
	err      error
}

const ptyRows, ptyCols = 30, 120

// startOnPty runs bin on a new pty of ptyRows x ptyCols in dir.
func startOnPty(t *testing.T, bin, dir string, args ...string) *ptyProc {
	t.Helper()
	master, slave := openPty(t)
	if err := unix.IoctlSetWinsize(int(master.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: ptyRows, Col: ptyCols}); err != nil {
		t.Fatalf("TIOCSWINSZ: %v", err)
	}
	tty, err := os.OpenFile(slave, os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer tty.Close()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "LANG=C.UTF-8", "TERM=xterm")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &ptyProc{t: t, master: master, scr: newScreen(ptyRows, ptyCols), cmd: cmd,
		done: make(chan struct{}), readDone: make(chan struct{})}
	go func() {
		defer close(p.done)
		p.err = cmd.Wait()
	}()
	go func() {
		defer close(p.readDone)
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			p.scr.Write(buf[:n])
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			cmd.Process.Kill()
			<-p.done
		}
		master.Close()
	})
	return p
}

// waitFor waits until ok holds for the screen's text.
func (p *ptyProc) waitFor(what string, ok func(screen string) bool) {
	p.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !ok(p.scr.Text()) {
		if time.Now().After(deadline) {
			p.t.Fatalf("waiting for %s; screen:\n%s\nraw: %q", what, p.scr.Text(), p.scr.Raw())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitLine waits until the cursor's line is exactly line (the prompt and
// what is typed after it).
func (p *ptyProc) waitLine(line string) {
	p.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for p.scr.Line() != line {
		if time.Now().After(deadline) {
			p.t.Fatalf("waiting for the line %q; cursor line %q; screen:\n%s\nraw: %q", line, p.scr.Line(), p.scr.Text(), p.scr.Raw())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (p *ptyProc) send(keys string) {
	p.t.Helper()
	if _, err := p.master.WriteString(keys); err != nil {
		p.t.Fatal(err)
	}
}

// wait waits for the program to exit and returns its status.
func (p *ptyProc) wait() int {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(time.Minute):
		p.t.Fatalf("still running; screen:\n%s", p.scr.Text())
	}
	if p.err != nil {
		if ee, ok := p.err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		p.t.Fatal(p.err)
	}
	return 0
}

// ctlConf writes a [supervisorctl]-only config for d with history_file.
func ctlConf(t *testing.T, d *testDaemon, history string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "ctl.conf")
	text := fmt.Sprintf("[supervisorctl]\nserverurl=unix://%s\nhistory_file=%s\n", d.sock(), history)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const prompt = "supervisor> "

// TestShell runs the shell on a terminal against both daemons (Python's
// where Debian's supervisor is installed).
func TestShell(t *testing.T) {
	needBinaries(t)
	kinds := []string{"go"}
	if _, err := os.Stat(pyDaemon); err == nil {
		kinds = append(kinds, "python")
	}
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			d := newDaemon(t, kind)
			d.start()
			t.Run("editing history completion", func(t *testing.T) { testShellEditing(t, d) })
			t.Run("ctrl-c", func(t *testing.T) { testShellInterrupt(t, d) })
			t.Run("like python", func(t *testing.T) { testShellLikePython(t, d) })
			t.Run("fg", func(t *testing.T) { testShellFg(t, d) })
			d.stop()
		})
	}
	assertNoChildren(t)
}

// testShellEditing types into our shell: completion of a command, a
// process and a help topic, editing keys, history recall and Ctrl-R
// search over a history_file written before (as by Python's shell),
// Ctrl-D to leave; then the file holds the old and new lines, one per
// line, and Python's shell recalls them from it.
func testShellEditing(t *testing.T, d *testDaemon) {
	hist := filepath.Join(t.TempDir(), "history")
	if err := os.WriteFile(hist, []byte("version\npid\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	conf := ctlConf(t, d, hist)
	p := startOnPty(t, ourCtl, d.dir, "-c", conf)
	p.waitLine(prompt)
	// a command name, then a process name fetched from the server
	p.send("stat\t")
	p.waitLine(prompt + "status ")
	p.send("slee\t")
	p.waitLine(prompt + "status sleeper ")
	p.send("\r")
	p.waitFor("sleeper's status", func(s string) bool {
		return regexp.MustCompile(`(?m)^sleeper +RUNNING +pid \d+`).MatchString(s)
	})
	p.waitLine(prompt)
	// a group's processes complete as group:name
	p.send("stop grp:grp_\t")
	p.waitFor("the group's processes listed", func(s string) bool {
		return strings.Contains(s, "grp:grp_0") && strings.Contains(s, "grp:grp_1")
	})
	p.send("\x15") // Ctrl-U: kill the line
	p.waitLine(prompt)
	// a help topic
	p.send("help mai\t")
	p.waitLine(prompt + "help maintail ")
	p.send("\r")
	p.waitFor("maintail help", func(s string) bool { return strings.Contains(s, "maintail -f \tContinuous"[:12]) })
	p.waitLine(prompt)
	// editing: Ctrl-A to the start, Ctrl-D deletes the character there
	p.send("xversion\x01\x04")
	p.waitLine(prompt + "version")
	p.send("\r")
	p.waitFor("the version", func(s string) bool {
		return regexp.MustCompile(`(?m)^\d+\.\d+(\.\d+)?\S*$`).MatchString(s)
	})
	p.waitLine(prompt)
	// Up recalls the last line
	p.send("\x1b[A")
	p.waitLine(prompt + "version")
	p.send("\x15")
	p.waitLine(prompt)
	// Ctrl-R finds the line from the old history file
	p.send("\x12pi")
	p.waitFor("the search", func(s string) bool { return strings.Contains(s, "pid") })
	p.send("\r")
	p.waitFor("supervisord's pid", func(s string) bool {
		return regexp.MustCompile(`(?m)^\d+$`).MatchString(s)
	})
	p.waitLine(prompt)
	p.send("\x04")
	if code := p.wait(); code != 0 {
		t.Errorf("exit status %d after Ctrl-D", code)
	}
	got, err := os.ReadFile(hist)
	if err != nil {
		t.Fatal(err)
	}
	// the completer adds the space after a word, as readline keeps it
	want := "version\npid\nstatus sleeper \nhelp maintail \nversion\npid\n"
	if string(got) != want {
		t.Errorf("history file %q, want %q", got, want)
	}
	// Python's shell reads the same file: Up shows our last line
	if _, err := os.Stat(pyCtl); err != nil {
		return
	}
	py := startOnPty(t, pyCtl, d.dir, "-c", conf)
	py.waitLine(prompt)
	py.send("\x1b[A")
	py.waitLine(prompt + "pid")
	py.send("\x15\x04")
	if code := py.wait(); code != 0 {
		t.Errorf("python supervisorctl exit %d", code)
	}
	if got, _ := os.ReadFile(hist); string(got) != want {
		t.Errorf("history file after Python's shell %q, want %q", got, want)
	}
}

// testShellInterrupt checks Ctrl-C: at the prompt it leaves the shell with
// status 0 (a partly typed line is dropped, not run); at shutdown's y/N
// question too, without shutting anything down; a second Ctrl-D-free
// session shows the history still saved.
func testShellInterrupt(t *testing.T, d *testDaemon) {
	hist := filepath.Join(t.TempDir(), "history")
	conf := ctlConf(t, d, hist)
	p := startOnPty(t, ourCtl, d.dir, "-c", conf)
	p.waitLine(prompt)
	p.send("version\r")
	p.waitLine(prompt)
	p.send("stop sleeper")
	p.waitLine(prompt + "stop sleeper")
	p.send("\x03")
	if code := p.wait(); code != 0 {
		t.Errorf("exit status %d after Ctrl-C", code)
	}
	if strings.Contains(p.scr.Text(), "^C") {
		t.Errorf("Ctrl-C shown on the screen:\n%s", p.scr.Text())
	}
	if got, _ := os.ReadFile(hist); string(got) != "version\n" {
		t.Errorf("history after Ctrl-C %q", got)
	}
	p = startOnPty(t, ourCtl, d.dir, "-c", conf)
	p.waitLine(prompt)
	p.send("shutdown\r")
	p.waitLine("Really shut the remote supervisord process down y/N? ")
	p.send("\x03")
	if code := p.wait(); code != 0 {
		t.Errorf("exit status %d after Ctrl-C at the question", code)
	}
	if !d.running() {
		t.Fatal("the daemon shut down after Ctrl-C at the question")
	}
	if st, err := d.states(); err != nil || st["sleeper"] != "RUNNING" {
		t.Errorf("sleeper after Ctrl-C: %v %v", st["sleeper"], err)
	}
}

// testShellLikePython runs the same keystrokes in Python's shell and ours
// and compares the screens: a command, a typed line erased with Ctrl-U,
// Ctrl-D to leave; and Ctrl-C at the prompt.
func testShellLikePython(t *testing.T, d *testDaemon) {
	if _, err := os.Stat(pyCtl); err != nil {
		t.Skip("Python supervisorctl not installed")
	}
	sessions := []struct {
		name string
		keys []string // the nth sent at the nth prompt
	}{
		{"ctrl-d", []string{"status sleeper\r", "nothing\x15\x04"}},
		{"ctrl-c", []string{"version\r", "\x03"}},
	}
	for _, s := range sessions {
		var screens [2]string
		for i, bin := range []string{pyCtl, ourCtl} {
			conf := ctlConf(t, d, filepath.Join(t.TempDir(), "history"))
			p := startOnPty(t, bin, d.dir, "-c", conf)
			for i, k := range s.keys {
				// the i+1th prompt, so that nothing is typed ahead
				p.waitFor(fmt.Sprintf("prompt %d", i+1), func(scr string) bool {
					return strings.Count(scr, prompt[:len(prompt)-1]) == i+1
				})
				p.waitLine(prompt)
				p.send(k)
			}
			if code := p.wait(); code != 0 {
				t.Errorf("%s %s: exit %d", s.name, bin, code)
			}
			<-p.readDone
			screens[i] = regexp.MustCompile(`pid \d+, uptime [0-9:]+`).ReplaceAllString(p.scr.Text(), "pid N, uptime T")
		}
		if screens[0] != screens[1] {
			t.Errorf("%s: screens differ\npython:\n%s\n\nours:\n%s", s.name, screens[0], screens[1])
		}
	}
}

// testShellFg runs fg from the shell: a typed line reaches the process
// (cat echoes it into its log, which fg streams back), Ctrl-C leaves the
// foreground but not the shell.
func testShellFg(t *testing.T, d *testDaemon) {
	conf := ctlConf(t, d, filepath.Join(t.TempDir(), "history"))
	p := startOnPty(t, ourCtl, d.dir, "-c", conf)
	p.waitLine(prompt)
	p.send("fg cat\r")
	p.waitFor("fg", func(s string) bool { return strings.Contains(s, "==> Press Ctrl-C to exit <==") })
	p.send("hello from the shell\r")
	p.waitFor("cat's echo", func(s string) bool { return strings.Count(s, "hello from the shell") == 2 })
	p.send("\x03")
	p.waitFor("the end of fg", func(s string) bool { return strings.Contains(s, "Exiting foreground") })
	p.waitLine(prompt)
	p.send("\x04")
	if code := p.wait(); code != 0 {
		t.Errorf("exit %d after fg", code)
	}
}
