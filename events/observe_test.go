package events

import (
	"reflect"
	"sync"
	"testing"
)

func TestObserveSeesEveryRaisedEvent(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	b := NewBus(Options{Observe: func(typ string) {
		mu.Lock()
		seen = append(seen, typ)
		mu.Unlock()
	}})
	defer b.Close()
	// No pool is subscribed: the events are still raised (and counted).
	b.Publish(NewSupervisorStateEvent(true))
	b.Publish(NewGroupEvent("g", true))
	if err := b.ProcessTransition(StateChange{Process: "p", Group: "g", From: "STARTING", To: "RUNNING", PID: 7}); err != nil {
		t.Fatal(err)
	}
	b.Sync()
	mu.Lock()
	defer mu.Unlock()
	want := []string{"SUPERVISOR_STATE_CHANGE_RUNNING", "PROCESS_GROUP_ADDED", "PROCESS_STATE_RUNNING"}
	if !reflect.DeepEqual(seen, want) {
		t.Fatalf("Observe saw %q, want %q", seen, want)
	}
}
