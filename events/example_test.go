package events_test

import (
	"fmt"

	"github.com/gosupervisor/gosupervisor/events"
)

// stdinPrinter stands for a listener process's stdin.
type stdinPrinter struct{ name string }

func (s stdinPrinter) Name() string { return s.name }
func (s stdinPrinter) WriteStdin(b []byte) error {
	fmt.Printf("%s <- %q\n", s.name, b)
	return nil
}

// The wiring an integrator does: one Bus for the daemon's life, a pool per
// [eventlistener:x], procman transitions and listener stdout fed in.
func Example() {
	bus := events.NewBus(events.Options{Identifier: "supervisor"})
	defer bus.Close()

	types, err := events.ParseEventTypes("PROCESS_STATE_EXITED,REMOTE_COMMUNICATION", "eventlistener:mon")
	if err != nil {
		panic(err)
	}
	pool, err := bus.AddPool(events.PoolConfig{Name: "mon", Events: types, BufferSize: 10,
		Listeners: []events.Listener{stdinPrinter{"mon"}}})
	if err != nil {
		panic(err)
	}

	// procman: OnTransition -> bus.ProcessTransition; the listener's stdout
	// sink: ListenerSpawned once per spawn, then Feed.
	pool.ListenerSpawned("mon", 100)
	_ = bus.ProcessTransition(events.StateChange{Process: "mon", Group: "mon", From: "STARTING", To: "RUNNING", PID: 100})
	pool.Feed("mon", 100, []byte("READY\n"))

	_ = bus.ProcessTransition(events.StateChange{Process: "web", Group: "web", From: "RUNNING", To: "EXITED", PID: 7, Expected: false})
	bus.Sync()
	pool.Feed("mon", 100, []byte("RESULT 2\nOKREADY\n"))
	bus.Publish(events.NewRemoteCommunicationEvent("deploy", "v2"))
	bus.Sync()
	// Output:
	// mon <- "ver:3.0 server:supervisor serial:0 pool:mon poolserial:0 eventname:PROCESS_STATE_EXITED len:65\nprocessname:web groupname:web from_state:RUNNING expected:0 pid:7"
	// mon <- "ver:3.0 server:supervisor serial:1 pool:mon poolserial:1 eventname:REMOTE_COMMUNICATION len:14\ntype:deploy\nv2"
}
