package procman

import (
	"sync"
	"time"

	"github.com/gosupervisor/gosupervisor/internal/clock"
)

// giveUpTimer calls giveUp after d on the clock, unless dead() says the
// child has already exited (it is a zombie, or reaped with its exit not
// yet delivered): then it looks again killGrace later, until stopped.
type giveUpTimer struct {
	mu      sync.Mutex
	clk     clock.Clock
	t       clock.Timer
	stopped bool
	dead    func() bool
	giveUp  func()
}

func newGiveUpTimer(clk clock.Clock, d time.Duration, dead func() bool, giveUp func()) *giveUpTimer {
	g := &giveUpTimer{clk: clk, dead: dead, giveUp: giveUp}
	g.arm(d)
	return g
}

func (g *giveUpTimer) arm(d time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stopped {
		return
	}
	g.t = g.clk.AfterFunc(d, g.fire)
}

func (g *giveUpTimer) fire() {
	if g.dead() {
		g.arm(killGrace)
		return
	}
	g.giveUp()
}

// stop cancels the timer; a check already running does not re-arm it.
func (g *giveUpTimer) stop() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.stopped = true
	g.t.Stop()
}
