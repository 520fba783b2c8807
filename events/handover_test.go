package events

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestFreezeRestore hands a pool over from one Bus to another (through
// JSON, as across an exec) while its listener is in the middle of an event
// and more events wait in the buffer: the new Bus takes the listener's
// RESULT for that event, then sends the buffered ones with their serials,
// and new events continue both serials.
func TestFreezeRestore(t *testing.T) {
	h1 := newHarness(t)
	p1, ls1 := h1.pool("lp", 10, []Type{PROCESS_COMMUNICATION}, "l1")
	h1.bus.Sync()
	p1.ListenerSpawned("l1", 42)
	h1.bus.ProcessTransition(StateChange{Process: "l1", Group: "lp", From: "STARTING", To: "RUNNING", PID: 42})
	p1.Feed("l1", 42, []byte("READY\n"))
	for i := range 3 {
		ev, err := NewCommunicationEvent("stdout", "p", "g", 7, []byte{'a' + byte(i)})
		if err != nil {
			t.Fatal(err)
		}
		h1.bus.Publish(ev)
	}
	h1.bus.Sync()
	first := ls1[0].received()
	if len(first) != 1 || !strings.Contains(first[0], "serial:0 pool:lp poolserial:0") {
		t.Fatalf("first envelope: %q", first)
	}
	st, thaw := h1.bus.Freeze()
	defer thaw()
	blob, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	var got BusState
	if err := json.Unmarshal(blob, &got); err != nil {
		t.Fatal(err)
	}

	h2 := newHarness(t)
	_, ls2 := h2.pool("lp", 10, []Type{PROCESS_COMMUNICATION}, "l1")
	missing, err := h2.bus.Restore(got)
	if err != nil || len(missing) != 0 {
		t.Fatalf("restore: %v, missing %v", err, missing)
	}
	p2 := h2.bus.Pool("lp")
	status := p2.Status()
	if status.Serial != 2 || len(status.Buffered) != 2 || status.Listeners[0].State != ListenerBusy || status.Listeners[0].Event != 0 {
		t.Fatalf("restored pool: %+v", status)
	}
	// The listener answers the event the old bus sent, then is READY.
	p2.Feed("l1", 42, []byte("RESULT 2\nOKREADY\n"))
	h2.bus.Sync()
	next := ls2[0].received()
	if len(next) != 1 || !strings.Contains(next[0], "serial:1 pool:lp poolserial:1") || !strings.HasSuffix(next[0], "b") {
		t.Fatalf("after the hand-over: %q", next)
	}
	p2.Feed("l1", 42, []byte("RESULT 2\nOKREADY\n"))
	ev, _ := NewCommunicationEvent("stdout", "p", "g", 7, []byte("d"))
	h2.bus.Publish(ev)
	h2.bus.Sync()
	next = ls2[0].received()
	if len(next) != 1 || !strings.Contains(next[0], "serial:2 pool:lp poolserial:2") {
		t.Fatalf("buffered event: %q", next)
	}
	p2.Feed("l1", 42, []byte("RESULT 2\nOKREADY\n"))
	h2.bus.Sync()
	next = ls2[0].received()
	if len(next) != 1 || !strings.Contains(next[0], "serial:3 pool:lp poolserial:3") {
		t.Fatalf("new event: %q", next)
	}
	if m, _ := h2.bus.Restore(BusState{Serial: 3, Pools: []PoolState{{Name: "gone"}}}); len(m) != 1 || m[0] != "gone" {
		t.Errorf("missing pools: %v", m)
	}
}
