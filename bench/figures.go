package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Options size the measurements.
type Options struct {
	Quick        bool          // smaller log, shorter windows, fewer samples
	IdleWindow   time.Duration // idle CPU window (reported per 10 s)
	LoadWindow   time.Duration // getState throughput window per client count
	LatencyN     int           // getAllProcessInfo samples (capped by LatencyBudget)
	LatencyLimit time.Duration // time budget for the latency samples
	LogBytes     int64         // bytes the log writer emits
	Respawns     int           // crash-loop restarts to observe
	PollInterval time.Duration // getAllProcessInfo poll interval while waiting for states
}

// DefaultOptions are the full-run sizes; quick shrinks them.
func DefaultOptions(quick bool) Options {
	o := Options{IdleWindow: 10 * time.Second, LoadWindow: 3 * time.Second, LatencyN: 200,
		LatencyLimit: 8 * time.Second, LogBytes: 1 << 30, Respawns: 10, PollInterval: 25 * time.Millisecond}
	if quick {
		o.Quick = true
		o.IdleWindow = 5 * time.Second
		o.LoadWindow = time.Second
		o.LatencyN = 50
		o.LatencyLimit = 4 * time.Second
		o.LogBytes = 256 << 20
		o.Respawns = 5
	}
	return o
}

// Teardown stops d (SIGTERM, grace, SIGKILL), then kills and reaps
// whatever it left behind. It returns the number of orphans found and an
// error if any process is still our child afterwards.
func Teardown(d *Daemon, grace time.Duration) (orphans int, err error) {
	d.Stop(grace)
	time.Sleep(20 * time.Millisecond) // let the kernel re-parent
	found, left := ReapOrphans(time.Second)
	if left > 0 {
		return found, fmt.Errorf("%s: %d processes still our children after cleanup", d.Spec.Name, left)
	}
	return found, nil
}

// Startup is what launching N programs looks like.
type Startup struct {
	N           int
	FirstAnswer time.Duration // launch -> getState answers
	AllRunning  time.Duration // launch -> N processes RUNNING
	Polls       int
	CPU         float64 // daemon CPU seconds until all RUNNING
}

// LaunchAndWait starts spec on n sleep programs in dir and waits until all
// are RUNNING. The daemon is left running for the caller.
func LaunchAndWait(spec Spec, dir string, progs []Program, o Options) (*Daemon, Startup, error) {
	n := len(progs)
	d, err := Launch(spec, dir, progs)
	if err != nil {
		return nil, Startup{}, err
	}
	s := Startup{N: n}
	// Python answers only after its first pass has spawned every program,
	// which takes tens of ms each on a loaded machine.
	timeout := 60*time.Second + time.Duration(n)*150*time.Millisecond
	if s.FirstAnswer, err = d.WaitAnswer(timeout, 2*time.Millisecond); err != nil {
		return d, s, err
	}
	if s.AllRunning, s.Polls, err = d.WaitStates(n, []int{StateRunning}, timeout, o.PollInterval); err != nil {
		return d, s, err
	}
	s.CPU, _ = CPUSeconds(d.Pid())
	return d, s, nil
}

// Idle measures the daemon's CPU over window, with tick-resolution
// utime+stime and nanosecond-resolution schedstat run time.
type Idle struct {
	Window  time.Duration
	CPU     float64       // utime+stime over the window, s
	RunTime time.Duration // schedstat run time over the window
}

// Per10s scales a CPU figure to a 10 s window.
func (i Idle) Per10s(v float64) float64 { return v * float64(10*time.Second) / float64(i.Window) }

// MeasureIdle samples pid's CPU over window.
func MeasureIdle(pid int, window time.Duration) (Idle, error) {
	c0, err := CPUSeconds(pid)
	if err != nil {
		return Idle{}, err
	}
	r0, err := RunTime(pid)
	if err != nil {
		return Idle{}, err
	}
	t0 := time.Now()
	time.Sleep(window)
	c1, err := CPUSeconds(pid)
	if err != nil {
		return Idle{}, err
	}
	r1, err := RunTime(pid)
	if err != nil {
		return Idle{}, err
	}
	return Idle{Window: time.Since(t0), CPU: c1 - c0, RunTime: r1 - r0}, nil
}

// LatencyBudget is Latency bounded by both n samples and a time budget
// (at least 3 samples are taken).
func LatencyBudget(sock string, req Request, n int, budget time.Duration) ([]time.Duration, int, error) {
	c := NewClient(sock, 120*time.Second)
	defer c.Close()
	body, err := c.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("warm-up call: %w", err)
	}
	if err := Decode(body, nil); err != nil {
		return nil, 0, err
	}
	var lat []time.Duration
	size := 0
	deadline := time.Now().Add(budget)
	for i := 0; i < n && (i < 3 || time.Now().Before(deadline)); i++ {
		t := time.Now()
		body, err := c.Do(req)
		if err != nil {
			return lat, size, fmt.Errorf("call %d: %w", i, err)
		}
		lat = append(lat, time.Since(t))
		size = len(body)
	}
	return lat, size, nil
}

// Shutdown is what SIGTERM does to a daemon running N programs.
type Shutdown struct {
	N             int
	Exit          time.Duration // SIGTERM -> daemon reaped
	ChildrenAlive int           // its children still alive once it exited
	Stopped       []string      // "stopped:" order from the main log
	Inversions    int           // adjacent pairs stopped against priority order
}

// ShutdownPrograms are n sleep programs with distinct priorities
// (p0000 has priority 1, p0001 2...), so shutdown order is checkable:
// higher priority numbers stop first.
func ShutdownPrograms(n int) []Program {
	progs := SleepPrograms(n, nil)
	for i := range progs {
		progs[i].Options["priority"] = fmt.Sprint(i + 1)
	}
	return progs
}

// MeasureShutdown sends SIGTERM to d (already running progs, all RUNNING)
// and times its exit. timeout bounds the wait.
func MeasureShutdown(d *Daemon, timeout time.Duration) (Shutdown, error) {
	kids := ChildrenOf(d.Pid())
	s := Shutdown{}
	t0 := time.Now()
	if err := d.Signal(syscall.SIGTERM); err != nil {
		return s, err
	}
	select {
	case <-d.Done():
	case <-time.After(timeout):
		return s, fmt.Errorf("%s did not exit within %v of SIGTERM", d.Spec.Name, timeout)
	}
	s.Exit = d.ExitedAt().Sub(t0)
	s.N = len(kids)
	for _, k := range kids {
		if Alive(k.Pid) {
			s.ChildrenAlive++
		}
	}
	evs, err := ParseMainLog(d.Layout.MainLog)
	if err != nil {
		return s, err
	}
	s.Stopped = StoppedOrder(evs)
	s.Inversions = Inversions(s.Stopped)
	return s, nil
}

// Inversions counts adjacent pairs of ShutdownPrograms names that stopped
// in ascending instead of descending priority order.
func Inversions(names []string) int {
	inv := 0
	for i := 1; i < len(names); i++ {
		if names[i] > names[i-1] {
			inv++
		}
	}
	return inv
}

// Respawn is the crash-loop figure.
type Respawn struct {
	Starts   int
	LogGaps  []time.Duration // main log "exited:" -> next "spawned:"
	ChildGap []time.Duration // child's last breath -> next child's first
}

// crashScript appends its start and exit times to $1 and exits 1.
const crashScript = `#!/bin/bash
echo "s $EPOCHREALTIME" >> "$1"
echo "e $EPOCHREALTIME" >> "$1"
exit 1
`

// CrashProgram writes the crash-loop script into dir and returns the
// program (startsecs as given, autorestart) and its event file.
func CrashProgram(dir string, startsecs, startretries int) (Program, string, error) {
	script := filepath.Join(dir, "crash.sh")
	if err := os.WriteFile(script, []byte(crashScript), 0o755); err != nil {
		return Program{}, "", fmt.Errorf("write crash script: %w", err)
	}
	events := filepath.Join(dir, "crash.events")
	return Program{Name: "r", Options: map[string]string{
		"command":      "/bin/bash " + script + " " + events,
		"startsecs":    fmt.Sprint(startsecs),
		"startretries": fmt.Sprint(startretries),
		"autostart":    "true",
		"autorestart":  "true",
		"exitcodes":    "0",
	}}, events, nil
}

// MeasureRespawn runs the crash loop (startsecs=0) until want starts were
// seen or window passed. With poll > 0 it also calls getState every poll
// meanwhile (Python's event loop wakes on every request, which shortens
// its respawn gap; the quiet run shows what an unwatched daemon does).
func MeasureRespawn(spec Spec, dir string, want int, window, poll time.Duration) (Respawn, error) {
	prog, events, err := CrashProgram(dir, 0, 3)
	if err != nil {
		return Respawn{}, err
	}
	d, err := Launch(spec, dir, []Program{prog})
	if err != nil {
		return Respawn{}, err
	}
	var r Respawn
	defer func() { _, _ = Teardown(d, 3*time.Second) }()
	if _, err := d.WaitAnswer(30*time.Second, 5*time.Millisecond); err != nil {
		return r, err
	}
	stopPoll := make(chan struct{})
	pollDone := make(chan struct{})
	go func() {
		defer close(pollDone)
		if poll <= 0 {
			return
		}
		c := d.Client(5 * time.Second)
		defer c.Close()
		req := NewRequest(MethodCall("supervisor.getState"))
		t := time.NewTicker(poll)
		defer t.Stop()
		for {
			select {
			case <-stopPoll:
				return
			case <-t.C:
				_, _ = c.Do(req)
			}
		}
	}()
	deadline := time.Now().Add(window)
	for time.Now().Before(deadline) {
		data, _ := os.ReadFile(events)
		if strings.Count(string(data), "s ") >= want+1 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	close(stopPoll)
	<-pollDone
	if _, err := Teardown(d, 3*time.Second); err != nil {
		return r, err
	}
	r.ChildGap, r.Starts, err = ChildTimes(events)
	if err != nil {
		return r, err
	}
	evs, err := ParseMainLog(d.Layout.MainLog)
	if err != nil {
		return r, err
	}
	r.LogGaps = RespawnGaps(evs, "r")
	if len(r.LogGaps) == 0 {
		return r, fmt.Errorf("%s: no respawn seen in %v (%d starts)", spec.Name, window, r.Starts)
	}
	return r, nil
}

// MeasureBackoff runs the crash loop with startsecs=1 (every exit is a
// failed start) and returns the exited -> spawned gaps from the main log:
// supervisord's backoff is 1, 2, 3... s.
func MeasureBackoff(spec Spec, dir string, retries int) ([]time.Duration, error) {
	prog, _, err := CrashProgram(dir, 1, retries)
	if err != nil {
		return nil, err
	}
	d, err := Launch(spec, dir, []Program{prog})
	if err != nil {
		return nil, err
	}
	defer func() { _, _ = Teardown(d, 3*time.Second) }()
	if _, err := d.WaitAnswer(30*time.Second, 5*time.Millisecond); err != nil {
		return nil, err
	}
	// 1+2+...+retries seconds of backoff, plus slack
	if _, _, err := d.WaitStates(1, []int{StateFatal}, time.Duration(retries*(retries+1)/2+10)*time.Second, 100*time.Millisecond); err != nil {
		return nil, err
	}
	if _, err := Teardown(d, 3*time.Second); err != nil {
		return nil, err
	}
	evs, err := ParseMainLog(d.Layout.MainLog)
	if err != nil {
		return nil, err
	}
	return RespawnGaps(evs, "r"), nil
}

// LogCapture is the log throughput figure.
type LogCapture struct {
	Written  int64         // bytes the writer emitted
	OnDisk   int64         // bytes in the log file and its backups
	Files    int           // log file plus backups
	MaxFile  int64         // largest file
	Baseline time.Duration // writer alone into a file in the same dir
	// CopierCPU is the CPU seconds dd spends moving the writers' pipes
	// into files in 1 MiB reads (one dd per writer, all at once); dd pays
	// a read per pipe wake-up, so this is a reference, not a floor.
	CopierCPU float64
	// PageCacheCPU is the CPU seconds of dd writing the same bytes from
	// /dev/zero into files in 64 KiB writes (one per writer, all at once):
	// the page-cache write floor of any capturing daemon on this machine.
	PageCacheCPU float64
	// SpliceSameCPU and SpliceOtherCPU are the CPU seconds of splice(2)
	// alone moving the bytes from a pipe into a file, its writer pinned to
	// the reader's CPU or to the other one (MeasurePipeCopy; one writer
	// only): the kernel's share of any capture.
	SpliceSameCPU  float64
	SpliceOtherCPU float64
	Complete       time.Duration // startProcess -> all bytes on disk
	CPU            float64       // daemon CPU s over Complete
	Exited         bool          // writer seen EXITED
	ContentOK      bool          // oldest file starts with writer bytes
}

// Lost is the number of bytes written but not on disk.
func (l LogCapture) Lost() int64 { return l.Written - l.OnDisk }

// MiBps is capture throughput.
func (l LogCapture) MiBps() float64 {
	if l.Complete <= 0 {
		return 0
	}
	return float64(l.OnDisk) / (1 << 20) / l.Complete.Seconds()
}

// BaselineMiBps is the writer's rate into a plain file.
func (l LogCapture) BaselineMiBps() float64 {
	if l.Baseline <= 0 {
		return 0
	}
	return float64(l.Written) / (1 << 20) / l.Baseline.Seconds()
}

const logLine = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" // 99 bytes + '\n'

// MeasureLogCapture has writers programs write nbytes in all (nbytes /
// writers each) of 100-byte lines to stdout, all started at once and
// captured with rotation (maxbytes=100MB, 20 backups), and counts what
// reaches the disk.
func MeasureLogCapture(spec Spec, dir string, nbytes int64, writers int, timeout time.Duration) (LogCapture, error) {
	if writers < 1 {
		writers = 1
	}
	per := nbytes / int64(writers)
	nbytes = per * int64(writers)
	r := LogCapture{Written: nbytes}
	script := filepath.Join(dir, "writer.sh")
	body := fmt.Sprintf("#!/bin/sh\nyes '%s' | head -c %d\n", logLine, per)
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		return r, fmt.Errorf("write writer script: %w", err)
	}
	// the writers alone into files on the same file system: the disk limit
	t := time.Now()
	errs := make(chan error, writers)
	for i := range writers {
		go func() {
			base := filepath.Join(dir, fmt.Sprintf("baseline%03d.out", i))
			defer os.Remove(base)
			f, err := os.Create(base)
			if err != nil {
				errs <- fmt.Errorf("create baseline: %w", err)
				return
			}
			err = runTo(script, f)
			f.Close()
			if st, serr := os.Stat(base); err == nil && serr == nil && st.Size() != per {
				err = fmt.Errorf("baseline writer wrote %d bytes, want %d", st.Size(), per)
			}
			errs <- err
		}()
	}
	var berr error
	for range writers {
		if err := <-errs; err != nil && berr == nil {
			berr = err
		}
	}
	r.Baseline = time.Since(t)
	if berr != nil {
		return r, berr
	}
	var err error
	if r.CopierCPU, err = copiersCPU(script, dir, per, writers); err != nil {
		return r, err
	}
	if r.PageCacheCPU, err = pageCacheCPU(dir, per, writers); err != nil {
		return r, err
	}
	if a, b, ok := twoCPUs(); ok && writers == 1 {
		same, err := MeasurePipeCopy(dir, per, b, b)
		if err != nil {
			return r, err
		}
		other, err := MeasurePipeCopy(dir, per, a, b)
		if err != nil {
			return r, err
		}
		r.SpliceSameCPU, r.SpliceOtherCPU = same.ReaderCPU, other.ReaderCPU
	}

	ddir := filepath.Join(dir, "daemon")
	if err := os.MkdirAll(ddir, 0o755); err != nil {
		return r, fmt.Errorf("make daemon dir: %w", err)
	}
	l := NewLayout(ddir)
	progs := make([]Program, writers)
	for i := range progs {
		progs[i] = Program{Name: fmt.Sprintf("w%03d", i), Options: map[string]string{
			"command":                 "/bin/sh " + script,
			"startsecs":               "0",
			"autostart":               "false",
			"autorestart":             "false",
			"redirect_stderr":         "false",
			"stdout_logfile":          filepath.Join(l.Logs, fmt.Sprintf("w%03d.log", i)),
			"stdout_logfile_maxbytes": "100MB",
			"stdout_logfile_backups":  "20",
		}}
	}
	d, err := Launch(spec, ddir, progs)
	if err != nil {
		return r, err
	}
	defer func() { _, _ = Teardown(d, 3*time.Second) }()
	if _, err := d.WaitAnswer(30*time.Second, 5*time.Millisecond); err != nil {
		return r, err
	}
	c := d.Client(30 * time.Second)
	defer c.Close()
	c0, err := CPUSeconds(d.Pid())
	if err != nil {
		return r, err
	}
	t0 := time.Now()
	var started []any
	if err := c.Call(&started, "supervisor.startAllProcesses", false); err != nil {
		return r, err
	}
	glob := filepath.Join(l.Logs, "w*")
	deadline := t0.Add(timeout)
	infoReq := NewRequest(MethodCall("supervisor.getAllProcessInfo"))
	var last int64 = -1
	var exited int
	var lastErr error
	stableSince := time.Now()
	for time.Now().Before(deadline) {
		total := sumSizes(glob)
		if total >= nbytes && r.Complete == 0 {
			r.Complete = time.Since(t0)
			r.CPU, _ = CPUSeconds(d.Pid())
			r.CPU -= c0
		}
		if !r.Exited {
			body, err := c.Do(infoReq)
			if err == nil {
				exited, _ = CountStates(body, StateExited, StateFatal, StateBackoff)
				r.Exited = exited >= writers
			} else {
				lastErr = err
			}
		}
		if total != last {
			last, stableSince = total, time.Now()
		}
		if r.Exited && (r.Complete > 0 || time.Since(stableSince) > 5*time.Second) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if r.Complete == 0 {
		r.CPU, _ = CPUSeconds(d.Pid())
		r.CPU -= c0
	}
	files, _ := filepath.Glob(glob)
	r.Files = len(files)
	first, _ := filepath.Glob(filepath.Join(l.Logs, "w000*"))
	var oldest string
	var oldestTime time.Time
	for _, p := range files {
		st, err := os.Stat(p)
		if err != nil {
			continue
		}
		r.OnDisk += st.Size()
		if st.Size() > r.MaxFile {
			r.MaxFile = st.Size()
		}
	}
	for _, p := range first {
		if st, err := os.Stat(p); err == nil && (oldest == "" || st.ModTime().Before(oldestTime)) {
			oldest, oldestTime = p, st.ModTime()
		}
	}
	if oldest != "" {
		if fh, err := os.Open(oldest); err == nil {
			head := make([]byte, 200)
			n, _ := fh.Read(head)
			fh.Close()
			r.ContentOK = n == 200 && strings.Trim(string(head[:n]), "x\n") == "" && strings.Contains(string(head[:n]), logLine+"\n")
		}
	}
	if !r.Exited {
		return r, fmt.Errorf("%s: %d of %d writers seen exited within %v (%d of %d bytes on disk; last poll error: %v)",
			spec.Name, exited, writers, timeout, r.OnDisk, nbytes, lastErr)
	}
	return r, nil
}

func sumSizes(glob string) int64 {
	files, _ := filepath.Glob(glob)
	var total int64
	for _, p := range files {
		if st, err := os.Stat(p); err == nil {
			total += st.Size()
		}
	}
	return total
}
