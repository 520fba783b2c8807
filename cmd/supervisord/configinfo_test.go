package main

import (
	"encoding/json"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const configInfoPrograms = `[program:alpha]
command=/bin/sleep 100
directory=/tmp
exitcodes=0,2
stopsignal=INT
stopwaitsecs=7
autostart=false
startretries=5
stdout_logfile=AUTO
stderr_logfile=NONE
priority=3

[program:beta]
command=/bin/sleep 200
process_name=%(program_name)s_%(process_num)02d
numprocs=2
autostart=false
redirect_stderr=true
stdout_logfile=%(here)s/beta-%(process_num)d.log
stdout_logfile_maxbytes=1KB
stdout_logfile_backups=0
stdout_capture_maxbytes=2KB
stdout_events_enabled=true
stdout_syslog=true
serverurl=http://127.0.0.1:1/
killasgroup=true
startsecs=0

[group:g]
programs=beta
priority=5

[program:gamma]
command=/bin/sleep 300
autostart=false
stderr_logfile=AUTO
stderr_logfile_maxbytes=0
stderr_events_enabled=true
`

// TestConfigInfoMatchesPython compares getAllConfigInfo (all 29 members,
// AUTO paths resolved for active groups, "auto" for groups only read by
// reloadConfig) between Python's supervisord and ours on the same config.
func TestConfigInfoMatchesPython(t *testing.T) {
	needOracle(t)
	progs := map[string]string{"all": configInfoPrograms}
	py := newEnv(t, "", progs)
	ours := newEnv(t, "", progs)

	cmd := exec.Command(pySupervisord, "-n", "-c", py.conf)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pyDone := make(chan struct{})
	go func() { cmd.Wait(); close(pyDone) }()
	stopPython := func() {
		syscall.Kill(cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-pyDone:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-pyDone
		}
	}
	t.Cleanup(stopPython)
	waitFor(t, 20*time.Second, "Python supervisord", func() bool {
		var st map[string]any
		return py.rpc("supervisor.getState", nil, &st) == nil
	})
	d := ours.startForeground()

	get := func(e *env) string {
		var v []map[string]any
		if err := e.rpc("supervisor.getAllConfigInfo", nil, &v); err != nil {
			t.Fatalf("getAllConfigInfo: %v", err)
		}
		b, _ := json.MarshalIndent(v, "", " ")
		s := strings.ReplaceAll(string(b), e.dir, "DIR")
		return autoName.ReplaceAllString(s, "$1-RANDOM.log")
	}
	compare := func(when string) {
		want, got := get(py), get(ours)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("getAllConfigInfo %s (-python +ours):\n%s", when, diff)
		}
	}
	compare("at start")

	// After reloadConfig the config objects are new: AUTO shows "auto".
	for _, e := range []*env{py, ours} {
		e.setProgram("extra", "[program:extra]\ncommand=/bin/sleep 1\nautostart=false\n")
		var res any
		if err := e.rpc("supervisor.reloadConfig", nil, &res); err != nil {
			t.Fatalf("reloadConfig: %v", err)
		}
	}
	compare("after reloadConfig")

	d.signal(syscall.SIGTERM)
	d.wait(15 * time.Second)
	stopPython()
	killLeftovers(t)
}

var autoName = regexp.MustCompile(`(---e2e)-[^"/]+\.log`)
