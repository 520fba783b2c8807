package procman

import (
	"sync"
	"sync/atomic"
)

// spawnGate lets spawns run in parallel and still fit as many processes
// under a low RLIMIT_NOFILE as Python's one-at-a-time spawns do. A spawn
// holds up to eight descriptors while it runs (three pipes and the
// fork's status pipe) and keeps three, so parallel spawns near the limit
// fail with EMFILE where a lone spawn would fit. A spawn that hits EMFILE
// while others are in flight therefore waits until none is, and tries
// once more alone; only a spawn that fails alone reports "too many open
// files". Retries take turns (retryMu), so near the limit spawns run one
// at a time; away from it the gate costs two atomic adds per spawn.
type spawnGate struct {
	inFlight atomic.Int64
	waiters  atomic.Int64
	mu       sync.Mutex
	idle     *sync.Cond // on mu: inFlight reached 0
	retryMu  sync.Mutex
}

func (g *spawnGate) enter() { g.inFlight.Add(1) }

func (g *spawnGate) leave() {
	if g.inFlight.Add(-1) == 0 && g.waiters.Load() > 0 {
		g.mu.Lock()
		if g.idle != nil {
			g.idle.Broadcast()
		}
		g.mu.Unlock()
	}
}

// retryAlone runs attempt (a spawn that failed with EMFILE, after it left
// the gate) once no other spawn is in flight, one retrier at a time.
func (g *spawnGate) retryAlone(attempt func()) {
	g.retryMu.Lock()
	defer g.retryMu.Unlock()
	g.waiters.Add(1)
	g.mu.Lock()
	if g.idle == nil {
		g.idle = sync.NewCond(&g.mu)
	}
	for g.inFlight.Load() != 0 {
		g.idle.Wait()
	}
	g.mu.Unlock()
	g.waiters.Add(-1)
	g.enter()
	defer g.leave()
	attempt()
}
