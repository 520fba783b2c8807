package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// diffRow is one command line run through both clients against the same
// daemon in the same state.
type diffRow struct {
	name      string
	args      []string // after "-c <conf>"; {sock}, {port}, {dir} are expanded
	noConf    bool     // do not pass -c
	stdin     string
	interrupt time.Duration
	// prep runs before each client's run and puts the daemon in the
	// state the row needs (so a state-changing command sees the same
	// state twice).
	prep func(d *testDaemon)
	// after runs after each client's run (e.g. wait for a reload).
	after func(d *testDaemon)
	// unordered compares stdout as a sorted set of lines: the "all" and
	// group results come back in the order the processes finished
	// starting or stopping, in Python's daemon as in ours.
	unordered bool
	// goDaemonOnly skips the row against Python's daemon.
	goDaemonOnly bool
	// firstLine compares only the first stdout line (a stream whose
	// content legitimately changes between runs, like the main log).
	firstLine bool
}

func ensureRunning(names ...string) func(*testDaemon) {
	return func(d *testDaemon) { d.ensure(true, names...) }
}

func ensureStopped(names ...string) func(*testDaemon) {
	return func(d *testDaemon) { d.ensure(false, names...) }
}

func restore(d *testDaemon) { d.restoreBaseline() }

// withExtra writes the config with [program:extra] and makes the extra
// group active (active=true) or not.
func withExtra(configured, active bool) func(*testDaemon) {
	return func(d *testDaemon) {
		d.writeConfig(true)
		if _, err := d.call("supervisor.reloadConfig"); err != nil {
			d.t.Fatalf("reloadConfig: %v", err)
		}
		st, err := d.states()
		if err != nil {
			d.t.Fatal(err)
		}
		_, isActive := st["extra"]
		switch {
		case active && !isActive:
			if _, err := d.call("supervisor.addProcessGroup", "extra"); err != nil {
				d.t.Fatalf("addProcessGroup: %v", err)
			}
		case !active && isActive:
			d.ensure(false, "extra")
			if _, err := d.call("supervisor.removeProcessGroup", "extra"); err != nil {
				d.t.Fatalf("removeProcessGroup: %v", err)
			}
		}
		if !configured {
			d.writeConfig(false)
		}
	}
}

// changedExtra makes the extra group active as first configured (removing
// a changed one), then changes its command in the config.
func changedExtra(d *testDaemon) {
	withExtra(true, false)(d)
	withExtra(true, true)(d)
	d.ensure(true, "extra")
	d.writeConfig(true)
	text, err := os.ReadFile(d.conf)
	if err != nil {
		d.t.Fatal(err)
	}
	changed := strings.Replace(string(text), "command=/bin/sleep 1000\nautostart=false\n", "command=/bin/sleep 999\nautostart=false\n", 1)
	changed = strings.Replace(changed, "[program:extra]\ncommand=/bin/sleep 1000", "[program:extra]\ncommand=/bin/sleep 999", 1)
	if err := os.WriteFile(d.conf, []byte(changed), 0o644); err != nil {
		d.t.Fatal(err)
	}
}

func diffRows() []diffRow {
	var sleeperPID int64 // before a reload
	return []diffRow{
		// read-only views
		{name: "status", args: []string{"status"}},
		{name: "status all", args: []string{"status", "all"}},
		{name: "status names", args: []string{"status", "sleeper", "grp:grp_0"}},
		{name: "status group star", args: []string{"status", "grp:*"}},
		{name: "status group colon", args: []string{"status", "grp:"}},
		{name: "status stopped", args: []string{"status", "sleeper", "manual"}},
		{name: "status bad names", args: []string{"status", "nosuch", "nog:*", "grp:nope", "sleeper"}},
		{name: "status unknown and stopped", args: []string{"status", "nosuch", "manual"}},
		{name: "status long name", args: []string{"status", "a_program_with_a_rather_long_name_x", "sleeper"}},
		// no -c: both find ./supervisord.conf in the working directory
		{name: "config search", noConf: true, args: []string{"status", "sleeper"}},
		{name: "status joined args", args: []string{"status sleeper", "talker"}},
		{name: "pid daemon", args: []string{"pid"}},
		{name: "pid names", args: []string{"pid", "sleeper", "manual", "nosuch"}},
		{name: "pid all", args: []string{"pid", "all"}},
		{name: "avail", args: []string{"avail"}},
		{name: "version", args: []string{"version"}},
		{name: "tail", args: []string{"tail", "talker"}},
		{name: "tail stderr", args: []string{"tail", "talker", "STDERR"}},
		{name: "tail bytes", args: []string{"tail", "-4", "talker"}},
		{name: "tail offset", args: []string{"tail", "--3", "talker", "stdout"}},
		{name: "tail control character", args: []string{"tail", "binary"}},
		{name: "tail -f control character", args: []string{"tail", "-f", "binary"}, interrupt: 500 * time.Millisecond},
		{name: "tail invalid utf-8", args: []string{"tail", "undecodable"}},
		{name: "tail -f invalid utf-8", args: []string{"tail", "-f", "undecodable"}, interrupt: 500 * time.Millisecond},
		{name: "tail no process", args: []string{"tail", "nosuch"}},
		{name: "tail bad channel", args: []string{"tail", "talker", "foo"}},
		{name: "tail bad modifier", args: []string{"tail", "-x", "talker"}},
		{name: "tail too many", args: []string{"tail", "a", "b", "c", "d"}},
		{name: "tail overflow", args: []string{"tail", "-99999999999", "talker"}},
		{name: "tail -f", args: []string{"tail", "-f", "talker"}, interrupt: 500 * time.Millisecond},
		{name: "tail -f stderr", args: []string{"tail", "-f", "talker", "stderr"}, interrupt: 500 * time.Millisecond},
		{name: "tail -f no process", args: []string{"tail", "-f", "nosuch"}},
		{name: "maintail last byte", args: []string{"maintail", "-1"}},
		{name: "maintail bad", args: []string{"maintail", "x"}},
		{name: "maintail -f", args: []string{"maintail", "-f"}, interrupt: 500 * time.Millisecond, firstLine: true},
		{name: "signal", args: []string{"signal", "CONT", "sleeper", "grp:*", "nosuch", "nog:*"}},
		{name: "signal bad", args: []string{"signal", "NOPE", "sleeper"}},
		{name: "signal not running", args: []string{"signal", "CONT", "manual"}},
		{name: "signal all", args: []string{"signal", "CONT", "all"}},
		{name: "signal usage", args: []string{"signal", "HUP"}},
		{name: "fg errors", args: []string{"fg", "nosuch"}},
		{name: "fg not running", args: []string{"fg", "manual"}},
		{name: "fg usage", args: []string{"fg"}},

		// state changes, each run from the same state
		{name: "start", args: []string{"start", "manual"}, prep: ensureStopped("manual")},
		{name: "start already", args: []string{"start", "manual", "nosuch", "nog:*"}, prep: ensureRunning("manual")},
		{name: "stop", args: []string{"stop", "manual", "nosuch"}, prep: ensureRunning("manual")},
		{name: "stop not running", args: []string{"stop", "manual", "nog:*"}, prep: ensureStopped("manual")},
		{name: "start no file", args: []string{"start", "missing"}},
		{name: "start spawn error", args: []string{"start", "quick"}},
		{name: "restart", args: []string{"restart", "sleeper", "manual"}, prep: ensureStopped("manual")},
		{name: "restart group", unordered: true, args: []string{"restart", "grp:*"}},
		{name: "stop group", unordered: true, args: []string{"stop", "grp:*"}, prep: ensureRunning("grp:grp_0", "grp:grp_1")},
		{name: "start group", unordered: true, args: []string{"start", "grp:"}, prep: func(d *testDaemon) {
			d.ensure(true, "grp:grp_1")
			d.ensure(false, "grp:grp_0")
		}},
		{name: "status after stop", args: []string{"status", "manual", "grp:*"}, prep: ensureStopped("manual", "grp:grp_0")},
		{name: "stop all", unordered: true, args: []string{"stop", "all"}, prep: restore},
		{name: "start all", unordered: true, args: []string{"start", "all"}, prep: func(d *testDaemon) {
			if _, err := d.call("supervisor.stopAllProcesses"); err != nil {
				d.t.Fatal(err)
			}
		}, after: restore},
		{name: "clear", args: []string{"clear", "talker", "nosuch"}, prep: restore},
		// a group spec names its process None, as make_namespec(group, None) does
		{name: "clear group", args: []string{"clear", "grp:*", "nog:"}},
		// Python's clearAllProcessLogs clears one process per 1 s tick of
		// its loop (7 s a run here), so this row runs on our daemon only.
		{name: "clear all", args: []string{"clear", "all"}, goDaemonOnly: true},
		{name: "tail after clear", args: []string{"tail", "talker"}},

		// config changes
		{name: "reread none", args: []string{"reread"}},
		{name: "reread added", args: []string{"reread"}, prep: withExtra(true, false)},
		{name: "avail with extra", args: []string{"avail"}, prep: withExtra(true, false)},
		{name: "add", args: []string{"add", "extra", "nosuch"}, prep: withExtra(true, false)},
		{name: "add already", args: []string{"add", "extra"}, prep: withExtra(true, true)},
		{name: "remove", args: []string{"remove", "extra"}, prep: withExtra(true, true)},
		{name: "remove running", args: []string{"remove", "extra", "nosuch"}, prep: func(d *testDaemon) {
			withExtra(true, true)(d)
			d.ensure(true, "extra")
		}},
		{name: "update added", args: []string{"update"}, prep: withExtra(true, false)},
		{name: "update named", args: []string{"update", "extra", "nosuch"}, prep: withExtra(true, false)},
		{name: "update removed", args: []string{"update", "all"}, prep: withExtra(false, true)},
		{name: "reread removed", args: []string{"reread"}, prep: withExtra(false, true)},
		{name: "reread changed", args: []string{"reread"}, prep: changedExtra},
		{name: "update changed", args: []string{"update", "extra"}, prep: changedExtra},
		{name: "update nothing", args: []string{"update"}, prep: withExtra(false, false)},

		// authentication over the inet server
		{name: "auth required", args: []string{"-s", "http://127.0.0.1:{port}", "status"}},
		{name: "auth required avail", args: []string{"-s", "http://127.0.0.1:{port}", "avail"}},
		{name: "auth ok", args: []string{"-s", "http://127.0.0.1:{port}", "-u", "user", "-p", "pw", "status", "sleeper"}},
		{name: "auth bad", args: []string{"-s", "http://127.0.0.1:{port}", "--username=user", "--password", "bad", "version"}},
		{name: "auth tail -f", args: []string{"-s", "http://127.0.0.1:{port}", "-u", "user", "-p", "pw", "tail", "-f", "talker"}, interrupt: 500 * time.Millisecond},
		{name: "auth interactive", args: []string{"-s", "http://127.0.0.1:{port}"}, stdin: "user\npw\nversion\n"},
		{name: "auth interactive eof", args: []string{"-s", "http://127.0.0.1:{port}"}, stdin: "user\n"},

		// the interactive shell
		{name: "shell", stdin: "status sleeper\npid manual\n\nnosuch\nversion\nhelp quit\n?\nopen foo:bar\nopen unix://{sock}\nexit\nstatus\n"},
		{name: "shell eof", stdin: "avail\n"},
		{name: "shell tail -f", stdin: "tail -f talker\nversion\n", interrupt: 500 * time.Millisecond},
		{name: "shell shutdown declined", stdin: "shutdown\nn\nreload\nNo\nversion\n"},
		{name: "interactive flag with command", args: []string{"-i", "shutdown"}, stdin: "n\n"},
		{name: "interactive reload eof", args: []string{"-i", "reload"}},

		// the daemon restarts and stops
		{name: "reload", args: []string{"reload"}, prep: func(d *testDaemon) {
			sleeperPID = d.pid("sleeper")
		}, after: func(d *testDaemon) {
			// Python's reload keeps the socket: wait for the new
			// processes (a new sleeper, then the baseline), not for
			// a time the old ones might still be there.
			deadline := time.Now().Add(60 * time.Second)
			for pid := d.pid("sleeper"); pid == 0 || pid == sleeperPID; pid = d.pid("sleeper") {
				if time.Now().After(deadline) {
					d.t.Fatalf("%s supervisord: sleeper still pid %d 60 s after reload", d.kind, pid)
				}
				time.Sleep(50 * time.Millisecond)
			}
			d.waitBaseline()
		}},
		{name: "shutdown", args: []string{"shutdown"}, prep: func(d *testDaemon) {
			if !d.running() {
				d.start()
			}
		}, after: func(d *testDaemon) { d.waitExit() }},
		{name: "status down", args: []string{"status"}},
		{name: "shutdown down", args: []string{"shutdown"}},
		{name: "avail down", args: []string{"avail"}},
		{name: "tail down", args: []string{"tail", "x"}},
		{name: "open down", stdin: "open unix://{dir}/nosock\nversion\n"},
	}
}

func expand(s string, d *testDaemon) string {
	r := strings.NewReplacer("{sock}", d.sock(), "{port}", strconv.Itoa(d.port), "{dir}", d.dir)
	return r.Replace(s)
}

// TestDifferential runs every row through Python's supervisorctl and ours
// against one Python supervisord, then against our supervisord, and
// compares stdout, stderr and the exit status.
func TestDifferential(t *testing.T) {
	needOracle(t)
	needBinaries(t)
	// the two daemons run side by side: most of the time is spent
	// waiting for them
	t.Run("daemons", func(t *testing.T) {
		for _, kind := range []string{"python", "go"} {
			t.Run(kind, func(t *testing.T) {
				t.Parallel()
				differential(t, kind)
			})
		}
	})
	assertNoChildren(t)
}

func differential(t *testing.T, kind string) {
	z := startZygote(t)
	d := newDaemon(t, kind)
	d.start()
	for _, row := range diffRows() {
		if row.goDaemonOnly && kind != "go" {
			continue
		}
		rowStart := time.Now()
		args := []string{"-c", d.conf}
		if row.noConf {
			args = nil
		}
		for _, a := range row.args {
			args = append(args, expand(a, d))
		}
		run := ctlRun{args: args, stdin: expand(row.stdin, d), interrupt: row.interrupt, dir: d.dir}
		var res [2]ctlResult
		for i, bin := range []string{pyCtl, ourCtl} {
			if row.prep != nil {
				row.prep(d)
			}
			var r ctlResult
			if bin == pyCtl {
				r = z.run(run)
			} else {
				r = runCtl(t, bin, run)
			}
			r.Stdout = normalize(r.Stdout, d.dir, bin)
			r.Stderr = normalize(r.Stderr, d.dir, bin)
			if row.unordered {
				lines := strings.SplitAfter(r.Stdout, "\n")
				sort.Strings(lines)
				r.Stdout = strings.Join(lines, "")
			}
			if row.firstLine {
				r.Stdout, _, _ = strings.Cut(r.Stdout, "\n")
			}
			res[i] = r
			if row.after != nil {
				row.after(d)
			}
		}
		if testing.Verbose() {
			t.Logf("%-30s %v", row.name, time.Since(rowStart).Round(time.Millisecond))
		}
		py, ours := res[0], res[1]
		if dump := os.Getenv("SUPERVISORCTL_DUMP_DIR"); dump != "" {
			// for comparing the two daemons by hand: one file per row
			text := fmt.Sprintf("exit %d\n--- stdout\n%s--- stderr\n%s", py.Exit, py.Stdout, py.Stderr)
			name := filepath.Join(dump, kind, strings.ReplaceAll(row.name, " ", "_"))
			if err := os.MkdirAll(filepath.Dir(name), 0o755); err == nil {
				os.WriteFile(name, []byte(text), 0o644)
			}
		}
		if py != ours {
			t.Errorf("%s: supervisorctl %s\n python: exit %d\nstdout:\n%s\nstderr:\n%s\n    ours: exit %d\nstdout:\n%s\nstderr:\n%s",
				row.name, strings.Join(args, " "), py.Exit, py.Stdout, py.Stderr, ours.Exit, ours.Stdout, ours.Stderr)
		}
	}
	d.stop()
}
