package probes

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/config"
	"github.com/gosupervisor/gosupervisor/internal/clock"
	"github.com/gosupervisor/gosupervisor/internal/testleak"
)

func TestMain(m *testing.M) { testleak.Main(m) }

// fakeClock fires timers only in Advance, which waits for their callbacks.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	c       *fakeClock
	when    time.Time
	f       func()
	stopped bool
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Unix(1_800_000_000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) clock.Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{c: c, when: c.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	return t
}

func (t *fakeTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := !t.stopped
	t.stopped = true
	return was
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	var due []*fakeTimer
	keep := c.timers[:0]
	for _, t := range c.timers {
		switch {
		case t.stopped:
		case !t.when.After(c.now):
			t.stopped = true
			due = append(due, t)
		default:
			keep = append(keep, t)
		}
	}
	c.timers = keep
	c.mu.Unlock()
	var wg sync.WaitGroup
	for _, t := range due {
		wg.Add(1)
		go func() { defer wg.Done(); t.f() }()
	}
	wg.Wait()
}

// pending counts armed timers.
func (c *fakeClock) pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, t := range c.timers {
		if !t.stopped {
			n++
		}
	}
	return n
}

// record collects hook calls.
type record struct {
	mu      sync.Mutex
	events  []string
	checks  int
	lastErr error
}

func (r *record) add(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, s)
}

func (r *record) list() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.events, ",")
}

func (r *record) hooks() Hooks {
	return Hooks{
		Checked: func(_ time.Time, err error) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.checks++
			r.lastErr = err
		},
		Ready:          func() { r.add("ready") },
		ReadyTimeout:   func(err error) { r.add("timeout: " + err.Error()) },
		Unhealthy:      func(err error) { r.add("unhealthy: " + err.Error()) },
		Healthy:        func() { r.add("healthy") },
		MemoryExceeded: func(rss int64) { r.add("memory") },
	}
}

func check(t *testing.T, opt, v string) *config.Check {
	t.Helper()
	c, err := config.ParseCheck(opt, v)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func probesWith(ready, health *config.Check) config.Probes {
	return config.Probes{
		Ready: ready, ReadyTimeout: 10 * time.Second, ReadyInterval: time.Second,
		Healthcheck: health, HealthcheckInterval: 10 * time.Second, HealthcheckTimeout: 5 * time.Second,
		HealthcheckRetries: 3, MemoryCheckInterval: 5 * time.Second,
	}
}

// freePort returns a loopback port nobody listens on.
func freePort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestReadyTCP(t *testing.T) {
	addr := freePort(t)
	clk := newFakeClock()
	rec := &record{}
	m := Start(probesWith(check(t, "ready", "tcp://"+addr), nil), clk, nil, rec.hooks())
	defer m.Stop()
	clk.Advance(0) // first attempt at once: refused
	if got := rec.list(); got != "" {
		t.Fatalf("ready before anyone listens: %s", got)
	}
	if rec.lastErr == nil || !strings.Contains(rec.lastErr.Error(), "tcp://"+addr+": ") {
		t.Errorf("failed attempt error: %v", rec.lastErr)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("port %s taken meanwhile: %v", addr, err)
	}
	defer l.Close()
	clk.Advance(time.Second)
	if got := rec.list(); got != "ready" {
		t.Fatalf("events %q, want ready", got)
	}
	if rec.lastErr != nil || rec.checks != 2 {
		t.Errorf("checks %d, last error %v", rec.checks, rec.lastErr)
	}
	clk.Advance(time.Minute) // the deadline is gone
	if got := rec.list(); got != "ready" || clk.pending() != 0 {
		t.Errorf("after ready: %q, %d timers", got, clk.pending())
	}
}

func TestReadyTimeoutNamesTheCheck(t *testing.T) {
	addr := freePort(t)
	clk := newFakeClock()
	rec := &record{}
	m := Start(probesWith(check(t, "ready", "tcp://"+addr), nil), clk, nil, rec.hooks())
	defer m.Stop()
	for i := 0; i < 10; i++ {
		clk.Advance(time.Second)
	}
	got := rec.list()
	if !strings.HasPrefix(got, "timeout: ready check failed for 10s: tcp://"+addr+": dial tcp "+addr+": connect: connection refused") {
		t.Fatalf("events %q", got)
	}
	if clk.pending() != 0 {
		t.Errorf("%d timers left after the timeout", clk.pending())
	}
}

func TestHTTPStatuses(t *testing.T) {
	var code atomic.Int32
	code.Store(503)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/ready" {
			http.NotFound(w, r)
			return
		}
		if c := code.Load(); c == 302 {
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
		} else {
			w.WriteHeader(int(c))
		}
	})
	srv := httptest.NewServer(h)
	defer srv.Close()
	tls := httptest.NewTLSServer(h)
	defer tls.Close()
	for _, tc := range []struct {
		url  string
		code int32
		want string
	}{
		{srv.URL + "/ready", 503, "status 503 Service Unavailable"},
		{srv.URL + "/ready", 200, ""},
		{srv.URL + "/ready", 204, ""},
		{srv.URL + "/ready", 302, ""},
		{srv.URL + "/nope", 200, "status 404 Not Found"},
		{tls.URL + "/ready", 200, ""},
		{tls.URL + "/ready", 500, "status 500 Internal Server Error"},
		{"http://" + freePort(t) + "/", 200, "connection refused"},
	} {
		code.Store(tc.code)
		c := check(t, "healthcheck", tc.url)
		err := Run(t.Context(), c, nil)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s (%d): %v", tc.url, tc.code, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), tc.url+": ")):
			t.Errorf("%s (%d): %v, want %q", tc.url, tc.code, err, tc.want)
		}
	}
}

func TestExecCheckAndTimeout(t *testing.T) {
	c := check(t, "healthcheck", "exec:probe --flag")
	var got string
	err := Run(t.Context(), c, func(ctx context.Context, cmd string) error {
		got = cmd
		return errors.New("exit status 2")
	})
	if got != "probe --flag" || err == nil || err.Error() != "exec:probe --flag: exit status 2" {
		t.Errorf("ran %q: %v", got, err)
	}
	if err := Run(t.Context(), c, nil); !errors.Is(err, ErrNoExec) {
		t.Errorf("no exec hook: %v", err)
	}
	// A hanging check is cut by healthcheck_timeout through ctx.
	clk := newFakeClock()
	rec := &record{}
	p := probesWith(nil, c)
	p.HealthcheckTimeout = 10 * time.Millisecond
	p.HealthcheckRetries = 1
	hooks := rec.hooks()
	hooks.Exec = func(ctx context.Context, _ string) error { <-ctx.Done(); return ctx.Err() }
	m := Start(p, clk, nil, hooks)
	defer m.Stop()
	m.Running()
	clk.Advance(10 * time.Second)
	if got := rec.list(); got != "unhealthy: health check failed 1 times in a row: exec:probe --flag: context deadline exceeded" {
		t.Errorf("events %q", got)
	}
}

func TestHealthRetriesAndRecovery(t *testing.T) {
	clk := newFakeClock()
	rec := &record{}
	var fail atomic.Bool
	fail.Store(true)
	hooks := rec.hooks()
	hooks.Exec = func(context.Context, string) error {
		if fail.Load() {
			return errors.New("exit status 1")
		}
		return nil
	}
	m := Start(probesWith(nil, check(t, "healthcheck", "exec:x")), clk, nil, hooks)
	defer m.Stop()
	clk.Advance(time.Hour) // no health checks before RUNNING
	if rec.checks != 0 {
		t.Fatalf("%d checks before Running", rec.checks)
	}
	m.Running()
	m.Running() // idempotent: still one schedule
	for i := 1; i <= 4; i++ {
		clk.Advance(10 * time.Second)
		if want := map[bool]string{true: "unhealthy: health check failed 3 times in a row: exec:x: exit status 1", false: ""}[i >= 3]; rec.list() != want {
			t.Fatalf("after %d failures: %q", i, rec.list())
		}
	}
	fail.Store(false)
	clk.Advance(10 * time.Second)
	if got := rec.list(); !strings.HasSuffix(got, ",healthy") || rec.checks != 5 {
		t.Errorf("after recovery: %q (%d checks)", got, rec.checks)
	}
	if clk.pending() != 1 {
		t.Errorf("%d timers armed, want the one health schedule", clk.pending())
	}
	m.Stop()
	if clk.pending() != 0 {
		t.Errorf("%d timers after Stop", clk.pending())
	}
}

func TestLogReady(t *testing.T) {
	clk := newFakeClock()
	rec := &record{}
	m := Start(probesWith(check(t, "ready", "log:listening on [0-9]+"), nil), clk, nil, rec.hooks())
	defer m.Stop()
	if !m.WantsLines() || clk.pending() != 1 {
		t.Fatalf("a log check polls: %d timers", clk.pending())
	}
	m.Output("stdout", []byte("starting\nlisten"))
	m.Output("stderr", []byte("ing on 80\n")) // another channel: no match with stdout's half line
	m.Output("stdout", []byte("ing on port\n"))
	if rec.list() != "" || m.IsReady() {
		t.Fatalf("early: %q", rec.list())
	}
	m.Output("stdout", []byte("now listen"))
	m.Output("stdout", []byte("ing on 8080\r\nmore\n"))
	waitFor(t, m.IsReady)
	waitFor(t, func() bool { return rec.list() == "ready" })
	m.Output("stdout", []byte("listening on 9090\n"))
	m2 := Start(probesWith(check(t, "ready", "log:never"), nil), clk, nil, rec.hooks())
	defer m2.Stop()
	clk.Advance(10 * time.Second)
	if got := rec.list(); got != "ready,timeout: ready check failed: no output line matched log:never within 10s" {
		t.Errorf("events %q", got)
	}
}

func TestNotifyReady(t *testing.T) {
	dir, err := NotifyDir()
	if err != nil {
		t.Fatal(err)
	}
	defer removeAll(t, dir)
	for _, early := range []bool{false, true} {
		sock, err := ListenNotify(NotifyPath(dir, map[bool]uint64{false: 1, true: 2}[early]))
		if err != nil {
			t.Fatal(err)
		}
		send := func(msg string) {
			c, err := net.Dial("unixgram", sock.Path())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if _, err := c.Write([]byte(msg)); err != nil {
				t.Fatal(err)
			}
		}
		clk := newFakeClock()
		rec := &record{}
		readyCh := make(chan struct{})
		hooks := rec.hooks()
		hooks.Ready = func() { close(readyCh) }
		if early {
			send("STATUS=warming up\nREADY=1\n")
			waitFor(t, func() bool { return sock.Status() == "warming up" })
		}
		m := Start(probesWith(check(t, "ready", "notify"), nil), clk, sock, hooks)
		if !early {
			send("STATUS=almost\nREADY=0")
			waitFor(t, func() bool { return sock.Status() == "almost" })
			select {
			case <-readyCh:
				t.Fatal("READY=0 made it ready")
			default:
			}
			send("READY=1")
		}
		select {
		case <-readyCh:
		case <-time.After(10 * time.Second):
			t.Fatal("READY=1 not seen")
		}
		m.Stop()
		if _, err := net.Dial("unixgram", sock.Path()); err == nil {
			t.Error("socket still answers after Stop")
		}
	}
	if matches, _ := filepath.Glob(filepath.Join(dir, "*")); len(matches) != 0 {
		t.Errorf("left in the notify dir: %v", matches)
	}
}

func TestMemoryTwoSamplesInARow(t *testing.T) {
	clk := newFakeClock()
	rec := &record{}
	// over, under, over, unknown (skipped), over: the second in a row.
	samples := []int64{600, 400, 600, 0, 600}
	var i atomic.Int32
	hooks := rec.hooks()
	hooks.RSS = func() (int64, bool) {
		n := i.Add(1) - 1
		if samples[n] == 0 {
			return 0, false // unknown: skipped, does not break the run
		}
		return samples[n], true
	}
	p := probesWith(nil, nil)
	p.MemoryMax = 500
	m := Start(p, clk, nil, hooks)
	defer m.Stop()
	for k := 0; k < 4; k++ {
		clk.Advance(5 * time.Second)
	}
	if rec.list() != "" {
		t.Fatalf("after %d samples: %q", i.Load(), rec.list())
	}
	clk.Advance(5 * time.Second)
	if got := rec.list(); got != "memory" || i.Load() != 5 || clk.pending() != 0 {
		t.Errorf("events %q after %d samples, %d timers", got, i.Load(), clk.pending())
	}
}

func TestNoOptionsNoTimers(t *testing.T) {
	clk := newFakeClock()
	m := Start(config.Probes{}, clk, nil, Hooks{})
	m.Running()
	if clk.pending() != 0 || m.NeedsReady() || m.WantsLines() {
		t.Errorf("%d timers for a process without probes", clk.pending())
	}
	m.Stop()
}

func removeAll(t *testing.T, dir string) {
	if err := os.RemoveAll(dir); err != nil {
		t.Error(err)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
