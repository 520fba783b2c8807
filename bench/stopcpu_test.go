package bench

import (
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

var (
	stopNFlag    = flag.Int("stop-n", 0, "programs BenchmarkStopCPU runs (default $BENCH_STOP_N, else 6000)")
	stopPerfFlag = flag.String("stop-perf", "", "BenchmarkStopCPU: record each stop all and shutdown with `perf record -g -e EVENT` into this directory "+
		"(default $BENCH_STOP_PERF; none); the CPU figures then include perf's cost")
	stopEventFlag = flag.String("stop-perf-event", "cpu-clock", "BenchmarkStopCPU: the event -stop-perf samples (sched:sched_switch counts the context switches)")
	stopNiceFlag  = flag.Int("stop-nice", 0, "BenchmarkStopCPU: nice value given to the daemon's threads and its children for the stop all and shutdown "+
		"(e.g. -5: other work on a shared box preempts them less; 0: left alone)")
	stopRoundsFlag = flag.Int("stop-rounds", 0, "rounds of BenchmarkStopCPU; each round runs every daemon, in reverse order every other round "+
		"(default $BENCH_STOP_ROUNDS, else 1)")
)

// BenchmarkStopCPU is an A/B driver for the stop side of Scale: per round
// the bare SIGTERM+reap floor, then for each daemon (in reverse order every
// other round, so neither always runs second) a launch of N programs,
// stopAllProcesses(true), a second launch and a SIGTERM shutdown. Beside
// the wall times it measures the daemon's own CPU over each call with
// `perf stat -e task-clock` attached to the daemon (its threads only: the
// children were forked before perf attached), which a loaded box disturbs
// far less than the wall times. It ends with each daemon's geometric means.
//
//	go test ./bench -run '^$' -bench StopCPU -timeout 60m -args -daemons old=/tmp/old,new=/tmp/new -stop-rounds 4
func BenchmarkStopCPU(b *testing.B) {
	if suite == nil {
		b.Skip("bench: suite not initialised (run with -bench)")
	}
	if _, err := exec.LookPath("perf"); err != nil {
		b.Skip("perf not installed")
	}
	n := intSetting(stopNFlag, "BENCH_STOP_N", 6000)
	rounds := intSetting(stopRoundsFlag, "BENCH_STOP_ROUNDS", 1)
	progs := ScalePrograms(n)
	minfds := ScaleFDs(n, HardNoFile())
	type sample struct {
		stopWall, stopCPU, stopCS, stopSys float64
		shutWall, shutCPU, shutCS, shutSys float64
		floor                              float64
	}
	got := map[string][]sample{}
	perfDir := firstNonEmpty(*stopPerfFlag, os.Getenv("BENCH_STOP_PERF"))
	record := func(pid int, name string) func() {
		if perfDir == "" {
			return func() {}
		}
		cmd := exec.Command("perf", "record", "-q", "-g", "-e", *stopEventFlag, "-p", strconv.Itoa(pid),
			"-o", filepath.Join(perfDir, name+".perf.data"))
		if err := cmd.Start(); err != nil {
			b.Logf("perf record: %v", err)
			return func() {}
		}
		time.Sleep(2 * time.Second) // let it attach
		return func() {
			_ = cmd.Process.Signal(syscall.SIGINT)
			_ = cmd.Wait()
		}
	}
	for r := range rounds {
		order := append([]Spec(nil), suite.Daemons...)
		if r%2 == 1 {
			for i, j := 0, len(order)-1; i < j; i, j = i+1, j-1 {
				order[i], order[j] = order[j], order[i]
			}
		}
		floor, err := BestFloor(n, 1)
		if err != nil {
			b.Fatalf("floor: %v", err)
		}
		for _, spec := range order {
			if err := suite.buildErr[spec.Name]; err != nil {
				b.Fatalf("%s: %v", spec.Name, err)
			}
			load := LoadAvg()
			var s sample
			s.floor = floor.TermReap.Seconds()
			d, _, err := LaunchScale(spec, b.TempDir(), progs, minfds, nil)
			if err != nil {
				if d != nil {
					teardown(b, d)
				}
				b.Fatalf("%s: launch: %v", spec.Name, err)
			}
			time.Sleep(time.Second)
			renice(d.Pid(), *stopNiceFlag)
			endRec := record(d.Pid(), fmt.Sprintf("%s-r%d-stopall", spec.Name, r))
			var sa StopAll
			cpu, cs, sys, err := taskClock(d.Pid(), func() error {
				var err error
				sa, err = MeasureStopAll(d, n, 600*time.Second)
				return err
			})
			endRec()
			teardown(b, d)
			if err != nil {
				b.Fatalf("%s: stop all: %v", spec.Name, err)
			}
			s.stopWall, s.stopCPU, s.stopCS, s.stopSys = sa.Return.Seconds(), cpu, cs, sys
			d, _, err = LaunchScale(spec, b.TempDir(), progs, minfds, nil)
			if err != nil {
				if d != nil {
					teardown(b, d)
				}
				b.Fatalf("%s: second launch: %v", spec.Name, err)
			}
			time.Sleep(500 * time.Millisecond)
			renice(d.Pid(), *stopNiceFlag)
			endRec = record(d.Pid(), fmt.Sprintf("%s-r%d-shutdown", spec.Name, r))
			var sh Shutdown
			cpu, cs, sys, err = taskClock(d.Pid(), func() error {
				var err error
				sh, err = MeasureShutdown(d, 120*time.Second+time.Duration(n)*100*time.Millisecond)
				return err
			})
			endRec()
			teardown(b, d)
			if err != nil {
				b.Fatalf("%s: shutdown: %v", spec.Name, err)
			}
			if inv := BandInversions(sh.Stopped, n); inv != 0 || sh.ChildrenAlive != 0 || len(sh.Stopped) != n {
				b.Errorf("%s: shutdown: %d band inversions, %d children alive, %d stopped lines", spec.Name, inv, sh.ChildrenAlive, len(sh.Stopped))
			}
			s.shutWall, s.shutCPU, s.shutCS, s.shutSys = sh.Exit.Seconds(), cpu, cs, sys
			got[spec.Name] = append(got[spec.Name], s)
			b.Logf("round %d %-8s load %-16s floor %4.0f ms | stop all %5.0f ms %.2fx cpu %4.0f ms (%3.0f us/exit, %.1f cs, %.1f syscalls) left %d | shutdown %5.0f ms %.2fx cpu %4.0f ms (%3.0f us/exit, %.1f cs, %.1f syscalls)",
				r, spec.Name, load, s.floor*1e3, s.stopWall*1e3, s.stopWall/s.floor, s.stopCPU*1e3, s.stopCPU*1e6/float64(n), s.stopCS/float64(n), s.stopSys/float64(n), sa.Left,
				s.shutWall*1e3, s.shutWall/s.floor, s.shutCPU*1e3, s.shutCPU*1e6/float64(n), s.shutCS/float64(n), s.shutSys/float64(n))
		}
	}
	for _, spec := range suite.Daemons {
		ss := got[spec.Name]
		gm := func(f func(sample) float64) float64 {
			sum := 0.0
			for _, s := range ss {
				sum += math.Log(f(s))
			}
			return math.Exp(sum / float64(len(ss)))
		}
		b.Logf("%-8s geomean of %d: stop all %.2fx, cpu %.0f us/exit, %.1f cs, %.1f syscalls per exit | shutdown %.2fx, cpu %.0f us/exit, %.1f cs, %.1f syscalls per exit", spec.Name, len(ss),
			gm(func(s sample) float64 { return s.stopWall / s.floor }), gm(func(s sample) float64 { return s.stopCPU })*1e6/float64(n),
			gm(func(s sample) float64 { return s.stopCS })/float64(n), gm(func(s sample) float64 { return s.stopSys })/float64(n),
			gm(func(s sample) float64 { return s.shutWall / s.floor }), gm(func(s sample) float64 { return s.shutCPU })*1e6/float64(n),
			gm(func(s sample) float64 { return s.shutCS })/float64(n), gm(func(s sample) float64 { return s.shutSys })/float64(n))
	}
	hideNs(b)
}

// taskClock runs phase while `perf stat` counts pid's threads, and
// returns the CPU seconds (task-clock), the context switches and the
// system calls (raw_syscalls:sys_enter) counted. perf starts with its
// counter disabled and phase runs once perf has acknowledged enabling it;
// perf ends at SIGINT or when pid exits.
func taskClock(pid int, phase func() error) (cpu, cs, sys float64, err error) {
	out := filepath.Join(os.TempDir(), fmt.Sprintf("taskclock-%d-%d.csv", os.Getpid(), pid))
	defer os.Remove(out)
	p, err := startPerf(out, "stat", "-x", ",", "-e", "task-clock,context-switches,raw_syscalls:sys_enter", "-p", strconv.Itoa(pid), "-o", out)
	if err != nil {
		return 0, 0, 0, err
	}
	perr := phase()
	_ = p.Stop() // perf stat writes its counts when it ends
	if perr != nil {
		return 0, 0, 0, perr
	}
	data, err := os.ReadFile(out)
	if err != nil {
		return 0, 0, 0, err
	}
	found := 0
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Split(line, ",")
		if len(f) < 3 {
			continue
		}
		v, err := strconv.ParseFloat(f[0], 64)
		switch {
		case err != nil:
			continue
		case strings.HasPrefix(f[2], "task-clock"):
			cpu = v / 1e3 // ms
			found++
		case strings.HasPrefix(f[2], "context-switches"):
			cs = v
			found++
		case strings.HasPrefix(f[2], "raw_syscalls:sys_enter"):
			sys = v
			found++
		}
	}
	if found < 3 {
		return 0, 0, 0, fmt.Errorf("perf stat: missing counts in %q", data)
	}
	return cpu, cs, sys, nil
}

// renice sets the nice value of every thread of pid and of its children
// (Linux keeps one per thread); 0 leaves them alone.
func renice(pid, nice int) {
	if nice == 0 {
		return
	}
	set := func(tid int) { _ = syscall.Setpriority(syscall.PRIO_PROCESS, tid, nice) }
	if ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid)); err == nil {
		for _, e := range ents {
			if tid, err := strconv.Atoi(e.Name()); err == nil {
				set(tid)
			}
		}
	}
	for _, c := range ChildrenOf(pid) {
		set(c.Pid)
	}
}
