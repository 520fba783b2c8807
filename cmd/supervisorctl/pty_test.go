package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// openPty returns a new pseudo-terminal's master and the path of its
// slave (no x/term: /dev/ptmx and two ioctls).
func openPty(t *testing.T) (*os.File, string) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	unlock := int32(0)
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, master.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 {
		master.Close()
		t.Fatalf("TIOCSPTLCK: %v", e)
	}
	var n uint32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, master.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); e != 0 {
		master.Close()
		t.Fatalf("TIOCGPTN: %v", e)
	}
	return master, fmt.Sprintf("/dev/pts/%d", n)
}

// ptyScript is a conversation: when the output so far ends with Await,
// Send is typed.
type ptyStep struct{ Await, Send string }

// terminal collects what a program writes to the pty master.
type terminal struct {
	mu  sync.Mutex
	out bytes.Buffer
}

func (tm *terminal) String() string {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	return tm.out.String()
}

// converse runs the steps against the master and returns the output once
// the program has exited (exited is closed by the caller's Wait).
func converse(t *testing.T, master *os.File, steps []ptyStep, exited <-chan struct{}) string {
	t.Helper()
	tm := &terminal{}
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			tm.mu.Lock()
			tm.out.Write(buf[:n])
			tm.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	for _, s := range steps {
		deadline := time.Now().Add(10 * time.Second)
		for !strings.HasSuffix(tm.String(), s.Await) {
			if time.Now().After(deadline) {
				t.Fatalf("waiting for %q; terminal shows %q", s.Await, tm.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
		// let the program get to its read before typing
		time.Sleep(100 * time.Millisecond)
		master.WriteString(s.Send)
	}
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		t.Fatalf("program still running; terminal shows %q", tm.String())
	}
	master.Close()
	<-readDone
	return tm.String()
}

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
	deadline := time.Now().Add(10 * time.Second)
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
// as a command), and the shell goes on with the credentials.
func testTerminalAuth(t *testing.T, d *testDaemon) {
	z := startZygote(t)
	steps := []ptyStep{
		{"Username:", "user\n"},
		{"Password:", "pw\n"},
		{"supervisor> ", "status sleeper\n"},
		{"supervisor> ", "\x04"},
	}
	args := []string{"-s", "http://127.0.0.1:" + fmt.Sprint(d.port)}
	var outs [2]string
	for i, client := range []string{"python", "ours"} {
		master, slave := openPty(t)
		exited := make(chan struct{})
		if client == "python" {
			go func() {
				defer close(exited)
				r := z.runOn(ctlRun{args: args, dir: d.dir}, slave)
				if r.Exit != 0 {
					t.Errorf("python supervisorctl exit %d", r.Exit)
				}
			}()
		} else {
			tty, err := os.OpenFile(slave, os.O_RDWR|syscall.O_NOCTTY, 0)
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(ourCtl, args...)
			cmd.Dir = d.dir
			cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
			cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			tty.Close()
			go func() {
				defer close(exited)
				if err := cmd.Wait(); err != nil {
					t.Errorf("our supervisorctl: %v", err)
				}
			}()
		}
		start := time.Now()
		outs[i] = normalize(converse(t, master, steps, exited), d.dir, "")
		t.Logf("%s: %v", client, time.Since(start))
	}
	if outs[0] != outs[1] {
		t.Errorf("on a terminal\npython: %q\n  ours: %q", outs[0], outs[1])
	}
	if strings.Contains(outs[1], "pw") || !regexp.MustCompile(`supervisor> status sleeper\r\nsleeper +RUNNING`).MatchString(outs[1]) {
		t.Errorf("ours on a terminal: %q", outs[1])
	}
	z.close()
}
