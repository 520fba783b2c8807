package reliability

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// diskWriter writes phase 1 (1,000,000 bytes of lines, far more than the
// disk holds), says so, waits for the go-ahead, writes phase 2 (100,000
// bytes) and says so.
const diskWriter = `import os, sys, time
d = sys.argv[1]
line = ("x" * 99 + "\n")
for i in range(10000):
    sys.stdout.write(line)
    sys.stdout.flush()
open(os.path.join(d, "phase1.done"), "w").close()
while not os.path.exists(os.path.join(d, "go2")):
    time.sleep(0.05)
for i in range(1000):
    sys.stdout.write("z" * 99 + "\n")
    sys.stdout.flush()
open(os.path.join(d, "phase2.done"), "w").close()
time.sleep(1000)
`

const diskWritten = 1_100_000 // bytes the writer produces in all

// TestDiskFull runs the daemon in a private mount namespace whose log
// directory is a 1 MiB tmpfs, 700 KB of it taken by a ballast file, and a
// child that writes 1 MB: the child is never blocked, the daemon keeps
// answering, reports the full disk once, and counts what it could not
// store; once the ballast is removed it writes again. Stored plus counted
// as dropped must be every byte the child wrote.
func TestDiskFull(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to mount a tmpfs in a private mount namespace")
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("unshare(1) missing")
	}
	eachFlavor(t, func(t *testing.T, fl flavor) {
		dir := t.TempDir()
		full := filepath.Join(dir, "full")
		os.WriteFile(filepath.Join(dir, "writer.py"), []byte(diskWriter), 0o644)
		progs := fmt.Sprintf("[program:writer]\ncommand=/usr/bin/python3 %s %s\nstartsecs=0\nautorestart=false\nstdout_logfile=%s\n",
			filepath.Join(dir, "writer.py"), dir, filepath.Join(full, "writer.log"))
		wrap := func(argv []string) []string {
			script := fmt.Sprintf("mount -t tmpfs -o size=1m tmpfs %s && head -c 700000 /dev/zero > %s/ballast && exec \"$@\"", full, full)
			return append([]string{"unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh"}, argv...)
		}
		d := start(t, fl, setup{dir: dir, logDir: full, wrap: wrap, programs: progs, metrics: true})
		waitFor(t, 60*time.Second, "the writer to finish phase 1 (never blocked by the full disk)", func() bool {
			_, err := os.Stat(filepath.Join(dir, "phase1.done"))
			return err == nil
		})
		var st struct {
			Code int `xmlrpc:"statecode"`
		}
		d.mustCall("supervisor.getState", nil, &st)
		if p := d.states()["writer:writer"]; p.StateName != "RUNNING" {
			t.Errorf("writer is %s while the disk is full", p.StateName)
		}
		// Free the space, let phase 2 run.
		if err := os.Remove(d.path(filepath.Join(full, "ballast"))); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, "go2"), nil, 0o644)
		waitFor(t, 60*time.Second, "the writer to finish phase 2", func() bool {
			_, err := os.Stat(filepath.Join(dir, "phase2.done"))
			return err == nil
		})
		logPath := d.path(filepath.Join(full, "writer.log"))
		var stored int64
		var mainLog string
		var dropped int64
		// Phase 2 lands in the log once space is free (ours says how
		// much it dropped when writing resumes; Python says nothing).
		phase2 := 0
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			b, err := os.ReadFile(logPath)
			if err != nil {
				continue
			}
			stored = int64(len(b))
			phase2 = strings.Count(string(b), strings.Repeat("z", 99)+"\n")
			mainLog = d.out.String()
			dropped = droppedBytes(mainLog)
			if phase2 == 1000 && (fl.name != "ours" || strings.Contains(mainLog, "writing resumed")) {
				break
			}
		}
		figure(t, fl, "phase2_lines_stored", phase2)
		crits := strings.Count(mainLog, " CRIT ")
		figure(t, fl, "stored_bytes", stored)
		figure(t, fl, "dropped_bytes_reported", dropped)
		figure(t, fl, "crit_lines", crits)
		figure(t, fl, "output_lines_about_the_disk", countMatching(mainLog, "No space left|space|log write"))
		d.mustCall("supervisor.getState", nil, &st)
		if fl.name != "ours" {
			return
		}
		if stored+dropped != diskWritten {
			t.Errorf("stored %d + reported dropped %d = %d, want %d written", stored, dropped, stored+dropped, diskWritten)
		}
		// The count is exposed, not only logged.
		exposed, err := d.metric(`supervisord_process_log_bytes_dropped_total{channel="stdout",group="writer",name="writer"}`)
		figure(t, fl, "dropped_bytes_metric", exposed)
		if err != nil || int64(exposed) != dropped {
			t.Errorf("/metrics dropped bytes %v (%v), the log says %d", exposed, err, dropped)
		}
		// One CRIT for the writer's full-disk episode. (The "running as
		// root" CRIT is Python's startup line, counted apart.)
		// It names the log file once, and the episode ends with one
		// "resumed" line once space is free.
		writeCrits, resumed := 0, 0
		for _, l := range strings.Split(mainLog, "\n") {
			if strings.Contains(l, " CRIT ") && strings.Contains(l, "log write failed") {
				writeCrits++
				if n := strings.Count(l, filepath.Join(full, "writer.log")); n != 1 || !strings.Contains(l, "no space left on device") {
					t.Errorf("the CRIT line names the log file %d times (want once, with the cause): %s", n, l)
				}
			}
			if strings.Contains(l, "'writer' stdout log writing resumed, ") {
				resumed++
			}
		}
		if writeCrits != 1 || resumed != 1 {
			t.Errorf("%d CRIT lines for the full disk and %d \"resumed\" lines, want 1 and 1:\n%s", writeCrits, resumed, mainLog)
		}
		if phase2 != 1000 {
			t.Errorf("%d of the 1,000 phase-2 lines reached the log once space was free", phase2)
		}
	})
}

var droppedRE = regexp.MustCompile(`(\d+) (?:more )?bytes (?:were )?not logged`)

// droppedBytes adds up the byte counts of the daemon's "not logged" lines.
func droppedBytes(log string) int64 {
	var n int64
	for _, m := range droppedRE.FindAllStringSubmatch(log, -1) {
		v, _ := strconv.ParseInt(m[1], 10, 64)
		n += v
	}
	return n
}

func countMatching(text, pattern string) int {
	re := regexp.MustCompile(pattern)
	n := 0
	for _, l := range strings.Split(text, "\n") {
		if re.MatchString(l) {
			n++
		}
	}
	return n
}
