package procman

import (
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/config"
)

// gateSink discards a process's output and holds its Settle (the wait for
// that output, when its exit is being delivered) until released: a child
// whose last output takes long to handle.
type gateSink struct {
	entered chan int // the pid of each Settle that started
	release chan struct{}
	once    sync.Once
}

func newGateSink() *gateSink {
	return &gateSink{entered: make(chan int, 16), release: make(chan struct{})}
}

func (g *gateSink) Consume(r *os.File, _ int) {
	go func() {
		_, _ = io.Copy(io.Discard, r)
		r.Close()
	}()
}

func (g *gateSink) Settle(pid int, _ time.Duration) bool {
	g.entered <- pid
	<-g.release
	return true
}

func (g *gateSink) open() { g.once.Do(func() { close(g.release) }) }

func (g *gateSink) waitEntered(t *testing.T) int {
	t.Helper()
	select {
	case pid := <-g.entered:
		return pid
	case <-time.After(30 * time.Second):
		t.Fatal("the exit's delivery never reached Settle")
	}
	return 0
}

// TestSlowSettleDoesNotHoldOtherExits: while the delivery of one exit waits
// for its output to settle, the reaper goes on reaping, and another child's
// exit is handled.
func TestSlowSettleDoesNotHoldOtherExits(t *testing.T) {
	gate := newGateSink()
	defer gate.open()
	s, rec := newTestSupervisor(t, Options{
		Output: func(_ *config.Group, p *config.Process) Output {
			if p.Name == "slow" {
				return Output{Stdout: gate}
			}
			return Output{}
		},
	})
	for _, name := range []string{"slow", "quick"} {
		p := proc(name, "sleep", "60")
		p.Startsecs = 0
		if err := s.AddGroup(homogeneous(p)); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Start(bg, name, true); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := s.Stop(bg, "slow", false); err != nil {
		t.Fatal(err)
	}
	gate.waitEntered(t) // slow's exit is reaped; its delivery waits
	done := make(chan error, 1)
	go func() { _, _, err := s.Stop(bg, "quick", true); done <- err }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("quick's exit was not handled while slow's output settles; logs:\n%s", strings.Join(rec.logLines(), "\n"))
	}
	if st := rec.states("slow"); st[len(st)-1] != "STOPPING" {
		t.Fatalf("slow went on to %v before its output settled", st)
	}
	gate.open()
	rec.waitState(t, "slow", Stopped, 30*time.Second)
}
