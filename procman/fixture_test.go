package procman

import (
	"fmt"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/config"
)

// Fixtures the clock-driven tests share: a program started as a group of
// its own, a child that only SIGKILL ends, and a child that exits at once.

// startOne adds p as a group of its own and starts it, waiting for RUNNING
// when wait is set.
func startOne(t *testing.T, s *Supervisor, p *config.Process, wait bool) {
	t.Helper()
	if err := s.AddGroup(homogeneous(p)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Start(bg, p.Name, wait); err != nil {
		t.Fatal(err)
	}
}

// startStubborn starts a program name (startsecs=0, the given
// stopwaitsecs) whose child ignores SIGTERM, and returns its info once the
// child has said so: from then on only SIGKILL ends it. It replaces s's
// Output.
func startStubborn(t *testing.T, s *Supervisor, name string, stopwaitsecs int) ProcessInfo {
	t.Helper()
	out := newLineSink()
	s.opts.Output = func(*config.Group, *config.Process) Output { return Output{Stdout: out} }
	p := proc(name, "ignoreterm", "out", "ready", "sleep", "120")
	p.Startsecs = 0
	p.Stopwaitsecs = stopwaitsecs
	startOne(t, s, p, true)
	out.next(t)
	info, _ := s.Info(name)
	return info
}

// startFlaky starts, without waiting, a program "flaky" whose child exits
// 1 at once, with startretries retries.
func startFlaky(t *testing.T, s *Supervisor, startretries int) {
	t.Helper()
	p := proc("flaky", "exit", "1")
	p.Startretries = startretries
	startOne(t, s, p, false)
}

// waitTransitions waits until name has made n transitions.
func (r *recorder) waitTransitions(t testing.TB, name string, n int) {
	t.Helper()
	r.waitFor(t, fmt.Sprintf("%d transitions of %s", n, name), 10*time.Second, func() bool { return len(r.states(name)) >= n })
}
