package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/internal/testchild"
	"github.com/kolo/xmlrpc"
)

// The in-place upgrade (gosupervisor.upgrade, issue 16), end to end: a
// daemon started from a copy of the binary, the copy replaced on disk by
// another build, then supervisorctl upgrade.

const upgradeConf = `
[rpcinterface:gosupervisor]
supervisor.rpcinterface_factory = gosupervisor.rpcinterface:make_main_rpcinterface
`

// buildVariant builds supervisord with extra -ldflags -X settings.
func buildVariant(t *testing.T, out string, xs ...string) {
	t.Helper()
	ld := ""
	for _, x := range xs {
		ld += " -X " + x
	}
	cmd := exec.Command("go", "build", "-o", out, "-ldflags", strings.TrimSpace(ld), ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", out, err, b)
	}
}

// installBinary puts src at dst the way a package upgrade does: a new
// file renamed over the old one (the running image keeps the old inode).
func installBinary(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	tmp := dst + ".new"
	if err := os.WriteFile(tmp, b, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		t.Fatal(err)
	}
}

// upgradeEnv is a daemon running from its own copy of the binary.
type upgradeEnv struct {
	*env
	bin string
	d   *testDaemon
}

func startUpgradeEnv(t *testing.T, progs map[string]string) *upgradeEnv {
	e := newEnv(t, "", progs)
	e.write("supervisord.conf", strings.Replace(baseConf, "{SUPERVISORD}", "", 1)+upgradeConf)
	bin := filepath.Join(e.dir, "bin", "supervisord")
	os.MkdirAll(filepath.Dir(bin), 0o755)
	installBinary(t, ourBin, bin)
	d := &testDaemon{e: e, stdout: &testchild.Buffer{}, done: make(chan struct{})}
	d.cmd = exec.Command(bin, "-n", "-c", e.conf)
	d.cmd.Stdout = d.stdout
	d.cmd.Stderr = d.stdout
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d.pid = d.cmd.Process.Pid
	go func() {
		d.cmd.Wait()
		if ws, ok := d.cmd.ProcessState.Sys().(syscall.WaitStatus); ok {
			d.status = ws
		}
		close(d.done)
	}()
	t.Cleanup(d.kill)
	d.waitUp()
	return &upgradeEnv{env: e, bin: bin, d: d}
}

type fullInfo struct {
	Name      string `xmlrpc:"name"`
	Group     string `xmlrpc:"group"`
	StateName string `xmlrpc:"statename"`
	PID       int    `xmlrpc:"pid"`
	Start     int    `xmlrpc:"start"`
	Logfile   string `xmlrpc:"stdout_logfile"`
}

func (u *upgradeEnv) fullInfos() map[string]fullInfo {
	var list []fullInfo
	if err := u.rpc("supervisor.getAllProcessInfo", nil, &list); err != nil {
		u.t.Fatalf("getAllProcessInfo: %v", err)
	}
	m := map[string]fullInfo{}
	for _, p := range list {
		m[p.Group+":"+p.Name] = p
	}
	return m
}

// rpcStream calls getState on a fresh connection, back to back, until
// stop; it counts calls and failures.
func (u *upgradeEnv) rpcStream(stop <-chan struct{}) (calls, fails *atomic.Int64, done <-chan struct{}) {
	calls, fails = new(atomic.Int64), new(atomic.Int64)
	ch := make(chan struct{})
	var firstErr sync.Once
	go func() {
		defer close(ch)
		for {
			select {
			case <-stop:
				return
			default:
			}
			tr := &http.Transport{DisableKeepAlives: true, DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, "unix", u.sock())
			}}
			c, _ := xmlrpc.NewClient("http://localhost/RPC2", tr)
			var st struct {
				Code int `xmlrpc:"statecode"`
			}
			err := c.Call("supervisor.getState", nil, &st)
			c.Close()
			calls.Add(1)
			if err != nil || st.Code != 1 {
				fails.Add(1)
				firstErr.Do(func() { u.t.Logf("RPC stream: first failure: %v (state %d)", err, st.Code) })
			}
		}
	}()
	return calls, fails, ch
}

func TestUpgradeKeepsProgramsRunning(t *testing.T) {
	const sleepers, writers, lines = 95, 3, 20000
	progs := map[string]string{}
	for i := range sleepers {
		progs[fmt.Sprintf("s%02d", i)] = fmt.Sprintf("[program:s%02d]\ncommand=sleep 1000\nstartsecs=0\n", i)
	}
	for i := range writers {
		// Numbered lines at full speed, then idle.
		progs[fmt.Sprintf("w%d", i)] = fmt.Sprintf("[program:w%d]\ncommand=sh -c 'i=0; while [ $i -lt %d ]; do echo \"line $i\"; i=$((i+1)); done; exec sleep 1000'\nstartsecs=0\nstdout_logfile=%%(here)s/w%d.log\nstdout_logfile_maxbytes=0\n", i, lines, i)
	}
	progs["backoff"] = "[program:backoff]\ncommand=sh -c 'exit 3'\nstartsecs=5\nstartretries=1000\n"
	progs["stopping"] = "[program:stopping]\ncommand=sh -c 'trap \"\" TERM; touch %(here)s/stopping.trapped; while :; do sleep 1; done'\nstartsecs=0\nstopwaitsecs=600\nstopsignal=TERM\n"
	// An event listener that holds its first event until the test says
	// go (so it is mid-event during the upgrade), then answers everything
	// at once; it records each envelope header.
	progs["listener"] = "[eventlistener:listener]\ncommand=sh -c 'echo READY; first=1; while read -r hdr; do len=${hdr##*len:}; head -c $len >/dev/null; echo \"$hdr\" >> %(here)s/events.txt; if [ $first = 1 ]; then while [ ! -e %(here)s/go ]; do sleep 0.05; done; first=0; fi; printf \"RESULT 2\\nOKREADY\\n\"; done'\nevents=PROCESS_STATE\nbuffer_size=100000\nstartsecs=0\n"
	u := startUpgradeEnv(t, progs)

	want := map[string]string{"backoff:backoff": "BACKOFF"}
	for name := range progs {
		if name != "backoff" {
			want[name+":"+name] = "RUNNING"
		}
	}
	u.waitStates(want)
	eventsPath := filepath.Join(u.dir, "progs", "events.txt")
	waitFor(t, 60*time.Second, "the listener's first event", func() bool { _, err := os.Stat(eventsPath); return err == nil })
	// STOPPING: it ignores SIGTERM (once its shell has run the trap:
	// RUNNING comes at spawn) and has 600 s before SIGKILL.
	waitFile(t, filepath.Join(u.dir, "progs", "stopping.trapped"))
	var ok bool
	if err := u.rpc("supervisor.stopProcess", []any{"stopping", false}, &ok); err != nil {
		t.Fatal(err)
	}
	u.waitStates(map[string]string{"stopping:stopping": "STOPPING"})
	before := u.fullInfos()

	newBin := filepath.Join(u.dir, "supervisord-9.9.9")
	buildVariant(t, newBin, "main.version=9.9.9-upgraded")
	installBinary(t, newBin, u.bin)

	stop := make(chan struct{})
	calls, fails, streamDone := u.rpcStream(stop)
	// Calls answered before, during and after the upgrade (counted, not
	// timed: a loaded box may answer few calls in a given 100 ms).
	waitFor(t, 60*time.Second, "calls before the upgrade", func() bool { return calls.Load() >= 3 })
	out, code := u.ctl("upgrade")
	if code != 0 || !strings.Contains(out, "upgraded: gosupervisor 9.9.9-upgraded") {
		t.Fatalf("supervisorctl upgrade: %d %q\nlog:\n%s", code, out, u.mainLog())
	}
	upgraded := calls.Load()
	waitFor(t, 60*time.Second, "calls after the upgrade", func() bool { return calls.Load() >= upgraded+3 })
	close(stop)
	<-streamDone
	if fails.Load() != 0 || calls.Load() < 5 {
		t.Errorf("RPC stream across the upgrade: %d calls, %d failed", calls.Load(), fails.Load())
	}

	var v string
	if err := u.rpc("gosupervisor.getVersion", nil, &v); err != nil || !strings.HasPrefix(v, "gosupervisor 9.9.9-upgraded") {
		t.Errorf("getVersion after the upgrade: %q %v", v, err)
	}
	var pid int
	if err := u.rpc("supervisor.getPID", nil, &pid); err != nil || pid != u.d.pid {
		t.Errorf("daemon pid %d (%v), want %d", pid, err, u.d.pid)
	}
	after := u.fullInfos()
	for name, b := range before {
		a := after[name]
		switch {
		case name == "backoff:backoff":
			if a.StateName != "BACKOFF" && a.StateName != "STARTING" {
				t.Errorf("%s: %s after the upgrade", name, a.StateName)
			}
		case a.PID != b.PID || a.Start != b.Start || a.StateName != b.StateName || a.Logfile != b.Logfile:
			t.Errorf("%s: pid %d start %d %s %s, before: pid %d start %d %s %s", name, a.PID, a.Start, a.StateName, a.Logfile, b.PID, b.Start, b.StateName, b.Logfile)
			for _, l := range strings.Split(u.mainLog(), "\n") {
				if strings.Contains(l, "'"+a.Name+"'") || strings.Contains(l, " "+a.Name+" ") || strings.Contains(l, "upgrad") {
					t.Log(l)
				}
			}
		}
	}

	// Every writer's lines, once each and in order.
	for i := range writers {
		path := filepath.Join(u.dir, "progs", fmt.Sprintf("w%d.log", i)) // %(here)s of progs/*.conf
		deadline := time.Now().Add(120 * time.Second)
		for {
			b, _ := os.ReadFile(path)
			if strings.HasSuffix(string(b), fmt.Sprintf("line %d\n", lines-1)) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s incomplete after 2 min: %d bytes, ends %q; main log:\n%s", path, len(b), b[max(0, len(b)-40):], u.mainLog())
			}
			time.Sleep(50 * time.Millisecond)
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		n := 0
		for sc.Scan() {
			if sc.Text() != "line "+strconv.Itoa(n) {
				t.Fatalf("%s: line %d is %q", path, n, sc.Text())
			}
			n++
		}
		f.Close()
		if n != lines {
			t.Errorf("%s: %d lines, want %d", path, n, lines)
		}
	}

	// The listener answers the event it held to the new image, then gets
	// the ones buffered meanwhile and new ones: pool serials 0, 1, 2, ...
	// without a gap or a repeat, global serials increasing.
	os.WriteFile(filepath.Join(u.dir, "progs", "go"), nil, 0o644)
	u.ctlOK("s00: stopped", "stop", "s00")
	var headers []string
	waitFor(t, 60*time.Second, "the events after the upgrade", func() bool {
		b, _ := os.ReadFile(eventsPath)
		headers = strings.Split(strings.TrimSpace(string(b)), "\n")
		return strings.Contains(string(b), "eventname:PROCESS_STATE_STOPPED")
	})
	lastSerial := -1
	for i, h := range headers {
		var serial, poolSerial int
		for _, f := range strings.Fields(h) {
			if v, ok := strings.CutPrefix(f, "serial:"); ok {
				serial, _ = strconv.Atoi(v)
			}
			if v, ok := strings.CutPrefix(f, "poolserial:"); ok {
				poolSerial, _ = strconv.Atoi(v)
			}
		}
		if poolSerial != i || serial <= lastSerial {
			t.Fatalf("event %d: %q (previous serial %d): lost, repeated or out of order", i, h, lastSerial)
		}
		lastSerial = serial
	}
	t.Logf("%d events delivered in order across the upgrade", len(headers))

	// The daemon shuts down cleanly with everything reaped.
	if !strings.Contains(u.mainLog(), "upgraded in place (pid "+strconv.Itoa(u.d.pid)+")") {
		t.Errorf("main log lacks the take-over line:\n%s", u.mainLog())
	}
	// The adopted STOPPING process's exit is seen by the new image.
	u.ctlOK("stopping: signalled", "signal", "KILL", "stopping")
	u.waitStates(map[string]string{"stopping:stopping": "STOPPED"})
	u.d.signal(syscall.SIGTERM)
	u.d.wait(120 * time.Second)
	assertReaped(t, pidsOf(u.infosOf(before)))
}

func (u *upgradeEnv) infosOf(m map[string]fullInfo) map[string]procInfo {
	out := map[string]procInfo{}
	for k, v := range m {
		out[k] = procInfo{Name: v.Name, Group: v.Group, StateName: v.StateName, PID: v.PID}
	}
	return out
}

// failureEnv is a small daemon for the failure paths: sleepers and a
// writer that counts on its stdout, slowly, until stopped.
func failureEnv(t *testing.T) (*upgradeEnv, map[string]fullInfo) {
	progs := map[string]string{
		"counter": "[program:counter]\ncommand=sh -c 'i=0; while :; do echo \"line $i\"; i=$((i+1)); sleep 0.01; done'\nstartsecs=0\nstdout_logfile=%(here)s/counter.log\n",
	}
	for i := range 5 {
		progs[fmt.Sprintf("s%d", i)] = fmt.Sprintf("[program:s%d]\ncommand=sleep 1000\nstartsecs=0\n", i)
	}
	u := startUpgradeEnv(t, progs)
	want := map[string]string{}
	for name := range progs {
		want[name+":"+name] = "RUNNING"
	}
	u.waitStates(want)
	return u, u.fullInfos()
}

// checkStillInCharge asserts the old image runs on: same pids and start
// times, the old version, the counter's log growing gapless, and stop and
// start working.
func (u *upgradeEnv) checkStillInCharge(before map[string]fullInfo) {
	t := u.t
	t.Helper()
	after := u.fullInfos()
	for name, b := range before {
		if a := after[name]; a.PID != b.PID || a.Start != b.Start || a.StateName != b.StateName {
			t.Errorf("%s: pid %d %s, before: pid %d %s", name, a.PID, a.StateName, b.PID, b.StateName)
		}
	}
	var v string
	if err := u.rpc("gosupervisor.getVersion", nil, &v); err != nil || !strings.HasPrefix(v, ownVersionForTest()) {
		t.Errorf("version after the failed upgrade: %q %v, want the old %q", v, err, ownVersionForTest())
	}
	path := filepath.Join(u.dir, "progs", "counter.log")
	size := func() int { b, _ := os.ReadFile(path); return len(b) }
	n := size()
	waitFor(t, 60*time.Second, "the counter's log to grow", func() bool { return size() > n+100 })
	u.ctlOK("counter: stopped", "stop", "counter")
	b, _ := os.ReadFile(path)
	for i, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		if line != "line "+strconv.Itoa(i) {
			t.Fatalf("counter.log line %d is %q", i, line)
		}
	}
	u.ctlOK("counter: started", "start", "counter")
	// A clean shutdown reaps every child.
	pids := pidsOf(u.infosOf(u.fullInfos()))
	u.d.signal(syscall.SIGTERM)
	u.d.wait(120 * time.Second)
	assertReaped(t, pids)
}

// ownVersionForTest is the version line of ourBin.
func ownVersionForTest() string {
	out, _ := exec.Command(ourBin, "--gosupervisor-version").Output()
	return strings.TrimSpace(string(out))
}

// TestUpgradeExecFails: the binary passes the check, then cannot be
// executed (it drops its own execute bit when asked its version): the
// running daemon stays in charge and the call fails.
func TestUpgradeExecFails(t *testing.T) {
	u, before := failureEnv(t)
	script := "#!/bin/sh\nif [ \"$1\" = --gosupervisor-version ]; then echo 'gosupervisor 9.9.9-vanishing'; chmod 0644 \"$0\"; exit 0; fi\nexit 99\n"
	tmp := u.bin + ".new"
	if err := os.WriteFile(tmp, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, u.bin); err != nil {
		t.Fatal(err)
	}
	out, code := u.ctl("upgrade")
	if code != 1 || !strings.Contains(out, "ERROR: FAILED: upgrade: handover: exec "+u.bin) || !strings.Contains(out, "permission denied") {
		t.Fatalf("supervisorctl upgrade: %d %q", code, out)
	}
	if !strings.Contains(u.mainLog(), "ERRO upgrade failed, this supervisord stays in charge") {
		t.Errorf("main log lacks the failure:\n%s", u.mainLog())
	}
	u.checkStillInCharge(before)
}

// TestUpgradeChecksBinary: a missing binary or one that is not
// gosupervisor is refused before anything is touched.
func TestUpgradeChecksBinary(t *testing.T) {
	u, before := failureEnv(t)
	for _, tc := range []struct {
		name, content string
		mode          os.FileMode
		fault         string
	}{
		{"missing", "", 0, "no such file or directory"},
		{"not executable", "#!/bin/sh\necho gosupervisor 1\n", 0o644, "not executable"},
		{"not gosupervisor", "#!/bin/sh\necho hello\n", 0o755, `answered "hello", not a gosupervisor version`},
		{"fails", "#!/bin/sh\nexit 3\n", 0o755, "exit status 3"},
	} {
		os.Remove(u.bin)
		if tc.content != "" {
			if err := os.WriteFile(u.bin, []byte(tc.content), tc.mode); err != nil {
				t.Fatal(err)
			}
		}
		out, code := u.ctl("upgrade")
		if code != 1 || !strings.Contains(out, "ERROR: FAILED: upgrade: ") || !strings.Contains(out, tc.fault) {
			t.Errorf("%s: supervisorctl upgrade: %d %q, want a fault with %q", tc.name, code, out, tc.fault)
		}
	}
	u.checkStillInCharge(before)
}

// TestUpgradeRefusedState: the new binary does not know the hand-over
// format; it hands the state back to the old binary (deleted on disk by
// then), which resumes, logs CRIT and answers the call with the fault.
func TestUpgradeRefusedState(t *testing.T) {
	u, before := failureEnv(t)
	newBin := filepath.Join(u.dir, "supervisord-format99")
	buildVariant(t, newBin, "main.version=9.9.9-format99", "github.com/gosupervisor/gosupervisor/handover.Format=99")
	installBinary(t, newBin, u.bin)
	out, code := u.ctl("upgrade")
	if code != 1 || !strings.Contains(out, `ERROR: FAILED: upgrade: the new binary refused the hand-over: handover: state format "1", this build reads "99"`) {
		t.Fatalf("supervisorctl upgrade: %d %q\nlog:\n%s", code, out, u.mainLog())
	}
	if !strings.Contains(u.mainLog(), "CRIT upgrade failed: the new binary refused the hand-over") {
		t.Errorf("main log lacks the CRIT line:\n%s", u.mainLog())
	}
	var pid int
	if err := u.rpc("supervisor.getPID", nil, &pid); err != nil || pid != u.d.pid {
		t.Errorf("daemon pid %d (%v), want %d", pid, err, u.d.pid)
	}
	u.checkStillInCharge(before)
}

// TestReloadKeepsRunning: with reload_keeps_running, SIGHUP and
// supervisorctl reload apply the config as update does and re-execute the
// daemon: unchanged programs keep their pids, a changed one restarts, a
// removed one stops, an added one starts.
func TestReloadKeepsRunning(t *testing.T) {
	progs := map[string]string{
		"keep":   "[program:keep]\ncommand=sleep 1000\nstartsecs=0\n",
		"change": "[program:change]\ncommand=sleep 1000\nstartsecs=0\n",
		"remove": "[program:remove]\ncommand=sleep 1000\nstartsecs=0\n",
	}
	e := newEnv(t, "reload_keeps_running = true", progs)
	d := e.startForeground()
	before := e.waitStates(map[string]string{"keep:keep": "RUNNING", "change:change": "RUNNING", "remove:remove": "RUNNING"})

	e.setProgram("change", "[program:change]\ncommand=sleep 1001\nstartsecs=0\n")
	os.Remove(filepath.Join(e.dir, "progs", "remove.conf"))
	e.setProgram("add", "[program:add]\ncommand=sleep 1000\nstartsecs=0\n")
	d.signal(syscall.SIGHUP)
	var after map[string]procInfo
	waitFor(t, 60*time.Second, "the reload", func() bool {
		after = e.infos()
		_, gone := after["remove:remove"]
		return after["add:add"].StateName == "RUNNING" && after["change:change"].StateName == "RUNNING" && !gone &&
			strings.Contains(e.mainLog(), "reloaded (pid "+strconv.Itoa(d.pid)+")")
	})
	if after["keep:keep"].PID != before["keep:keep"].PID {
		t.Errorf("keep: pid %d, was %d", after["keep:keep"].PID, before["keep:keep"].PID)
	}
	if after["change:change"].PID == before["change:change"].PID {
		t.Errorf("change kept pid %d", before["change:change"].PID)
	}
	assertReaped(t, []int{before["remove:remove"].PID, before["change:change"].PID})

	// supervisorctl reload goes the same way.
	e.setProgram("add", "[program:add]\ncommand=sleep 1002\nstartsecs=0\n")
	e.ctlOK("Restarted supervisord", "reload")
	waitFor(t, 60*time.Second, "the second reload", func() bool {
		return strings.Count(e.mainLog(), "reloaded (pid "+strconv.Itoa(d.pid)+")") == 2 && e.infos()["add:add"].StateName == "RUNNING"
	})
	final := e.infos()
	if final["keep:keep"].PID != before["keep:keep"].PID || final["change:change"].PID != after["change:change"].PID {
		t.Errorf("second reload restarted unchanged programs: %v, before %v", final, after)
	}
	if final["add:add"].PID == after["add:add"].PID {
		t.Errorf("add kept its pid across a change")
	}
	pids := pidsOf(final)
	d.signal(syscall.SIGTERM)
	d.wait(60 * time.Second)
	assertReaped(t, pids)
}

// TestUpgradeRefusesFastCGI: an fcgi-program group's shared socket is not
// handed over, so the upgrade is refused and nothing changes.
func TestUpgradeRefusesFastCGI(t *testing.T) {
	u := startUpgradeEnv(t, map[string]string{
		"f": "[fcgi-program:f]\ncommand=sleep 1000\nsocket=unix://%(here)s/f.sock\nstartsecs=0\n",
	})
	before := u.waitStates(map[string]string{"f:f": "RUNNING"})
	out, code := u.ctl("upgrade")
	if code != 1 || !strings.Contains(out, "ERROR: FAILED: upgrade: [fcgi-program:f] cannot be handed over") {
		t.Fatalf("supervisorctl upgrade: %d %q", code, out)
	}
	if after := u.infos(); after["f:f"].PID != before["f:f"].PID {
		t.Errorf("f: pid %d, was %d", after["f:f"].PID, before["f:f"].PID)
	}
	u.d.signal(syscall.SIGTERM)
	u.d.wait(60 * time.Second)
	assertReaped(t, pidsOf(before))
}
