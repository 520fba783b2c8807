package events

import (
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// autoAcker answers every envelope from inside WriteStdin, which must be
// safe: Bus entry points only queue.
type autoAcker struct {
	name string
	pool func() *Pool
	mu   sync.Mutex
	got  []int64
}

func (a *autoAcker) Name() string { return a.name }

func (a *autoAcker) WriteStdin(b []byte) error {
	head, _, _ := strings.Cut(string(b), "\n")
	for _, f := range strings.Fields(head) {
		if v, ok := strings.CutPrefix(f, "serial:"); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return err
			}
			a.mu.Lock()
			a.got = append(a.got, n)
			a.mu.Unlock()
		}
	}
	a.pool().Feed(a.name, 0, []byte("RESULT 2\nOKREADY\n"))
	return nil
}

func TestConcurrentPublishers(t *testing.T) {
	h := newHarness(t)
	var p *Pool
	var pmu sync.Mutex
	get := func() *Pool { pmu.Lock(); defer pmu.Unlock(); return p }
	acks := []*autoAcker{{name: "a", pool: get}, {name: "b", pool: get}}
	pmu.Lock()
	var err error
	p, err = h.bus.AddPool(PoolConfig{Name: "p", Events: []Type{REMOTE_COMMUNICATION}, BufferSize: 10000,
		Listeners: []Listener{acks[0], acks[1]}})
	pmu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range acks {
		h.start(p, a.name)
		p.Feed(a.name, 0, []byte("READY\n"))
	}
	const writers, each = 4, 500
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				h.remote(strconv.Itoa(w*each + i))
				if i%50 == 0 {
					_ = p.Status()
				}
			}
		}()
	}
	wg.Wait()
	// Each answer is queued from WriteStdin, so the chain goes on after a
	// Sync: wait until both listeners are idle and nothing is buffered.
	deadline := time.Now().Add(20 * time.Second)
	for {
		st := p.Status()
		idle := len(st.Buffered) == 0
		for _, l := range st.Listeners {
			idle = idle && l.State == ListenerReady
		}
		if idle {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not drained: %+v", st)
		}
		time.Sleep(time.Millisecond)
	}
	seen := map[int64]bool{}
	for _, a := range acks {
		a.mu.Lock()
		for i, s := range a.got {
			if seen[s] {
				t.Errorf("serial %d delivered twice", s)
			}
			seen[s] = true
			if i > 0 && a.got[i-1] >= s {
				t.Errorf("%s: serial %d after %d", a.name, s, a.got[i-1])
			}
		}
		a.mu.Unlock()
	}
	if len(seen) != writers*each {
		t.Errorf("%d events delivered, want %d", len(seen), writers*each)
	}
	if s := h.bus.Serial(); s != writers*each-1 {
		t.Errorf("last serial %d", s)
	}
}
