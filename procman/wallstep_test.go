package procman

import (
	"fmt"
	"testing"
	"time"
	"unsafe"
)

// A wall-clock step (settimeofday, an NTP step) moves what time.Now()
// says but not its monotonic reading, which Go uses for Sub, Before and
// timers. These tests step the wall time of the fake clock the same way
// and check that startsecs, backoff and stopwaitsecs follow the
// monotonic clock, while start and now (Python's wall-clock values) move
// with the wall clock.

// newSteppingClock is a fakeClock whose times carry a monotonic reading
// (it starts from time.Now()), so stepWall can move the wall time alone.
func newSteppingClock() *fakeClock { return &fakeClock{now: time.Now()} }

// stepWall moves c's wall time by d (whole seconds) and leaves its
// monotonic reading, hence every duration and timer, alone.
func stepWall(t *testing.T, c *fakeClock, d time.Duration) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	before := c.now
	c.now = shiftWall(c.now, d)
	// The representation trick below must have done exactly that.
	if c.now.Sub(before) != 0 || c.now.Round(0).Sub(before.Round(0)) != d {
		t.Fatalf("stepWall(%v): monotonic moved by %v, wall by %v: time.Time's layout changed", d, c.now.Sub(before), c.now.Round(0).Sub(before.Round(0)))
	}
}

// shiftWall returns tm with its wall time moved by d (whole seconds) and
// its monotonic reading kept. Go has no API for that (settimeofday is
// what does it to time.Now()); time.Time is {wall uint64; ext int64; loc},
// and with a monotonic reading (wall's top bit) wall holds the seconds
// since 1885 in bits 30 to 62 and ext the monotonic reading. stepWall
// checks the result.
func shiftWall(tm time.Time, d time.Duration) time.Time {
	type rep struct {
		wall uint64
		ext  int64
		loc  *time.Location
	}
	r := (*rep)(unsafe.Pointer(&tm))
	if secs := int64(d / time.Second); secs >= 0 {
		r.wall += uint64(secs) << 30
	} else {
		r.wall -= uint64(-secs) << 30
	}
	return tm
}

// TestWallClockStepStartsecs: a process in its startsecs is RUNNING after
// startsecs of monotonic time, whether the wall clock jumps an hour
// forward (Python would call it RUNNING at once) or back (Python would
// start counting again); start and now stay wall-clock values.
func TestWallClockStepStartsecs(t *testing.T) {
	for _, step := range []time.Duration{time.Hour, -time.Hour} {
		t.Run(step.String(), func(t *testing.T) {
			clk := newSteppingClock()
			s, rec := newTestSupervisor(t, Options{Clock: clk})
			p := proc("slow", "sleep", "120")
			p.Startsecs = 5
			startOne(t, s, p, false)
			rec.waitState(t, "slow", Starting, 10*time.Second)
			before, _ := s.Info("slow")
			stepWall(t, clk, step)
			clk.Advance(4 * time.Second)
			s.drain()
			if in, _ := s.Info("slow"); in.State != Starting {
				t.Fatalf("%v step, 4 s into startsecs=5: %s", step, in.State)
			}
			clk.Advance(time.Second)
			rec.waitState(t, "slow", Running, 10*time.Second)
			in, _ := s.Info("slow")
			if in.Start != before.Start {
				t.Errorf("start moved from %d to %d", before.Start, in.Start)
			}
			if want := before.Now + int64(step/time.Second) + 5; in.Now != want {
				t.Errorf("now %d, want the stepped wall clock %d", in.Now, want)
			}
		})
	}
}

// TestWallClockStepBackoff: the retries of a crash-looping process come
// 1 s, then 2 s of monotonic time after each failure, across wall-clock
// steps either way.
func TestWallClockStepBackoff(t *testing.T) {
	clk := newSteppingClock()
	s, rec := newTestSupervisor(t, Options{Clock: clk})
	startFlaky(t, s, 2)
	rec.waitTransitions(t, "flaky", 2) // STARTING, BACKOFF
	for _, c := range []struct {
		step, backoff time.Duration
		seen          int // transitions before the retry
	}{{time.Hour, time.Second, 2}, {-2 * time.Hour, 2 * time.Second, 4}} {
		stepWall(t, clk, c.step)
		clk.Advance(c.backoff - time.Millisecond)
		s.drain()
		if n := len(rec.states("flaky")); n != c.seen {
			t.Fatalf("retried early after the wall clock moved %v: %v", c.step, rec.states("flaky"))
		}
		clk.Advance(time.Millisecond)
		rec.waitTransitions(t, "flaky", c.seen+2)
	}
	rec.waitTransitions(t, "flaky", 7) // the last retry failed too: FATAL
	wantStates(t, rec, "flaky", "STARTING", "BACKOFF", "STARTING", "BACKOFF", "STARTING", "BACKOFF", "FATAL")
}

// TestWallClockStepStopwaitsecs: a process that ignores SIGTERM gets
// SIGKILL after stopwaitsecs of monotonic time, not at once when the wall
// clock jumps forward past it.
func TestWallClockStepStopwaitsecs(t *testing.T) {
	clk := newSteppingClock()
	s, rec := newTestSupervisor(t, Options{Clock: clk})
	info := startStubborn(t, s, "tough", 10)
	if _, _, err := s.Stop(bg, "tough", false); err != nil {
		t.Fatal(err)
	}
	rec.waitState(t, "tough", Stopping, 10*time.Second)
	stepWall(t, clk, time.Hour)
	clk.Advance(9 * time.Second)
	s.drain()
	if in, _ := s.Info("tough"); in.State != Stopping || !pidAlive(info.PID) {
		t.Fatalf("9 s into stopwaitsecs=10 after a wall step: %s, alive %v", in.State, pidAlive(info.PID))
	}
	clk.Advance(time.Second)
	rec.waitState(t, "tough", Stopped, 10*time.Second)
	if !rec.hasLog(fmt.Sprintf("WARN killing 'tough' (%d) with SIGKILL", info.PID)) {
		t.Errorf("no SIGKILL after stopwaitsecs: %q", rec.logLines())
	}
}
