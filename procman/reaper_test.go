package procman

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/config"
)

// gateSink discards a process's output and holds its Settle (the wait for
// that output, when its exit is being delivered) until released: a child
// whose last output takes long to handle.
type gateSink struct {
	entered chan int // the pid of each Settle that started
	release chan struct{}
	once    sync.Once
}

func newGateSink() *gateSink {
	return &gateSink{entered: make(chan int, 16), release: make(chan struct{})}
}

func (g *gateSink) Consume(r *os.File, _ int) {
	go func() {
		_, _ = io.Copy(io.Discard, r)
		r.Close()
	}()
}

func (g *gateSink) Settle(pid int, timeout time.Duration) bool {
	if timeout == 0 {
		return false // a look: not settled yet
	}
	g.entered <- pid
	<-g.release
	return true
}

func (g *gateSink) open() { g.once.Do(func() { close(g.release) }) }

func (g *gateSink) waitEntered(t *testing.T) int {
	t.Helper()
	select {
	case pid := <-g.entered:
		return pid
	case <-time.After(30 * time.Second):
		t.Fatal("the exit's delivery never reached Settle")
	}
	return 0
}

// TestSlowSettleDoesNotHoldOtherExits: while the delivery of one exit waits
// for its output to settle, the reaper goes on reaping, and another child's
// exit is handled.
func TestSlowSettleDoesNotHoldOtherExits(t *testing.T) {
	gate := newGateSink()
	defer gate.open()
	s, rec := newTestSupervisor(t, Options{
		Output: func(_ *config.Group, p *config.Process) Output {
			if p.Name == "slow" {
				return Output{Stdout: gate}
			}
			return Output{}
		},
	})
	for _, name := range []string{"slow", "quick"} {
		p := proc(name, "sleep", "60")
		p.Startsecs = 0
		if err := s.AddGroup(homogeneous(p)); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Start(bg, name, true); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := s.Stop(bg, "slow", false); err != nil {
		t.Fatal(err)
	}
	gate.waitEntered(t) // slow's exit is reaped; its delivery waits
	done := make(chan error, 1)
	go func() { _, _, err := s.Stop(bg, "quick", true); done <- err }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("quick's exit was not handled while slow's output settles; logs:\n%s", strings.Join(rec.logLines(), "\n"))
	}
	if st := rec.states("slow"); st[len(st)-1] != "STOPPING" {
		t.Fatalf("slow went on to %v before its output settled", st)
	}
	gate.open()
	rec.waitState(t, "slow", Stopped, 30*time.Second)
}

// TestShutdownWaitsForDeadChild: a child that died but whose exit is not
// handled yet, on the Clock far past stopwaitsecs and SIGKILL's grace, is
// neither sent SIGKILL nor logged as left behind "still alive": Shutdown
// waits for its exit, whether the reaper has not reaped it yet (a zombie)
// or its delivery waits for its output.
func TestShutdownWaitsForDeadChild(t *testing.T) {
	for _, zombie := range []bool{false, true} {
		t.Run(fmt.Sprintf("zombie=%v", zombie), func(t *testing.T) {
			clk := newFakeClock()
			gate := newGateSink()
			defer gate.open()
			s, rec := newTestSupervisor(t, Options{
				Clock:  clk,
				Output: func(*config.Group, *config.Process) Output { return Output{Stdout: gate} },
			})
			p := proc("x", "sleep", "60")
			p.Startsecs = 0
			p.Stopwaitsecs = 3
			if err := s.AddGroup(homogeneous(p)); err != nil {
				t.Fatal(err)
			}
			if _, _, err := s.Start(bg, "x", true); err != nil {
				t.Fatal(err)
			}
			info, _ := s.Info("x")
			var held sync.Once
			unhold := func() {}
			if zombie {
				// The reaper is behind: it cannot reap.
				s.reaper.mu.Lock()
				unhold = func() { held.Do(s.reaper.mu.Unlock) }
				defer unhold()
			}
			done := make(chan error, 1)
			go func() { done <- s.Shutdown(bg) }()
			if zombie {
				rec.waitFor(t, "x to die", 30*time.Second, func() bool { return !pidAlive(info.PID) })
			} else {
				gate.waitEntered(t)
			}
			for range 4 * (3 + int(killGrace/time.Second)) {
				clk.Advance(time.Second)
			}
			select {
			case err := <-done:
				t.Fatalf("Shutdown returned (%v) before x's exit was handled", err)
			default:
			}
			unhold()
			gate.open()
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("Shutdown did not end")
			}
			for _, l := range rec.logLines() {
				if strings.Contains(l, "SIGKILL") || strings.Contains(l, "left behind") {
					t.Errorf("false line for a dead child: %q", l)
				}
			}
			if st := rec.states("x"); st[len(st)-1] != "STOPPED" {
				t.Errorf("x ended in %v", st)
			}
		})
	}
}

// TestReaperExpectedFirstScanOwed: an exit the reaper was told to expect
// is reaped by its pid, the scan of every child is put off, and a child
// that exited unexpected meanwhile is found by the scan the reaper owes
// itself, without another SIGCHLD (this reaper gets none: the test is its
// only source of wake-ups).
func TestReaperExpectedFirstScanOwed(t *testing.T) {
	sleep := lookBin(t, "/bin/sleep")
	r := newReaper(false, nil)
	// A scan "just ran" for as long as the test lasts: only an owed
	// scan, with no expected exit to explain it, may run one.
	r.lastScan = time.Now().Add(time.Hour)
	exits := make(chan Exit, 2)
	start := func() int {
		pid, err := r.Start(false, func() (int, error) {
			return syscall.ForkExec(sleep, []string{sleep, "60"}, &syscall.ProcAttr{})
		}, func(ex Exit) { exits <- ex })
		if err != nil {
			t.Fatal(err)
		}
		return pid
	}
	expected, unexpected := start(), start()
	r.Expect(expected)
	for _, pid := range []int{expected, unexpected} {
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
	}
	for _, pid := range []int{expected, unexpected} {
		for pidAlive(pid) {
			time.Sleep(time.Millisecond)
		}
	}
	go r.loop()
	defer r.Close()
	reapedAt := map[int]time.Time{}
	for range 2 {
		select {
		case ex := <-exits:
			if ex.Status.Signal() != syscall.SIGKILL {
				t.Errorf("pid %d: status %v", ex.Pid, ex.Status)
			}
			reapedAt[ex.Pid] = ex.Time
		case <-time.After(30 * time.Second):
			t.Fatalf("delivered %v of %d and %d", reapedAt, expected, unexpected)
		}
	}
	// Exit.Time is when the reap that found it ran.
	if a, b := reapedAt[expected], reapedAt[unexpected]; !a.Before(b) {
		t.Errorf("the expected pid was reaped at %v, the other at %v: want it first (by pid, no scan), the other by the owed scan", a, b)
	}
	r.expectMu.Lock()
	left := len(r.expect)
	r.expectMu.Unlock()
	if left != 0 {
		t.Errorf("%d pids left in the expect queue", left)
	}
}

// TestReaperQuickDeliveries: of one reap's exits, the one whose owner
// takes it at once (quick) is handled by the delivering goroutine and
// never reaches its callback; the other goes to its callback, whose wait
// holds up neither the quick one nor the reaper, and the OnReaped hook
// runs once, after both.
func TestReaperQuickDeliveries(t *testing.T) {
	sleep := lookBin(t, "/bin/sleep")
	r := newReaper(false, nil)
	quickDone := make(chan int, 1)
	slowIn := make(chan int, 1)
	release := make(chan struct{})
	var hooks sync.WaitGroup
	hooks.Add(1)
	var hookCalls atomic.Int32
	r.OnReaped(func() {
		hookCalls.Add(1)
		hooks.Done()
	})
	start := func(s sub) int {
		pid, err := r.start(false, func() (int, error) {
			return syscall.ForkExec(sleep, []string{sleep, "60"}, &syscall.ProcAttr{})
		}, s)
		if err != nil {
			t.Fatal(err)
		}
		return pid
	}
	fast := start(sub{
		cb:    func(ex Exit) { t.Errorf("pid %d: the callback ran for an exit taken at once", ex.Pid) },
		quick: func(ex Exit) bool { quickDone <- ex.Pid; return true },
	})
	slow := start(sub{
		cb:    func(ex Exit) { slowIn <- ex.Pid; <-release },
		quick: func(Exit) bool { return false },
	})
	for _, pid := range []int{fast, slow} {
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		for pidAlive(pid) {
			time.Sleep(time.Millisecond)
		}
	}
	go r.loop() // its first reap takes both: one batch
	defer r.Close()
	for _, want := range []struct {
		ch  chan int
		pid int
	}{{quickDone, fast}, {slowIn, slow}} {
		select {
		case got := <-want.ch:
			if got != want.pid {
				t.Fatalf("got pid %d, want %d", got, want.pid)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("pid %d not delivered", want.pid)
		}
	}
	if n := hookCalls.Load(); n != 0 {
		t.Errorf("OnReaped ran %d times while an exit of the batch was being handled", n)
	}
	if _, ok := r.inflightExit(fast); ok {
		t.Error("the exit taken at once is still in flight")
	}
	if _, ok := r.inflightExit(slow); !ok {
		t.Error("the exit being handled is not in flight")
	}
	close(release)
	hooks.Wait()
	if _, ok := r.inflightExit(slow); ok {
		t.Error("the handled exit is still in flight")
	}
}
