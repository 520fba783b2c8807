package bench

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gosupervisor/gosupervisor/config"
)

// The scale figures (BenchmarkScale) run N = 100 ... 6,000 /bin/sleep
// programs and judge each daemon figure against what the machine itself
// needs for the same N, measured in the same run (Floor).

// ScaleBands is how many priority bands the scale programs are spread over,
// so stop order can be checked without making every program its own
// priority level.
const ScaleBands = 10

// Floor is what this machine needs, with no supervisor, to start N
// /bin/sleep processes the way a supervisor does and to stop them again.
type Floor struct {
	N        int
	Start    time.Duration // fork+exec of all N, pipes made and kept
	TermReap time.Duration // SIGTERM to all N until the last is reaped
	// TermReapBanded is TermReap keeping supervisord's shutdown order:
	// SIGTERM to one priority band (ScaleBands, highest priority number
	// first) and all of it reaped before the next band is signalled.
	TermReapBanded time.Duration
	// TermReapClose is TermReap with each child's two pipe ends closed as
	// it is reaped, which a supervisor must do and the floor (the
	// pipe ends stay open until the run is over) does not.
	TermReapClose time.Duration
	// Runs counts the samples behind each figure when Keep merged several
	// runs: start, all-at-once SIGTERM+reap, band by band, with the pipes
	// closed.
	Runs [4]int
}

// FloorStop is how a floor run stops its children.
type FloorStop int

const (
	StopAllAtOnce FloorStop = iota // SIGTERM to all, then reap all: TermReap
	StopBanded                     // band by band: TermReapBanded
	StopClosing                    // StopAllAtOnce closing the pipe ends at each reap: TermReapClose
)

// Keep folds run g into f, component by component: each figure becomes the
// fastest of its samples (a shared machine only ever slows a run down).
func (f *Floor) Keep(g Floor) {
	keep := func(dst *time.Duration, v time.Duration, runs *int) {
		if v <= 0 {
			return
		}
		if *dst <= 0 || v < *dst {
			*dst = v
		}
		*runs++
	}
	f.N = g.N
	keep(&f.Start, g.Start, &f.Runs[0])
	keep(&f.TermReap, g.TermReap, &f.Runs[1])
	keep(&f.TermReapBanded, g.TermReapBanded, &f.Runs[2])
	keep(&f.TermReapClose, g.TermReapClose, &f.Runs[3])
}

// MeasureFloor fork+execs n /bin/sleep from this process, each in its own
// process group with a stdin pipe and one stdout pipe that also takes
// stderr (what redirect_stderr=true gives a supervisor), keeping the parent
// ends open as a supervisor does; then sends SIGTERM to all with kill(2)
// and reaps them with wait4(-1) as a reaper does, as how says. Start times
// the spawns, TermReap, TermReapBanded or TermReapClose the first kill to
// the last reap. It must run while this process has no other child (it
// reaps any). Nothing is left running, also on error.
func MeasureFloor(n int, how FloorStop) (Floor, error) {
	f := Floor{N: n}
	ends := make(map[int][2]*os.File, n) // live child -> its pipes' parent ends
	defer func() {
		for pid := range ends {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		for pid, e := range ends {
			var ws syscall.WaitStatus
			_, _ = syscall.Wait4(pid, &ws, 0, nil)
			e[0].Close()
			e[1].Close()
		}
	}()
	env := os.Environ()
	argv := []string{"/bin/sleep", "100000"}
	order := make([]int, 0, n)
	var open [][2]*os.File // the reaped children's ends, closed after the timing (not StopClosing)
	defer func() {
		for _, e := range open {
			e[0].Close()
			e[1].Close()
		}
	}()
	t0 := time.Now()
	for range n {
		inR, inW, err := os.Pipe()
		if err != nil {
			return f, fmt.Errorf("floor: stdin pipe: %w", err)
		}
		outR, outW, err := os.Pipe()
		if err != nil {
			inR.Close()
			inW.Close()
			return f, fmt.Errorf("floor: stdout pipe: %w", err)
		}
		p, err := os.StartProcess(argv[0], argv, &os.ProcAttr{
			Env: env, Files: []*os.File{inR, outW, outW}, Sys: &syscall.SysProcAttr{Setpgid: true}})
		inR.Close()
		outW.Close()
		if err != nil {
			inW.Close()
			outR.Close()
			return f, fmt.Errorf("floor: start /bin/sleep %d of %d: %w", len(ends)+1, n, err)
		}
		ends[p.Pid] = [2]*os.File{inW, outR}
		order = append(order, p.Pid)
		_ = p.Release() // reaped by wait4 below, not through os.Process
	}
	f.Start = time.Since(t0)
	reaped := func(pid int) {
		e := ends[pid]
		delete(ends, pid)
		if how == StopClosing {
			e[0].Close()
			e[1].Close()
			return
		}
		open = append(open, e)
	}
	t1 := time.Now()
	if how != StopBanded {
		if err := termReap(order, ends, reaped); err != nil {
			return f, err
		}
		if how == StopClosing {
			f.TermReapClose = time.Since(t1)
		} else {
			f.TermReap = time.Since(t1)
		}
		return f, nil
	}
	for b := ScaleBands - 1; b >= 0; b-- {
		var band []int
		for i, pid := range order {
			if Band(i, n) == b {
				band = append(band, pid)
			}
		}
		if err := termReap(band, ends, reaped); err != nil {
			return f, err
		}
	}
	f.TermReapBanded = time.Since(t1)
	return f, nil
}

// termReap sends SIGTERM to each of these pids, in order, and reaps with
// wait4(-1) until all of them are gone, calling reaped for each. live are
// the floor's children not yet reaped: reaping any other child is an
// error.
func termReap(these []int, live map[int][2]*os.File, reaped func(int)) error {
	want := make(map[int]bool, len(these))
	for _, pid := range these {
		if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
			return fmt.Errorf("floor: SIGTERM pid %d: %w", pid, err)
		}
		want[pid] = true
	}
	for len(want) > 0 {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, 0, nil)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("floor: wait4 with %d left: %w", len(want), err)
		}
		if _, ok := live[pid]; !ok || !want[pid] {
			return fmt.Errorf("floor: reaped pid %d, not one of those signalled: run the floor with no other child", pid)
		}
		delete(want, pid)
		reaped(pid)
	}
	return nil
}

// BestFloor is the fastest of runs floor runs of each FloorStop, taken in
// turn, component by component: on a shared machine a single run can be
// slowed by a burst of other work, which would flatter the daemon's ratio.
func BestFloor(n, runs int) (Floor, error) {
	best := Floor{N: n}
	for i := range 3 * max(runs, 1) {
		f, err := MeasureFloor(n, FloorStop(i%3))
		if err != nil {
			return best, err
		}
		best.Keep(f)
	}
	return best, nil
}

// ScaleFDs is the minfds a scale config asks for: three descriptors per
// program (stdin and stdout pipe ends, the log file) and 1,000 spare, capped
// at the hard RLIMIT_NOFILE, which an unprivileged daemon cannot raise.
func ScaleFDs(n int, hard uint64) int {
	want := 3*n + 1000
	if hard > 0 && uint64(want) > hard {
		return int(hard)
	}
	return want
}

// HardNoFile is this process's hard RLIMIT_NOFILE (0 if unknown).
func HardNoFile() uint64 {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0
	}
	return rl.Max
}

// ScalePrograms are n sleep programs spread over ScaleBands priority bands
// in name order: p0000... have the lowest priority number, so they start
// first and stop last.
func ScalePrograms(n int) []Program {
	progs := SleepPrograms(n, nil)
	for i := range progs {
		progs[i].Options["priority"] = strconv.Itoa(100 + 10*Band(i, n))
	}
	return progs
}

// Band is the priority band of program i of n.
func Band(i, n int) int { return i * ScaleBands / n }

// BandInversions counts adjacent pairs in a stop order (program names
// p0000...) where a lower band stopped before a higher one: supervisord
// stops higher priority numbers first.
func BandInversions(names []string, n int) int {
	inv := 0
	prev := -1
	for _, name := range names {
		i, err := strconv.Atoi(strings.TrimPrefix(name, "p"))
		if err != nil {
			continue
		}
		b := Band(i, n)
		if prev >= 0 && b > prev {
			inv++
		}
		prev = b
	}
	return inv
}

// LogCounter counts the lines of a growing main log that contain a marker,
// reading only what was appended since the last call.
type LogCounter struct {
	path   string
	marker []byte
	off    int64
	part   []byte // an incomplete last line
	count  int
}

// NewLogCounter counts lines of path that contain marker.
func NewLogCounter(path, marker string) *LogCounter {
	return &LogCounter{path: path, marker: []byte(marker)}
}

// Count reads what was appended and returns the count so far. A missing
// file counts 0.
func (c *LogCounter) Count() (int, error) {
	f, err := os.Open(c.path)
	if os.IsNotExist(err) {
		return c.count, nil
	}
	if err != nil {
		return c.count, fmt.Errorf("open %s: %w", c.path, err)
	}
	defer f.Close()
	if _, err := f.Seek(c.off, io.SeekStart); err != nil {
		return c.count, fmt.Errorf("seek %s: %w", c.path, err)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return c.count, fmt.Errorf("read %s: %w", c.path, err)
	}
	c.off += int64(len(data))
	data = append(c.part, data...)
	end := bytes.LastIndexByte(data, '\n')
	if end < 0 {
		c.part = data
		return c.count, nil
	}
	c.count += bytes.Count(data[:end+1], c.marker)
	c.part = append([]byte(nil), data[end+1:]...)
	return c.count, nil
}

// ScaleStart is what launching N programs looks like at scale.
type ScaleStart struct {
	FirstAnswer time.Duration // launch -> getState answered
	AllRunning  time.Duration // launch -> N "success:" lines, confirmed by getAllProcessInfo
	CPU         float64       // daemon CPU seconds at AllRunning
}

// runningMarker is the main-log line of a program entering RUNNING.
const runningMarker = " success: "

// LaunchScale writes a config of progs with minfds into dir, starts spec and
// waits until every program is RUNNING. It watches the main log's
// "success:" lines instead of polling getAllProcessInfo, which at 6,000
// programs is a 7 MB answer that would steal the daemon's CPU while it
// spawns, then confirms the count with one getAllProcessInfo. The daemon is
// left running for the caller (also on error, when it is not nil).
// onLaunch, when not nil, is called right after the fork (to attach a
// profiler).
func LaunchScale(spec Spec, dir string, progs []Program, minfds int, onLaunch func(*Daemon)) (*Daemon, ScaleStart, error) {
	n := len(progs)
	var s ScaleStart
	d, err := LaunchConfig(spec, dir, func(l Layout) string {
		l.MinFDs, l.MinProcs = minfds, n+1000
		return l.Config(progs)
	})
	if err != nil {
		return nil, s, err
	}
	if onLaunch != nil {
		onLaunch(d)
	}
	timeout := 60*time.Second + time.Duration(n)*30*time.Millisecond
	deadline := d.Launched.Add(timeout)
	if s.FirstAnswer, err = d.WaitAnswer(timeout, 2*time.Millisecond); err != nil {
		return d, s, err
	}
	lc := NewLogCounter(d.Layout.MainLog, runningMarker)
	for {
		got, err := lc.Count()
		if err != nil {
			return d, s, err
		}
		if got >= n {
			s.AllRunning = time.Since(d.Launched)
			s.CPU, _ = CPUSeconds(d.Pid())
			break
		}
		if d.Exited() {
			return d, s, fmt.Errorf("%s exited while starting (%d of %d running): %s", spec.Name, got, n, d.Output())
		}
		if time.Now().After(deadline) {
			return d, s, fmt.Errorf("%s: %d of %d programs RUNNING within %v", spec.Name, got, n, timeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
	// the log says so; the state must agree (poll if it lags the log)
	if _, _, err := d.WaitStates(n, []int{StateRunning}, time.Until(deadline)+10*time.Second, 100*time.Millisecond); err != nil {
		return d, s, err
	}
	return d, s, nil
}

// ConfigLoad is the best of runs in-process config.Load calls on path: what
// our daemon spends reading that config before it can answer, as wall time
// and as this process's CPU time over the same call (GC included; on a
// loaded machine the wall time is mostly waiting for a core).
func ConfigLoad(path string, runs int) (wall, cpu time.Duration, err error) {
	for range runs {
		c0 := processCPU()
		t := time.Now()
		if _, err := config.Load(path, config.LoadOptions{}); err != nil {
			return 0, 0, fmt.Errorf("config.Load %s: %w", path, err)
		}
		d, c := time.Since(t), processCPU()-c0
		if wall == 0 || d < wall {
			wall = d
		}
		if cpu == 0 || c < cpu {
			cpu = c
		}
	}
	return wall, cpu, nil
}

// processCPU is this process's user+system CPU time so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// pyConfigLoad times Python's ServerOptions.realize on a config (the import
// of the supervisor package not included).
const pyConfigLoad = `import sys, time
from supervisor.options import ServerOptions
t = time.perf_counter()
o = ServerOptions()
o.realize(args=['-c', sys.argv[1]])
n = sum(len(g.process_configs) for g in o.process_group_configs)
print('%.6f %d' % (time.perf_counter() - t, n))
`

// PythonConfigLoad is the best of runs of Python supervisor's own config
// load of path, run by python (/usr/bin/python3); want is the number of
// programs it must find.
func PythonConfigLoad(python, path string, want, runs int) (time.Duration, error) {
	best := time.Duration(0)
	for range runs {
		out, err := exec.Command(python, "-c", pyConfigLoad, path).CombinedOutput()
		if err != nil {
			return 0, fmt.Errorf("python config load: %w: %s", err, shorten(string(out), 300))
		}
		var secs float64
		var n int
		if _, err := fmt.Sscanf(string(out), "%f %d", &secs, &n); err != nil {
			return 0, fmt.Errorf("python config load: parse %q: %w", shorten(string(out), 100), err)
		}
		if n != want {
			return 0, fmt.Errorf("python config load: %d programs, want %d", n, want)
		}
		d := time.Duration(secs * float64(time.Second))
		if best == 0 || d < best {
			best = d
		}
	}
	return best, nil
}

// CtlStatus runs `ctl -c conf status` runs times and returns each wall time
// and the client's own CPU time (user+system); every run must list want
// programs as RUNNING.
func CtlStatus(ctl, conf string, want, runs int, timeout time.Duration) (walls, cpus []time.Duration, err error) {
	for range runs {
		cmd := exec.Command(ctl, "-c", conf, "status")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		t := time.Now()
		if err := cmd.Start(); err != nil {
			return walls, cpus, fmt.Errorf("start %s: %w", ctl, err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		var err error
		select {
		case err = <-done:
		case <-time.After(timeout):
			_ = cmd.Process.Kill()
			<-done
			return walls, cpus, fmt.Errorf("%s status: no answer within %v", ctl, timeout)
		}
		wall := time.Since(t)
		running := bytes.Count(out.Bytes(), []byte(" RUNNING "))
		if running != want {
			return walls, cpus, fmt.Errorf("%s status (%v): %d RUNNING lines, want %d: %s", ctl, err, running, want, shorten(out.String(), 200))
		}
		walls = append(walls, wall)
		cpus = append(cpus, cmd.ProcessState.UserTime()+cmd.ProcessState.SystemTime())
	}
	return walls, cpus, nil
}

// StopAll is what supervisor.stopAllProcesses(wait=True) does at scale.
type StopAll struct {
	Return     time.Duration // call sent -> answer read (all stopped)
	Results    int           // entries in the answer
	Stopped    int           // processes STOPPED afterwards
	Inversions int           // band order inversions in the main log's "stopped:" lines
	Left       int           // OS children of the daemon afterwards
	CPU        float64       // daemon CPU over the call
}

// MeasureStopAll calls stopAllProcesses(true) on d, running n ScalePrograms,
// and checks the outcome: all STOPPED, stop order by band, no child left.
func MeasureStopAll(d *Daemon, n int, timeout time.Duration) (StopAll, error) {
	var s StopAll
	c := d.Client(timeout)
	defer c.Close()
	c0, _ := CPUSeconds(d.Pid())
	req := NewRequest(MethodCall("supervisor.stopAllProcesses", true))
	t := time.Now()
	body, err := c.Do(req)
	s.Return = time.Since(t)
	c1, _ := CPUSeconds(d.Pid())
	s.CPU = c1 - c0
	if err != nil {
		return s, fmt.Errorf("stopAllProcesses: %w", err)
	}
	if err := Decode(body, nil); err != nil {
		return s, fmt.Errorf("stopAllProcesses: %w", err)
	}
	_, s.Results = CountStatusCodes(body)
	info, err := c.Do(NewRequest(MethodCall("supervisor.getAllProcessInfo")))
	if err != nil {
		return s, fmt.Errorf("getAllProcessInfo after stopAllProcesses: %w", err)
	}
	s.Stopped, _ = CountStates(info, StateStopped)
	s.Left = len(ChildrenOf(d.Pid()))
	evs, err := ParseMainLog(d.Layout.MainLog)
	if err != nil {
		return s, err
	}
	order := StoppedOrder(evs)
	s.Inversions = BandInversions(order, n)
	if s.Stopped != n || len(order) != n {
		return s, fmt.Errorf("stopAllProcesses: %d of %d STOPPED, %d stopped: lines in the main log", s.Stopped, n, len(order))
	}
	return s, nil
}

// CountStatusCodes counts the "status" members of a startAll/stopAll
// answer: ok is how many are 80 (SUCCESS), total how many there are.
func CountStatusCodes(body []byte) (ok, total int) {
	for v := range intMembers(body, "status") {
		total++
		if v == 80 {
			ok++
		}
	}
	return ok, total
}

// Profile is a perf command (`perf record -g`, `perf stat`) attached to a
// running process.
type Profile struct {
	cmd      *exec.Cmd
	ctl, ack *os.File // perf's control and ack pipes, open until Stop
	Path     string
}

// StartProfile attaches `perf record -g` (999 Hz, kernel and user stacks)
// to pid, writing out. perf follows threads and children the process
// creates later.
func StartProfile(pid int, out string) (*Profile, error) {
	return startPerf(out, "record", "-q", "-F", "999", "-g", "-p", strconv.Itoa(pid), "-o", out)
}

// startPerf runs `perf args...` (a perf command that writes out) with its
// events disabled, enables them through perf's control pipe and returns
// once perf has acknowledged, so a short phase is measured from its first
// moment (on a loaded machine perf takes a second or more to attach).
func startPerf(out string, args ...string) (*Profile, error) {
	ctlR, ctlW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("perf control pipe: %w", err)
	}
	ackR, ackW, err := os.Pipe()
	if err != nil {
		ctlR.Close()
		ctlW.Close()
		return nil, fmt.Errorf("perf ack pipe: %w", err)
	}
	cmd := exec.Command("perf", append(args, "-D", "-1", "--control", "fd:3,4")...)
	cmd.ExtraFiles = []*os.File{ctlR, ackW}
	err = cmd.Start()
	ctlR.Close()
	ackW.Close()
	if err != nil {
		ctlW.Close()
		ackR.Close()
		return nil, fmt.Errorf("start perf %s: %w", args[0], err)
	}
	p := &Profile{cmd: cmd, ctl: ctlW, ack: ackR, Path: out}
	if _, err := ctlW.WriteString("enable\n"); err != nil {
		_ = p.Stop()
		return nil, fmt.Errorf("enable perf %s: %w", args[0], err)
	}
	_ = ackR.SetReadDeadline(time.Now().Add(10 * time.Second)) // pipes support deadlines
	buf := make([]byte, 16)
	if n, err := ackR.Read(buf); err != nil || !strings.HasPrefix(string(buf[:n]), "ack") {
		_ = p.Stop()
		return nil, fmt.Errorf("perf %s did not acknowledge enable (%q): %v", args[0], buf[:n], err)
	}
	return p, nil
}

// Stop ends the recording (SIGINT, as perf expects) and waits for perf to
// write its file; it also returns when the profiled process has exited.
func (p *Profile) Stop() error {
	defer p.ctl.Close()
	defer p.ack.Close()
	_ = p.cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil && p.cmd.ProcessState != nil && !p.cmd.ProcessState.Exited() {
			return nil // ended by our SIGINT
		}
		return err
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
		return fmt.Errorf("perf did not stop within 30 s; %s may be incomplete", p.Path)
	}
}

// Ratio is value over floor (0 when the floor is missing).
func Ratio(value, floor time.Duration) float64 {
	if floor <= 0 {
		return 0
	}
	return float64(value) / float64(floor)
}

// sortedInts returns the keys of m in order.
func sortedInts[V any](m map[int]V) []int {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	return keys
}
