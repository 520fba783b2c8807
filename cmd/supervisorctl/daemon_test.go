package main

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// baseConfig is the daemon both clients are compared against. {port} is
// a free 127.0.0.1 port for the authenticated inet server.
const baseConfig = `[unix_http_server]
file=%(here)s/s.sock

[inet_http_server]
port=127.0.0.1:{port}
username=user
password=pw

[supervisord]
logfile=%(here)s/supervisord.log
pidfile=%(here)s/supervisord.pid
childlogdir=%(here)s/logs
nodaemon=true

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://%(here)s/s.sock

[program:sleeper]
command=/bin/sleep 1000
startsecs=0
stopwaitsecs=2

[program:fails]
command=/bin/false
startsecs=10
startretries=1

[program:manual]
command=/bin/sleep 1000
autostart=false
startsecs=0

[program:talker]
command=/bin/sh -c "echo out-line; echo err-line >&2; exec /bin/sleep 1000"
startsecs=0

[program:binary]
command=/bin/sh -c "printf 'h\303\251llo \001 end\n'; exec /bin/sleep 1000"
startsecs=0

[program:undecodable]
command=/bin/sh -c "printf 'ok \377 x\n'; exec /bin/sleep 1000"
startsecs=0

[program:cat]
command=/bin/cat
startsecs=0

[program:grp]
command=/bin/sleep 1000
process_name=%(program_name)s_%(process_num)d
numprocs=2
startsecs=0

[program:missing]
command=/nonexistent/binary
autostart=false

[program:quick]
command=/bin/true
autostart=false
; long enough that even a slow daemon sees it exit "too quickly"
startsecs=10
startretries=0

[program:a_program_with_a_rather_long_name_x]
command=/bin/sleep 1000
autostart=false
`

// extraProgram is added to the config by the reread/update rows.
const extraProgram = `
[program:extra]
command=/bin/sleep 1000
autostart=false
`

// baseline is the state every autostarted program settles in.
var baseline = map[string]string{
	"sleeper": "RUNNING", "talker": "RUNNING", "binary": "RUNNING", "undecodable": "RUNNING", "cat": "RUNNING", "grp:grp_0": "RUNNING",
	"grp:grp_1": "RUNNING", "fails": "FATAL", "manual": "STOPPED",
}

// testDaemon is one supervisord (Python's or ours) in a temp dir.
type testDaemon struct {
	t       *testing.T
	kind    string // "python" or "go"
	bin     string
	dir     string
	conf    string
	port    int
	cmd     *exec.Cmd
	done    chan struct{}
	out     *bytes.Buffer
	seenPID map[int]bool // every child pid seen, checked gone at the end
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func newDaemon(t *testing.T, kind string) *testDaemon {
	t.Helper()
	bin := pyDaemon
	if kind == "go" {
		bin = ourDaemon
	}
	// a short path: unix socket paths are limited to 108 bytes
	dir, err := os.MkdirTemp("", "ctl")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Mkdir(filepath.Join(dir, "logs"), 0o755); err != nil {
		t.Fatal(err)
	}
	d := &testDaemon{t: t, kind: kind, bin: bin, dir: dir, conf: filepath.Join(dir, "supervisord.conf"),
		port: freePort(t), seenPID: map[int]bool{}}
	d.writeConfig(false)
	t.Cleanup(d.stop)
	return d
}

func (d *testDaemon) sock() string { return filepath.Join(d.dir, "s.sock") }

func (d *testDaemon) writeConfig(extra bool) {
	text := strings.ReplaceAll(baseConfig, "{port}", fmt.Sprint(d.port))
	if extra {
		text += extraProgram
	}
	if err := os.WriteFile(d.conf, []byte(text), 0o644); err != nil {
		d.t.Fatal(err)
	}
}

// start runs the daemon in the foreground and waits for the baseline.
func (d *testDaemon) start() {
	d.t.Helper()
	d.cmd = exec.Command(d.bin, "-n", "-c", d.conf)
	d.cmd.Dir = d.dir
	d.out = &bytes.Buffer{}
	d.cmd.Stdout, d.cmd.Stderr = d.out, d.out
	if err := d.cmd.Start(); err != nil {
		d.t.Fatalf("start %s: %v", d.bin, err)
	}
	d.done = make(chan struct{})
	go func(c *exec.Cmd, done chan struct{}) {
		c.Wait()
		close(done)
	}(d.cmd, d.done)
	d.waitBaseline()
}

func (d *testDaemon) running() bool {
	if d.cmd == nil {
		return false
	}
	select {
	case <-d.done:
		return false
	default:
		return true
	}
}

// waitExit waits for the daemon to exit by itself (after shutdown).
func (d *testDaemon) waitExit() {
	d.t.Helper()
	select {
	case <-d.done:
	case <-time.After(60 * time.Second):
		d.t.Fatalf("%s supervisord did not exit; output:\n%s", d.kind, d.out)
	}
}

// stop sends SIGTERM to the daemon's pid and waits for it, then checks
// that every child it ran is gone.
func (d *testDaemon) stop() {
	if d.running() {
		d.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-d.done:
		case <-time.After(60 * time.Second):
			d.cmd.Process.Kill()
			<-d.done
			d.t.Errorf("%s supervisord ignored SIGTERM", d.kind)
		}
	}
	for pid := range d.seenPID {
		if err := syscall.Kill(pid, 0); err == nil {
			d.t.Errorf("%s supervisord left child %d running", d.kind, pid)
		}
	}
}

func (d *testDaemon) client() *rpcClient {
	c, err := newRPCClient("unix://"+d.sock(), nil, nil, tlsFiles{})
	if err != nil {
		d.t.Fatal(err)
	}
	return c
}

// call makes one XML-RPC call to the daemon (for state set-up).
func (d *testDaemon) call(method string, args ...any) (any, error) {
	c := d.client()
	defer c.close()
	return c.call(method, args...)
}

// states returns namespec -> statename and records the pids seen.
func (d *testDaemon) states() (map[string]string, error) {
	c := d.client()
	defer c.close()
	var infos []processInfo
	if err := c.callInto(&infos, "supervisor.getAllProcessInfo"); err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, info := range infos {
		out[info.namespec()] = info.StateName
		if info.PID > 0 {
			d.seenPID[int(info.PID)] = true
		}
	}
	return out, nil
}

// pid returns name's pid, 0 when it has none or the call fails.
func (d *testDaemon) pid(name string) int64 {
	c := d.client()
	defer c.close()
	var info processInfo
	if err := c.callInto(&info, "supervisor.getProcessInfo", name); err != nil {
		return 0
	}
	if info.PID > 0 {
		d.seenPID[int(info.PID)] = true
	}
	return int64(info.PID)
}

// waitStates waits until every process in want is in its state.
func (d *testDaemon) waitStates(want map[string]string) {
	d.t.Helper()
	deadline := time.Now().Add(60 * time.Second) // bounds a hang; a loaded box is slow
	var got map[string]string
	var err error
	for time.Now().Before(deadline) {
		if !d.running() {
			d.t.Fatalf("%s supervisord exited; output:\n%s", d.kind, d.out)
		}
		got, err = d.states()
		ok := err == nil
		for name, state := range want {
			if got[name] != state {
				ok = false
			}
		}
		if ok {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	d.t.Fatalf("%s supervisord: states %v (err %v), want %v", d.kind, got, err, want)
}

func (d *testDaemon) waitBaseline() { d.waitStates(baseline) }

// ensure starts or stops the named processes (namespecs) as needed.
func (d *testDaemon) ensure(running bool, names ...string) {
	d.t.Helper()
	got, err := d.states()
	if err != nil {
		d.t.Fatalf("states: %v", err)
	}
	want := map[string]string{}
	for _, n := range names {
		isRunning := got[n] == "RUNNING"
		switch {
		case running && !isRunning:
			if _, err := d.call("supervisor.startProcess", n); err != nil {
				d.t.Fatalf("start %s: %v", n, err)
			}
			want[n] = "RUNNING"
		case !running && isRunning:
			if _, err := d.call("supervisor.stopProcess", n); err != nil {
				d.t.Fatalf("stop %s: %v", n, err)
			}
			want[n] = "STOPPED"
		}
	}
	d.waitStates(want)
}

// restoreBaseline brings every process back to the state after start.
func (d *testDaemon) restoreBaseline() {
	d.t.Helper()
	d.ensure(false, "manual", "quick", "a_program_with_a_rather_long_name_x")
	d.ensure(true, "sleeper", "talker", "binary", "undecodable", "cat", "grp:grp_0", "grp:grp_1")
}
