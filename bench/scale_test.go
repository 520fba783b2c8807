package bench

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

var (
	pyScaleMaxFlag = flag.Int("scale-python-max", 0, "largest N at which BenchmarkScale runs Python's daemon "+
		"(default $BENCH_SCALE_PYTHON_MAX, else 1000: Python needs minutes per figure beyond)")
	perfFlag = flag.String("perf", "", "directory for `perf record -g` profiles of the daemon in Scale's start, stopAll and shutdown "+
		"(default $BENCH_PERF; none). Profiling costs the daemon CPU: judge figures from runs without it")
	scaleRoundsFlag = flag.Int("scale-rounds", 0, "runs of stop all and of SIGTERM shutdown at each N, each on its own launch after its own floor run "+
		"(default $BENCH_SCALE_ROUNDS, else 2); start, stop all and shutdown are each the fastest of their runs, as the floors are")
	pyShutdownMaxFlag = flag.Int("scale-python-shutdown-max", 0, "largest N at which BenchmarkScale times Python's SIGTERM shutdown "+
		"(default $BENCH_SCALE_PYTHON_SHUTDOWN_MAX, else 100: Python stops one program per loop pass, ~0.2-0.3 s each)")
)

// scaleNs are the program counts of BenchmarkScale.
var scaleNs = []int{100, 1000, 3000, 6000}

func intSetting(f *int, env string, def int) int {
	if *f > 0 {
		return *f
	}
	if v, err := strconv.Atoi(os.Getenv(env)); err == nil && v > 0 {
		return v
	}
	return def
}

// isPythonDaemon reports whether path is a Python script (Debian's
// /usr/bin/supervisord), whose scale figures take minutes.
func isPythonDaemon(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 128)
	k, _ := f.Read(head)
	line, _, _ := strings.Cut(string(head[:k]), "\n")
	return strings.HasPrefix(line, "#!") && strings.Contains(line, "python")
}

// scaleFig names figure key at n; target applies when at is empty or holds n.
func scaleFig(n int, key, title, unit string, better Better, target float64, at ...int) Figure {
	f := Figure{ID: fmt.Sprintf("scale.n%d.%s", n, key), Title: fmt.Sprintf("%s at %s", title, thousands(n)), Unit: unit, Better: better}
	if target >= 0 {
		f.HasTarget = len(at) == 0
		for _, a := range at {
			if a == n {
				f.HasTarget = true
			}
		}
		f.Target = target
	}
	return f
}

func floorFig(f Figure) Figure { f.NoRatio = true; return f }

// BenchmarkScale runs N = 100, 1,000, 3,000 and 6,000 /bin/sleep programs
// (startsecs=0, ScaleBands priority bands) per daemon and measures, beside
// the bare floor for the same N taken just before: start to all RUNNING,
// socket first answer, config load, getAllProcessInfo p50/p99, getState
// with 8 clients, RSS/threads/fds, idle CPU, supervisorctl status with each
// client, stop all, and SIGTERM shutdown. Stop all and shutdown run
// -scale-rounds times (2), each on its own launch after a floor run of its
// own; start, stop all and shutdown are the fastest of their runs, as the
// floors are, and the first launch is reported apart (each launch creates
// its N log files in a fresh directory).
// Sub-benchmarks are Scale/N<n>/<daemon>/<figure>.
func BenchmarkScale(b *testing.B) {
	for _, n := range scaleNs {
		b.Run(fmt.Sprintf("N%d", n), func(b *testing.B) {
			eachDaemon(b, func(b *testing.B, spec Spec) { scaleRun(b, spec, n) })
		})
	}
}

func scaleRun(b *testing.B, spec Spec, n int) {
	py := isPythonDaemon(spec.Path)
	run := suite.Growth.Run(spec.Name, n)
	if pyMax := intSetting(pyScaleMaxFlag, "BENCH_SCALE_PYTHON_MAX", 1000); py && n > pyMax {
		run.Skip("all figures", fmt.Sprintf("Python's daemon is run up to N = %s (-scale-python-max)", thousands(pyMax)))
		b.Skipf("%s is Python's daemon; run only up to N = %d (-scale-python-max)", spec.Name, pyMax)
	}
	hard := HardNoFile()
	minfds := ScaleFDs(n, hard)
	if minfds < 3*n+1000 {
		b.Logf("hard RLIMIT_NOFILE %d < the %d descriptors %d programs may need; minfds=%d", hard, 3*n+1000, n, minfds)
	}
	run.Load = LoadAvg()
	o := suite.Opts
	progs := ScalePrograms(n)
	// Every figure compared with a floor is the fastest of several runs,
	// as the floor is: one run against the best of several would charge
	// the daemon with every burst of other work on a shared machine. The
	// floor runs are spread between the daemon's launches.
	rounds := intSetting(scaleRoundsFlag, "BENCH_SCALE_ROUNDS", 2)
	floor, err := BestFloor(n, 1)
	if err != nil {
		b.Fatalf("bare floor at N = %d: %v", n, err)
	}
	run.Floor = floor
	var d *Daemon
	defer func() {
		if d != nil {
			teardown(b, d)
		}
	}()
	// sampleFloor adds a floor run; the floor reaps any child, so the
	// daemon is stopped first.
	sampleFloor := func(b *testing.B, how FloorStop) bool {
		if d != nil {
			teardown(b, d)
			d = nil
		}
		f, err := MeasureFloor(n, how)
		if err != nil {
			b.Errorf("bare floor at N = %d: %v", n, err)
			return false
		}
		floor.Keep(f)
		run.Floor = floor
		return true
	}
	parent := b
	perfDir := firstNonEmpty(*perfFlag, os.Getenv("BENCH_PERF"))
	var prof *Profile
	profile := func(b *testing.B, phase string, pid int) {
		if perfDir == "" {
			return
		}
		if err := os.MkdirAll(perfDir, 0o755); err != nil {
			b.Logf("profile %s: %v", phase, err)
			return
		}
		var err error
		if prof, err = StartProfile(pid, filepath.Join(perfDir, fmt.Sprintf("%s-n%d-%s.perf.data", spec.Name, n, phase))); err != nil {
			b.Logf("profile %s: %v", phase, err)
		}
	}
	endProfile := func(b *testing.B) {
		if prof != nil {
			if err := prof.Stop(); err != nil {
				b.Logf("profile: %v", err)
			}
			prof = nil
		}
	}
	defer endProfile(b)
	figStart := scaleFig(n, "start_first", "start to all RUNNING, first launch", "ms", Lower, -1)
	launch := func(b *testing.B, phase string) (ScaleStart, bool) {
		if d != nil {
			teardown(b, d)
			d = nil
		}
		var st ScaleStart
		var err error
		onLaunch := func(d *Daemon) {
			if phase == "start" {
				profile(b, phase, d.Pid())
			}
		}
		d, st, err = LaunchScale(spec, parent.TempDir(), progs, minfds, onLaunch)
		endProfile(b)
		if err != nil {
			if d != nil {
				teardown(b, d)
				d = nil
			}
			fail(b, figStart, spec, err)
			return st, false
		}
		run.Starts = append(run.Starts, st.AllRunning)
		return st, true
	}
	b.Run("start", func(b *testing.B) {
		st, ok := launch(b, "start")
		if !ok {
			return
		}
		run.Start = st
		hideNs(b)
		record(b, figStart, spec, Ms(st.AllRunning), "ms")
		record(b, scaleFig(n, "first_answer", "socket first answer", "ms", Lower, 150, 6000), spec, Ms(st.FirstAnswer), "first-answer-ms")
		record(b, scaleFig(n, "start_cpu", "daemon CPU until all RUNNING", "cpu-s", Lower, -1), spec, st.CPU, "cpu-s")
		figLoad := scaleFig(n, "config_load", "config load per program (wall)", "us", Lower, 20)
		if py {
			run.ConfigLoad, err = PythonConfigLoad("/usr/bin/python3", d.Layout.Conf, n, 3)
		} else {
			run.ConfigLoad, run.ConfigLoadCPU, err = ConfigLoad(d.Layout.Conf, 5)
		}
		if err != nil {
			fail(b, figLoad, spec, err)
			return
		}
		record(b, figLoad, spec, float64(run.ConfigLoad)/float64(time.Microsecond)/float64(n), "config-us/prog")
		if run.ConfigLoadCPU > 0 {
			record(b, scaleFig(n, "config_load_cpu", "config load per program (CPU, in-process)", "us", Lower, 20), spec,
				float64(run.ConfigLoadCPU)/float64(time.Microsecond)/float64(n), "config-cpu-us/prog")
		}
	})
	if d == nil && run.Start.AllRunning == 0 {
		if _, ok := launch(b, ""); !ok {
			b.Skipf("%s: %d programs did not start; skipping the figures that need them", spec.Name, n)
		}
	}
	if d == nil {
		b.Skipf("%s: %d programs did not start", spec.Name, n)
	}
	time.Sleep(2 * time.Second)
	before, err := ReadStatus(d.Pid())
	if err != nil {
		b.Fatal(err)
	}
	run.RSSIdle = before.RSSMiB()
	b.Run("idle", func(b *testing.B) {
		idle, err := MeasureIdle(d.Pid(), o.IdleWindow)
		fig := scaleFig(n, "idle_cpu", "idle CPU per 10 s (utime+stime)", "cpu-s", Lower, 0.01)
		if err != nil {
			fail(b, fig, spec, err)
			return
		}
		run.IdleCPU, run.IdleSched = idle.Per10s(idle.CPU), idle.Per10s(idle.RunTime.Seconds())
		hideNs(b)
		record(b, fig, spec, run.IdleCPU, "cpu-s/10s")
		record(b, scaleFig(n, "idle_sched", "idle CPU per 10 s (schedstat)", "cpu-s", Lower, 0.01), spec, run.IdleSched, "sched-cpu-s/10s")
	})
	b.Run("getAllProcessInfo", func(b *testing.B) {
		fig := scaleFig(n, "gapi_p50", "getAllProcessInfo raw p50", "ms", Lower, 15, 6000)
		samples := 200
		if n >= 3000 {
			samples = 50
		}
		profile(b, "getAllProcessInfo", d.Pid())
		lat, size, err := LatencyBudget(d.Layout.Sock, NewRequest(MethodCall("supervisor.getAllProcessInfo")), samples, 5*time.Second)
		endProfile(b)
		if err != nil {
			fail(b, fig, spec, err)
			return
		}
		st := Summarize(lat)
		run.GapiP50, run.GapiP99, run.GapiBytes = st.P50, st.P99, size
		hideNs(b)
		record(b, fig, spec, Ms(st.P50), "p50-ms")
		record(b, scaleFig(n, "gapi_p99", "getAllProcessInfo raw p99", "ms", Lower, -1), spec, Ms(st.P99), "p99-ms")
		b.ReportMetric(float64(st.N), "samples")
		reportRatio(b, fig, spec)
	})
	b.Run("getState-8", func(b *testing.B) {
		fig := scaleFig(n, "getstate8", "getState calls/s, 8 clients", "calls/s", Higher, 20000)
		profile(b, "getState", d.Pid())
		r, err := RunLoad(d.Layout.Sock, NewRequest(MethodCall("supervisor.getState")), 8, o.LoadWindow)
		endProfile(b)
		if err != nil {
			fail(b, fig, spec, err)
			return
		}
		if r.Errors > 0 {
			b.Logf("%s: %d failed calls, %d connections for 8 clients", spec.Name, r.Errors, r.Dials)
		}
		run.GetState8 = r.PerSecond
		hideNs(b)
		record(b, fig, spec, r.PerSecond, "calls/s")
		reportRatio(b, fig, spec)
	})
	b.Run("ctl-status", func(b *testing.B) {
		hideNs(b)
		for _, ctl := range suite.Ctls {
			fig := scaleFig(n, "ctl_status."+ctl.Name, "supervisorctl status wall, "+ctl.Name+" client", "ms", Lower, -1)
			if !isPythonDaemon(ctl.Path) {
				fig = scaleFig(n, "ctl_status."+ctl.Name, "supervisorctl status wall, "+ctl.Name+" client", "ms", Lower, 20, 1000)
			}
			if err := suite.buildErr["ctl "+ctl.Name]; err != nil {
				fail(b, fig, spec, err)
				continue
			}
			runs := 5
			if isPythonDaemon(ctl.Path) {
				runs = 3
				if n >= 3000 {
					runs = 2
				}
			}
			profile(b, "ctl-"+ctl.Name, d.Pid()) // the daemon's side of the clients' calls
			walls, cpus, err := CtlStatus(ctl.Path, d.Layout.Conf, n, runs, 300*time.Second)
			endProfile(b)
			if err != nil {
				fail(b, fig, spec, err)
				continue
			}
			run.Ctl[ctl.Name], run.CtlCPU[ctl.Name] = Summarize(walls).P50, Summarize(cpus).P50
			record(b, fig, spec, Ms(run.Ctl[ctl.Name]), ctl.Name+"-ctl-ms")
			record(b, scaleFig(n, "ctl_status_cpu."+ctl.Name, "supervisorctl status client CPU, "+ctl.Name+" client", "cpu-ms", Lower, -1), spec,
				Ms(run.CtlCPU[ctl.Name]), ctl.Name+"-ctl-cpu-ms")
		}
	})
	b.Run("memory", func(b *testing.B) {
		fig := scaleFig(n, "rss", "RSS after RPC load", "MiB", Lower, 48, 6000)
		st, err := ReadStatus(d.Pid())
		if err != nil {
			fail(b, fig, spec, err)
			return
		}
		run.RSS, run.Threads, run.FDs = st.RSSMiB(), st.Threads, st.FDs
		hideNs(b)
		record(b, fig, spec, run.RSS, "MiB")
		record(b, scaleFig(n, "rss_per_prog", "RSS per program", "KiB", Lower, -1), spec, run.RSS*1024/float64(n), "KiB/prog")
		record(b, scaleFig(n, "threads", "OS threads", "threads", Lower, 20), spec, float64(st.Threads), "threads")
		record(b, floorFig(scaleFig(n, "fds", "open fds", "fds", Lower, -1)), spec, float64(st.FDs), "fds")
		reportRatio(b, fig, spec)
	})
	b.Run("stopAll", func(b *testing.B) {
		fig := scaleFig(n, "stopall", "stopAllProcesses(wait), fastest run", "ms", Lower, -1)
		for r := range rounds {
			if r > 0 {
				// Another run on a fresh launch, after floor runs.
				if !sampleFloor(b, StopAllAtOnce) || !sampleFloor(b, StopClosing) {
					return
				}
				if _, ok := launch(b, ""); !ok {
					return
				}
			} else {
				profile(b, "stopall", d.Pid())
			}
			s, err := MeasureStopAll(d, n, 600*time.Second)
			endProfile(b)
			if err != nil {
				run.StopAll = s
				fail(b, fig, spec, err)
				return
			}
			run.StopAllRuns++
			left := max(run.StopAll.Left, s.Left)
			if run.StopAll.Return == 0 || s.Return < run.StopAll.Return {
				run.StopAll = s
			}
			run.StopAll.Left = left
		}
		s := run.StopAll
		hideNs(b)
		record(b, fig, spec, Ms(s.Return), "ms")
		record(b, floorFig(scaleFig(n, "term_floor", "bare SIGTERM+reap floor", "ms", Lower, -1)), spec, Ms(floor.TermReap), "floor-ms")
		record(b, floorFig(scaleFig(n, "stopall_vs_floor", "stop all / bare SIGTERM+reap floor", "x", Lower, 1.3, 6000)), spec,
			Ratio(s.Return, floor.TermReap), "x-floor")
		// The floor leaves the pipe ends open; a supervisor
		// closes them as each child goes: no target, shown beside.
		record(b, floorFig(scaleFig(n, "term_floor_close", "bare SIGTERM+reap floor, pipe ends closed at each reap", "ms", Lower, -1)), spec, Ms(floor.TermReapClose), "close-floor-ms")
		record(b, floorFig(scaleFig(n, "stopall_vs_close_floor", "stop all / bare SIGTERM+reap+close floor", "x", Lower, -1)), spec,
			Ratio(s.Return, floor.TermReapClose), "x-close-floor")
		// stopAllProcesses signals in priority order without waiting
		// between bands (Python too), so exits interleave: no target
		record(b, scaleFig(n, "stopall_inversions", "stop all: band inversions in exit order (signal order is kept)", "pairs", Lower, -1), spec, float64(s.Inversions), "inversions")
		record(b, scaleFig(n, "stopall_left", "children left after stop all", "procs", Lower, 0), spec, float64(s.Left), "left")
		reportRatio(b, fig, spec)
	})
	b.Run("shutdown", func(b *testing.B) {
		fig := scaleFig(n, "shutdown", "SIGTERM shutdown, fastest run", "ms", Lower, -1)
		if limit := intSetting(pyShutdownMaxFlag, "BENCH_SCALE_PYTHON_SHUTDOWN_MAX", 100); py && n > limit {
			why := fmt.Sprintf("Python stops one program per loop pass (~0.2-0.3 s each); timed up to N = %d (-scale-python-shutdown-max)", limit)
			run.Skip("SIGTERM shutdown", why)
			suite.Results.Note(fig, spec.Name, "skipped")
			b.Skip(why)
		}
		for r := range rounds {
			// Each run on its own launch, after a band-by-band floor run.
			if !sampleFloor(b, StopBanded) {
				return
			}
			if _, ok := launch(b, ""); !ok {
				return
			}
			time.Sleep(500 * time.Millisecond)
			if r == 0 {
				profile(b, "shutdown", d.Pid())
			}
			s, err := MeasureShutdown(d, 120*time.Second+time.Duration(n)*100*time.Millisecond)
			endProfile(b)
			teardown(b, d)
			d = nil
			if err != nil {
				fail(b, fig, spec, err)
				return
			}
			run.ShutdownRuns++
			inv, alive := max(run.ShutInv, BandInversions(s.Stopped, n)), max(run.Shutdown.ChildrenAlive, s.ChildrenAlive)
			if run.Shutdown.Exit == 0 || s.Exit < run.Shutdown.Exit {
				run.Shutdown = s
			}
			run.ShutInv, run.Shutdown.ChildrenAlive = inv, alive
		}
		s := run.Shutdown
		hideNs(b)
		record(b, fig, spec, Ms(s.Exit), "ms")
		record(b, floorFig(scaleFig(n, "shutdown_vs_floor", "SIGTERM shutdown / bare SIGTERM+reap floor", "x", Lower, 1.3, 6000)), spec,
			Ratio(s.Exit, floor.TermReap), "x-floor")
		// Shutdown keeps the priority order: one band is stopped and
		// reaped before the next is signalled, which the banded floor does
		// too.
		record(b, floorFig(scaleFig(n, "term_floor_banded", "bare SIGTERM+reap floor, band by band", "ms", Lower, -1)), spec, Ms(floor.TermReapBanded), "banded-floor-ms")
		record(b, floorFig(scaleFig(n, "shutdown_vs_banded_floor", "SIGTERM shutdown / bare band-by-band SIGTERM+reap floor", "x", Lower, -1)), spec,
			Ratio(s.Exit, floor.TermReapBanded), "x-banded-floor")
		record(b, scaleFig(n, "shutdown_inversions", "shutdown band order inversions", "pairs", Lower, 0), spec, float64(run.ShutInv), "inversions")
		record(b, scaleFig(n, "shutdown_alive", "children alive after shutdown", "procs", Lower, 0), spec, float64(s.ChildrenAlive), "alive")
		if len(s.Stopped) != n {
			suite.Results.Note(fig, spec.Name, fmt.Sprintf("%d stopped lines", len(s.Stopped)))
		}
		reportRatio(b, fig, spec)
	})
	b.Run("startBest", func(b *testing.B) {
		// Every launch above counts: the floor is the fastest of its runs too.
		if run.BestStart() <= 0 {
			b.Skip("no launch reached all RUNNING")
		}
		fig := scaleFig(n, "start", "start to all RUNNING, fastest launch", "ms", Lower, -1)
		hideNs(b)
		record(b, fig, spec, Ms(run.BestStart()), "ms")
		record(b, floorFig(scaleFig(n, "start_floor", "bare start floor (fork+exec with pipes)", "ms", Lower, -1)), spec, Ms(floor.Start), "floor-ms")
		record(b, floorFig(scaleFig(n, "start_vs_floor", "start to all RUNNING / bare floor (fastest of each)", "x", Lower, 1.1, 1000, 6000)), spec,
			Ratio(run.BestStart(), floor.Start), "x-floor")
		b.ReportMetric(float64(len(run.Starts)), "launches")
	})
}

// BenchmarkScaleConfigLoad times config.Load of the Scale config at each N
// in this process (no daemon): the part of the socket's first answer that
// reading the config costs, and a place to take a CPU profile of it
// (`-bench ScaleConfigLoad/N6000 -benchtime 10x -cpuprofile cpu.out`).
func BenchmarkScaleConfigLoad(b *testing.B) {
	for _, n := range scaleNs {
		b.Run(fmt.Sprintf("N%d", n), func(b *testing.B) {
			l := NewLayout(b.TempDir())
			l.MinFDs, l.MinProcs = ScaleFDs(n, HardNoFile()), n+1000
			for _, dir := range []string{l.ChildLog, l.Logs} {
				if err := os.MkdirAll(dir, 0o755); err != nil {
					b.Fatal(err)
				}
			}
			if err := os.WriteFile(l.Conf, []byte(l.Config(ScalePrograms(n))), 0o644); err != nil {
				b.Fatal(err)
			}
			c0 := processCPU()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, _, err := ConfigLoad(l.Conf, 1); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			cpu := processCPU() - c0
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/float64(n), "us/program")
			// CPU of the whole process (GC included): wall time on a loaded
			// machine is mostly waiting for a core
			b.ReportMetric(float64(cpu.Microseconds())/float64(b.N)/float64(n), "cpu-us/program")
		})
	}
}
