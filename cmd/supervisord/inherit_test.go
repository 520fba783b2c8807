package main

import (
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Python's child closes descriptors 3 and up before its exec: a program
// must not inherit what supervisord itself inherited, such as a launching
// script's pipe (whose reader would then wait for an EOF as long as the
// program runs) or an open file.
func TestChildrenInheritNoDescriptor(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	f, err := os.Open("/etc/hostname")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	e := newEnv(t, "", map[string]string{"idle": "[program:idle]\ncommand=/bin/sleep 1000\nstartsecs=0\n"})
	d := e.startForegroundWith([]*os.File{w, f}) // the daemon's descriptors 3 and 4, not close-on-exec
	defer stopDaemon(t, d)
	w.Close()
	infos := e.waitStates(map[string]string{"idle:idle": "RUNNING"})
	ents, err := os.ReadDir("/proc/" + strconv.Itoa(infos["idle:idle"].PID) + "/fd")
	if err != nil {
		t.Fatal(err)
	}
	var fds []int
	for _, ent := range ents {
		fd, err := strconv.Atoi(ent.Name())
		if err != nil {
			t.Fatalf("/proc/<pid>/fd entry %q", ent.Name())
		}
		fds = append(fds, fd)
	}
	slices.Sort(fds)
	if !slices.Equal(fds, []int{0, 1, 2}) {
		t.Errorf("the program has descriptors %v, want only 0, 1 and 2 (as under Python's supervisord)", fds)
	}
}

// Python's interpreter ignores SIGPIPE and SIGXFSZ and supervisord's
// programs inherit that (SigIgn 0x1001000 in /proc/<pid>/status under
// Python 4.2.5): a program writing to a closed pipe gets EPIPE instead of
// dying. The same holds for a program started through the rlimits helper.
func TestChildrenIgnoreSIGPIPEAsUnderPython(t *testing.T) {
	e := newEnv(t, "", map[string]string{
		"plain":   "[program:plain]\ncommand=/bin/sleep 1000\nstartsecs=0\n",
		"limited": "[program:limited]\ncommand=/bin/sleep 1000\nstartsecs=0\nrlimits=nofile=1024\n",
	})
	d := e.startForeground()
	defer stopDaemon(t, d)
	infos := e.waitStates(map[string]string{"plain:plain": "RUNNING", "limited:limited": "RUNNING"})
	const want = 1<<(syscall.SIGPIPE-1) | 1<<(syscall.SIGXFSZ-1)
	for _, name := range []string{"plain:plain", "limited:limited"} {
		pid := infos[name].PID
		// The helper execs the program in place: wait until it has.
		waitFor(t, 30*time.Second, name+" exec'd", func() bool {
			exe, _ := os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe")
			return exe == "/usr/bin/sleep" || exe == "/bin/sleep"
		})
		ign, err := strconv.ParseUint(procStatus(t, pid, "SigIgn"), 16, 64)
		if err != nil {
			t.Fatal(err)
		}
		if ign != want {
			t.Errorf("%s: ignored signals %#x, want %#x (SIGPIPE and SIGXFSZ, as under Python)", name, ign, uint64(want))
		}
	}
}

// With SIGPIPE ignored (as Python's interpreter does), supervisord -n
// whose stdout reader went away (`supervisord -n | head -1`, a log
// shipper restarting) keeps running: its writes to stdout fail with EPIPE.
// Before, the first main-log line after the reader left killed it with
// SIGPIPE.
func TestClosedStdoutDoesNotKillTheDaemon(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r.Close() // no reader: every write to the daemon's stdout is EPIPE
	defer w.Close()
	e := newEnv(t, "", map[string]string{"idle": "[program:idle]\ncommand=/bin/sleep 1000\nstartsecs=0\n"})
	d := e.startForegroundCmd(func(c *exec.Cmd) { c.Stdout, c.Stderr = w, w })
	e.waitStates(map[string]string{"idle:idle": "RUNNING"})
	e.ctlOK("idle: stopped", "stop", "idle") // more main-log lines to the closed stdout
	e.ctlOK("idle: started", "start", "idle")
	select {
	case <-d.done:
		t.Fatalf("supervisord exited (%v) once its stdout was closed", d.status)
	default:
	}
	stopDaemon(t, d)
}

// minfds gives the programs their descriptors as under Python: supervisord
// started with a soft RLIMIT_NOFILE of 512 raises it to minfds (1,024,
// with Python's "Increased RLIMIT_NOFILE limit to 1024" line) for itself
// and its programs, and leaves 512 when minfds asks less. Go's runtime
// raised the limit to the hard one for the daemon and gave every program
// the 512 back, whatever minfds said.
func TestMinfdsReachesThePrograms(t *testing.T) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil || rl.Max < 2048 {
		t.Skipf("hard RLIMIT_NOFILE %d (%v): need 2,048", rl.Max, err)
	}
	for _, tc := range []struct {
		minfds   int
		want     string
		increase bool
	}{{1024, "1024", true}, {256, "512", false}} {
		t.Run(strconv.Itoa(tc.minfds), func(t *testing.T) {
			e := newEnv(t, "minfds="+strconv.Itoa(tc.minfds), map[string]string{"idle": "[program:idle]\ncommand=/bin/sleep 1000\nstartsecs=0\n"})
			d := e.startForegroundCmd(func(c *exec.Cmd) {
				// The shell execs the daemon in place (same pid).
				c.Args = append([]string{"sh", "-c", `ulimit -Sn 512 && exec "$0" "$@"`}, c.Args...)
				c.Path = "/bin/sh"
			})
			defer stopDaemon(t, d)
			infos := e.waitStates(map[string]string{"idle:idle": "RUNNING"})
			for who, pid := range map[string]int{"supervisord": d.pid, "the program": infos["idle:idle"].PID} {
				limits, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/limits")
				if err != nil {
					t.Fatal(err)
				}
				for _, line := range strings.Split(string(limits), "\n") {
					if f := strings.Fields(line); strings.HasPrefix(line, "Max open files") && len(f) > 3 && f[3] != tc.want {
						t.Errorf("%s: soft RLIMIT_NOFILE %s, want %s (as under Python)", who, f[3], tc.want)
					}
				}
			}
			if got := strings.Contains(e.mainLog(), "Increased RLIMIT_NOFILE limit to 1024"); got != tc.increase {
				t.Errorf("main log has the Increased line: %v, want %v:\n%s", got, tc.increase, e.mainLog())
			}
		})
	}
}
