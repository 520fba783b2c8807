package reliability

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestOutOfDescriptors starts more programs than the daemon's
// RLIMIT_NOFILE allows: the spawns that do not fit fail with Python's
// "too many open files" spawn error, the RPC socket keeps answering, and
// once descriptors are free again the programs start.
func TestOutOfDescriptors(t *testing.T) {
	eachFlavor(t, func(t *testing.T, fl flavor) {
		const n = 40
		progs := fmt.Sprintf("[program:a]\ncommand=sleep 1000\nprocess_name=%%(program_name)s%%(process_num)02d\nnumprocs=%d\nstartsecs=0\nstartretries=0\nstdout_logfile=NONE\nstderr_logfile=NONE\n", n)
		d := start(t, fl, setup{nofile: 64, extra: "minfds=16", programs: progs})
		var st map[string]procInfo
		waitFor(t, 60*time.Second, "every spawn to settle", func() bool {
			st = d.states()
			for _, p := range st {
				if p.StateName != "RUNNING" && p.StateName != "FATAL" {
					return false
				}
			}
			return len(st) == n
		})
		running, fatal, emfile := 0, 0, 0
		var fatalNames []string
		for name, p := range st {
			switch p.StateName {
			case "RUNNING":
				running++
			case "FATAL":
				fatal++
				fatalNames = append(fatalNames, name)
				if strings.Contains(p.SpawnErr, "too many open files to spawn") {
					emfile++
				}
			}
		}
		figure(t, fl, "running_at_64_fds", running)
		figure(t, fl, "fatal_at_64_fds", fatal)
		figure(t, fl, "fatal_naming_EMFILE", emfile)
		fds := fdCount(d.pid)
		figure(t, fl, "daemon_fds", fds)
		if fatal == 0 || emfile != fatal {
			t.Fatalf("%d FATAL, %d of them with the EMFILE spawn error; want every one of n > 0", fatal, emfile)
		}
		// A spawn holds up to 8 descriptors while it runs (3 pipes and
		// the fork's status pipe): ours reports EMFILE only when a spawn
		// alone does not fit, not because others ran beside it.
		if fl.name == "ours" && fds+8 <= 64 {
			t.Errorf("%d FATAL though %d descriptors were in use at rest: another spawn fits in 64", fatal, fds)
		}
		if !strings.Contains(d.mainLog(), "spawnerr: too many open files to spawn") {
			t.Errorf("the main log does not name the EMFILE spawn error")
		}
		// Free descriptors: stop the running ones, then start the others.
		d.mustCall("supervisor.stopAllProcesses", []any{true}, nil)
		started := 0
		for i, name := range fatalNames {
			if i >= running-2 {
				break // as many as were running, less room for our RPC connection
			}
			var ok bool
			if err := d.call("supervisor.startProcess", []any{name, true}, &ok); err != nil {
				t.Errorf("start %s once descriptors are free: %v", name, err)
				continue
			}
			started++
		}
		figure(t, fl, "started_after_freeing", started)
		d.settleConsistent(30 * time.Second)
	})
}

// hostileChildren are programs that make stopping hard.
const hostileChildren = `[program:ignoreterm]
command=/usr/bin/python3 -c "import signal,time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); time.sleep(1000)"
stopwaitsecs=2
startsecs=0

[program:closedout]
command=sh -c "exec >&- 2>&-; exec sleep 1000"
stopwaitsecs=2
startsecs=0

[program:nonewline]
command=sh -c "head -c 5000000 /dev/zero | tr '\\000' x; exec sleep 1000"
stopwaitsecs=2
startsecs=0

[program:selfstop]
command=sh -c "kill -STOP $$; exec sleep 1000"
stopwaitsecs=2
startsecs=0

[program:forker]
command=sh -c "sleep 1000 & echo $! >> %(here)s/grandchild.pid; exit 0"
stopwaitsecs=2
startsecs=0
autorestart=false
`

// TestHostileChildrenStop: children that ignore SIGTERM, close their
// output, write without newlines, SIGSTOP themselves, or fork a
// grandchild (holding the output pipe) and exit: stopAllProcesses,
// restart and shutdown all end (figures: how long), the table agrees
// with /proc, no byte of the newline-less output is lost.
func TestHostileChildrenStop(t *testing.T) {
	eachFlavor(t, func(t *testing.T, fl flavor) {
		d := start(t, fl, setup{programs: hostileChildren})
		t.Cleanup(func() { killPidfile(filepath.Join(d.dir, "grandchild.pid")) })
		want := map[string]string{"ignoreterm:ignoreterm": "RUNNING", "closedout:closedout": "RUNNING",
			"nonewline:nonewline": "RUNNING", "selfstop:selfstop": "RUNNING", "forker:forker": "EXITED"}
		for name, state := range want {
			d.waitState(30*time.Second, name, state)
		}
		d.settleConsistent(10 * time.Second)
		// Every byte written without a newline reaches the log.
		logPath := d.states()["nonewline:nonewline"].StdoutLogfile
		waitFor(t, 30*time.Second, "5,000,000 bytes in the nonewline log", func() bool {
			fi, err := os.Stat(logPath)
			return err == nil && fi.Size() >= 5000000
		})
		if fi, _ := os.Stat(logPath); fi.Size() != 5000000 {
			t.Errorf("nonewline log holds %d bytes, want 5000000", fi.Size())
		}

		t0 := time.Now()
		var results []map[string]any
		d.mustCall("supervisor.stopAllProcesses", []any{true}, &results)
		figure(t, fl, "stop_all_s", fmt.Sprintf("%.2f", time.Since(t0).Seconds()))
		for _, p := range d.states() {
			if p.StateName != "STOPPED" && p.StateName != "EXITED" {
				t.Errorf("%s is %s after stopAllProcesses", p.Name, p.StateName)
			}
		}
		d.settleConsistent(10 * time.Second)

		d.mustCall("supervisor.startAllProcesses", []any{true}, nil)
		for name, state := range want {
			d.waitState(30*time.Second, name, state)
		}
		t0 = time.Now()
		for _, name := range []string{"ignoreterm", "selfstop"} {
			d.mustCall("supervisor.stopProcess", []any{name, true}, nil)
			d.mustCall("supervisor.startProcess", []any{name, true}, nil)
		}
		figure(t, fl, "restart_two_s", fmt.Sprintf("%.2f", time.Since(t0).Seconds()))
		d.settleConsistent(10 * time.Second)

		kids := descendants(d.pid)
		shutdown := d.stop(60 * time.Second)
		figure(t, fl, "shutdown_s", fmt.Sprintf("%.2f", shutdown.Seconds()))
		for _, k := range kids {
			if st, ok := readStat(k.pid); ok && st.state != "Z" && k.comm != "sleep" {
				t.Errorf("%s (%d) outlived the shutdown", k.comm, k.pid)
			}
		}
	})
}

// killPidfile kills the processes whose pids the file holds, one a line
// (grandchildren a test program forked on purpose).
func killPidfile(path string) {
	b, err := os.ReadFile(path)
	if err != nil {
		return
	}
	for _, line := range strings.Fields(string(b)) {
		if pid, err := strconv.Atoi(line); err == nil && pid > 1 {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}
