package events

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/config"
	"github.com/gosupervisor/gosupervisor/internal/clock"
	"github.com/gosupervisor/gosupervisor/internal/testleak"
)

func TestMain(m *testing.M) {
	testleak.Main(m)
}

// fakeClock is a manual Clock: Advance moves time and runs due timers.
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

func newFakeClock(unix float64) *fakeClock {
	sec := int64(unix)
	return &fakeClock{now: time.Unix(sec, int64((unix-float64(sec))*1e9))}
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
	i := slices.Index(t.c.timers, t)
	if i < 0 {
		return false
	}
	t.c.timers = slices.Delete(t.c.timers, i, i+1)
	t.stopped = true
	return true
}

// pending returns how many timers are armed.
func (c *fakeClock) pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}

// Set moves the clock to unix and fires the due timers.
func (c *fakeClock) Set(unix float64) {
	sec := int64(unix)
	c.mu.Lock()
	c.now = time.Unix(sec, int64((unix-float64(sec))*1e9))
	var due []*fakeTimer
	keep := c.timers[:0]
	for _, t := range c.timers {
		if !t.when.After(c.now) {
			due = append(due, t)
		} else {
			keep = append(keep, t)
		}
	}
	c.timers = keep
	c.mu.Unlock()
	for _, t := range due {
		t.f()
	}
}

// recLogger records log lines as "LEVL message".
type recLogger struct {
	mu    sync.Mutex
	lines []string
}

func (l *recLogger) Log(level config.LogLevel, msg string) {
	l.mu.Lock()
	l.lines = append(l.lines, level.Name()+" "+msg)
	l.mu.Unlock()
}

// take returns and forgets the lines logged so far.
func (l *recLogger) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.lines
	l.lines = nil
	return out
}

// fakeListener records what the pool writes to its stdin.
type fakeListener struct {
	name string
	mu   sync.Mutex
	in   []string
	err  error
}

func (f *fakeListener) Name() string { return f.name }

func (f *fakeListener) WriteStdin(b []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	f.in = append(f.in, string(b))
	return nil
}

func (f *fakeListener) setErr(err error) {
	f.mu.Lock()
	f.err = err
	f.mu.Unlock()
}

// received returns and forgets the envelopes written so far.
func (f *fakeListener) received() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.in
	f.in = nil
	return out
}

type harness struct {
	t     *testing.T
	bus   *Bus
	log   *recLogger
	clock *fakeClock
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{t: t, log: &recLogger{}, clock: newFakeClock(1000.5)}
	h.bus = NewBus(Options{Logger: h.log, Clock: h.clock})
	t.Cleanup(h.bus.Close)
	return h
}

// pool adds a pool named name with listeners l1..ln.
func (h *harness) pool(name string, bufferSize int, types []Type, listeners ...string) (*Pool, []*fakeListener) {
	h.t.Helper()
	var ls []Listener
	var fs []*fakeListener
	for _, n := range listeners {
		f := &fakeListener{name: n}
		fs = append(fs, f)
		ls = append(ls, f)
	}
	p, err := h.bus.AddPool(PoolConfig{Name: name, Events: types, BufferSize: bufferSize, Listeners: ls})
	if err != nil {
		h.t.Fatal(err)
	}
	return p, fs
}

var nextPID = 1000

// start spawns listener l of pool p and makes it RUNNING, as procman would.
func (h *harness) start(p *Pool, l string) int {
	nextPID++
	pid := nextPID
	p.ListenerSpawned(l, pid)
	h.transition(p.Name(), l, "STOPPED", "STARTING", pid)
	h.transition(p.Name(), l, "STARTING", "RUNNING", pid)
	return pid
}

func (h *harness) transition(group, proc, from, to string, pid int) {
	h.t.Helper()
	if err := h.bus.ProcessTransition(StateChange{Process: proc, Group: group, From: from, To: to, PID: pid}); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) remote(data string) {
	h.bus.Publish(NewRemoteCommunicationEvent("t", data))
}

// status syncs and returns a compact view: "state[event] ... | buffered".
func status(p *Pool) string {
	st := p.Status()
	var parts []string
	for _, l := range st.Listeners {
		s := l.State.String()
		if l.Event >= 0 {
			s += fmt.Sprintf("[%d]", l.Event)
		}
		if !l.Running {
			s += "(down)"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ") + fmt.Sprintf(" | %v", st.Buffered)
}

// serialsOf extracts "serial/poolserial" of envelopes.
func serialsOf(envs []string) []string {
	var out []string
	for _, e := range envs {
		var ser, pser int64
		var rest string
		fields := strings.Fields(strings.SplitN(e, "\n", 2)[0])
		for _, f := range fields {
			switch {
			case strings.HasPrefix(f, "serial:"):
				fmt.Sscan(f[len("serial:"):], &ser)
			case strings.HasPrefix(f, "poolserial:"):
				fmt.Sscan(f[len("poolserial:"):], &pser)
			case strings.HasPrefix(f, "eventname:"):
				rest = f[len("eventname:"):]
			}
		}
		out = append(out, fmt.Sprintf("%d/%d %s", ser, pser, rest))
	}
	return out
}

var errPipe = &os.SyscallError{Syscall: "write", Err: syscall.EPIPE}

var _ = errors.Is
