package events

import (
	"slices"
	"strings"
	"testing"
)

func TestBufferOverflowDiscardsOldest(t *testing.T) {
	h := newHarness(t)
	p, _ := h.pool("p", 3, []Type{EVENT}, "l1")
	for i := range 5 {
		h.remote(string(rune('a' + i)))
	}
	if got := status(p); got != "ACKNOWLEDGED(down) | [2 3 4]" {
		t.Errorf("status %s", got)
	}
	want := []string{
		"ERRO pool p event buffer overflowed, discarding event 0",
		"ERRO pool p event buffer overflowed, discarding event 1",
	}
	if got := h.log.take(); !slices.Equal(got, want) {
		t.Errorf("logs %q, want %q", got, want)
	}
}

func TestRebufferIntoFullBufferDropsOldest(t *testing.T) {
	h := newHarness(t)
	p, fs := h.pool("p", 2, []Type{REMOTE_COMMUNICATION}, "l1")
	h.start(p, "l1")
	h.remote("a")
	p.Feed("l1", 0, []byte("READY\n"))
	h.remote("b")
	h.remote("c")
	if got := status(p); got != "BUSY[0] | [1 2]" {
		t.Fatalf("status %s", got)
	}
	h.log.take()
	p.Feed("l1", 0, []byte("RESULT 4\nFAIL"))
	// Python's _acceptEvent(head=True) on a full buffer drops the oldest
	// (1), then inserts the rejected event first.
	if got := status(p); got != "ACKNOWLEDGED | [0 2]" {
		t.Errorf("status %s", got)
	}
	logs := strings.Join(h.log.take(), "\n")
	if !strings.Contains(logs, "ERRO pool p event buffer overflowed, discarding event 1") {
		t.Errorf("logs: %s", logs)
	}
	if got := serialsOf(fs[0].received()); !slices.Equal(got, []string{"0/0 REMOTE_COMMUNICATION"}) {
		t.Errorf("received %q", got)
	}
}

func TestSerials(t *testing.T) {
	h := newHarness(t)
	a, _ := h.pool("a", 10, []Type{PROCESS_STATE, PROCESS_STATE_RUNNING}, "la")
	b, _ := h.pool("b", 10, []Type{REMOTE_COMMUNICATION, PROCESS_STATE_EXITED}, "lb")
	// No pool takes TICK_5 or PROCESS_LOG: no serial is used.
	ev, _ := NewTickEvent(TICK_5, 1000)
	h.bus.Publish(ev)
	lev, _ := NewLogEvent("stdout", "x", "x", 1, []byte("hi"))
	h.bus.Publish(lev)
	if s := h.bus.Serial(); s != -1 {
		t.Errorf("serial after unsubscribed events: %d", s)
	}
	h.transition("g", "x", "STARTING", "RUNNING", 5) // a only (once, despite two matching subscriptions)
	h.remote("r")                                    // b only
	h.transition("g", "x", "RUNNING", "EXITED", 5)   // both
	if got := status(a); got != "ACKNOWLEDGED(down) | [0 2]" {
		t.Errorf("a: %s", got)
	}
	if got := status(b); got != "ACKNOWLEDGED(down) | [1 2]" {
		t.Errorf("b: %s", got)
	}
	if st := a.Status(); st.Serial != 1 {
		t.Errorf("a pool serial %d", st.Serial)
	}
	// A reload: pools go and come back; the global serial goes on, the
	// pool serial starts over.
	if !h.bus.RemovePool("a") || h.bus.RemovePool("a") {
		t.Fatal("RemovePool")
	}
	a2, fs := h.pool("a", 10, []Type{EVENT}, "la")
	if _, err := h.bus.AddPool(PoolConfig{Name: "a", Events: []Type{EVENT}}); err == nil {
		t.Error("duplicate pool name accepted")
	}
	h.start(a2, "la")
	a2.Feed("la", 0, []byte("READY\n"))
	h.bus.Sync()
	got := serialsOf(fs[0].received())
	// Events since the re-add: STARTING (3), RUNNING (4) of la itself.
	if want := []string{"3/0 PROCESS_STATE_STARTING"}; !slices.Equal(got, want) {
		t.Errorf("after reload got %q, want %q", got, want)
	}
	if s := h.bus.Serial(); s != 4 {
		t.Errorf("global serial %d, want 4", s)
	}
}

func TestSerialWraps(t *testing.T) {
	s := int64(9223372036854775806)
	if n := nextSerial(&s); n != 9223372036854775807 {
		t.Fatal(n)
	}
	if n := nextSerial(&s); n != 0 {
		t.Errorf("after maxint: %d, want 0", n)
	}
}

func TestDispatchOrderAndEPIPE(t *testing.T) {
	h := newHarness(t)
	p, fs := h.pool("p", 10, []Type{REMOTE_COMMUNICATION}, "l1", "l2", "l3")
	for _, l := range []string{"l1", "l2", "l3"} {
		h.start(p, l)
	}
	// l3 is READY but not RUNNING (STOPPING): skipped.
	p.Feed("l3", 0, []byte("READY\n"))
	h.transition("p", "l3", "RUNNING", "STOPPING", 0)
	p.Feed("l2", 0, []byte("READY\n"))
	p.Feed("l1", 0, []byte("READY\n"))
	h.remote("a")
	h.remote("b")
	h.remote("c")
	if got := status(p); got != "BUSY[0] BUSY[1] READY(down) | [2]" {
		t.Fatalf("status %s", got)
	}
	if got := serialsOf(fs[0].received()); !slices.Equal(got, []string{"0/0 REMOTE_COMMUNICATION"}) {
		t.Errorf("l1 got %q", got)
	}
	if got := serialsOf(fs[1].received()); !slices.Equal(got, []string{"1/1 REMOTE_COMMUNICATION"}) {
		t.Errorf("l2 got %q", got)
	}
	if got := fs[2].received(); len(got) != 0 {
		t.Errorf("stopping l3 got %q", got)
	}
	// l1's pipe is broken: the next event goes to l2.
	fs[0].setErr(errPipe)
	p.Feed("l1", 0, []byte("RESULT 2\nOKREADY\n"))
	h.log.take()
	p.Feed("l2", 0, []byte("RESULT 2\nOKREADY\n"))
	if got := status(p); got != "READY BUSY[2] READY(down) | []" {
		t.Errorf("status %s", got)
	}
	logs := h.log.take()
	if !slices.Contains(logs, "DEBG epipe occurred while sending event 2 to listener l1, listener state unchanged") {
		t.Errorf("logs %q", logs)
	}
	// Every ready listener fails: the event is rebuffered at the head.
	fs[1].setErr(errPipe)
	p.Feed("l2", 0, []byte("RESULT 2\nOKREADY\n"))
	h.remote("d")
	if got := status(p); got != "READY READY READY(down) | [3]" {
		t.Errorf("status %s", got)
	}
	want := []string{
		"DEBG epipe occurred while sending event 3 to listener l1, listener state unchanged",
		"DEBG epipe occurred while sending event 3 to listener l2, listener state unchanged",
		"DEBG rebuffering event 3 for pool p (buf size=0, max=10)",
	}
	if got := h.log.take(); !slices.Equal(got[len(got)-3:], want) {
		t.Errorf("logs %q", got)
	}
}

func TestListenerExitWhileBusy(t *testing.T) {
	h := newHarness(t)
	p, fs := h.pool("p", 10, []Type{REMOTE_COMMUNICATION}, "l1", "l2")
	pid1 := h.start(p, "l1")
	h.start(p, "l2")
	p.Feed("l1", 0, []byte("READY\n"))
	h.remote("a")
	h.remote("b")
	if got := status(p); got != "BUSY[0] ACKNOWLEDGED | [1]" {
		t.Fatalf("status %s", got)
	}
	// A stale exit (another pid) changes nothing.
	h.transition("p", "l1", "RUNNING", "EXITED", pid1+1000)
	if got := status(p); got != "BUSY[0] ACKNOWLEDGED | [1]" {
		t.Fatalf("status after stale exit %s", got)
	}
	h.transition("p", "l1", "RUNNING", "EXITED", pid1)
	if got := status(p); got != "BUSY(down) ACKNOWLEDGED | [0 1]" {
		t.Fatalf("status after exit %s", got)
	}
	// Output of the dead instance is ignored; l2 gets the event.
	p.Feed("l1", pid1, []byte("RESULT 2\nOK"))
	p.Feed("l2", 0, []byte("READY\n"))
	if got := status(p); got != "BUSY(down) BUSY[0] | [1]" {
		t.Errorf("status %s", got)
	}
	if got := serialsOf(fs[1].received()); !slices.Equal(got, []string{"0/0 REMOTE_COMMUNICATION"}) {
		t.Errorf("l2 got %q", got)
	}
	// l1 respawns: a fresh protocol state; late output of the old
	// instance is not mixed in.
	pid1b := h.start(p, "l1")
	p.Feed("l1", pid1, []byte("RESULT 2\nOK"))
	p.Feed("l1", pid1b, []byte("READY\n"))
	if got := status(p); got != "BUSY[1] BUSY[0] | []" {
		t.Errorf("status after respawn %s", got)
	}
	// l2's instance is replaced without an exit seen (spawn first): its
	// event is rebuffered too.
	p.ListenerSpawned("l2", 99999)
	if got := status(p); got != "BUSY[1] ACKNOWLEDGED(down) | [0]" {
		t.Errorf("status after l2 respawn %s", got)
	}
	p.ListenerExited("l1", 0)
	if got := status(p); got != "BUSY(down) ACKNOWLEDGED(down) | [1 0]" {
		t.Errorf("status after ListenerExited %s", got)
	}
}

func TestRemovedPoolIgnoresInput(t *testing.T) {
	h := newHarness(t)
	p, fs := h.pool("p", 10, []Type{EVENT}, "l1")
	h.start(p, "l1")
	h.bus.RemovePool("p")
	p.Feed("l1", 0, []byte("READY\n"))
	h.remote("a")
	if got := status(p); got != "ACKNOWLEDGED | [0 1]" {
		t.Errorf("status %s", got)
	}
	if got := fs[0].received(); len(got) != 0 {
		t.Errorf("removed pool wrote %q", got)
	}
}

func TestAddPoolErrors(t *testing.T) {
	h := newHarness(t)
	l := &fakeListener{name: "x"}
	for _, cfg := range []PoolConfig{
		{Name: "", Events: []Type{EVENT}},
		{Name: "p", Events: nil},
		{Name: "p", Events: []Type{Type(77)}},
		{Name: "p", Events: []Type{EVENT}, BufferSize: -1},
		{Name: "p", Events: []Type{EVENT}, Listeners: []Listener{l, l}},
		{Name: "p", Events: []Type{EVENT}, Listeners: []Listener{nil}},
	} {
		if _, err := h.bus.AddPool(cfg); err == nil {
			t.Errorf("AddPool(%+v) accepted", cfg)
		}
	}
	h.bus.Close()
	if _, err := h.bus.AddPool(PoolConfig{Name: "p", Events: []Type{EVENT}}); err == nil {
		t.Error("AddPool on a closed bus accepted")
	}
	h.bus.Publish(NewGroupEvent("g", true)) // dropped, no panic
	if s := h.bus.Serial(); s != -1 {
		t.Errorf("serial %d", s)
	}
}

func TestIdentifier(t *testing.T) {
	h := newHarness(t)
	p, fs := h.pool("p", 10, []Type{PROCESS_GROUP}, "l1")
	h.start(p, "l1")
	h.bus.SetIdentifier("host-1")
	p.Feed("l1", 0, []byte("READY\n"))
	h.bus.Publish(NewGroupEvent("web", true))
	h.bus.Sync()
	got := fs[0].received()
	want := "ver:3.0 server:host-1 serial:0 pool:p poolserial:0 eventname:PROCESS_GROUP_ADDED len:14\ngroupname:web\n"
	if len(got) != 1 || got[0] != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
