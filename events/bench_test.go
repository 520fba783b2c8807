package events

import (
	"sync/atomic"
	"testing"
)

// countingAcker answers every envelope at once from WriteStdin.
type countingAcker struct {
	pool *Pool
	n    atomic.Int64
	done chan struct{}
	want int64
}

func (c *countingAcker) Name() string { return "l" }

func (c *countingAcker) WriteStdin([]byte) error {
	if c.n.Add(1) == c.want {
		close(c.done)
	}
	c.pool.Feed("l", 0, []byte("RESULT 2\nOKREADY\n"))
	return nil
}

// BenchmarkPublishDispatch measures an event's whole trip: publish, buffer,
// envelope, write, RESULT parsing and the next READY.
func BenchmarkPublishDispatch(b *testing.B) {
	bus := NewBus(Options{})
	defer bus.Close()
	l := &countingAcker{done: make(chan struct{}), want: int64(b.N)}
	p, err := bus.AddPool(PoolConfig{Name: "p", Events: []Type{PROCESS_STATE_EXITED}, BufferSize: b.N + 1, Listeners: []Listener{l}})
	if err != nil {
		b.Fatal(err)
	}
	l.pool = p
	p.ListenerSpawned("l", 1)
	_ = bus.ProcessTransition(StateChange{Process: "l", Group: "p", From: "STARTING", To: "RUNNING", PID: 1})
	p.Feed("l", 0, []byte("READY\n"))
	bus.Sync()
	if l.n.Load() > 0 {
		b.Fatalf("unexpected early deliveries: %d", l.n.Load())
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		_ = bus.ProcessTransition(StateChange{Process: "web", Group: "web", From: "RUNNING", To: "EXITED", PID: 42})
	}
	<-l.done
}
