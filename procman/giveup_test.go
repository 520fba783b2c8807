package procman

import (
	"sync"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/config"
)

// slowSettle is an output sink whose Settle blocks until released: the
// exit it belongs to is reaped but not yet delivered, as when the reaper
// is behind on a loaded box.
type slowSettle struct {
	*lineSink
	settling chan int
	release  chan struct{}
}

func (s *slowSettle) Settle(pid int, timeout time.Duration) bool {
	if timeout == 0 {
		return false // a look: not settled yet
	}
	s.settling <- pid
	<-s.release
	return true
}

// TestWaitingStopWaitsForDelayedExit: a waiting stopProcess whose child
// died on SIGTERM but whose exit is delivered late (past stopwaitsecs +
// killGrace) waits for it and answers success, instead of FAILED "still
// alive after SIGKILL" (a false report the 30-minute soak saw 3 times).
func TestWaitingStopWaitsForDelayedExit(t *testing.T) {
	clk := newFakeClock()
	s, rec := newTestSupervisor(t, Options{Clock: clk})
	out := &slowSettle{lineSink: newLineSink(), settling: make(chan int, 1), release: make(chan struct{})}
	var once sync.Once
	release := func() { once.Do(func() { close(out.release) }) }
	t.Cleanup(release) // before the supervisor's Close, which waits for the reaper
	s.opts.Output = func(*config.Group, *config.Process) Output { return Output{Stdout: out} }
	p := proc("p", "out", "ready", "sleep", "120")
	p.Startsecs = 0
	p.Stopwaitsecs = 2
	if err := s.AddGroup(homogeneous(p)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Start(bg, "p", true); err != nil {
		t.Fatal(err)
	}
	out.next(t)
	info, _ := s.Info("p")
	done := make(chan error, 1)
	go func() { _, _, err := s.Stop(bg, "p", true); done <- err }()
	// The child dies of SIGTERM and is reaped; its exit waits in Settle.
	select {
	case pid := <-out.settling:
		if pid != info.PID {
			t.Fatalf("settling pid %d, want %d", pid, info.PID)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the exit never reached Settle")
	}
	for range 4 { // stopwaitsecs + killGrace and three more checks
		clk.Advance(killGrace)
		s.drain()
	}
	select {
	case err := <-done:
		t.Fatalf("the stop answered %v before the exit was delivered", err)
	default:
	}
	if in, _ := s.Info("p"); in.State != Stopping {
		t.Fatalf("state %s while the exit waits, want STOPPING", in.State)
	}
	release()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("stop: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the stop never ended")
	}
	rec.waitState(t, "p", Stopped, 10*time.Second)
	if rec.hasLog("still alive") {
		t.Errorf("a dead child was reported alive: %q", rec.logLines())
	}
}
