package bench

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestMeasureFloorLeavesNothing(t *testing.T) {
	fds := func() int {
		ents, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Fatal(err)
		}
		return len(ents)
	}
	before := fds()
	f, err := BestFloor(5, 2)
	if err != nil {
		t.Fatal(err)
	}
	if f.N != 5 || f.Start <= 0 || f.TermReap <= 0 || f.TermReapBanded <= 0 || f.TermReapClose <= 0 || f.Runs != [4]int{6, 2, 2, 2} {
		t.Errorf("floor = %+v", f)
	}
	if kids := ChildrenOf(os.Getpid()); len(kids) != 0 {
		t.Errorf("%d children left after the floor: %+v", len(kids), kids)
	}
	if after := fds(); after != before {
		t.Errorf("%d descriptors open after the floor runs, %d before", after, before)
	}
}

func TestScaleFDs(t *testing.T) {
	for _, c := range []struct {
		n    int
		hard uint64
		want int
	}{{100, 20000, 1300}, {6000, 20000, 19000}, {7000, 20000, 20000}, {1000, 0, 4000}} {
		if got := ScaleFDs(c.n, c.hard); got != c.want {
			t.Errorf("ScaleFDs(%d, %d) = %d, want %d", c.n, c.hard, got, c.want)
		}
	}
}

func TestScaleProgramsBands(t *testing.T) {
	progs := ScalePrograms(20)
	if got := progs[0].Options["priority"]; got != "100" {
		t.Errorf("p0000 priority = %s, want 100", got)
	}
	if got := progs[19].Options["priority"]; got != "190" {
		t.Errorf("p0019 priority = %s, want 190", got)
	}
	if progs[5].Options["startsecs"] != "0" || progs[5].Options["command"] != "/bin/sleep 100000" {
		t.Errorf("p0005 = %v", progs[5].Options)
	}
}

func TestBandInversions(t *testing.T) {
	for _, c := range []struct {
		name  string
		order []string
		want  int
	}{
		{"descending bands", []string{"p0019", "p0018", "p0009", "p0000"}, 0},
		{"any order inside a band", []string{"p0018", "p0019", "p0000", "p0001"}, 0},
		{"low band first", []string{"p0000", "p0019"}, 1},
		{"two jumps", []string{"p0019", "p0000", "p0010", "p0001", "p0015"}, 2},
		{"other names skipped", []string{"p0019", "web", "p0000"}, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := BandInversions(c.order, 20); got != c.want {
				t.Errorf("BandInversions(%v) = %d, want %d", c.order, got, c.want)
			}
		})
	}
}

func TestLogCounterIncremental(t *testing.T) {
	path := filepath.Join(t.TempDir(), "main.log")
	c := NewLogCounter(path, runningMarker)
	if n, err := c.Count(); n != 0 || err != nil {
		t.Fatalf("missing file: %d, %v", n, err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	steps := []struct {
		write string
		want  int
	}{
		{"2026-01-01 00:00:00,000 INFO spawned: 'p0000' with pid 1\n", 0},
		{"2026-01-01 00:00:00,001 INFO success: p0000 entered RUNNING state\n2026-01-01 00:00:00,002 INFO succ", 1},
		{"ess: p0001 entered RUNNING state", 1}, // the line is not complete yet
		{"\n2026-01-01 00:00:00,003 INFO success: p0002 entered RUNNING state\n", 3},
	}
	for i, s := range steps {
		if _, err := f.WriteString(s.write); err != nil {
			t.Fatal(err)
		}
		if n, err := c.Count(); n != s.want || err != nil {
			t.Errorf("step %d: Count = %d, %v; want %d", i, n, err, s.want)
		}
	}
}

func TestCountStatusCodes(t *testing.T) {
	body := []byte(`<methodResponse><params><param><value><array><data>` +
		`<value><struct><member><name>status</name><value><int>80</int></value></member></struct></value>` +
		`<value><struct><member><name>status</name><value><int>70</int></value></member></struct></value>` +
		`</data></array></value></param></params></methodResponse>`)
	if ok, total := CountStatusCodes(body); ok != 1 || total != 2 {
		t.Errorf("CountStatusCodes = %d, %d; want 1, 2", ok, total)
	}
}

func TestFormatHelpers(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want string
	}{{0, "-"}, {420 * time.Microsecond, "420 µs"}, {2500 * time.Microsecond, "2.50 ms"},
		{61 * time.Millisecond, "61 ms"}, {24600 * time.Millisecond, "24.60 s"}} {
		if got := FmtDur(c.d); got != c.want {
			t.Errorf("FmtDur(%v) = %q, want %q", c.d, got, c.want)
		}
	}
	for n, want := range map[int]string{100: "100", 1000: "1,000", 6000: "6,000", 1234567: "1,234,567"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
	if got := Ratio(3*time.Second, 2*time.Second); got != 1.5 {
		t.Errorf("Ratio = %v", got)
	}
}

func TestGrowthMarkdown(t *testing.T) {
	g := NewGrowth()
	g.Ctls = []string{"python", "ours"}
	r := g.Run("ours", 1000)
	r.Load = "1.00 2.00 3.00"
	// Three floor runs: each figure is the fastest of the runs that have it.
	r.Floor.Keep(Floor{N: 1000, Start: 2100 * time.Millisecond, TermReap: 500 * time.Millisecond})
	r.Floor.Keep(Floor{N: 1000, Start: 2 * time.Second, TermReapBanded: 520 * time.Millisecond})
	r.Floor.Keep(Floor{N: 1000, Start: 2300 * time.Millisecond, TermReap: 700 * time.Millisecond})
	r.Floor.Keep(Floor{N: 1000, Start: 2200 * time.Millisecond, TermReapClose: 550 * time.Millisecond})
	r.Start = ScaleStart{FirstAnswer: 80 * time.Millisecond, AllRunning: 2400 * time.Millisecond, CPU: 0.5}
	r.Starts = []time.Duration{2400 * time.Millisecond, 2200 * time.Millisecond, 2300 * time.Millisecond}
	r.RSS, r.RSSIdle, r.FDs, r.Threads = 20, 18, 2010, 12
	r.StopAll, r.StopAllRuns = StopAll{Return: 600 * time.Millisecond}, 2
	r.Shutdown, r.ShutdownRuns = Shutdown{Exit: 650 * time.Millisecond}, 2
	r.Ctl["ours"], r.CtlCPU["ours"] = 15*time.Millisecond, 9*time.Millisecond
	r2 := g.Run("ours", 100)
	r2.RSS = 15
	r2.Skip("SIGTERM shutdown", "not asked")
	md := g.Markdown()
	for _, want := range []string{
		"ours, growth with N:",
		"| figure | N = 100 | N = 1,000 |",
		"| start to all RUNNING, fastest launch (launches) | - | 2.20 s (3) |",
		"| bare start floor, fastest run (runs) | - | 2.00 s (4) |",
		"| start / floor | - | 1.10x |",
		"| start per program (floor) | - | 2.20 ms (2.00 ms) |",
		"| start, every launch in order | - | 2.40 s, 2.20 s, 2.30 s |",
		"| first launch / floor | - | 2.40 s (1.20x) |",
		"| stop all (stopAllProcesses), fastest (runs) | - | 600 ms (2) |",
		"| bare SIGTERM+reap floor, fastest (runs) | - | 500 ms (2) |",
		"| bare SIGTERM+reap floor closing the pipe ends, fastest (runs) | - | 550 ms (1) |",
		"| stop all / that floor | - | 1.09x |",
		"| SIGTERM shutdown, fastest (runs) | - | 650 ms (2) |",
		"| RSS per program (marginal from previous N) | 153.6 KiB | 20.5 KiB (5.7 KiB) |",
		"| open fds (per program) | - | 2010 (2.01) |",
		"| stop all / floor (exit-order inversions) | - | 1.20x (0) |",
		"| shutdown / floor (order inversions, children alive) | - | 1.30x (0, 0) |",
		"| bare band-by-band SIGTERM+reap floor, fastest (runs) | - | 520 ms (1) |",
		"| shutdown / band-by-band floor | - | 1.25x |",
		"| supervisorctl status, ours client (its CPU) | - | 15 ms (9.00 ms) |",
		"- N = 100, SIGTERM shutdown: not asked",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("growth table lacks %q:\n%s", want, md)
		}
	}
}

func TestIsPythonDaemon(t *testing.T) {
	dir := t.TempDir()
	py := filepath.Join(dir, "py")
	if err := os.WriteFile(py, []byte("#!/usr/bin/python3\nprint()\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "bin")
	if err := os.WriteFile(bin, []byte("\x7fELF\x02\x01"), 0o755); err != nil {
		t.Fatal(err)
	}
	if !isPythonDaemon(py) || isPythonDaemon(bin) || isPythonDaemon(filepath.Join(dir, "none")) {
		t.Errorf("isPythonDaemon: py %v, bin %v", isPythonDaemon(py), isPythonDaemon(bin))
	}
}

// TestScaleAgainstPython runs the scale measurements at N = 10 against
// Python's supervisord and client (no timing asserted): the launch watches
// the main log, status lists every program, stop all stops them all in
// band order of signals and leaves no child.
func TestScaleAgainstPython(t *testing.T) {
	const py, ctl, n = "/usr/bin/supervisord", "/usr/bin/supervisorctl", 10
	for _, p := range []string{py, ctl, "/usr/bin/python3"} {
		if _, err := os.Stat(p); err != nil {
			t.Skipf("no Python supervisor: %v", err)
		}
	}
	spec := Spec{Name: "python", Path: py, Args: defaultArgs}
	d, st, err := LaunchScale(spec, t.TempDir(), ScalePrograms(n), ScaleFDs(n, HardNoFile()), nil)
	if d != nil {
		defer func() { d.Stop(time.Second); ReapOrphans(time.Second) }()
	}
	if err != nil {
		t.Fatal(err)
	}
	if st.FirstAnswer <= 0 || st.AllRunning <= 0 {
		t.Errorf("start = %+v", st)
	}
	conf, err := os.ReadFile(d.Layout.Conf)
	if err != nil || !strings.Contains(string(conf), "minfds=1030\n") || !strings.Contains(string(conf), "minprocs=1010\n") {
		t.Errorf("config lacks the scale limits (%v):\n%.400s", err, conf)
	}
	if load, err := PythonConfigLoad("/usr/bin/python3", d.Layout.Conf, n, 1); err != nil || load <= 0 {
		t.Errorf("PythonConfigLoad = %v, %v", load, err)
	}
	if load, cpu, err := ConfigLoad(d.Layout.Conf, 1); err != nil || load <= 0 || cpu < 0 {
		t.Errorf("ConfigLoad = %v, %v, %v", load, cpu, err)
	}
	walls, cpus, err := CtlStatus(ctl, d.Layout.Conf, n, 1, 60*time.Second)
	if err != nil || len(walls) != 1 || len(cpus) != 1 || cpus[0] <= 0 {
		t.Errorf("CtlStatus = %v, %v, %v", walls, cpus, err)
	}
	if _, _, err := CtlStatus(ctl, d.Layout.Conf, n+1, 1, 60*time.Second); err == nil {
		t.Error("CtlStatus accepted 10 RUNNING lines for 11 programs")
	}
	s, err := MeasureStopAll(d, n, 60*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if s.Results != n || s.Stopped != n || s.Left != 0 || s.Return <= 0 {
		t.Errorf("stop all = %+v", s)
	}
	if err := d.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-d.Done()
	if found, left := ReapOrphans(time.Second); found != 0 || left != 0 {
		t.Errorf("ReapOrphans = found %d, left %d", found, left)
	}
}
