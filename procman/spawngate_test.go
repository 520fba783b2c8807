package procman

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestSpawnGateRetryWaitsForIdle: a retry runs only once no other spawn
// is in flight, alone, and retries take turns.
func TestSpawnGateRetryWaitsForIdle(t *testing.T) {
	var g spawnGate
	g.enter()
	g.enter()
	ran := make(chan int64, 1)
	go g.retryAlone(func() { ran <- g.inFlight.Load() })
	deadline := time.Now().Add(30 * time.Second) // bounds a hang only
	for g.waiters.Load() != 1 {
		if time.Now().After(deadline) {
			t.Fatal("retryAlone never waited")
		}
		time.Sleep(time.Millisecond)
	}
	g.leave()
	select {
	case n := <-ran:
		t.Fatalf("the retry ran with %d spawns in flight (one other still was)", n)
	default:
	}
	g.leave()
	if n := <-ran; n != 1 {
		t.Fatalf("the retry ran with %d in flight, want itself alone", n)
	}

	// Retries take turns, and spawns entering meanwhile are waited for.
	var cur, most atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g.retryAlone(func() {
				n := cur.Add(1)
				for {
					m := most.Load()
					if n <= m || most.CompareAndSwap(m, n) {
						break
					}
				}
				if in := g.inFlight.Load(); in != 1 {
					t.Errorf("a retry ran with %d in flight", in)
				}
				cur.Add(-1)
			})
		}()
	}
	wg.Wait()
	if most.Load() != 1 {
		t.Fatalf("%d retries ran at once, want 1", most.Load())
	}
	if g.inFlight.Load() != 0 || g.waiters.Load() != 0 {
		t.Fatalf("gate not idle after the retries: %d in flight, %d waiting", g.inFlight.Load(), g.waiters.Load())
	}
}
