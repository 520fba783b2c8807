package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestLogOptionsEndToEnd: a program with stdout_logfile_timestamps stores
// stamped lines and readProcessStdoutLog returns them; rotateLogs rotates
// a process's log and the main log, at line boundaries; logfile_format =
// json writes the main log as JSON objects, with the process fields on
// the lines about a process.
func TestLogOptionsEndToEnd(t *testing.T) {
	e := newEnv(t, "logfile_format = json\nlogfile_backups = 3\n"+gosupervisorSectionConf, map[string]string{
		"t": "[program:t]\ncommand=sh -c 'echo first; echo second; exec sleep 1000'\nstartsecs=0\n" +
			"stdout_logfile=%(here)s/t.log\nstdout_logfile_backups=3\nstdout_logfile_timestamps=true\n",
	})
	d := e.startForeground()
	e.waitStates(map[string]string{"t:t": "RUNNING"})
	logPath := filepath.Join(e.dir, "progs", "t.log") // %(here)s of progs/t.conf
	stamped := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z first\n\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z second\n$`)
	waitFor(t, 15*time.Second, "two stamped lines", func() bool {
		b, _ := os.ReadFile(logPath)
		return stamped.Match(b)
	})
	var text string
	if err := e.rpc("supervisor.readProcessStdoutLog", []any{"t", 0, 0}, &text); err != nil || !stamped.MatchString(text) {
		t.Fatalf("readProcessStdoutLog %q, %v", text, err)
	}

	var ok bool
	if err := e.rpc("gosupervisor.rotateLogs", "t", &ok); err != nil || !ok {
		t.Fatalf("rotateLogs t: %v %v", ok, err)
	}
	backups, _ := filepath.Glob(filepath.Join(e.dir, "progs", "t-*.log"))
	if len(backups) != 1 {
		t.Fatalf("backups %v", backups)
	}
	if b, _ := os.ReadFile(backups[0]); !stamped.Match(b) {
		t.Fatalf("backup %q", b)
	}
	if b, err := os.ReadFile(logPath); err != nil || len(b) != 0 {
		t.Fatalf("live file after rotation %q, %v", b, err)
	}
	if err := e.rpc("gosupervisor.rotateLogs", "nosuch", &ok); err == nil || !strings.Contains(err.Error(), "BAD_NAME: nosuch") {
		t.Fatalf("rotateLogs nosuch: %v", err)
	}
	if err := e.rpc("gosupervisor.rotateLogs", "nosuch:*", &ok); err == nil || !strings.Contains(err.Error(), "BAD_NAME: nosuch:*") {
		t.Fatalf("rotateLogs nosuch:*: %v", err)
	}
	for _, name := range []string{"t:*", "all"} {
		if err := e.rpc("gosupervisor.rotateLogs", name, &ok); err != nil || !ok {
			t.Fatalf("rotateLogs %s: %v", name, err)
		}
	}

	mainBefore := e.mainLog()
	if err := e.rpc("gosupervisor.rotateLogs", "main", &ok); err != nil || !ok {
		t.Fatalf("rotateLogs main: %v", err)
	}
	mainBackups, _ := filepath.Glob(filepath.Join(e.dir, "supervisord-*.log"))
	if len(mainBackups) != 1 {
		t.Fatalf("main log backups %v", mainBackups)
	}
	old, _ := os.ReadFile(mainBackups[0])
	if !strings.HasPrefix(string(old), mainBefore) {
		t.Fatal("the main log backup does not hold the main log's lines")
	}
	d.signal(syscall.SIGTERM)
	if st := d.wait(15 * time.Second); !st.Exited() || st.ExitStatus() != 0 {
		t.Fatalf("exit status after SIGTERM: %v", st)
	}

	var spawned map[string]any
	for _, line := range strings.Split(strings.TrimSpace(string(old)+e.mainLog()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("main log line is not JSON: %q", line)
		}
		if _, err := time.Parse("2006-01-02T15:04:05.000Z07:00", rec["time"].(string)); err != nil || rec["level"] == nil || rec["msg"] == nil {
			t.Fatalf("main log record %v", rec)
		}
		if strings.HasPrefix(rec["msg"].(string), "spawned: 't'") {
			spawned = rec
		}
	}
	if spawned == nil || spawned["process"] != "t" || spawned["group"] != "t" || spawned["pid"] == nil || spawned["level"] != "info" {
		t.Fatalf("spawned record %v", spawned)
	}
}
