package main

import (
	"testing"
	"time"
)

var trimSink [][]byte

// TestMemTrimmer: a burst of garbage is trimmed once the allocation stops,
// and an idle process is not trimmed again.
func TestMemTrimmer(t *testing.T) {
	const burst = 8 << 20
	tr := newMemTrimmer(5*time.Millisecond, burst, 1<<20)
	defer tr.close()
	if n := tr.count(); n != 0 {
		t.Fatalf("%d trims before any burst", n)
	}
	for range 4 {
		trimSink = append(trimSink, make([]byte, burst/2))
	}
	trimSink = nil
	tr.poke()                                    // the trimmer may have parked before the burst
	deadline := time.Now().Add(30 * time.Second) // bounds a hang only
	for tr.count() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no trim after a burst")
		}
		time.Sleep(5 * time.Millisecond)
	}
	// Idle now: the next ticks see no new burst.
	n := tr.count()
	tr.trim()
	if got := tr.count(); got != n+1 {
		t.Fatalf("trim() counted %d -> %d", n, got)
	}
	for range 20 {
		time.Sleep(5 * time.Millisecond)
	}
	if got := tr.count(); got != n+1 {
		t.Errorf("%d trims while idle after the burst's", got-n-1)
	}
}

// TestMemTrimmerParks: after a tick with no allocation the trimmer ticks
// slowly (an idle daemon's CPU); a poke makes it tick again, so a burst
// is trimmed.
func TestMemTrimmerParks(t *testing.T) {
	const burst = 8 << 20
	tr := newMemTrimmer(5*time.Millisecond, burst, 1<<20)
	defer tr.close()
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second) // bounds a hang only
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatal(what)
			}
			time.Sleep(time.Millisecond)
		}
	}
	waitFor("the idle trimmer never parked", tr.isParked)
	// Parked, it ticks once a minute: only the poke gets this burst
	// trimmed within the test's time.
	for range 4 {
		trimSink = append(trimSink, make([]byte, burst/2))
	}
	trimSink = nil
	tr.poke()
	waitFor("no trim after a burst", func() bool { return tr.count() > 0 })
	waitFor("the trimmer did not park again after the trim", tr.isParked)
}
