package reliability

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestDaemonPaused SIGSTOPs the daemon (-pause, default 3 s: the issue's
// 10 s costs 7 s more of the fast set for the same outcome; run with
// -pause=10s for it) while one child exits, one is in its startsecs, one
// crash-loops and one ignores a SIGTERM already sent: after SIGCONT every
// timer fires as Python's would and every process ends in the right state.
func TestDaemonPaused(t *testing.T) {
	progs := `[program:exits]
command=sh -c "sleep 1; exit 3"
startsecs=0
autorestart=false

[program:slowstart]
command=sleep 1000
startsecs=2
autostart=false

[program:crashloop]
command=sh -c "exit 1"
startretries=2

[program:ignoreterm]
command=/usr/bin/python3 -c "import signal,time; signal.signal(signal.SIGTERM, signal.SIG_IGN); open('%(here)s/ignoreterm.ready', 'w'); print('ready', flush=True); time.sleep(1000)"
startsecs=0
stopwaitsecs=1
autostart=false
`
	eachFlavor(t, func(t *testing.T, fl flavor) {
		d := start(t, fl, setup{programs: progs})
		d.mustCall("supervisor.startProcess", []any{"ignoreterm", true}, nil)
		d.waitState(30*time.Second, "ignoreterm:ignoreterm", "RUNNING")
		// RUNNING comes at spawn: the SIGTERM must find it ignoring.
		waitFile(t, filepath.Join(d.dir, "ignoreterm.ready"))
		d.mustCall("supervisor.stopProcess", []any{"ignoreterm", false}, nil)
		d.mustCall("supervisor.startProcess", []any{"slowstart", false}, nil)
		syscall.Kill(d.pid, syscall.SIGSTOP)
		time.Sleep(*pauseFlag)
		syscall.Kill(d.pid, syscall.SIGCONT)
		t0 := time.Now()
		var st struct {
			Code int `xmlrpc:"statecode"`
		}
		d.mustCall("supervisor.getState", nil, &st)
		figure(t, fl, "first_answer_after_continue_ms", time.Since(t0).Milliseconds())
		figure(t, fl, "pause", *pauseFlag)
		got := d.waitState(30*time.Second, "exits:exits", "EXITED")
		if got.ExitStatus != 3 {
			t.Errorf("exits: exit status %d, want 3", got.ExitStatus)
		}
		d.waitState(30*time.Second, "slowstart:slowstart", "RUNNING")
		d.waitState(30*time.Second, "crashloop:crashloop", "FATAL")
		d.waitState(30*time.Second, "ignoreterm:ignoreterm", "STOPPED")
		if log := d.mainLog(); !strings.Contains(log, "stopped: ignoreterm (terminated by SIGKILL)") {
			t.Errorf("ignoreterm was not SIGKILLed after stopwaitsecs:\n%s", log)
		}
		d.settleConsistent(10 * time.Second)
	})
}

// TestReloadStorm: SIGHUP storms, reloadConfig and update while
// -stormprogs programs (200; the 1,000 with -stormprogs=1000) start, then stopAllProcesses racing startAllProcesses: the
// daemon stays up and its table agrees with /proc once things settle.
func TestReloadStorm(t *testing.T) {
	n := *stormProgs
	progs := fmt.Sprintf("[program:p]\ncommand=sleep 1000\nprocess_name=%%(program_name)s%%(process_num)03d\nnumprocs=%d\nstartsecs=1\nstopwaitsecs=5\n", n)
	eachFlavor(t, func(t *testing.T, fl flavor) {
		d := start(t, fl, setup{programs: progs, extra: "minfds=4096"})
		t0 := time.Now()
		for range 5 {
			syscall.Kill(d.pid, syscall.SIGHUP)
			time.Sleep(100 * time.Millisecond)
		}
		var wg sync.WaitGroup
		errs := make(chan error, 16)
		for i := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var r any
				if i%2 == 0 {
					errs <- d.call("supervisor.reloadConfig", nil, &r)
				} else {
					// supervisorctl update: reloadConfig, then nothing
					// changed, so no add/remove.
					errs <- d.call("supervisor.getAllProcessInfo", nil, &r)
				}
			}()
		}
		wg.Wait()
		close(errs)
		failed := 0
		for err := range errs {
			if err != nil {
				failed++
				t.Logf("%s: call during the storm: %v", fl.name, err)
			}
		}
		figure(t, fl, "calls_failed_during_sighup_storm", failed)
		d.waitAll(time.Duration(n)*600*time.Millisecond, "RUNNING", n)
		figure(t, fl, "programs", n)
		figure(t, fl, "all_running_after_storm_s", fmt.Sprintf("%.1f", time.Since(t0).Seconds()))

		// stop all racing start all, three rounds.
		for range 3 {
			var wg sync.WaitGroup
			for _, m := range []string{"supervisor.stopAllProcesses", "supervisor.startAllProcesses"} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					var r any
					if err := d.call(m, []any{true}, &r); err != nil {
						t.Logf("%s %s: %v", fl.name, m, err)
					}
				}()
			}
			wg.Wait()
			d.settleConsistent(time.Duration(n) * 300 * time.Millisecond)
		}
		figure(t, fl, "states_after_race", fmt.Sprint(d.countStates()))
		d.mustCall("supervisor.startAllProcesses", []any{true}, nil)
		d.waitAll(time.Duration(n)*600*time.Millisecond, "RUNNING", n)
		d.settleConsistent(time.Duration(n) * 150 * time.Millisecond)
	})
}

// TestClientGoneMidCall: a client that disconnects in the middle of a
// waiting startProcess or stopProcess does not stop the transition.
func TestClientGoneMidCall(t *testing.T) {
	progs := `[program:slow]
command=sleep 1000
startsecs=2
autostart=false

[program:stubborn]
command=/usr/bin/python3 -c "import signal,time; signal.signal(signal.SIGTERM, signal.SIG_IGN); open('%(here)s/stubborn.ready', 'w'); print('ready', flush=True); time.sleep(1000)"
startsecs=0
stopwaitsecs=2
`
	eachFlavor(t, func(t *testing.T, fl flavor) {
		d := start(t, fl, setup{programs: progs})
		d.waitState(30*time.Second, "stubborn:stubborn", "RUNNING")
		// The stop must wait out stopwaitsecs: stubborn ignores SIGTERM
		// once it has said so (RUNNING comes at spawn).
		waitFile(t, filepath.Join(d.dir, "stubborn.ready"))
		for _, call := range []string{
			string(methodCall("supervisor.startProcess", "<param><value><string>slow</string></value></param><param><value><boolean>1</boolean></value></param>")),
			string(methodCall("supervisor.stopProcess", "<param><value><string>stubborn</string></value></param><param><value><boolean>1</boolean></value></param>")),
		} {
			c, err := d.dial(false)
			if err != nil {
				t.Fatal(err)
			}
			c.Write(rpcRequest([]byte(call), ""))
			time.Sleep(200 * time.Millisecond) // let the call begin
			c.(*net.UnixConn).CloseWrite()
			c.Close()
		}
		d.waitState(30*time.Second, "slow:slow", "RUNNING")
		d.waitState(30*time.Second, "stubborn:stubborn", "STOPPED")
		d.settleConsistent(10 * time.Second)
	})
}

// listenerScript is a Python event listener that misbehaves: mode "mute"
// says READY and never reads, "garbage" answers each event with junk,
// "die" exits after reading an event's header.
const listenerScript = `import sys
mode = sys.argv[1]
def w(s):
    sys.stdout.write(s); sys.stdout.flush()
w("READY\n")
if mode == "mute":
    import time; time.sleep(1000)
while True:
    line = sys.stdin.readline()
    if not line:
        sys.exit(0)
    headers = dict(x.split(":") for x in line.split())
    if mode == "die":
        sys.exit(1)
    sys.stdin.read(int(headers["len"]))
    w("GARBAGE\n")
    w("READY\n")
`

// TestBadEventListeners: listeners that never read, answer garbage, or
// die mid-event, while a crash-looping program feeds them events: the
// daemon keeps answering and its table agrees with /proc.
func TestBadEventListeners(t *testing.T) {
	eachFlavor(t, func(t *testing.T, fl flavor) {
		dir := t.TempDir()
		script := filepath.Join(dir, "listener.py")
		os.WriteFile(script, []byte(listenerScript), 0o644)
		progs := "[program:crash]\ncommand=sh -c \"sleep 0.2; exit 1\"\nstartsecs=0\nautorestart=true\n\n"
		for _, mode := range []string{"mute", "garbage", "die"} {
			progs += fmt.Sprintf("[eventlistener:%s]\ncommand=/usr/bin/python3 %s %s\nevents=PROCESS_STATE,TICK_5\nbuffer_size=10\n\n", mode, script, mode)
		}
		d := start(t, fl, setup{dir: dir, programs: progs})
		deadline := time.Now().Add(8 * time.Second)
		calls := 0
		for time.Now().Before(deadline) {
			var st struct {
				Code int `xmlrpc:"statecode"`
			}
			d.mustCall("supervisor.getState", nil, &st)
			calls++
			time.Sleep(50 * time.Millisecond)
		}
		figure(t, fl, "calls_answered", calls)
		figure(t, fl, "states", fmt.Sprint(d.countStates()))
		d.mustCall("supervisor.stopProcess", []any{"crash", true}, nil)
		d.settleConsistent(30 * time.Second)
		d.stop(60 * time.Second)
	})
}

// maxSpawnsInFlight bounds the spawns that may complete after the daemon
// took SIGTERM: those its spawn workers (2 per CPU) had already begun.
const maxSpawnsInFlight = 32

// TestTermDuringSpawnWave sends SIGTERM while 1,000 autostart programs
// are spawning: the wave stops (few spawns after the signal), the daemon
// exits and no child is left.
func TestTermDuringSpawnWave(t *testing.T) {
	const n = 1000
	progs := fmt.Sprintf("[program:p]\ncommand=sleep 100000\nprocess_name=%%(program_name)s%%(process_num)04d\nnumprocs=%d\nstartsecs=0\nstdout_logfile=NONE\nstderr_logfile=NONE\n", n)
	eachFlavor(t, func(t *testing.T, fl flavor) {
		d := startNoWait(t, fl, setup{programs: progs})
		kids := 0
		waitFor(t, 120*time.Second, "50 children", func() bool {
			kids = len(descendants(d.pid))
			return kids >= 50 || d.exited()
		})
		shutdown := d.stop(120 * time.Second) // SIGTERM

		log := d.mainLog()
		spawned := countMatching(log, "spawned: ")
		figure(t, fl, "children_at_sigterm", kids)
		figure(t, fl, "spawned_in_all", spawned)
		figure(t, fl, "exit_after_sigterm_s", fmt.Sprintf("%.2f", shutdown.Seconds()))
		if fl.name != "ours" {
			return
		}
		// Judged by the log, not by timing: the spawns logged after the
		// daemon took the signal are the ones already forked then (the
		// spawn workers, a handful); the wave itself must stop.
		before, after, ok := strings.Cut(log, "received SIGTERM indicating exit request")
		if !ok {
			t.Fatalf("no 'received SIGTERM' line in the main log:\n%s", log)
		}
		late := countMatching(after, "spawned: ")
		figure(t, fl, "spawned_after_sigterm", late)
		if late > maxSpawnsInFlight {
			t.Errorf("%d programs spawned after the daemon took SIGTERM (%d before): the spawn wave went on", late, countMatching(before, "spawned: "))
		}
		if spawned >= n && late == 0 {
			t.Logf("all %d had spawned before the signal was taken (a loaded machine): nothing left to stop", n)
		}
	})
}
