package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/internal/testchild"
	"github.com/kolo/xmlrpc"
)

// Binaries the end-to-end tests use: our daemon and our client (built in
// TestMain; the client speaks and prints as Python's does, and the compat
// tests check that), and the Python oracle's daemon from Debian's
// supervisor package for the tests that compare with it.
var (
	ourBin        string
	ourCtl        string
	pySupervisord = "/usr/bin/supervisord"
)

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "gosupd-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	ourBin = filepath.Join(dir, "supervisord")
	if err := testchild.GoBuild(ourBin, ".", raceEnabled); err != nil {
		fmt.Fprintln(os.Stderr, "building supervisord:", err)
		return 1
	}
	ourCtl = filepath.Join(dir, "supervisorctl")
	if err := testchild.GoBuild(ourCtl, "../supervisorctl", false); err != nil {
		fmt.Fprintln(os.Stderr, "building supervisorctl:", err)
		return 1
	}
	// A daemonized supervisord (whose parent exits) and anything it leaks
	// are re-parented to this process, where the tests can see and reap them.
	if err := testchild.BecomeSubreaper(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// needOracle skips a test that compares with Python's supervisord when
// Debian's supervisor package is not installed.
func needOracle(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(pySupervisord); err != nil {
		t.Skip("Debian's supervisor package is not installed (" + pySupervisord + ")")
	}
}

// env is one test daemon's directory: config, socket, logs, pidfile.
type env struct {
	t    *testing.T
	dir  string
	conf string
	// Set when the config puts them elsewhere than newEnv's layout.
	sockPath, pidPath string
}

const baseConf = `[unix_http_server]
file=%(here)s/s.sock

[supervisord]
logfile=%(here)s/supervisord.log
pidfile=%(here)s/supervisord.pid
childlogdir=%(here)s/childlogs
identifier=e2e
loglevel=debug
{SUPERVISORD}

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://%(here)s/s.sock

[include]
files=progs/*.conf
`

// newEnv writes a config whose programs live in progs/<name>.conf files.
// extra goes into [supervisord].
func newEnv(t *testing.T, extra string, progs map[string]string) *env {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{"progs", "childlogs"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	e := &env{t: t, dir: dir, conf: filepath.Join(dir, "supervisord.conf")}
	e.write("supervisord.conf", strings.Replace(baseConf, "{SUPERVISORD}", extra, 1))
	for name, text := range progs {
		e.setProgram(name, text)
	}
	return e
}

func (e *env) write(rel, text string) {
	e.t.Helper()
	if err := os.WriteFile(filepath.Join(e.dir, rel), []byte(text), 0o644); err != nil {
		e.t.Fatal(err)
	}
}

// setProgram writes progs/<name>.conf ("" removes it).
func (e *env) setProgram(name, text string) {
	e.t.Helper()
	path := filepath.Join(e.dir, "progs", name+".conf")
	if text == "" {
		if err := os.Remove(path); err != nil {
			e.t.Fatal(err)
		}
		return
	}
	e.write(filepath.Join("progs", name+".conf"), text)
}

func (e *env) sock() string {
	if e.sockPath != "" {
		return e.sockPath
	}
	return filepath.Join(e.dir, "s.sock")
}

func (e *env) pidfile() string {
	if e.pidPath != "" {
		return e.pidPath
	}
	return filepath.Join(e.dir, "supervisord.pid")
}
func (e *env) logfile() string { return filepath.Join(e.dir, "supervisord.log") }

func (e *env) mainLog() string {
	b, _ := os.ReadFile(e.logfile())
	return string(b)
}

// ctl runs our supervisorctl against the daemon.
func (e *env) ctl(args ...string) (string, int) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, ourCtl, append([]string{"-c", e.conf}, args...)...)
	out, err := cmd.CombinedOutput()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			e.t.Fatalf("supervisorctl %v: %v", args, err)
		}
		code = ee.ExitCode()
	}
	return string(out), code
}

// ctlOK runs supervisorctl and fails the test unless the output is want.
func (e *env) ctlOK(want string, args ...string) {
	e.t.Helper()
	out, _ := e.ctl(args...)
	if strings.TrimSpace(out) != strings.TrimSpace(want) {
		e.t.Fatalf("supervisorctl %s:\n got: %q\nwant: %q", strings.Join(args, " "), out, want)
	}
}

// rpc calls the daemon's XML-RPC interface over the unix socket.
func (e *env) rpc(method string, args any, reply any) error {
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", e.sock())
	}}
	defer tr.CloseIdleConnections()
	c, err := xmlrpc.NewClient("http://localhost/RPC2", tr)
	if err != nil {
		return err
	}
	defer c.Close()
	return c.Call(method, args, reply)
}

type procInfo struct {
	Name      string `xmlrpc:"name"`
	Group     string `xmlrpc:"group"`
	StateName string `xmlrpc:"statename"`
	PID       int    `xmlrpc:"pid"`
}

func (e *env) infos() map[string]procInfo {
	var list []procInfo
	if err := e.rpc("supervisor.getAllProcessInfo", nil, &list); err != nil {
		return nil
	}
	m := map[string]procInfo{}
	for _, p := range list {
		m[p.Group+":"+p.Name] = p
	}
	return m
}

// minWait is the least any wait here allows: the waits bound a hang and
// never time anything, and a loaded 2-core box (CI) can take tens of
// seconds to spawn and reap what takes milliseconds when idle.
const minWait = time.Minute

// waitFor polls cond until it holds or d (at least minWait) passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	d = max(d, minWait)
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitFile waits until path exists: a line a child's shell runs once it is
// ready (a trap installed, a listener open), which RUNNING does not say.
func waitFile(t *testing.T, path string) {
	t.Helper()
	waitFor(t, 60*time.Second, path, func() bool {
		_, err := os.Stat(path)
		return err == nil
	})
}

// waitStates waits until each "group:name" has the given state.
func (e *env) waitStates(want map[string]string) map[string]procInfo {
	e.t.Helper()
	var got map[string]procInfo
	waitFor(e.t, 60*time.Second, fmt.Sprint("states ", want), func() bool {
		got = e.infos()
		if got == nil {
			return false
		}
		for k, st := range want {
			if got[k].StateName != st {
				return false
			}
		}
		return true
	})
	return got
}

// daemon is a running supervisord under test.
type testDaemon struct {
	e      *env
	cmd    *exec.Cmd // foreground mode
	pid    int
	stdout *testchild.Buffer
	done   chan struct{} // closed when the process was reaped
	status syscall.WaitStatus
}

// startForeground runs supervisord -n and waits until it answers.
func (e *env) startForeground(extraArgs ...string) *testDaemon {
	e.t.Helper()
	return e.startForegroundWith(nil, extraArgs...)
}

// startForegroundWith is startForeground with descriptors the daemon
// inherits as 3, 4...
func (e *env) startForegroundWith(extraFiles []*os.File, extraArgs ...string) *testDaemon {
	e.t.Helper()
	return e.startForegroundCmd(func(c *exec.Cmd) { c.ExtraFiles = extraFiles }, extraArgs...)
}

// startForegroundCmd is startForeground with setup changing the command
// (its stdout, its descriptors) before it starts.
func (e *env) startForegroundCmd(setup func(*exec.Cmd), extraArgs ...string) *testDaemon {
	e.t.Helper()
	d := &testDaemon{e: e, stdout: &testchild.Buffer{}, done: make(chan struct{})}
	d.cmd = exec.Command(ourBin, append([]string{"-n", "-c", e.conf}, extraArgs...)...)
	d.cmd.Stdout = d.stdout
	d.cmd.Stderr = d.stdout
	if setup != nil {
		setup(d.cmd)
	}
	if err := d.cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	d.pid = d.cmd.Process.Pid
	go func() {
		d.cmd.Wait()
		if ws, ok := d.cmd.ProcessState.Sys().(syscall.WaitStatus); ok {
			d.status = ws
		}
		close(d.done)
	}()
	e.t.Cleanup(d.kill)
	d.waitUp()
	return d
}

// startDaemonizedAt is startDaemonized for a config with its own socket
// and pidfile paths.
func (e *env) startDaemonizedAt(sock, pidfile string) *testDaemon {
	e.t.Helper()
	e.sockPath, e.pidPath = sock, pidfile
	return e.startDaemonized()
}

// startDaemonized runs supervisord without -n: the command must return 0
// once the daemon is up; the daemon itself is re-parented to us.
func (e *env) startDaemonized() *testDaemon {
	e.t.Helper()
	out, err := exec.Command(ourBin, "-c", e.conf).CombinedOutput()
	if err != nil {
		e.t.Fatalf("supervisord (daemon mode): %v: %s", err, out)
	}
	if len(out) != 0 {
		e.t.Fatalf("supervisord (daemon mode) printed %q", out)
	}
	b, err := os.ReadFile(e.pidfile())
	if err != nil {
		e.t.Fatalf("pidfile missing once the launcher returned: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSuffix(string(b), "\n"))
	if err != nil || !strings.HasSuffix(string(b), "\n") {
		e.t.Fatalf("pidfile content %q, want <pid>\\n", b)
	}
	d := &testDaemon{e: e, pid: pid, done: make(chan struct{})}
	go func() {
		// The daemon is our child now (subreaper): reap it.
		var ws syscall.WaitStatus
		for {
			_, err := syscall.Wait4(pid, &ws, 0, nil)
			if err != syscall.EINTR {
				break
			}
		}
		d.status = ws
		close(d.done)
	}()
	e.t.Cleanup(d.kill)
	d.waitUp()
	return d
}

func (d *testDaemon) waitUp() {
	d.e.t.Helper()
	waitFor(d.e.t, 60*time.Second, "supervisord to answer", func() bool {
		select {
		case <-d.done:
			d.e.t.Fatalf("supervisord exited during startup (%v): %s", d.status, d.output())
		default:
		}
		var st struct {
			Code int `xmlrpc:"statecode"`
		}
		return d.e.rpc("supervisor.getState", nil, &st) == nil && st.Code == 1
	})
}

func (d *testDaemon) output() string {
	if d.stdout == nil {
		return d.e.mainLog()
	}
	return d.stdout.String()
}

func (d *testDaemon) signal(sig syscall.Signal) {
	d.e.t.Helper()
	if err := syscall.Kill(d.pid, sig); err != nil {
		d.e.t.Fatalf("kill %d %v: %v", d.pid, sig, err)
	}
}

// wait waits for the daemon to exit and returns its wait status
// (timeout: at least minWait).
func (d *testDaemon) wait(timeout time.Duration) syscall.WaitStatus {
	d.e.t.Helper()
	timeout = max(timeout, minWait)
	select {
	case <-d.done:
		return d.status
	case <-time.After(timeout):
		d.e.t.Fatalf("supervisord did not exit within %v; log:\n%s", timeout, d.e.mainLog())
	}
	return 0
}

// kill is the cleanup of a test that failed half way: SIGKILL the daemon
// we started (by pid) and anything it left.
func (d *testDaemon) kill() {
	select {
	case <-d.done:
	default:
		syscall.Kill(d.pid, syscall.SIGKILL)
		<-d.done
	}
	killLeftovers(d.e.t)
}

// children lists the processes whose parent is this test process, with
// their state letter (Z for a zombie).
func children() map[int]string {
	out := map[int]string{}
	for _, c := range testchild.Children() {
		out[c.PID] = c.State
	}
	return out
}

// killLeftovers reaps dead orphans re-parented to us (grandchildren of
// the daemon whose parent died: as a subreaper we inherit them where init
// would) and kills and reports every live one: a leak of the daemon.
func killLeftovers(t *testing.T) {
	// A grandchild SIGKILLed with its process group may still be exiting
	// when its parent is gone: give such processes a moment to die.
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		live := false
		for _, state := range children() {
			live = live || state != "Z"
		}
		if !live {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Killing a leftover re-parents its own children to us: repeat until a
	// pass finds nothing alive, so one test's leak is not blamed on the next.
	for round := 0; round < 10; round++ {
		killed := false
		for pid, state := range children() {
			if state != "Z" {
				t.Errorf("leftover live process %d (state %s) re-parented to the test", pid, state)
				syscall.Kill(pid, syscall.SIGKILL)
				killed = true
			}
			var ws syscall.WaitStatus
			syscall.Wait4(pid, &ws, 0, nil)
		}
		if !killed {
			return
		}
	}
}

// assertGone checks that none of pids is alive; a zombie is accepted only
// if it was re-parented to us (a grandchild whose parent died), never one
// the daemon itself failed to reap.
func assertGone(t *testing.T, pids []int) {
	t.Helper()
	me := strconv.Itoa(os.Getpid())
	alive := func(pid int) (string, bool) {
		b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
		if err != nil {
			return "", false
		}
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		return s, !(len(f) > 1 && f[0] == "Z" && f[1] == me)
	}
	// A grandchild SIGKILLed with its group may take a moment to exit.
	deadline := time.Now().Add(10 * time.Second)
	for _, pid := range pids {
		for {
			stat, ok := alive(pid)
			if !ok {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("process %d still exists after supervisord stopped it: %s", pid, stat)
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// assertReaped checks that none of the daemon's direct children exists
// any more, not even as a zombie.
func assertReaped(t *testing.T, pids []int) {
	t.Helper()
	for _, pid := range pids {
		if b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat")); err == nil {
			t.Errorf("child %d of supervisord was not reaped: %s", pid, b)
		}
	}
}

func pidsOf(m map[string]procInfo) []int {
	var out []int
	for _, p := range m {
		if p.PID != 0 {
			out = append(out, p.PID)
		}
	}
	return out
}
