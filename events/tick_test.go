package events

import (
	"slices"
	"strings"
	"testing"
)

// payloadsOf returns "NAME payload" of envelopes.
func payloadsOf(envs []string) []string {
	var out []string
	for _, e := range envs {
		head, payload, _ := strings.Cut(e, "\n")
		name := ""
		for _, f := range strings.Fields(head) {
			if n, ok := strings.CutPrefix(f, "eventname:"); ok {
				name = n
			}
		}
		out = append(out, name+" "+payload)
	}
	return out
}

func TestTicks(t *testing.T) {
	h := newHarness(t) // the clock starts at 1000.5
	if n := h.clock.pending(); n != 0 {
		t.Fatalf("%d timers with no pool", n)
	}
	p, fs := h.pool("p", 10, []Type{TICK}, "l1")
	h.bus.Sync()
	if n := h.clock.pending(); n != 1 {
		t.Fatalf("%d timers with a TICK pool, want 1", n)
	}
	h.start(p, "l1")
	p.Feed("l1", 0, []byte("READY\n"))
	ack := func() { p.Feed("l1", 0, []byte("RESULT 2\nOKREADY\n")) }

	for _, tc := range []struct {
		at   float64
		want []string
	}{
		// The first check (when the pool came) only recorded the slices.
		{1004.999, nil},
		{1005, []string{"TICK_5 when:1005"}},
		{1009.7, nil},
		{1011.2, []string{"TICK_5 when:1010"}},
		{1019.9, []string{"TICK_5 when:1015"}}, // one check per wakeup, as Python's loop
		{1020, []string{"TICK_5 when:1020", "TICK_60 when:1020"}},
		{3599.9, []string{"TICK_5 when:3595", "TICK_60 when:3540"}},
		{3600, []string{"TICK_5 when:3600", "TICK_60 when:3600", "TICK_3600 when:3600"}},
	} {
		h.clock.Set(tc.at)
		h.bus.Sync()
		var got []string
		for range 3 { // ack whatever came, let buffered ticks through
			envs := fs[0].received()
			if len(envs) == 0 {
				break
			}
			got = append(got, payloadsOf(envs)...)
			ack()
			h.bus.Sync()
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("at %v: got %q, want %q", tc.at, got, tc.want)
		}
	}
	h.bus.RemovePool("p")
	h.bus.Sync()
	if n := h.clock.pending(); n != 0 {
		t.Errorf("%d timers after the tick pool left", n)
	}
}

func TestTicksOnlyForSubscribedPeriods(t *testing.T) {
	h := newHarness(t)
	h.pool("other", 10, []Type{PROCESS_STATE}, "x")
	h.bus.Sync()
	if n := h.clock.pending(); n != 0 {
		t.Fatalf("%d timers without a tick subscriber", n)
	}
	p, _ := h.pool("p", 100, []Type{TICK_60}, "l1")
	h.clock.Set(1019)
	h.bus.Sync()
	if got := status(p); got != "ACKNOWLEDGED(down) | []" {
		t.Errorf("TICK_60 pool got a TICK_5: %s", got)
	}
	h.clock.Set(1020)
	h.bus.Sync()
	h.clock.Set(1080)
	h.bus.Sync()
	if got := status(p); got != "ACKNOWLEDGED(down) | [0 1]" {
		t.Errorf("status %s", got)
	}
	h.bus.Close()
	if n := h.clock.pending(); n != 0 {
		t.Errorf("%d timers after Close", n)
	}
}
