package procman

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/config"
)

// stalledLogger is supervisord -n writing to a stdout nobody reads: every
// Log blocks until release is closed.
type stalledLogger struct {
	release chan struct{}
	entered chan struct{} // closed when the first Log call blocks
	once    sync.Once

	mu    sync.Mutex
	lines []string
}

func newStalledLogger() *stalledLogger {
	return &stalledLogger{release: make(chan struct{}), entered: make(chan struct{})}
}

func (l *stalledLogger) Log(_ config.LogLevel, msg string) {
	l.once.Do(func() { close(l.entered) })
	<-l.release
	l.mu.Lock()
	l.lines = append(l.lines, msg)
	l.mu.Unlock()
}

// TestStalledLoggerBlocksNoOperation: while the Logger is stuck, starting,
// stopping, signalling and inspecting processes still complete, and the
// messages come out, in order, once it moves again.
func TestStalledLoggerBlocksNoOperation(t *testing.T) {
	log := newStalledLogger()
	var releaseOnce sync.Once
	release := func() { releaseOnce.Do(func() { close(log.release) }) }
	t.Cleanup(release) // runs before the supervisor's Close
	s, rec := newTestSupervisor(t, Options{Logger: log})
	a := proc("a", "sleep", "60")
	b := proc("b", "sleep", "60")
	a.Startsecs, b.Startsecs = 0, 0
	if err := s.AddGroup(&config.Group{Name: "g", Processes: []*config.Process{a, b}}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		done <- func() error {
			if _, _, err := s.Start(bg, "g:a", true); err != nil {
				return fmt.Errorf("start a: %w", err)
			}
			<-log.entered // the Logger is stuck from here on
			if _, _, err := s.Start(bg, "g:b", true); err != nil {
				return fmt.Errorf("start b: %w", err)
			}
			if in, err := s.Info("g:a"); err != nil || in.State != Running {
				return fmt.Errorf("info a: %+v %v", in, err)
			}
			if n := len(s.AllInfo()); n != 2 {
				return fmt.Errorf("AllInfo has %d entries", n)
			}
			if _, _, err := s.Signal("g:b", "CONT"); err != nil {
				return fmt.Errorf("signal b: %w", err)
			}
			if _, _, err := s.Stop(bg, "g:a", true); err != nil {
				return fmt.Errorf("stop a: %w", err)
			}
			if res, err := s.StopGroup(bg, "g", true); err != nil || len(res) != 1 || res[0].Err != nil {
				return fmt.Errorf("stop group: %v %v", res, err)
			}
			return nil
		}()
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("process operations blocked behind a stalled Logger")
	}
	wantStates(t, rec, "a", "STARTING", "RUNNING", "STOPPING", "STOPPED")
	wantStates(t, rec, "b", "STARTING", "RUNNING", "STOPPING", "STOPPED")
	release()
	s.flushLogs()
	log.mu.Lock()
	got := strings.Join(log.lines, "\n")
	log.mu.Unlock()
	var at []int
	for _, want := range []string{"spawned: 'a' with pid ", "success: a entered RUNNING", "spawned: 'b' with pid ", "success: b entered RUNNING", "stopped: a (terminated by SIGTERM)", "stopped: b (terminated by SIGTERM)"} {
		i := strings.Index(got, want)
		if i < 0 {
			t.Fatalf("missing %q in:\n%s", want, got)
		}
		at = append(at, i)
	}
	for k := 1; k < len(at); k++ {
		if at[k] < at[k-1] {
			t.Fatalf("messages out of order:\n%s", got)
		}
	}
}

// TestLogQueueBound: a Logger stalled for long loses the messages past
// maxQueuedLogs, and says how many once it moves again.
func TestLogQueueBound(t *testing.T) {
	log := newStalledLogger()
	s, err := New(Options{Logger: log, Clock: newFakeClock()})
	if err != nil {
		t.Fatal(err)
	}
	s.logf(config.LevelInfo, "first")
	<-log.entered // the Logger holds "first"; the queue is empty
	for i := range maxQueuedLogs + 15 {
		s.logf(config.LevelInfo, "m%d", i)
	}
	close(log.release)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	log.mu.Lock()
	defer log.mu.Unlock()
	if n := len(log.lines); n != maxQueuedLogs+2 {
		t.Fatalf("%d lines delivered, want %d", n, maxQueuedLogs+2)
	}
	if got := log.lines[maxQueuedLogs]; got != fmt.Sprintf("m%d", maxQueuedLogs-1) {
		t.Errorf("last queued line %q", got)
	}
	if last := log.lines[len(log.lines)-1]; last != "15 main log messages were dropped while the log output was blocked" {
		t.Errorf("last line %q", last)
	}
}

// slowLogger takes a moment per message (a slow disk or terminal).
type slowLogger struct {
	mu    sync.Mutex
	lines []string
}

func (l *slowLogger) Log(_ config.LogLevel, msg string) {
	time.Sleep(5 * time.Millisecond)
	l.mu.Lock()
	l.lines = append(l.lines, msg)
	l.mu.Unlock()
}

func (l *slowLogger) has(prefix string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.lines {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}

// TestRequestReturnsAfterItsLogLines: a request returns once the main-log
// lines it caused were logged (a client that runs maintail next sees them,
// as with Python), even with a slow Logger.
func TestRequestReturnsAfterItsLogLines(t *testing.T) {
	log := &slowLogger{}
	s, _ := newTestSupervisor(t, Options{Logger: log})
	p := proc("x", "sleep", "60")
	p.Startsecs = 0
	if err := s.AddGroup(homogeneous(p)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Start(bg, "x", true); err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{"spawned: 'x' with pid ", "success: x entered RUNNING state"} {
		if !log.has(l) {
			t.Errorf("Start returned before %q was logged", l)
		}
	}
	if _, _, err := s.Stop(bg, "x", true); err != nil {
		t.Fatal(err)
	}
	if !log.has("stopped: x (terminated by SIGTERM)") {
		t.Error("Stop returned before its stopped: line was logged")
	}
}

// batchLogger is a stalledLogger that is also a BatchLogger: it records
// which lines it got inside each Batch call.
type batchLogger struct {
	*stalledLogger
	mu      sync.Mutex
	in      bool
	batches [][]string
}

func (l *batchLogger) Log(level config.LogLevel, msg string) {
	l.stalledLogger.Log(level, msg)
	l.mu.Lock()
	if l.in {
		l.batches[len(l.batches)-1] = append(l.batches[len(l.batches)-1], msg)
	}
	l.mu.Unlock()
}

func (l *batchLogger) Batch(f func()) {
	l.mu.Lock()
	l.in = true
	l.batches = append(l.batches, nil)
	l.mu.Unlock()
	f()
	l.mu.Lock()
	l.in = false
	l.mu.Unlock()
}

// The lines queued while the Logger was busy are handed to a BatchLogger
// in one Batch, in order; a lone line is logged outside any.
func TestLogQueueHandsBatches(t *testing.T) {
	log := &batchLogger{stalledLogger: newStalledLogger()}
	s, _ := newTestSupervisor(t, Options{Logger: log})
	s.Log(config.LevelInfo, "first")
	<-log.entered // the queue's goroutine is in Log("first")
	for i := range 5 {
		s.Log(config.LevelInfo, fmt.Sprintf("queued %d", i))
	}
	close(log.release)
	s.flushLogs()
	log.mu.Lock()
	defer log.mu.Unlock()
	want := [][]string{{"queued 0", "queued 1", "queued 2", "queued 3", "queued 4"}}
	if fmt.Sprint(log.batches) != fmt.Sprint(want) {
		t.Errorf("batches %q, want %q", log.batches, want)
	}
	if got := strings.Join(log.lines, ","); got != "first,queued 0,queued 1,queued 2,queued 3,queued 4" {
		t.Errorf("lines %s", got)
	}
}

// levelLogger takes lines at warn and above and counts what reaches it.
type levelLogger struct {
	mu    sync.Mutex
	lines []string
}

func (l *levelLogger) Enabled(level config.LogLevel) bool { return level >= config.LevelWarn }

func (l *levelLogger) Log(level config.LogLevel, msg string) {
	l.mu.Lock()
	l.lines = append(l.lines, level.Name()+" "+msg)
	l.mu.Unlock()
}

// A LevelLogger is not handed (nor are formatted) the lines below its
// level.
func TestLogQueueSkipsDisabledLevels(t *testing.T) {
	log := &levelLogger{}
	s, _ := newTestSupervisor(t, Options{Logger: log})
	s.logf(config.LevelDebug, "debug %d", 1)
	s.logf(config.LevelInfo, "info %d", 2)
	s.logf(config.LevelWarn, "warn %d", 3)
	s.flushLogs()
	log.mu.Lock()
	defer log.mu.Unlock()
	if got := strings.Join(log.lines, ","); got != "WARN warn 3" {
		t.Errorf("lines %q", got)
	}
	s.logMu.Lock()
	defer s.logMu.Unlock()
	if s.logQueued != 1 {
		t.Errorf("%d lines queued, want 1", s.logQueued)
	}
}
