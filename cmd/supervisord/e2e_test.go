package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// runCmd runs a binary and returns stdout+stderr and the exit status.
func runCmd(t *testing.T, bin string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = t.TempDir()
	out, err := cmd.CombinedOutput()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("%s %v: %v", bin, args, err)
		}
		code = ee.ExitCode()
	}
	return string(out), code
}

// TestCommandLineMatchesPython runs command lines that end before the
// daemon starts through both Python's supervisord and ours: the output
// (with argv[0] normalized) and the exit status must be identical.
func TestCommandLineMatchesPython(t *testing.T) {
	if _, err := os.Stat(pySupervisord); err != nil {
		t.Skip("Python supervisord not installed")
	}
	e := newEnv(t, "", nil)
	cases := [][]string{
		{"-v"},
		{"--version"},
		{"--vers"},
		{"-x"},
		{"--bogus"},
		{"foo"},
		{"-c", e.conf, "extra", "args"},
		{"-n", "-n"},
		{"-c", "a", "-c", "b"},
		{"--log=x"},
		{"--nodaemon=1"},
		{"-c"},
		{"--conf"},
		{"-c", "/nonexistent/supervisord.conf"},
		{"-a", "x"},
		{"--minprocs=-"},
		{"-m", "99"},
		{"-e", "loud"},
		{"-u", "no-such-user-here", "-c", e.conf},
		{"-d", "/nonexistent"},
		{"-l", "/nonexistent/x.log"},
		{"-y", "1ZB"},
		{"-q", "/nope"},
		{"-v", "-x"},
		{"-x", "-v"},
		{"--", "foo"},
		{"-"},
		{"-nv"},
		{"-z", "3", "--logfile_backups=4"},
		// More descriptors than any kernel allows (fs.nr_open caps at 2^30).
		{"-n", "-a", "2000000000", "-c", e.conf},
	}
	for _, args := range cases {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			t.Parallel()
			pyOut, pyCode := runCmd(t, pySupervisord, args...)
			ourOut, ourCode := runCmd(t, ourBin, args...)
			ourOut = strings.ReplaceAll(ourOut, ourBin, pySupervisord)
			if pyOut != ourOut || pyCode != ourCode {
				t.Errorf("args %q:\npython (%d): %q\nours   (%d): %q", args, pyCode, pyOut, ourCode, ourOut)
			}
		})
	}
}

func TestHelpAndVersions(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"--help"}, {"-?"}, {"--he"}} {
		out, code := runCmd(t, ourBin, args...)
		if code != 0 {
			t.Errorf("%v: exit %d", args, code)
		}
		if !strings.Contains(out, "\nUsage: "+ourBin+" [options]\n") {
			t.Errorf("%v: no usage line with argv[0] in %q", args, out)
		}
		for _, opt := range []string{"-c/--configuration", "-n/--nodaemon", "--minprocs", "--profile_options", "-t/--strip_ansi"} {
			if !strings.Contains(out, opt) {
				t.Errorf("%v: help does not mention %s", args, opt)
			}
		}
	}
	if out, code := runCmd(t, ourBin, "-v"); out != "4.2.5\n" || code != 0 {
		t.Errorf("-v: %q, %d; want exactly 4.2.5", out, code)
	}
	out, code := runCmd(t, ourBin, "--gosupervisor-version")
	if code != 0 || !strings.HasPrefix(out, "gosupervisor "+version+" ") {
		t.Errorf("--gosupervisor-version: %q, %d", out, code)
	}
}

func sortedLines(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

const (
	progA = "[program:a]\ncommand=sleep 1000\nstartsecs=0\n"
	progB = "[program:b]\ncommand=sleep 1000\nstartsecs=0\nnumprocs=2\nprocess_name=%(program_name)s_%(process_num)d\n"
	progC = "[program:c]\ncommand=sleep 1000\nstartsecs=0\nautostart=false\n"
	progD = "[program:d]\ncommand=sleep 1000\nstartsecs=0\n"
)

// TestForegroundLifecycle drives a foreground daemon with the real
// supervisorctl through the everyday commands; the expected outputs are
// what Python supervisord 4.2.5 gives for the same sequence.
func TestForegroundLifecycle(t *testing.T) {
	e := newEnv(t, "", map[string]string{"a": progA, "b": progB, "c": progC})
	d := e.startForeground()
	e.waitStates(map[string]string{"a:a": "RUNNING", "b:b_0": "RUNNING", "b:b_1": "RUNNING", "c:c": "STOPPED"})

	out, code := e.ctl("status")
	statusRE := regexp.MustCompile(`(?m)^a +RUNNING +pid \d+, uptime 0:00:\d\d\nb:b_0 +RUNNING +pid \d+, uptime 0:00:\d\d\nb:b_1 +RUNNING +pid \d+, uptime 0:00:\d\d\nc +STOPPED +Not started\n$`)
	if !statusRE.MatchString(out) || code != 3 {
		t.Fatalf("status (exit %d):\n%s", code, out)
	}

	e.ctlOK("a: stopped", "stop", "a")
	e.ctlOK("a: started", "start", "a")
	e.ctlOK("c: started", "start", "c")
	out, _ = e.ctl("stop", "b:*")
	if sortedLines(out) != "b:b_0: stopped\nb:b_1: stopped" {
		t.Fatalf("stop b:*: %q", out)
	}
	out, _ = e.ctl("start", "b:*")
	if sortedLines(out) != "b:b_0: started\nb:b_1: started" {
		t.Fatalf("start b:*: %q", out)
	}
	e.ctlOK("a: stopped\na: started", "restart", "a")
	if out, code := e.ctl("stop", "nosuch"); out != "nosuch: ERROR (no such process)\n" || code != 1 {
		t.Fatalf("stop nosuch: %q %d", out, code)
	}
	e.ctlOK("a: ERROR (already started)", "start", "a")

	if out, _ := e.ctl("maintail"); !strings.Contains(out, "INFO spawned: 'a' with pid ") {
		t.Errorf("maintail: %q", out)
	}

	// reread / update: a removed, c changed (running), d new.
	e.setProgram("d", progD)
	e.setProgram("c", strings.Replace(progC, "sleep 1000", "sleep 999", 1))
	e.setProgram("a", "")
	e.ctlOK("a: disappeared\nc: changed\nd: available", "reread")
	avail := regexp.MustCompile(`^b:b_0 +in use +auto +999:999\nb:b_1 +in use +auto +999:999\nc +in use +manual +999:999\nd +avail +auto +999:999\n$`)
	if out, _ := e.ctl("avail"); !avail.MatchString(out) {
		t.Fatalf("avail:\n%s", out)
	}
	e.ctlOK("a: stopped\na: removed process group\nc: stopped\nc: updated process group\nd: added process group", "update")
	e.waitStates(map[string]string{"c:c": "STOPPED", "d:d": "RUNNING"})
	if _, ok := e.infos()["a:a"]; ok {
		t.Fatal("a still active after update")
	}

	// add / remove.
	e.ctlOK("ERROR: process group already active", "add", "d")
	e.ctlOK("d: stopped", "stop", "d")
	e.ctlOK("d: removed process group", "remove", "d")
	if out, code := e.ctl("remove", "d"); out != "ERROR: no such process/group: d\n" || code != 1 {
		t.Fatalf("remove d again: %q %d", out, code)
	}
	e.ctlOK("d: added process group", "add", "d")
	if out, code := e.ctl("add", "nosuch"); out != "ERROR: no such process/group: nosuch\n" || code != 1 {
		t.Fatalf("add nosuch: %q %d", out, code)
	}
	before := e.waitStates(map[string]string{"d:d": "RUNNING", "b:b_0": "RUNNING"})

	// reload: same daemon pid, new children, the config read again.
	e.setProgram("d", "")
	e.ctlOK("Restarted supervisord", "reload")
	waitFor(t, 15*time.Second, "the reload to finish", func() bool {
		m := e.infos()
		_, hasD := m["d:d"]
		return m != nil && !hasD && m["b:b_0"].StateName == "RUNNING" && m["b:b_1"].StateName == "RUNNING"
	})
	var pid int
	if err := e.rpc("supervisor.getPID", nil, &pid); err != nil || pid != d.pid {
		t.Fatalf("getPID after reload: %d, %v; want %d", pid, err, d.pid)
	}
	after := e.infos()
	if after["b:b_0"].PID == before["b:b_0"].PID {
		t.Fatal("b_0 was not restarted by reload")
	}
	assertReaped(t, pidsOf(before))

	// shutdown: exit 0, socket and pidfile removed, no child left.
	e.ctlOK("Shut down", "shutdown")
	if st := d.wait(15 * time.Second); !st.Exited() || st.ExitStatus() != 0 {
		t.Fatalf("exit status after shutdown: %v", st)
	}
	assertReaped(t, pidsOf(after))
	for _, p := range []string{e.sock(), e.pidfile()} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s still exists after shutdown", p)
		}
	}
	log := d.output()
	for _, want := range []string{"RPC interface 'supervisor' initialized", "Server 'unix_http_server' running without any HTTP authentication checking", "supervisord started with pid"} {
		if !strings.Contains(log, want) {
			t.Errorf("foreground stdout lacks %q", want)
		}
	}
	if strings.Count(e.mainLog(), "supervisord started with pid") != 2 {
		t.Errorf("want two starts (initial and reload) in the main log:\n%s", e.mainLog())
	}
	killLeftovers(t)
}

// TestDaemonMode starts supervisord as a daemon: the launcher returns 0 once
// it is up, the daemon leads its own session, writes its pidfile, handles
// SIGHUP (reload in place), SIGUSR2 (log reopen) and SIGTERM.
func TestDaemonMode(t *testing.T) {
	e := newEnv(t, "umask=027\ndirectory=%(here)s/childlogs", map[string]string{
		"a":      progA,
		"w":      "[program:w]\ncommand=/bin/sh -c 'umask; pwd; exec sleep 1000'\nstartsecs=0\nstdout_logfile=%(here)s/../w.log\n",
		"ticker": "[program:ticker]\ncommand=/bin/sh -c 'while :; do echo tick; sleep 0.05; done'\nstartsecs=0\nstopasgroup=true\nstdout_logfile=%(here)s/../ticker.log\n",
	})
	d := e.startDaemonized()
	before := e.waitStates(map[string]string{"a:a": "RUNNING", "w:w": "RUNNING", "ticker:ticker": "RUNNING"})

	if sid, _, errno := syscall.RawSyscall(syscall.SYS_GETSID, uintptr(d.pid), 0, 0); errno != 0 || int(sid) != d.pid {
		t.Errorf("daemon session id %d (errno %v), want its own pid %d", sid, errno, d.pid)
	}
	var wlog string
	waitFor(t, 30*time.Second, "w's output", func() bool {
		b, _ := os.ReadFile(e.dir + "/w.log")
		wlog = string(b)
		return strings.Count(wlog, "\n") >= 2
	})
	if wlog != "0027\n"+e.dir+"/childlogs\n" {
		t.Errorf("child umask/cwd %q; want the daemon's umask 0027 and directory", wlog)
	}
	if out, code := e.ctl("pid"); strings.TrimSpace(out) != itoa(d.pid) || code != 0 {
		t.Errorf("supervisorctl pid: %q", out)
	}

	// logrotate's way: move the files away, then SIGUSR2.
	ticker := e.dir + "/ticker.log"
	if err := os.Rename(ticker, ticker+".1"); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(e.logfile(), e.logfile()+".1"); err != nil {
		t.Fatal(err)
	}
	d.signal(syscall.SIGUSR2)
	// As in Python, both lines go to the old file, just before the reopen.
	waitFor(t, 30*time.Second, "log reopen", func() bool {
		b, _ := os.ReadFile(e.logfile() + ".1")
		return strings.Contains(string(b), "INFO received SIGUSR2 indicating log reopen request") &&
			strings.Contains(string(b), "INFO supervisord logreopen")
	})
	waitFor(t, 30*time.Second, "the child log reopened", func() bool {
		b, _ := os.ReadFile(ticker)
		return strings.HasPrefix(string(b), "tick\n")
	})
	if _, err := os.Stat(e.logfile()); err != nil {
		t.Errorf("main log not reopened: %v", err)
	}

	d.signal(syscall.SIGHUP)
	waitFor(t, 15*time.Second, "the SIGHUP restart", func() bool {
		m := e.infos()
		return m != nil && m["a:a"].StateName == "RUNNING" && m["a:a"].PID != before["a:a"].PID
	})
	assertReaped(t, pidsOf(before))
	if !strings.Contains(e.mainLog(), "WARN received SIGHUP indicating restart request") {
		t.Error("no SIGHUP line in the main log")
	}
	if b, err := os.ReadFile(e.pidfile()); err != nil || string(b) != itoa(d.pid)+"\n" {
		t.Errorf("pidfile after reload: %q, %v", b, err)
	}

	after := e.infos()
	d.signal(syscall.SIGTERM)
	if st := d.wait(15 * time.Second); !st.Exited() || st.ExitStatus() != 0 {
		t.Fatalf("exit status after SIGTERM: %v", st)
	}
	assertReaped(t, pidsOf(after))
	if !strings.Contains(e.mainLog(), "WARN received SIGTERM indicating exit request") {
		t.Error("no SIGTERM line in the main log")
	}
	for _, p := range []string{e.sock(), e.pidfile()} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s still exists after SIGTERM", p)
		}
	}
	killLeftovers(t)
}

func itoa(n int) string { return strconv.Itoa(n) }

// Programs that make stopping hard: one ignores SIGTERM (SIGKILL after
// stopwaitsecs), one has a grandchild that only a group stop reaches.
const (
	progStubborn = "[program:stubborn]\ncommand=/bin/sh -c 'trap \"\" TERM; touch %(here)s/stubborn.trapped; while :; do sleep 0.2; done'\nstartsecs=0\nstopwaitsecs=1\nstopasgroup=true\n"
	progFamily   = "[program:family]\ncommand=/bin/sh -c 'sleep 1000 & sleep 1000 & wait'\nstartsecs=0\nstopasgroup=true\npriority=10\n"
)

// descendants returns the pids of every process below pid.
func descendants(pid int) []int {
	kids := map[int][]int{}
	ents, _ := os.ReadDir("/proc")
	for _, ent := range ents {
		p, err := strconv.Atoi(ent.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + ent.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) > 1 {
			pp, _ := strconv.Atoi(f[1])
			kids[pp] = append(kids[pp], p)
		}
	}
	var out []int
	var walk func(int)
	walk = func(p int) {
		for _, c := range kids[p] {
			out = append(out, c)
			walk(c)
		}
	}
	walk(pid)
	return out
}

// TestNoChildSurvivesShutdown stops a daemon each way a user can (each exit
// signal, supervisorctl shutdown), in both modes, and checks that every
// process it started, grandchildren included, is gone and reaped.
func TestNoChildSurvivesShutdown(t *testing.T) {
	ways := []struct {
		name      string
		daemonize bool
		stop      func(e *env, d *testDaemon)
	}{
		{"SIGTERM", false, func(_ *env, d *testDaemon) { d.signal(syscall.SIGTERM) }},
		{"SIGINT", false, func(_ *env, d *testDaemon) { d.signal(syscall.SIGINT) }},
		{"SIGQUIT", true, func(_ *env, d *testDaemon) { d.signal(syscall.SIGQUIT) }},
		{"SIGTERM daemonized", true, func(_ *env, d *testDaemon) { d.signal(syscall.SIGTERM) }},
		{"supervisorctl shutdown", true, func(e *env, _ *testDaemon) { e.ctlOK("Shut down", "shutdown") }},
	}
	for _, w := range ways {
		t.Run(w.name, func(t *testing.T) {
			e := newEnv(t, "", map[string]string{"stubborn": progStubborn, "family": progFamily, "a": progA})
			var d *testDaemon
			if w.daemonize {
				d = e.startDaemonized()
			} else {
				d = e.startForeground()
			}
			infos := e.waitStates(map[string]string{"a:a": "RUNNING", "stubborn:stubborn": "RUNNING", "family:family": "RUNNING"})
			// Wait for family's two sleeps (the shell forks them after
			// RUNNING), then take every descendant: a, stubborn (and its
			// passing sleep), family and its sleeps.
			waitFor(t, 60*time.Second, "family's grandchildren", func() bool {
				return len(descendants(infos["family:family"].PID)) >= 2
			})
			// stubborn is RUNNING once spawned; it ignores SIGTERM only
			// once its shell has run the trap.
			waitFile(t, filepath.Join(e.dir, "progs", "stubborn.trapped"))
			all := descendants(d.pid)
			direct := pidsOf(infos)
			w.stop(e, d)
			if st := d.wait(60 * time.Second); !st.Exited() || st.ExitStatus() != 0 {
				t.Fatalf("exit status: %v", st)
			}
			assertReaped(t, direct)
			assertGone(t, all)
			killLeftovers(t)
			log := e.mainLog()
			// Python's WARN line "killing 'stubborn' (pid) with SIGKILL" (the
			// DEBG line "killing stubborn (pid N) with signal SIGTERM" comes first).
			if !regexp.MustCompile(`WARN killing 'stubborn' \(\d+\) with SIGKILL`).MatchString(log) {
				t.Errorf("stubborn was not SIGKILLed after stopwaitsecs:\n%s", log)
			}
		})
	}
}

// TestSignalsDuringShutdown: a second SIGTERM is logged and changes
// nothing; SIGHUP during a shutdown is ignored with Python's message. A
// program that ignores SIGTERM until the test releases it (stopwaitsecs far
// away) holds the shutdown open for as long as the checks take.
func TestSignalsDuringShutdown(t *testing.T) {
	e := newEnv(t, "", nil)
	release := filepath.Join(e.dir, "release")
	e.setProgram("stubborn", "[program:stubborn]\ncommand=/bin/sh -c 'trap \"\" TERM; touch %(here)s/trapped; while [ ! -e "+release+
		" ]; do sleep 0.1; done'\nstartsecs=0\nstopwaitsecs=300\nstopasgroup=true\n")
	d := e.startForeground()
	e.waitStates(map[string]string{"stubborn:stubborn": "RUNNING"})
	// RUNNING (startsecs=0) comes as soon as the shell is spawned: a
	// SIGTERM before its trap would end it and the shutdown with it.
	waitFile(t, filepath.Join(e.dir, "progs", "trapped"))
	d.signal(syscall.SIGTERM)
	waitFor(t, 60*time.Second, "the shutdown to begin", func() bool {
		return strings.Contains(e.mainLog(), "received SIGTERM indicating exit request")
	})
	d.signal(syscall.SIGHUP)
	d.signal(syscall.SIGTERM)
	waitFor(t, 60*time.Second, "the second SIGTERM and the SIGHUP in the log", func() bool {
		log := e.mainLog()
		if strings.Count(log, "received SIGTERM indicating exit request") == 2 && strings.Contains(log, "SIGHUP") {
			return true
		}
		select {
		case <-d.done:
			t.Fatalf("supervisord exited before the second SIGTERM (%v):\n%s", d.status, log)
		default:
		}
		return false
	})
	var infos []procInfo
	if err := e.rpc("supervisor.getAllProcessInfo", nil, &infos); err == nil || !strings.Contains(err.Error(), "SHUTDOWN_STATE") {
		t.Errorf("getAllProcessInfo during shutdown: %v; want a SHUTDOWN_STATE fault", err)
	}
	if out, _ := e.ctl("status"); !strings.Contains(out, "SHUTDOWN_STATE") {
		t.Errorf("status during shutdown: %q; want a SHUTDOWN_STATE error", out)
	}
	select {
	case <-d.done:
		t.Fatalf("supervisord exited before the stubborn program did (%v):\n%s", d.status, e.mainLog())
	default:
	}
	if err := os.WriteFile(release, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if st := d.wait(60 * time.Second); !st.Exited() || st.ExitStatus() != 0 {
		t.Fatalf("exit status: %v", st)
	}
	log := e.mainLog()
	if n := strings.Count(log, "WARN received SIGTERM indicating exit request"); n != 2 {
		t.Errorf("%d SIGTERM lines, want 2:\n%s", n, log)
	}
	if !strings.Contains(log, "WARN ignored SIGHUP indicating restart request (shutdown in progress)") {
		t.Errorf("SIGHUP during shutdown not ignored:\n%s", log)
	}
	if strings.Contains(log, "killing 'stubborn'") {
		t.Errorf("stubborn was SIGKILLed although it had stopwaitsecs to spare:\n%s", log)
	}
	if strings.Count(log, "supervisord started with pid") != 1 {
		t.Errorf("the daemon restarted:\n%s", log)
	}
	killLeftovers(t)
}

// TestStartupErrors: failures before the daemon runs give Python's usage
// error on the terminal and exit 2, in daemon mode too (the launcher waits
// for the detached copy's verdict).
func TestStartupErrors(t *testing.T) {
	needOracle(t)
	e := newEnv(t, "", map[string]string{"a": progA})
	d := e.startForeground()

	// Same socket, a live daemon behind it.
	for _, args := range [][]string{{"-n", "-c", e.conf}, {"-c", e.conf}} {
		out, code := runCmd(t, ourBin, args...)
		want := "Error: Another program is already listening on a port that one of our HTTP servers is configured to use.  Shut this program down first before starting supervisord.\nFor help, use " + ourBin + " -h\n"
		if code != 2 || !strings.HasSuffix(out, want) {
			t.Errorf("%v with the socket in use: exit %d, %q", args, code, out)
		}
	}
	d.signal(syscall.SIGTERM)
	d.wait(15 * time.Second)

	// An address we cannot bind (TEST-NET-1 is never local), compared
	// with Python: "socket.error reported errno.EADDRNOTAVAIL (99)".
	e.write("supervisord.conf", strings.Replace(strings.Replace(baseConf, "{SUPERVISORD}", "", 1),
		"[supervisord]", "[inet_http_server]\nport=192.0.2.1:9001\n\n[supervisord]", 1))
	for _, args := range [][]string{{"-n", "-c", e.conf}, {"-c", e.conf}} {
		out, code := runCmd(t, ourBin, args...)
		pyOut, pyCode := runCmd(t, pySupervisord, args...)
		last := func(s string) string { // the usage lines, after any log lines
			if i := strings.Index(s, "Error: "); i >= 0 {
				return s[i:]
			}
			return s
		}
		if last(out) != strings.ReplaceAll(last(pyOut), pySupervisord, ourBin) || code != pyCode {
			t.Errorf("%v unbindable address: ours %d %q, python %d %q", args, code, last(out), pyCode, last(pyOut))
		}
	}
	e.write("supervisord.conf", strings.Replace(baseConf, "{SUPERVISORD}", "", 1))

	// A config error, in daemon mode.
	e.setProgram("bad", "[program:bad]\n")
	out, code := runCmd(t, ourBin, "-c", e.conf)
	pyOut, pyCode := runCmd(t, pySupervisord, "-c", e.conf)
	if out != strings.ReplaceAll(pyOut, pySupervisord, ourBin) || code != pyCode || code != 2 {
		t.Errorf("bad config: ours %d %q, python %d %q", code, out, pyCode, pyOut)
	}
	killLeftovers(t)
}

// TestReloadKeepsConfigOnError: a SIGHUP with a broken config keeps the
// daemon up on the config it had (Python exits) and says why in the log.
func TestReloadKeepsConfigOnError(t *testing.T) {
	e := newEnv(t, "", map[string]string{"a": progA})
	d := e.startForeground()
	before := e.waitStates(map[string]string{"a:a": "RUNNING"})
	e.setProgram("bad", "[program:bad]\n")
	d.signal(syscall.SIGHUP)
	waitFor(t, 15*time.Second, "the restart on the old config", func() bool {
		m := e.infos()
		return m != nil && m["a:a"].StateName == "RUNNING" && m["a:a"].PID != before["a:a"].PID
	})
	if log := e.mainLog(); !strings.Contains(log, "CRIT could not re-read the configuration, restarting with the previous one: [program:bad] section is missing a value for command") &&
		!strings.Contains(log, "CRIT could not re-read the configuration") {
		t.Errorf("no CRIT line for the failed re-read:\n%s", log)
	}
	// reread reports the error as CANT_REREAD.
	if out, _ := e.ctl("reread"); !strings.HasPrefix(out, "ERROR: CANT_REREAD: ") {
		t.Errorf("reread with a broken config: %q", out)
	}
	d.signal(syscall.SIGTERM)
	d.wait(15 * time.Second)
	killLeftovers(t)
}
