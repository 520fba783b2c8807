package procman

import (
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/config"
)

// prepSink fails Prepare while fail is set, and counts the pipes it gets.
type prepSink struct {
	fail     atomic.Bool
	consumed atomic.Int32
}

func (s *prepSink) Prepare() error {
	if s.fail.Load() {
		return fmt.Errorf("open log: %w", syscall.EACCES)
	}
	return nil
}

func (s *prepSink) Consume(r *os.File, _ int) {
	s.consumed.Add(1)
	discardSink{}.Consume(r, 0)
}

// TestOutputPrepareFailsSpawn: a log that cannot be opened fails the spawn
// before the fork, with Python's make_dispatchers message, through BACKOFF
// to FATAL; once the log can be opened the process starts.
func TestOutputPrepareFailsSpawn(t *testing.T) {
	sink := &prepSink{}
	sink.fail.Store(true)
	s, rec := newTestSupervisor(t, Options{
		Output: func(*config.Group, *config.Process) Output { return Output{Stdout: sink, Stderr: sink} },
	})
	p := proc("p", "sleep:60")
	p.Startretries = 1
	p.Startsecs = 0
	if err := s.AddGroup(homogeneous(p)); err != nil {
		t.Fatal(err)
	}
	// As Python's startProcess: the spawn error is a SPAWN_ERROR fault.
	if _, _, err := s.Start(bg, "p", false); !errors.Is(err, ErrSpawnError) {
		t.Fatalf("start: %v, want SPAWN_ERROR", err)
	}
	rec.waitState(t, "p", Fatal, 10*time.Second)
	in, err := s.Info("p")
	if err != nil {
		t.Fatal(err)
	}
	if want := "unknown error making dispatchers for 'p': EACCES"; in.Spawnerr != want {
		t.Errorf("spawnerr %q, want %q", in.Spawnerr, want)
	}
	if in.PID != 0 || sink.consumed.Load() != 0 {
		t.Errorf("a child was forked: pid %d, %d pipes consumed", in.PID, sink.consumed.Load())
	}
	sink.fail.Store(false)
	if _, _, err := s.Start(bg, "p", true); err != nil {
		t.Fatalf("start after the log is fixed: %v", err)
	}
	if in, _ := s.Info("p"); in.State != Running || sink.consumed.Load() != 2 {
		t.Errorf("after fix: state %v, %d pipes consumed", in.State, sink.consumed.Load())
	}
	if _, _, err := s.Stop(bg, "p", true); err != nil {
		t.Fatal(err)
	}
}
