package procman

import (
	"bufio"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/config"
)

func mustCheck(t *testing.T, opt, v string) *config.Check {
	t.Helper()
	c, err := config.ParseCheck(opt, v)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// probeDefaults is config.Probes with the documented defaults.
func probeDefaults() config.Probes {
	return config.Probes{
		ReadyTimeout: 60 * time.Second, ReadyInterval: time.Second,
		HealthcheckInterval: 10 * time.Second, HealthcheckTimeout: 5 * time.Second,
		HealthcheckRetries: 3, MemoryCheckInterval: 5 * time.Second,
	}
}

// fileCheck is an exec: check that passes while path exists.
func fileCheck(t *testing.T, opt, path string) *config.Check {
	return mustCheck(t, opt, "exec:/bin/sh -c 'test -e "+path+"'")
}

func touch(t *testing.T, path string) {
	t.Helper()
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestReadyHoldsStartingUntilTheCheckPasses(t *testing.T) {
	clk := newFakeClock()
	s, rec := newTestSupervisor(t, Options{Clock: clk})
	flag := filepath.Join(t.TempDir(), "ready")
	p := proc("web", "sleep", "30")
	p.Probes = probeDefaults()
	p.Probes.Ready = fileCheck(t, "ready", flag)
	p.Probes.ReadyInterval = 2 * time.Second
	if err := s.AddGroup(homogeneous(p)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Start(bg, "web", false); err != nil {
		t.Fatal(err)
	}
	clk.Advance(0) // the first attempt: fails
	clk.Advance(time.Second)
	clk.Advance(time.Second) // startsecs long past, a second attempt failed
	if info, _ := s.Info("web"); info.State != Starting {
		t.Fatalf("state %s before the ready check passed", info.State)
	}
	h, _ := s.Health("web")
	if h.Ready || h.LastCheck.IsZero() || !strings.Contains(h.LastError, "exit status 1") {
		t.Errorf("health while waiting: %+v", h)
	}
	touch(t, flag)
	clk.Advance(2 * time.Second)
	rec.waitState(t, "web", Running, 10*time.Second)
	h, _ = s.Health("web")
	if !h.Ready || !h.Healthy || h.LastError != "" || !h.LastCheck.Equal(clk.Now()) {
		t.Errorf("health once ready: %+v", h)
	}
	wantStates(t, rec, "web", "STARTING", "RUNNING")
	if !rec.hasLog("INFO ready: web passed its ready check (" + p.Probes.Ready.Spec + ")") {
		t.Errorf("logs %q", rec.logLines())
	}
}

func TestReadyBeforeStartsecsWaitsForStartsecs(t *testing.T) {
	clk := newFakeClock()
	s, rec := newTestSupervisor(t, Options{Clock: clk})
	flag := filepath.Join(t.TempDir(), "ready")
	touch(t, flag)
	p := proc("web", "sleep", "30")
	p.Startsecs = 5
	p.Probes = probeDefaults()
	p.Probes.Ready = fileCheck(t, "ready", flag)
	if err := s.AddGroup(homogeneous(p)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Start(bg, "web", false); err != nil {
		t.Fatal(err)
	}
	clk.Advance(0)
	if h, _ := s.Health("web"); h.LastCheck.IsZero() || h.LastError != "" {
		t.Fatalf("the ready check did not pass: %+v", h)
	}
	clk.Advance(4 * time.Second)
	if info, _ := s.Info("web"); info.State != Starting {
		t.Fatalf("RUNNING before startsecs: %s", info.State)
	}
	clk.Advance(time.Second)
	rec.waitState(t, "web", Running, 10*time.Second)
}

func TestReadyTimeoutIsAFailedStart(t *testing.T) {
	clk := newFakeClock()
	s, rec := newTestSupervisor(t, Options{Clock: clk})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nobody listens: connection refused
	p := proc("web", "sleep", "30")
	p.Startretries = 1
	p.Probes = probeDefaults()
	p.Probes.Ready = mustCheck(t, "ready", "tcp://"+addr)
	p.Probes.ReadyTimeout = 3 * time.Second
	if err := s.AddGroup(homogeneous(p)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Start(bg, "web", false); err != nil {
		t.Fatal(err)
	}
	why := "ready check failed for 3s: tcp://" + addr + ": dial tcp " + addr + ": connect: connection refused"
	for round := 1; round <= 2; round++ {
		clk.Advance(0)
		for i := 0; i < 3; i++ {
			clk.Advance(time.Second)
		}
		rec.waitFor(t, "the failed start", 10*time.Second, func() bool {
			return strings.Count(strings.Join(rec.states("web"), ","), "BACKOFF") == round
		})
		info, _ := s.Info("web")
		if info.Spawnerr != why {
			t.Fatalf("round %d spawnerr %q, want %q", round, info.Spawnerr, why)
		}
		clk.Advance(time.Duration(round) * time.Second) // the backoff delay
	}
	rec.waitState(t, "web", Fatal, 10*time.Second)
	wantStates(t, rec, "web", "STARTING", "BACKOFF", "STARTING", "BACKOFF", "FATAL")
	if !rec.hasLog("WARN not ready: web: " + why) {
		t.Errorf("logs %q", rec.logLines())
	}
	if info, _ := s.Info("web"); info.Spawnerr != why || info.State != Fatal {
		t.Errorf("FATAL info %+v", info)
	}
}

func TestHealthcheckRestartsUnlessAutorestartFalse(t *testing.T) {
	for _, ar := range []config.Autorestart{config.AutorestartUnexpected, config.AutorestartNever} {
		t.Run(map[config.Autorestart]string{config.AutorestartUnexpected: "restart", config.AutorestartNever: "report"}[ar], func(t *testing.T) {
			clk := newFakeClock()
			s, rec := newTestSupervisor(t, Options{Clock: clk})
			flag := filepath.Join(t.TempDir(), "healthy")
			touch(t, flag)
			p := proc("web", "sleep", "30")
			p.Startsecs = 0
			p.Autorestart = ar
			p.Probes = probeDefaults()
			p.Probes.Healthcheck = fileCheck(t, "healthcheck", flag)
			p.Probes.HealthcheckRetries = 2
			if err := s.AddGroup(homogeneous(p)); err != nil {
				t.Fatal(err)
			}
			if _, _, err := s.Start(bg, "web", true); err != nil {
				t.Fatal(err)
			}
			clk.Advance(10 * time.Second)
			if h, _ := s.Health("web"); !h.Healthy || h.LastCheck.IsZero() || h.LastError != "" {
				t.Fatalf("after a passing check: %+v", h)
			}
			os.Remove(flag)
			clk.Advance(10 * time.Second)
			if h, _ := s.Health("web"); !h.Healthy || !strings.Contains(h.LastError, "exit status 1") {
				t.Fatalf("after one failure: %+v", h)
			}
			clk.Advance(10 * time.Second)
			msg := "web: health check failed 2 times in a row: " + p.Probes.Healthcheck.Spec + ": exit status 1"
			if ar == config.AutorestartNever {
				if !rec.hasLog("WARN unhealthy: " + msg + " (autorestart=false: not restarted)") {
					t.Errorf("logs %q", rec.logLines())
				}
				h, _ := s.Health("web")
				if h.Healthy || !h.Ready || h.Restarts != 0 {
					t.Errorf("unhealthy, not restarted: %+v", h)
				}
				touch(t, flag)
				clk.Advance(10 * time.Second)
				if h, _ := s.Health("web"); !h.Healthy || !rec.hasLog("INFO healthy: web passes its health check again") {
					t.Errorf("recovered: %+v", h)
				}
				wantStates(t, rec, "web", "STARTING", "RUNNING")
				return
			}
			rec.waitFor(t, "the restart", 10*time.Second, func() bool { return len(rec.states("web")) >= 5 })
			rec.waitState(t, "web", Running, 10*time.Second)
			wantStates(t, rec, "web", "STARTING", "RUNNING", "STOPPING", "STOPPED", "STARTING", "RUNNING")
			if !rec.hasLog("WARN unhealthy: " + msg + "; restarting it") {
				t.Errorf("logs %q", rec.logLines())
			}
			if h, _ := s.Health("web"); h.Restarts != 1 || !h.Healthy {
				t.Errorf("after the restart: %+v", h)
			}
		})
	}
}

func TestNotifyReady(t *testing.T) {
	clk := newFakeClock()
	s, rec := newTestSupervisor(t, Options{Clock: clk})
	flag := filepath.Join(t.TempDir(), "go")
	p := proc("d", "waitfile", flag, "notify", "READY=1", "sleep", "30")
	p.Startsecs = 0
	p.Probes = probeDefaults()
	p.Probes.Ready = mustCheck(t, "ready", "notify")
	if err := s.AddGroup(homogeneous(p)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Start(bg, "d", false); err != nil {
		t.Fatal(err)
	}
	if info, _ := s.Info("d"); info.State != Starting {
		t.Fatalf("state %s before READY=1", info.State)
	}
	touch(t, flag)
	rec.waitState(t, "d", Running, 10*time.Second)
	dir := s.probe.notifyPath
	if dir == "" {
		t.Fatal("no notify directory")
	}
	if _, _, err := s.Stop(bg, "d", true); err != nil {
		t.Fatal(err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*")); len(left) != 0 {
		t.Errorf("sockets left after the stop: %v", left)
	}
	s.Close()
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("notify directory left after Close: %v", err)
	}
}

// tapSink feeds each line of a channel to an OutputTap, as the daemon's
// log channels do.
type tapSink struct {
	tap     *OutputTap
	channel string
}

func (s tapSink) Consume(r *os.File, pid int) {
	go func() {
		defer r.Close()
		br := bufio.NewReader(r)
		for {
			line, err := br.ReadBytes('\n')
			if len(line) > 0 {
				s.tap.Offer(pid, s.channel, line)
			}
			if err != nil {
				return
			}
		}
	}()
}

func TestLogReady(t *testing.T) {
	clk := newFakeClock()
	tap := &OutputTap{}
	s, rec := newTestSupervisor(t, Options{Clock: clk, Output: func(g *config.Group, p *config.Process) Output {
		return Output{Stdout: tapSink{tap, "stdout"}, Stderr: tapSink{tap, "stderr"}, Tap: tap}
	}})
	p := proc("w", "out", "booting", "sleep", "0.1", "err", "'listening on 8080'", "sleep", "30")
	p.Startsecs = 0
	p.Probes = probeDefaults()
	p.Probes.Ready = mustCheck(t, "ready", "log:^listening on [0-9]+$")
	if err := s.AddGroup(homogeneous(p)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Start(bg, "w", false); err != nil {
		t.Fatal(err)
	}
	rec.waitState(t, "w", Running, 10*time.Second)
	wantStates(t, rec, "w", "STARTING", "RUNNING")
}

func TestMemoryMaxRestarts(t *testing.T) {
	clk := newFakeClock()
	s, rec := newTestSupervisor(t, Options{Clock: clk})
	out := newLineSink()
	s.opts.Output = func(*config.Group, *config.Process) Output { return Output{Stdout: out} }
	p := proc("hog", "out", "ready", "sleep", "30")
	p.Startsecs = 0
	p.Probes = probeDefaults()
	p.Probes.MemoryMax = 4096 // any Go program that has run is above this
	if err := s.AddGroup(homogeneous(p)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Start(bg, "hog", true); err != nil {
		t.Fatal(err)
	}
	// Just after exec the child has mapped a page or two; sample once its
	// runtime has run.
	out.next(t)
	clk.Advance(5 * time.Second)
	if st := rec.states("hog"); !slices.Equal(st, []string{"STARTING", "RUNNING"}) {
		t.Fatalf("restarted after one sample: %v", st)
	}
	clk.Advance(5 * time.Second)
	rec.waitFor(t, "the restart", 10*time.Second, func() bool { return len(rec.states("hog")) >= 6 })
	wantStates(t, rec, "hog", "STARTING", "RUNNING", "STOPPING", "STOPPED", "STARTING", "RUNNING")
	found := false
	for _, l := range rec.logLines() {
		found = found || (strings.HasPrefix(l, "WARN memory: memory of hog and its descendants is ") && strings.HasSuffix(l, " bytes, above memory_max 4096 on two samples in a row; restarting it"))
	}
	if !found {
		t.Errorf("logs %q", rec.logLines())
	}
	if h, _ := s.Health("hog"); h.Restarts != 1 || !strings.Contains(h.LastError, "above memory_max") {
		t.Errorf("health %+v", h)
	}
}

func TestNoProbesNoTimers(t *testing.T) {
	clk := newFakeClock()
	s, rec := newTestSupervisor(t, Options{Clock: clk})
	p := proc("plain", "sleep", "30")
	p.Startsecs = 0
	if err := s.AddGroup(homogeneous(p)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Start(bg, "plain", true); err != nil {
		t.Fatal(err)
	}
	rec.waitState(t, "plain", Running, 10*time.Second)
	if n := clk.pending(); n != 0 {
		t.Errorf("%d timers armed for a RUNNING process without probes", n)
	}
	if h, _ := s.Health("plain"); !h.Ready || !h.Healthy || !h.LastCheck.IsZero() {
		t.Errorf("health %+v", h)
	}
}

// TestExecCheckRunsLikeTheProgram: an exec: check sees the program's
// environment and directory, and a slow one is killed at its timeout.
func TestExecCheckRunsLikeTheProgram(t *testing.T) {
	clk := newFakeClock()
	s, rec := newTestSupervisor(t, Options{Clock: clk})
	dir := t.TempDir()
	p := proc("web", "sleep", "30")
	p.Directory = dir
	p.Environment = append(p.Environment, config.EnvVar{Key: "PROBE_WANT", Value: "yes please"})
	p.Probes = probeDefaults()
	p.Probes.Ready = mustCheck(t, "ready", `exec:/bin/sh -c 'test "$PROBE_WANT" = "yes please" && test "$(pwd)" = "`+dir+`" && test "$SUPERVISOR_PROCESS_NAME" = web'`)
	if err := s.AddGroup(homogeneous(p)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Start(bg, "web", false); err != nil {
		t.Fatal(err)
	}
	clk.Advance(0)
	clk.Advance(time.Second)
	rec.waitState(t, "web", Running, 10*time.Second)

	slow := proc("slow", "sleep", "30")
	slow.Startsecs = 0
	slow.Probes = probeDefaults()
	slow.Probes.Healthcheck = mustCheck(t, "healthcheck", "exec:sleep 30")
	slow.Probes.HealthcheckTimeout = 50 * time.Millisecond
	if err := s.AddGroup(homogeneous(slow)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Start(bg, "slow", true); err != nil {
		t.Fatal(err)
	}
	clk.Advance(10 * time.Second) // returns once the check was killed
	if h, _ := s.Health("slow"); h.LastError != "exec:sleep 30: timed out" {
		t.Errorf("slow check: %+v", h)
	}
}

// TestStopCancelsACheckRestart: a stop request while a failing check's
// restart is stopping the process leaves it STOPPED.
func TestStopCancelsACheckRestart(t *testing.T) {
	clk := newFakeClock()
	s, rec := newTestSupervisor(t, Options{Clock: clk})
	out := newLineSink()
	s.opts.Output = func(*config.Group, *config.Process) Output { return Output{Stdout: out} }
	p := proc("hog", "ignoreterm", "out", "ready", "sleep", "30")
	p.Startsecs = 0
	p.Stopwaitsecs = 10
	p.Probes = probeDefaults()
	p.Probes.MemoryMax = 4096
	if err := s.AddGroup(homogeneous(p)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Start(bg, "hog", true); err != nil {
		t.Fatal(err)
	}
	out.next(t) // SIGTERM is ignored and the runtime's pages are mapped
	clk.Advance(5 * time.Second)
	clk.Advance(5 * time.Second)
	rec.waitState(t, "hog", Stopping, 10*time.Second)
	if _, _, err := s.Stop(bg, "hog", false); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("stop while STOPPING: %v", err)
	}
	clk.Advance(10 * time.Second) // SIGKILL
	rec.waitState(t, "hog", Stopped, 10*time.Second)
	clk.Advance(time.Minute)
	wantStates(t, rec, "hog", "STARTING", "RUNNING", "STOPPING", "STOPPED")
}
