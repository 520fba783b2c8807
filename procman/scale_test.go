package procman

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/config"
)

func lookBin(t testing.TB, path string) string {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		t.Skipf("%s not available", path)
	}
	return path
}

// thousand returns n groups of one /bin/sleep process each.
func sleepers(t testing.TB, n int) []*config.Group {
	sleep := lookBin(t, "/bin/sleep")
	gs := make([]*config.Group, n)
	for i := range gs {
		p := proc(fmt.Sprintf("s%04d", i))
		p.Command = sleep + " 3600"
		p.Startsecs = 0
		p.Environment = nil
		gs[i] = homogeneous(p)
	}
	return gs
}

func TestThousandProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	const n = 1000
	var running, stopped atomic.Int64
	s, _ := newTestSupervisor(t, Options{
		Logger: discardLogger{},
		OnTransition: func(tr Transition) {
			switch tr.To {
			case Running:
				running.Add(1)
			case Stopped:
				stopped.Add(1)
			}
		},
	})
	for _, g := range sleepers(t, n) {
		if err := s.AddGroup(g); err != nil {
			t.Fatal(err)
		}
	}
	t0 := time.Now()
	res := s.StartAll(bg, true)
	tStart := time.Since(t0)
	if len(res) != n {
		t.Fatalf("%d results", len(res))
	}
	for _, r := range res {
		if r.Err != nil {
			t.Fatalf("start result %+v", r)
		}
	}
	for _, in := range s.AllInfo() {
		if in.State != Running || in.PID == 0 {
			t.Fatalf("not running: %+v", in)
		}
	}
	if got := len(children()); got != n {
		t.Errorf("%d children, want %d", got, n)
	}
	threads := osThreads(t)
	if threads > 64 {
		t.Errorf("%d OS threads with %d children: something blocks a thread per child", threads, n)
	}
	t0 = time.Now()
	res = s.StopAll(bg, true)
	tStop := time.Since(t0)
	if len(res) != n {
		t.Fatalf("%d stop results", len(res))
	}
	for _, r := range res {
		if r.Err != nil {
			t.Fatalf("stop result %+v", r)
		}
	}
	for _, in := range s.AllInfo() {
		if in.State != Stopped || in.PID != 0 {
			t.Fatalf("not stopped: %+v", in)
		}
	}
	if running.Load() != n || stopped.Load() != n {
		t.Errorf("transitions: %d RUNNING, %d STOPPED", running.Load(), stopped.Load())
	}
	assertNoChildren(t)
	t.Logf("%d processes: started to RUNNING in %v, stopped in %v; %d OS threads while running", n, tStart, tStop, threads)
}

type discardLogger struct{}

func (discardLogger) Log(config.LogLevel, string) {}

// crashLoop runs /bin/false with autorestart until want restarts happened
// or budget passed (and at least floor happened: a loaded box is slow, not
// stalled; five minutes more for those), and returns the restart count and
// the gaps between an exit being published and the respawned child being
// RUNNING.
func crashLoop(t testing.TB, want, floor int, budget time.Duration) (int, []time.Duration) {
	falseBin := lookBin(t, "/bin/false")
	var mu sync.Mutex
	var gaps []time.Duration
	var lastExit time.Time
	var exits atomic.Int64
	done, floorDone := make(chan struct{}), make(chan struct{})
	if floor <= 0 {
		close(floorDone)
	}
	s, _ := newTestSupervisor(t, Options{
		Logger: discardLogger{},
		OnTransition: func(tr Transition) {
			switch tr.To {
			case Exited:
				mu.Lock()
				lastExit = tr.Time
				mu.Unlock()
				switch exits.Add(1) {
				case int64(floor):
					close(floorDone)
				case int64(want):
					close(done)
				}
			case Running:
				mu.Lock()
				if !lastExit.IsZero() {
					gaps = append(gaps, tr.Time.Sub(lastExit))
				}
				mu.Unlock()
			}
		},
	})
	p := proc("crasher")
	p.Command = falseBin
	p.Startsecs = 0
	p.Autorestart = config.AutorestartAlways
	p.Environment = nil
	if err := s.AddGroup(homogeneous(p)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Start(bg, "crasher", false); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(budget):
		select {
		case <-floorDone:
		case <-time.After(5 * time.Minute):
		}
	}
	ctx, cancel := context.WithTimeout(bg, time.Minute)
	defer cancel()
	if _, _, err := s.Stop(ctx, "crasher", true); err != nil {
		// It may be between an exit and its respawn only inside one
		// locked transition, so a stop always finds it STARTING/RUNNING.
		t.Fatalf("stop: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	return int(exits.Load()), slices.Clone(gaps)
}

func TestCrashLoop(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	const want = 10000
	// The loop must go on (1,000 restarts at least), however slowly a
	// loaded box runs it: counted, not timed.
	n, gaps := crashLoop(t, want, 1000, 30*time.Second)
	if n < 1000 {
		t.Fatalf("the crash loop stalled: only %d restarts", n)
	}
	slices.Sort(gaps)
	t.Logf("%d crash/respawn cycles (target %d); exit->RUNNING gap p50 %v p99 %v", n, want, gaps[len(gaps)/2], gaps[len(gaps)*99/100])
}

// BenchmarkStartStop1000 starts 1,000 /bin/sleep processes to RUNNING
// (startsecs=0, wait=true) and stops them all (wait=true).
func BenchmarkStartStop1000(b *testing.B) {
	s, _ := newTestSupervisor(b, Options{Logger: discardLogger{}, OnTransition: func(Transition) {}})
	for _, g := range sleepers(b, 1000) {
		if err := s.AddGroup(g); err != nil {
			b.Fatal(err)
		}
	}
	var startTotal, stopTotal time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		for _, r := range s.StartAll(bg, true) {
			if r.Err != nil {
				b.Fatal(r)
			}
		}
		t1 := time.Now()
		for _, r := range s.StopAll(bg, true) {
			if r.Err != nil {
				b.Fatal(r)
			}
		}
		startTotal += t1.Sub(t0)
		stopTotal += time.Since(t1)
	}
	b.ReportMetric(float64(startTotal.Milliseconds())/float64(b.N), "start-ms/op")
	b.ReportMetric(float64(stopTotal.Milliseconds())/float64(b.N), "stop-ms/op")
}

// BenchmarkCrashRespawn measures the gap between a crash being published
// (EXITED) and the respawned child being RUNNING, with autorestart=true.
func BenchmarkCrashRespawn(b *testing.B) {
	n, gaps := crashLoop(b, b.N, 0, 60*time.Second)
	if len(gaps) == 0 {
		b.Fatal("no respawns")
	}
	slices.Sort(gaps)
	b.ReportMetric(float64(gaps[len(gaps)/2].Microseconds()), "p50-us")
	b.ReportMetric(float64(gaps[len(gaps)*99/100].Microseconds()), "p99-us")
	b.ReportMetric(float64(n), "cycles")
}

// TestAddGroupsAutostartsThousand is supervisord's startup: 1,000 autostart
// programs added at once all reach RUNNING, in priority order.
func TestAddGroupsAutostartsThousand(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	var mu sync.Mutex
	var order []int
	var running atomic.Int64
	s, _ := newTestSupervisor(t, Options{
		Logger: discardLogger{},
		OnTransition: func(tr Transition) {
			if tr.To == Starting {
				prio, _ := strconv.Atoi(tr.Process[1:2])
				mu.Lock()
				order = append(order, prio)
				mu.Unlock()
			}
			if tr.To == Running {
				running.Add(1)
			}
		},
	})
	gs := sleepers(t, 1000)
	for i, g := range gs {
		g.Priority = 9 - i%10 // names s<prio>... encode the priority below
		g.Name = fmt.Sprintf("s%d%04d", g.Priority, i)
		g.Processes[0].Name = g.Name
		g.Processes[0].Autostart = true
	}
	t0 := time.Now()
	if err := s.AddGroups(gs); err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(t0)
	if running.Load() != 1000 {
		t.Fatalf("%d RUNNING", running.Load())
	}
	mu.Lock()
	sorted := slices.IsSorted(order)
	mu.Unlock()
	if !sorted {
		t.Error("autostart did not follow priority order")
	}
	t.Logf("1,000 autostart programs RUNNING in %v", elapsed)
}

// BenchmarkAllInfo1000 is getAllProcessInfo's procman side at 1,000
// processes.
func BenchmarkAllInfo1000(b *testing.B) {
	s, _ := newTestSupervisor(b, Options{Logger: discardLogger{}})
	if err := s.AddGroups(sleepers(b, 1000)); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if len(s.AllInfo()) != 1000 {
			b.Fatal("short")
		}
	}
}

func osThreads(t testing.TB) int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Threads:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(v))
			return n
		}
	}
	t.Fatal("no Threads line")
	return 0
}
