package main

import (
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"time"
)

// memTrimmer gives memory back to the OS once the daemon settles after a
// burst of allocation: a startup or reload with thousands of programs, a
// getAllProcessInfo of several MB, a /metrics scrape. Without it the Go
// runtime keeps the pages of that garbage mapped up to its next GC goal
// (twice the live heap), so an idle daemon's RSS is whatever its largest
// recent request left behind (issue 19, 6,000 programs: 70 MiB after
// startup and 117 MiB after three /metrics scrapes, for 22 MiB live).
//
// Every tick it reads the bytes allocated so far (runtime/metrics, no
// syscall) and, when at least burst bytes were allocated since the last
// trim and fewer than quiet in the last tick, runs debug.FreeOSMemory: one
// GC, once per burst. An idle daemon allocates nothing, so it never trims
// twice in a row.
//
// A tick wakes the runtime (the timer's thread, then sysmon polling for a
// while): 0.2-0.7 ms of CPU on a loaded 2-core box, most of an idle
// daemon's CPU. So after a tick in which nothing was allocated the
// trimmer ticks only every parkedTick, until poke (an RPC request, a
// process state change) says the daemon is busy again.
type memTrimmer struct {
	tick, parkedTick time.Duration
	burst, quiet     uint64
	wake             chan struct{} // poke -> loop, buffered 1
	parked           atomic.Bool

	mu      sync.Mutex
	sample  []metrics.Sample
	lastVal uint64 // allocated bytes at the previous tick
	trimmed uint64 // allocated bytes at the last trim
	trims   int    // debug.FreeOSMemory calls so far
	stop    chan struct{}
	done    chan struct{}
}

// The daemon's settings. A tick runs only while the daemon is busy (see
// parkedTick), so it can be short: a burst's garbage is given back within
// a second of its end (with 2 s ticks and a client still calling now and
// then, 3-6 s went by at 6,000 programs). trimQuiet per tick is an
// allocation rate of 2 MiB/s: a getState storm is 45 MB/s, one
// supervisorctl status at 6,000 under 1 MB. 16 MiB is what a burst must
// have allocated since the last trim for another.
const (
	trimTick       = 500 * time.Millisecond
	trimParkedTick = time.Minute
	trimBurst      = 16 << 20
	trimQuiet      = 1 << 20
	// trimIdle is what a tick may allocate and still count as idle.
	trimIdle = 64 << 10
)

func newMemTrimmer(tick time.Duration, burst, quiet uint64) *memTrimmer {
	t := &memTrimmer{
		tick: tick, parkedTick: max(tick, trimParkedTick), burst: burst, quiet: quiet,
		wake:   make(chan struct{}, 1),
		sample: []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}},
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	t.lastVal = t.allocated()
	t.trimmed = t.lastVal
	go t.loop()
	return t
}

func (t *memTrimmer) allocated() uint64 {
	metrics.Read(t.sample)
	if t.sample[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return t.sample[0].Value.Uint64()
}

func (t *memTrimmer) loop() {
	defer close(t.done)
	tick := time.NewTicker(t.tick)
	defer tick.Stop()
	for {
		select {
		case <-t.stop:
			return
		case <-t.wake:
			if t.parked.Swap(false) {
				tick.Reset(t.tick)
			}
			continue
		case <-tick.C:
		}
		t.mu.Lock()
		now := t.allocated()
		delta := now - t.lastVal
		t.lastVal = now
		due := now-t.trimmed >= t.burst
		t.mu.Unlock()
		if delta < t.quiet && due {
			t.trim()
		}
		if delta < trimIdle && !t.parked.Load() {
			t.parked.Store(true)
			tick.Reset(t.parkedTick)
		} else if delta >= trimIdle && t.parked.Swap(false) {
			tick.Reset(t.tick)
		}
	}
}

// poke says the daemon is busy: a parked trimmer ticks again. It costs an
// atomic load when the trimmer is not parked.
func (t *memTrimmer) poke() {
	if t != nil && t.parked.Load() {
		select {
		case t.wake <- struct{}{}:
		default:
		}
	}
}

// isParked reports whether the trimmer ticks slowly (tests).
func (t *memTrimmer) isParked() bool { return t.parked.Load() }

// trim gives the garbage's pages back now (the autostart wave calls it
// when it is done, rather than a tick later).
func (t *memTrimmer) trim() {
	t.mu.Lock()
	defer t.mu.Unlock()
	debug.FreeOSMemory()
	t.trims++
	t.trimmed = t.allocated()
	t.lastVal = t.trimmed
}

// count is how many trims ran.
func (t *memTrimmer) count() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.trims
}

func (t *memTrimmer) close() {
	close(t.stop)
	<-t.done
}
