package procman

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gosupervisor/gosupervisor/config"
	"github.com/gosupervisor/gosupervisor/internal/clock"
	"github.com/gosupervisor/gosupervisor/internal/testchild"
	"github.com/gosupervisor/gosupervisor/internal/testleak"
)

// The test binary doubles as the supervised child: with PROCMAN_HELPER=1 in
// its environment, TestMain runs helperMain with the command's arguments.
const helperEnv = "PROCMAN_HELPER"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "1" {
		os.Exit(helperMain(os.Args[1:]))
	}
	if os.Getenv(pid1Env) == "1" {
		os.Exit(pid1Main())
	}
	if os.Getenv(unkillableEnv) != "" {
		os.Exit(unkillableMain(os.Getenv(unkillableEnv)))
	}
	// logrot.Hub workers (settle_test.go) exit on their own once idle.
	testleak.Main(m, goleak.IgnoreTopFunction("github.com/gosupervisor/gosupervisor/logrot.(*Hub).worker"))
}

// helperMain runs a sequence of steps, e.g. "out hello sleep 0.2 exit 3".
func helperMain(args []string) int {
	for i := 0; i < len(args); i++ {
		arg := func() string { i++; return args[i] }
		switch args[i] {
		case "sleep":
			d, _ := strconv.ParseFloat(arg(), 64)
			time.Sleep(time.Duration(d * float64(time.Second)))
		case "exit":
			n, _ := strconv.Atoi(arg())
			return n
		case "out":
			fmt.Fprintln(os.Stdout, arg())
		case "err":
			fmt.Fprintln(os.Stderr, arg())
		case "ignoreterm":
			signal.Ignore(syscall.SIGTERM)
		case "env":
			for _, k := range strings.Split(arg(), ",") {
				v, ok := os.LookupEnv(k)
				fmt.Printf("%s=%s %v\n", k, v, ok)
			}
		case "pwd":
			wd, _ := os.Getwd()
			fmt.Println("pwd=" + wd)
		case "umask":
			old := syscall.Umask(0)
			fmt.Printf("umask=%03o\n", old)
		case "pgid":
			pgid, _ := syscall.Getpgid(0)
			fmt.Printf("pid=%d pgid=%d\n", os.Getpid(), pgid)
		case "sockname":
			switch sa, err := syscall.Getsockname(0); a := sa.(type) {
			case *syscall.SockaddrUnix:
				fmt.Println("unix:" + a.Name)
			case *syscall.SockaddrInet4:
				fmt.Printf("inet:%d\n", a.Port)
			default:
				fmt.Println("fd0 is not a socket:", err)
			}
		case "cat":
			_, _ = io.Copy(os.Stdout, os.Stdin)
		case "waitfile":
			for path := arg(); ; time.Sleep(5 * time.Millisecond) {
				if _, err := os.Stat(path); err == nil {
					break
				}
			}
		case "notify":
			// One sd_notify datagram to $NOTIFY_SOCKET.
			msg := arg()
			c, err := net.Dial("unixgram", os.Getenv("NOTIFY_SOCKET"))
			if err != nil {
				fmt.Println("notify:", err)
				return 97
			}
			_, _ = c.Write([]byte(msg))
			c.Close()
		case "becomeroot":
			// Run from a setuid-root copy of this binary: take root as the
			// real and saved uid too, so the (unprivileged) supervisor may
			// no longer signal us.
			if err := testchild.BecomeRoot(); err != nil {
				fmt.Println(err)
				return 96
			}
		case "closestdin":
			os.Stdin.Close()
		case "selfkill":
			n, _ := strconv.Atoi(arg())
			_ = syscall.Kill(os.Getpid(), syscall.Signal(n))
			time.Sleep(10 * time.Second)
		case "child":
			// Start a grandchild (same process group) that sleeps, print
			// its pid, and do not wait for it.
			secs := arg()
			c := exec.Command(os.Args[0], "sleep", secs)
			c.Env = append(os.Environ(), helperEnv+"=1")
			if err := c.Start(); err != nil {
				fmt.Println("child error", err)
				return 99
			}
			fmt.Printf("grandchild=%d\n", c.Process.Pid)
		case "floodchild":
			// Leave a grandchild that floods our stdout (it holds the
			// pipe after we exit); print its pid first.
			c := exec.Command(os.Args[0], "flood")
			c.Env = append(os.Environ(), helperEnv+"=1")
			c.Stdout = os.Stdout
			if err := c.Start(); err != nil {
				fmt.Println("floodchild error", err)
				return 99
			}
			fmt.Printf("grandchild=%d\n", c.Process.Pid)
		case "flood":
			line := []byte(strings.Repeat("f", 99) + "\n")
			for {
				if _, err := os.Stdout.Write(line); err != nil {
					return 0
				}
			}
		case "orphans":
			// Double-fork n orphans: a middle process starts them and exits
			// at once, so they are re-parented to the reaper of the namespace.
			n := arg()
			c := exec.Command(os.Args[0], "spawnorphans", n)
			c.Env = append(os.Environ(), helperEnv+"=1")
			if err := c.Run(); err != nil {
				fmt.Println("orphans error", err)
				return 98
			}
		case "spawnorphans":
			n, _ := strconv.Atoi(arg())
			for k := 0; k < n; k++ {
				c := exec.Command(os.Args[0], "sleep", "0.2", "exit", strconv.Itoa(k%3))
				c.Env = append(os.Environ(), helperEnv+"=1")
				if err := c.Start(); err != nil {
					return 97
				}
			}
			return 0
		default:
			fmt.Fprintln(os.Stderr, "unknown helper step", args[i])
			return 100
		}
	}
	return 0
}

// helperCommand is a command line running this binary as a helper.
func helperCommand(steps ...string) string {
	exe, err := os.Executable()
	if err != nil {
		panic(err)
	}
	return exe + " " + strings.Join(steps, " ")
}

// proc builds a process config for the helper with test-friendly defaults.
func proc(name string, steps ...string) *config.Process {
	return &config.Process{
		Name:         name,
		Program:      name,
		Command:      helperCommand(steps...),
		Priority:     999,
		Autostart:    false,
		Autorestart:  config.AutorestartNever,
		Startsecs:    1,
		Startretries: 3,
		Stopsignal:   int(syscall.SIGTERM),
		Stopwaitsecs: 10,
		Exitcodes:    []int{0},
		ServerURL:    "AUTO",
		Environment:  config.Environment{{Key: helperEnv, Value: "1"}},
	}
}

func homogeneous(p *config.Process) *config.Group {
	return &config.Group{Name: p.Name, Priority: p.Priority, Processes: []*config.Process{p}}
}

// recorder collects transitions and log lines.
type recorder struct {
	s     *Supervisor // set by newTestSupervisor: log reads flush its log queue first
	mu    sync.Mutex
	trs   []Transition
	logs  []string
	wake  chan struct{}
	group []string
}

func newRecorder() *recorder { return &recorder{wake: make(chan struct{}, 1)} }

func (r *recorder) Log(level config.LogLevel, msg string) {
	r.mu.Lock()
	r.logs = append(r.logs, levelName(level)+" "+msg)
	r.mu.Unlock()
	r.poke()
}

func (r *recorder) poke() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

func (r *recorder) onTransition(tr Transition) {
	r.mu.Lock()
	r.trs = append(r.trs, tr)
	r.mu.Unlock()
	r.poke()
}

func (r *recorder) onGroup(name string, added bool) {
	r.mu.Lock()
	r.group = append(r.group, fmt.Sprintf("%s %v", name, added))
	r.mu.Unlock()
}

func levelName(l config.LogLevel) string {
	switch l {
	case config.LevelCritical:
		return "CRIT"
	case config.LevelError:
		return "ERRO"
	case config.LevelWarn:
		return "WARN"
	case config.LevelInfo:
		return "INFO"
	case config.LevelDebug:
		return "DEBG"
	}
	return "TRAC"
}

// states returns the sequence of states name went through ("STARTING",
// "RUNNING", ...).
func (r *recorder) states(name string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, tr := range r.trs {
		if tr.Process == name {
			out = append(out, tr.To.String())
		}
	}
	return out
}

func (r *recorder) transitions(name string) []Transition {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Transition
	for _, tr := range r.trs {
		if tr.Process == name {
			out = append(out, tr)
		}
	}
	return out
}

// syncLogs waits until the messages the supervisor queued so far reached
// the recorder.
func (r *recorder) syncLogs() {
	if r.s != nil {
		r.s.flushLogs()
	}
}

func (r *recorder) hasLog(line string) bool {
	r.syncLogs()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, l := range r.logs {
		if l == line {
			return true
		}
	}
	return false
}

func (r *recorder) logLines() []string {
	r.syncLogs()
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.logs...)
}

// waitFor polls cond (woken by every transition and log line) until it
// holds or the timeout (at least a minute: it bounds a hang, and a loaded
// 2-core box can take seconds to start the race-built helper child)
// passes.
func (r *recorder) waitFor(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	timeout = max(timeout, time.Minute)
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-r.wake:
		case <-tick.C:
		case <-deadline.C:
			t.Fatalf("timed out waiting for %s; logs:\n%s", what, strings.Join(r.logLines(), "\n"))
		}
	}
	// A transition can be published (by a goroutine delivering meanwhile)
	// while the fire that made it still holds the process's lock and has
	// yet to arm its timer (BACKOFF's retry, STOPPING's stopwaitsecs): a
	// clock advanced now would pass before it. Taking each process's
	// lock once waits for those fires to finish.
	if r.s != nil {
		r.s.AllInfo()
	}
}

// waitState waits until name's last published state is want.
func (r *recorder) waitState(t testing.TB, name string, want State, timeout time.Duration) {
	t.Helper()
	r.waitFor(t, name+" "+want.String(), timeout, func() bool {
		st := r.states(name)
		return len(st) > 0 && st[len(st)-1] == want.String()
	})
}

// fakeClock is a manual Clock: timers fire (each in its own goroutine, as
// time.AfterFunc does) only when Advance moves past them.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	c       *fakeClock
	when    time.Time
	f       func()
	stopped bool
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 11, 25, 20, 17, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) clock.Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{c: c, when: c.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	return t
}

func (t *fakeTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := !t.stopped
	t.stopped = true
	return was
}

// Advance moves the clock and fires due timers; it waits for their
// callbacks to return.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	var due []*fakeTimer
	keep := c.timers[:0]
	for _, t := range c.timers {
		switch {
		case t.stopped:
		case !t.when.After(c.now):
			t.stopped = true
			due = append(due, t)
		default:
			keep = append(keep, t)
		}
	}
	c.timers = keep
	c.mu.Unlock()
	var wg sync.WaitGroup
	for _, t := range due {
		wg.Add(1)
		go func() { defer wg.Done(); t.f() }()
	}
	wg.Wait()
}

// pending counts armed timers.
func (c *fakeClock) pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, t := range c.timers {
		if !t.stopped {
			n++
		}
	}
	return n
}

// newTestSupervisor returns a supervisor whose Close (and leak checks) run
// at the end of the test.
func newTestSupervisor(t testing.TB, opts Options) (*Supervisor, *recorder) {
	t.Helper()
	rec := newRecorder()
	if opts.Logger == nil {
		opts.Logger = rec
	}
	if opts.OnTransition == nil {
		opts.OnTransition = rec.onTransition
	}
	if opts.OnGroup == nil {
		opts.OnGroup = rec.onGroup
	}
	fds := countFDs(t)
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	rec.s = s
	if r, ok := opts.Logger.(*recorder); ok {
		r.s = s // a test's own recorder as the Logger
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		assertNoChildren(t)
		// Output pipes close when drain goroutines see EOF.
		deadline := time.Now().Add(30 * time.Second)
		for countFDs(t) > fds && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if n := countFDs(t); n > fds {
			t.Errorf("fd leak: %d open fds, %d before", n, fds)
		}
	})
	return s, rec
}

func countFDs(t testing.TB) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// children lists the pids whose parent is this process (alive or zombie).
func children() []int {
	var out []int
	for _, c := range testchild.Children() {
		out = append(out, c.PID)
	}
	return out
}

func assertNoChildren(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		kids := children()
		if len(kids) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("children left behind: %v", kids)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// pidAlive reports whether pid exists and is not a zombie.
func pidAlive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && len(s) > i+2 && s[i+2] != 'Z'
}

// lineReader is a sink that hands complete lines to a channel.
type lineSink struct{ lines chan string }

func newLineSink() *lineSink { return &lineSink{lines: make(chan string, 100)} }

func (l *lineSink) Consume(r *os.File, _ int) {
	go func() {
		defer r.Close()
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64*1024), 4<<20)
		for sc.Scan() {
			l.lines <- sc.Text()
		}
	}()
}

func (l *lineSink) next(t testing.TB) string {
	t.Helper()
	select {
	case s := <-l.lines:
		return s
	case <-time.After(time.Minute):
		t.Fatal("no output line")
	}
	return ""
}
