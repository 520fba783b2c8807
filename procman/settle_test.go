package procman

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/config"
	"github.com/gosupervisor/gosupervisor/logrot"
)

// TestExitHandledAfterLastOutput: a child that prints and exits at once has
// its output handled (here: logrot's PROCESS_LOG hook, which runs where the
// log file and the main log DEBG line are written) before its exit is
// published, every time, as Python drains a child's pipes before it
// handles the exit.
func TestExitHandledAfterLastOutput(t *testing.T) {
	hub := logrot.NewHub(nil)
	defer hub.Close()
	var mu sync.Mutex
	var seq []string
	fatal := make(chan struct{}, 1)
	record := func(s string) {
		mu.Lock()
		seq = append(seq, s)
		mu.Unlock()
	}
	ch, err := hub.NewChannel(logrot.ChannelConfig{
		ProcessName: "x", GroupName: "x", Channel: "stdout",
		Path:          filepath.Join(t.TempDir(), "x.log"),
		EventsEnabled: true,
		// A log path that takes a moment (a main log on a slow stdout)
		// loses the race every time unless the exit waits for it.
		OnLog: func(_ int, data []byte) {
			time.Sleep(time.Millisecond)
			record("output " + string(data))
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	s, _ := newTestSupervisor(t, Options{
		Clock: newFakeClock(),
		OnTransition: func(tr Transition) {
			record(tr.To.String())
			if tr.To == Fatal {
				fatal <- struct{}{}
			}
		},
		Output: func(*config.Group, *config.Process) Output { return Output{Stdout: ch} },
	})
	p := proc("x", "out", "last-words", "exit", "1")
	p.Startretries = 0
	if err := s.AddGroup(homogeneous(p)); err != nil {
		t.Fatal(err)
	}
	const runs = 200
	bad := 0
	for i := range runs {
		mu.Lock()
		seq = nil
		mu.Unlock()
		if _, _, err := s.Start(bg, "x", true); !errors.Is(err, ErrSpawnError) {
			t.Fatalf("run %d: start: %v", i, err)
		}
		select {
		case <-fatal:
		case <-time.After(time.Minute):
			t.Fatalf("run %d: no FATAL", i)
		}
		mu.Lock()
		got := slices.Clone(seq)
		mu.Unlock()
		out := slices.Index(got, "output last-words\n")
		backoff := slices.Index(got, "BACKOFF")
		if out < 0 || backoff < out {
			bad++
			if bad <= 3 {
				t.Errorf("run %d: %s", i, strings.Join(got, " | "))
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d runs handled the exit before the last output", bad, runs)
	}
}

// TestExitSettlesDespiteFloodingGrandchild: a child that leaves behind a
// grandchild flooding the pipe they share (its stdout never reaches EOF nor
// goes idle) still has its exit handled: the wait for its output is
// bounded.
func TestExitSettlesDespiteFloodingGrandchild(t *testing.T) {
	hub := logrot.NewHub(nil)
	defer hub.Close()
	ch, err := hub.NewChannel(logrot.ChannelConfig{ProcessName: "x", GroupName: "x", Channel: "stdout",
		Path: filepath.Join(t.TempDir(), "x.log"), MaxBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	s, rec := newTestSupervisor(t, Options{
		Clock:  newFakeClock(),
		Output: func(*config.Group, *config.Process) Output { return Output{Stdout: ch} },
	})
	p := proc("x", "floodchild", "sleep", "0.3", "exit", "0") // flooding when it exits
	p.Startsecs = 0
	if err := s.AddGroup(homogeneous(p)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Start(bg, "x", true); err != nil {
		t.Fatal(err)
	}
	pid := s.groups["x"].procs[0].info(time.Now()).PID
	defer func() { _ = syscall.Kill(-pid, syscall.SIGKILL) }() // the grandchild, in the child's process group
	rec.waitState(t, "x", Exited, 30*time.Second)
	_ = syscall.Kill(-pid, syscall.SIGKILL)
}
