package main

import (
	"runtime/debug"
	"runtime/metrics"
	"sync"
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
type memTrimmer struct {
	tick         time.Duration
	burst, quiet uint64

	mu      sync.Mutex
	sample  []metrics.Sample
	lastVal uint64 // allocated bytes at the previous tick
	trimmed uint64 // allocated bytes at the last trim
	trims   int    // debug.FreeOSMemory calls so far
	stop    chan struct{}
	done    chan struct{}
}

// The daemon's settings: a tick costs a few microseconds (0.00001 s of
// idle CPU per 10 s); 16 MiB is what a getAllProcessInfo leaves behind at
// some 2,000 programs.
const (
	trimTick  = 2 * time.Second
	trimBurst = 16 << 20
	trimQuiet = 1 << 20
)

func newMemTrimmer(tick time.Duration, burst, quiet uint64) *memTrimmer {
	t := &memTrimmer{
		tick: tick, burst: burst, quiet: quiet,
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
		case <-tick.C:
		}
		t.mu.Lock()
		now := t.allocated()
		quiet := now-t.lastVal < t.quiet
		t.lastVal = now
		due := now-t.trimmed >= t.burst
		t.mu.Unlock()
		if quiet && due {
			t.trim()
		}
	}
}

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
