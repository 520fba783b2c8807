package bench

import (
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

var (
	daemonsFlag = flag.String("daemons", "", "daemons to compare, name=path[,name=path]; an empty path builds ./cmd/supervisord "+
		"(default $BENCH_DAEMONS, else python=/usr/bin/supervisord,ours=)")
	argsFlag    = flag.String("daemon-args", "", "daemon arguments, {conf} is the config path (default $BENCH_ARGS, else \"-n -c {conf}\")")
	resultsFlag = flag.String("results", "", "write the results as JSON to this file (default $BENCH_RESULTS)")
	quickFlag   = flag.Bool("quick", false, "quick mode: 256 MiB log, shorter windows (also -short or BENCH_QUICK=1)")
	ctlsFlag    = flag.String("ctls", "", "supervisorctl clients BenchmarkScale times, name=path[,name=path]; an empty path builds ./cmd/supervisorctl "+
		"(default $BENCH_CTLS, else python=/usr/bin/supervisorctl,ours=)")
	growthFlag = flag.String("growth", "", "write BenchmarkScale's growth tables (markdown) to this file (default $BENCH_GROWTH)")
)

// suite is the state one `go test -bench` run shares between TestMain and
// the benchmarks (the testing package gives benchmarks no other context).
// It stays nil when no benchmark was requested.
var suite *Suite

// Suite is the daemons under comparison and what they measured.
type Suite struct {
	Daemons  []Spec
	Baseline string
	Opts     Options
	Results  *Results
	Ctls     []Spec           // supervisorctl clients (Args unused)
	Growth   *Growth          // BenchmarkScale's figures per daemon and N
	buildErr map[string]error // by daemon name, "ctl NAME" for clients
}

func benchRequested() bool {
	f := flag.Lookup("test.bench")
	return f != nil && f.Value.String() != ""
}

func flagSet(name string) bool {
	set := false
	flag.Visit(func(f *flag.Flag) {
		if f.Name == name {
			set = true
		}
	})
	return set
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

func TestMain(m *testing.M) {
	flag.Parse()
	if err := SetSubreaper(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
	}
	if !benchRequested() {
		os.Exit(m.Run())
	}
	// Every benchmark here is one full measurement; repeating it b.N times
	// to fill a time budget makes no sense, so run each once unless asked.
	if !flagSet("test.benchtime") {
		_ = flag.Set("test.benchtime", "1x")
	}
	s, cleanup, err := newSuite()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	suite = s
	s.Results.SetMeta("loadavg at start", LoadAvg())
	code := m.Run()
	s.Results.SetMeta("loadavg at end", LoadAvg())
	cleanup()
	if found, left := ReapOrphans(time.Second); found > 0 || left > 0 {
		fmt.Fprintf(os.Stderr, "bench: %d leftover children at exit (%d unkillable)\n", found, left)
		code = 1
	}
	if !s.Results.Empty() {
		fmt.Printf("\n%s(ratios above 1 mean that daemon is better than %s)\n", s.Results.Table(), s.Baseline)
	}
	if !s.Growth.Empty() {
		md := s.Growth.Markdown()
		fmt.Print(md)
		if path := firstNonEmpty(*growthFlag, os.Getenv("BENCH_GROWTH")); path != "" {
			if err := os.WriteFile(path, []byte(md), 0o644); err != nil {
				fmt.Fprintln(os.Stderr, "bench:", err)
				code = 1
			}
		}
	}
	if path := firstNonEmpty(*resultsFlag, os.Getenv("BENCH_RESULTS")); path != "" {
		if err := s.Results.WriteJSON(path); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			code = 1
		}
	}
	os.Exit(code)
}

func newSuite() (*Suite, func(), error) {
	spec := firstNonEmpty(*daemonsFlag, os.Getenv("BENCH_DAEMONS"), "python=/usr/bin/supervisord,ours=")
	var args []string
	if a := firstNonEmpty(*argsFlag, os.Getenv("BENCH_ARGS")); a != "" {
		args = strings.Fields(a)
	}
	specs, err := ParseSpecs(spec, args)
	if err != nil {
		return nil, nil, err
	}
	quick := *quickFlag || testing.Short() || os.Getenv("BENCH_QUICK") == "1"
	s := &Suite{Opts: DefaultOptions(quick), buildErr: map[string]error{}}
	cleanup := func() {}
	for i := range specs {
		if specs[i].Path != "" {
			if abs, err := filepath.Abs(specs[i].Path); err == nil {
				specs[i].Path = abs
			}
			continue
		}
		dir, err := os.MkdirTemp("", "bench-build-")
		if err != nil {
			return nil, nil, fmt.Errorf("build dir: %w", err)
		}
		prev := cleanup
		cleanup = func() { prev(); os.RemoveAll(dir) }
		specs[i].Path = filepath.Join(dir, "supervisord")
		if err := buildCmd("supervisord", specs[i].Path); err != nil {
			s.buildErr[specs[i].Name] = err
			fmt.Fprintf(os.Stderr, "bench: %s: %v\n", specs[i].Name, err)
		}
	}
	s.Daemons = specs
	ctls, err := ParseSpecs(firstNonEmpty(*ctlsFlag, os.Getenv("BENCH_CTLS"), "python=/usr/bin/supervisorctl,ours="), nil)
	if err != nil {
		return nil, nil, fmt.Errorf("-ctls: %w", err)
	}
	s.Growth = NewGrowth()
	for i := range ctls {
		s.Growth.Ctls = append(s.Growth.Ctls, ctls[i].Name)
		if ctls[i].Path != "" {
			if abs, err := filepath.Abs(ctls[i].Path); err == nil {
				ctls[i].Path = abs
			}
			continue
		}
		dir, err := os.MkdirTemp("", "bench-build-")
		if err != nil {
			return nil, nil, fmt.Errorf("build dir: %w", err)
		}
		prev := cleanup
		cleanup = func() { prev(); os.RemoveAll(dir) }
		ctls[i].Path = filepath.Join(dir, "supervisorctl")
		if err := buildCmd("supervisorctl", ctls[i].Path); err != nil {
			s.buildErr["ctl "+ctls[i].Name] = err
			fmt.Fprintf(os.Stderr, "bench: ctl %s: %v\n", ctls[i].Name, err)
		}
	}
	s.Ctls = ctls
	s.Baseline = specs[0].Name
	names := make([]string, len(specs))
	for i, sp := range specs {
		names[i] = sp.Name
		if sp.Name == "python" {
			s.Baseline = "python"
		}
	}
	s.Results = NewResults(s.Baseline, names)
	for _, sp := range specs {
		s.Results.SetMeta("daemon "+sp.Name, sp.Path+" "+strings.Join(sp.Args, " "))
	}
	s.Results.SetMeta("host", fmt.Sprintf("%d CPUs, %s", runtime.NumCPU(), runtime.Version()))
	s.Results.SetMeta("quick", fmt.Sprint(quick))
	return s, cleanup, nil
}

// buildCmd builds ./cmd/<name> of this module into out.
func buildCmd(name, out string) error {
	gobin, err := exec.LookPath("go")
	if err != nil {
		gobin = "/usr/local/go/bin/go"
	}
	cmd := exec.Command(gobin, "build", "-o", out, "github.com/gosupervisor/gosupervisor/cmd/"+name)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./cmd/%s: %w: %s", name, err, msg)
	}
	return nil
}

// eachDaemon runs fn as a sub-benchmark per daemon, baseline first.
func eachDaemon(b *testing.B, fn func(b *testing.B, spec Spec)) {
	if suite == nil {
		b.Skip("bench: suite not initialised (run with -bench)")
	}
	order := append([]Spec(nil), suite.Daemons...)
	for i, sp := range order {
		if sp.Name == suite.Baseline && i > 0 {
			order[0], order[i] = order[i], order[0]
		}
	}
	for _, sp := range order {
		b.Run(sp.Name, func(b *testing.B) {
			if err := suite.buildErr[sp.Name]; err != nil {
				b.Skipf("%s did not build: %v", sp.Name, err)
			}
			if _, err := os.Stat(sp.Path); err != nil {
				b.Skipf("%s: %v", sp.Name, err)
			}
			fn(b, sp)
		})
	}
}

// record stores v for fig and reports it as metric unit.
func record(b *testing.B, fig Figure, spec Spec, v float64, unit string) {
	b.Helper()
	suite.Results.Record(fig, spec.Name, v)
	b.ReportMetric(v, unit)
}

// reportRatio reports how many times better spec is than the baseline on fig.
func reportRatio(b *testing.B, fig Figure, spec Spec) {
	if x, ok := suite.Results.Ratio(fig, spec.Name); ok && !math.IsInf(x, 0) {
		b.ReportMetric(x, "ratio")
	}
}

func fail(b *testing.B, fig Figure, spec Spec, err error) {
	b.Helper()
	suite.Results.Fail(fig, spec.Name, err)
	b.Error(err)
}

// hideNs drops ns/op: these benchmarks time one whole scenario each, and the
// figures are the custom metrics.
func hideNs(b *testing.B) { b.ReportMetric(0, "ns/op") }

func teardown(b *testing.B, d *Daemon) {
	b.Helper()
	if _, err := Teardown(d, 2*time.Second); err != nil {
		b.Error(err)
	}
}

var (
	figStartup      = Figure{ID: "n1000.startup", Title: "start 1,000 programs to all RUNNING", Unit: "ms", Target: 300, HasTarget: true}
	figSpawnFloor   = Figure{ID: "n1000.spawn_floor", Title: "bare fork+exec of 1,000 /bin/sleep with pipes, no daemon (floor)", Unit: "ms", NoRatio: true}
	figFirstAnswer  = Figure{ID: "n1000.first_answer", Title: "socket answers after launch (1,000 programs)", Unit: "ms", Target: 100, HasTarget: true}
	figStartupCPU   = Figure{ID: "n1000.startup_cpu", Title: "daemon CPU until all RUNNING (1,000)", Unit: "cpu-s"}
	figIdle         = Figure{ID: "n1000.idle_cpu", Title: "idle CPU per 10 s at 1,000 (utime+stime)", Unit: "cpu-s", Target: 0.01, HasTarget: true}
	figIdleRun      = Figure{ID: "n1000.idle_runtime", Title: "idle CPU per 10 s at 1,000 (schedstat)", Unit: "cpu-s", Target: 0.01, HasTarget: true}
	figGapiP50      = Figure{ID: "n1000.getAllProcessInfo_p50", Title: "getAllProcessInfo at 1,000, raw HTTP p50", Unit: "ms", Target: 5, HasTarget: true}
	figGapiP99      = Figure{ID: "n1000.getAllProcessInfo_p99", Title: "getAllProcessInfo at 1,000, raw HTTP p99", Unit: "ms"}
	figGapiBytes    = Figure{ID: "n1000.getAllProcessInfo_bytes", Title: "getAllProcessInfo at 1,000, response size", Unit: "KiB", NoRatio: true}
	figGS1          = Figure{ID: "getState.c1", Title: "getState throughput, 1 client (unix socket)", Unit: "calls/s", Better: Higher}
	figGS8          = Figure{ID: "getState.c8", Title: "getState throughput, 8 clients (unix socket)", Unit: "calls/s", Better: Higher}
	figGS1P50       = Figure{ID: "getState.c1_p50", Title: "getState latency p50, 1 client", Unit: "ms"}
	figGS8P99       = Figure{ID: "getState.c8_p99", Title: "getState latency p99, 8 clients", Unit: "ms"}
	figRSSIdle      = Figure{ID: "n1000.rss_idle", Title: "RSS at 1,000 processes, before RPC load", Unit: "MiB"}
	figRSS          = Figure{ID: "n1000.rss", Title: "RSS at 1,000 processes, after RPC load", Unit: "MiB", Target: 25, HasTarget: true}
	figThreads      = Figure{ID: "n1000.threads", Title: "OS threads at 1,000 processes", Unit: "threads", Target: 20, HasTarget: true}
	figFDs          = Figure{ID: "n1000.fds", Title: "open fds at 1,000 processes", Unit: "fds", NoRatio: true}
	figRespawn      = Figure{ID: "respawn.quiet_p50", Title: "crash-to-respawn gap p50 (main log, no RPC)", Unit: "ms", Target: 2, HasTarget: true}
	figRespawnMax   = Figure{ID: "respawn.quiet_max", Title: "crash-to-respawn gap max (main log, no RPC)", Unit: "ms"}
	figRespawnCh    = Figure{ID: "respawn.child_p50", Title: "exit-to-next-start p50 as the child sees it", Unit: "ms"}
	figRespawnPoll  = Figure{ID: "respawn.polled_p50", Title: "crash-to-respawn gap p50 under 50 Hz getState", Unit: "ms"}
	figShutdownSame = Figure{ID: "shutdown100.exit_same_priority", Title: "SIGTERM shutdown, 100 programs, default priority", Unit: "ms", Target: 300, HasTarget: true}
	figShutdown     = Figure{ID: "shutdown100.exit", Title: "SIGTERM shutdown, 100 programs, distinct priorities", Unit: "ms", Target: 300, HasTarget: true}
	figShutInv      = Figure{ID: "shutdown100.order_inversions", Title: "shutdown stop-order inversions vs priority", Unit: "pairs", Target: 0, HasTarget: true}
	figShutAlive    = Figure{ID: "shutdown100.children_alive", Title: "children alive after daemon exit", Unit: "procs", Target: 0, HasTarget: true}
)

func backoffFig(i int) Figure {
	return Figure{ID: fmt.Sprintf("backoff.gap%d", i), Title: fmt.Sprintf("backoff gap %d (startsecs=1, expect %d s)", i, i), Unit: "s"}
}

// BenchmarkN1000 starts 1,000 sleep programs once per daemon and measures,
// on that daemon: startup, idle CPU, getAllProcessInfo latency, getState
// throughput with 1 and 8 clients, then RSS/threads after the RPC load.
func BenchmarkN1000(b *testing.B) {
	eachDaemon(b, func(b *testing.B, spec Spec) {
		const n = 1000
		o := suite.Opts
		var d *Daemon
		defer func() {
			if d != nil {
				teardown(b, d)
			}
		}()
		parent := b // the daemon's dir must outlive the startup sub-benchmark
		startFailed := false
		launch := func(b *testing.B) (Startup, bool) {
			if d != nil {
				teardown(b, d)
				d = nil
			}
			var st Startup
			var err error
			d, st, err = LaunchAndWait(spec, parent.TempDir(), SleepPrograms(n, nil), o)
			if err != nil {
				if d != nil {
					teardown(b, d)
					d = nil
				}
				startFailed = true
				fail(b, figStartup, spec, err)
				return st, false
			}
			return st, true
		}
		b.Run("startup", func(b *testing.B) {
			var all, first, cpu, floor []time.Duration
			for i := 0; i < b.N; i++ {
				if d != nil { // the floor is measured with no daemon running
					teardown(b, d)
					d = nil
				}
				f, err := BareSpawn(n)
				if err != nil {
					b.Fatal(err)
				}
				floor = append(floor, f)
				st, ok := launch(b)
				if !ok {
					return
				}
				all = append(all, st.AllRunning)
				first = append(first, st.FirstAnswer)
				cpu = append(cpu, time.Duration(st.CPU*float64(time.Second)))
			}
			hideNs(b)
			record(b, figStartup, spec, Ms(Summarize(all).P50), "ms")
			record(b, figSpawnFloor, spec, Ms(Summarize(floor).P50), "floor-ms")
			record(b, figFirstAnswer, spec, Ms(Summarize(first).P50), "first-answer-ms")
			record(b, figStartupCPU, spec, Summarize(cpu).P50.Seconds(), "cpu-s")
			reportRatio(b, figStartup, spec)
		})
		if startFailed {
			b.Skipf("%s: 1,000 programs did not start; skipping the figures that need them", spec.Name)
		}
		if d == nil { // the startup sub-benchmark was filtered out
			if _, ok := launch(b); !ok {
				return
			}
		}
		settle := 2 * time.Second
		if o.Quick {
			settle = time.Second
		}
		time.Sleep(settle)
		before, err := ReadStatus(d.Pid())
		if err != nil {
			b.Fatal(err)
		}
		b.Run("idle", func(b *testing.B) {
			var ticks, run []time.Duration
			for i := 0; i < b.N; i++ {
				idle, err := MeasureIdle(d.Pid(), o.IdleWindow)
				if err != nil {
					fail(b, figIdle, spec, err)
					return
				}
				ticks = append(ticks, time.Duration(idle.Per10s(idle.CPU)*float64(time.Second)))
				run = append(run, time.Duration(idle.Per10s(idle.RunTime.Seconds())*float64(time.Second)))
			}
			hideNs(b)
			record(b, figIdle, spec, Summarize(ticks).P50.Seconds(), "cpu-s/10s")
			record(b, figIdleRun, spec, Summarize(run).P50.Seconds(), "sched-cpu-s/10s")
			reportRatio(b, figIdleRun, spec)
		})
		b.Run("getAllProcessInfo", func(b *testing.B) {
			req := NewRequest(MethodCall("supervisor.getAllProcessInfo"))
			var all []time.Duration
			size := 0
			for i := 0; i < b.N; i++ {
				lat, sz, err := LatencyBudget(d.Layout.Sock, req, o.LatencyN, o.LatencyLimit)
				if err != nil {
					fail(b, figGapiP50, spec, err)
					return
				}
				all, size = append(all, lat...), sz
			}
			st := Summarize(all)
			hideNs(b)
			record(b, figGapiP50, spec, Ms(st.P50), "p50-ms")
			record(b, figGapiP99, spec, Ms(st.P99), "p99-ms")
			record(b, figGapiBytes, spec, float64(size)/1024, "KiB")
			b.ReportMetric(float64(st.N), "samples")
			reportRatio(b, figGapiP50, spec)
		})
		for _, c := range []struct {
			clients int
			fig     Figure
			latFig  Figure
		}{{1, figGS1, figGS1P50}, {8, figGS8, figGS8P99}} {
			b.Run(fmt.Sprintf("getState-%d", c.clients), func(b *testing.B) {
				req := NewRequest(MethodCall("supervisor.getState"))
				var rates []float64
				var lat []Stats
				for i := 0; i < b.N; i++ {
					r, err := RunLoad(d.Layout.Sock, req, c.clients, o.LoadWindow)
					if err != nil {
						fail(b, c.fig, spec, err)
						return
					}
					if r.Errors > 0 {
						b.Logf("%s: %d failed calls, %d connections for %d clients", spec.Name, r.Errors, r.Dials, c.clients)
					}
					rates = append(rates, r.PerSecond)
					lat = append(lat, r.Latency)
				}
				hideNs(b)
				record(b, c.fig, spec, Median(rates), "calls/s")
				if c.clients == 1 {
					record(b, c.latFig, spec, Ms(lat[len(lat)-1].P50), "p50-ms")
				} else {
					record(b, c.latFig, spec, Ms(lat[len(lat)-1].P99), "p99-ms")
				}
				reportRatio(b, c.fig, spec)
			})
		}
		b.Run("memory", func(b *testing.B) {
			var st Status
			for i := 0; i < b.N; i++ {
				if st, err = ReadStatus(d.Pid()); err != nil {
					fail(b, figRSS, spec, err)
					return
				}
			}
			hideNs(b)
			record(b, figRSSIdle, spec, before.RSSMiB(), "idle-MiB")
			record(b, figRSS, spec, st.RSSMiB(), "MiB")
			record(b, figThreads, spec, float64(st.Threads), "threads")
			record(b, figFDs, spec, float64(st.FDs), "fds")
			reportRatio(b, figRSS, spec)
		})
	})
}

// BenchmarkRespawn measures the crash-to-respawn gap of a program that
// exits at once (startsecs=0, autorestart=true), unobserved and while a
// client polls getState at 50 Hz.
func BenchmarkRespawn(b *testing.B) {
	eachDaemon(b, func(b *testing.B, spec Spec) {
		o := suite.Opts
		for _, mode := range []struct {
			name string
			poll time.Duration
		}{{"quiet", 0}, {"polled", 20 * time.Millisecond}} {
			b.Run(mode.name, func(b *testing.B) {
				var logGaps, childGaps []time.Duration
				for i := 0; i < b.N; i++ {
					window := time.Duration(o.Respawns)*1500*time.Millisecond + 5*time.Second
					r, err := MeasureRespawn(spec, b.TempDir(), o.Respawns, window, mode.poll)
					if err != nil {
						fail(b, figRespawn, spec, err)
						return
					}
					logGaps = append(logGaps, r.LogGaps...)
					childGaps = append(childGaps, r.ChildGap...)
				}
				hideNs(b)
				lg, cg := Summarize(logGaps), Summarize(childGaps)
				b.ReportMetric(float64(lg.N), "gaps")
				if mode.poll == 0 {
					record(b, figRespawn, spec, Ms(lg.P50), "p50-ms")
					record(b, figRespawnMax, spec, Ms(lg.Max), "max-ms")
					record(b, figRespawnCh, spec, Ms(cg.P50), "child-p50-ms")
					reportRatio(b, figRespawn, spec)
				} else {
					record(b, figRespawnPoll, spec, Ms(lg.P50), "p50-ms")
					reportRatio(b, figRespawnPoll, spec)
				}
			})
		}
	})
}

// BenchmarkBackoff checks that the backoff between failed starts
// (startsecs=1, startretries=3) is still 1, 2, 3 s.
func BenchmarkBackoff(b *testing.B) {
	eachDaemon(b, func(b *testing.B, spec Spec) {
		const retries = 3
		var gaps []time.Duration
		for i := 0; i < b.N; i++ {
			var err error
			if gaps, err = MeasureBackoff(spec, b.TempDir(), retries); err != nil {
				fail(b, backoffFig(1), spec, err)
				return
			}
		}
		hideNs(b)
		if len(gaps) != retries {
			b.Errorf("%s: %d backoff gaps, want %d: %v", spec.Name, len(gaps), retries, gaps)
		}
		for i, g := range gaps {
			record(b, backoffFig(i+1), spec, g.Seconds(), fmt.Sprintf("gap%d-s", i+1))
		}
	})
}

// BenchmarkShutdown100 times SIGTERM to exit with 100 programs, once with
// the default priority for all (as in ../shared/bench) and once with
// distinct priorities, where it also checks the stop order; and that no
// child outlives the daemon.
func BenchmarkShutdown100(b *testing.B) {
	eachDaemon(b, func(b *testing.B, spec Spec) {
		const n = 100
		for _, v := range []struct {
			name    string
			progs   func(int) []Program
			fig     Figure
			ordered bool
		}{
			{"same-priority", func(n int) []Program { return SleepPrograms(n, nil) }, figShutdownSame, false},
			{"priorities", ShutdownPrograms, figShutdown, true},
		} {
			b.Run(v.name, func(b *testing.B) {
				var exits []time.Duration
				var last Shutdown
				for i := 0; i < b.N; i++ {
					d, _, err := LaunchAndWait(spec, b.TempDir(), v.progs(n), suite.Opts)
					if err != nil {
						fail(b, v.fig, spec, err)
						if d != nil {
							teardown(b, d)
						}
						return
					}
					time.Sleep(500 * time.Millisecond)
					last, err = MeasureShutdown(d, 120*time.Second)
					teardown(b, d)
					if err != nil {
						fail(b, v.fig, spec, err)
						return
					}
					exits = append(exits, last.Exit)
				}
				hideNs(b)
				record(b, v.fig, spec, Ms(Summarize(exits).P50), "ms")
				if v.ordered {
					record(b, figShutInv, spec, float64(last.Inversions), "inversions")
					if len(last.Stopped) != n {
						suite.Results.Note(figShutInv, spec.Name, fmt.Sprintf("%d stopped lines", len(last.Stopped)))
					}
				}
				record(b, figShutAlive, spec, float64(last.ChildrenAlive), "alive")
				reportRatio(b, v.fig, spec)
			})
		}
	})
}
