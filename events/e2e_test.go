package events

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"
)

const python = "/usr/bin/python3"

// pipeListener writes envelopes to the current instance's stdin pipe.
type pipeListener struct {
	mu sync.Mutex
	w  *os.File
}

func (l *pipeListener) Name() string { return "py" }

func (l *pipeListener) WriteStdin(b []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.w == nil {
		return syscall.EPIPE
	}
	_, err := l.w.Write(b)
	return err
}

// pyInstance is one run of testdata/listener.py wired to a pool the way
// supervisord wires a listener process.
type pyInstance struct {
	cmd    *exec.Cmd
	stderr bytes.Buffer
	fed    chan struct{} // closed when stdout reached EOF
	exited chan error
}

func startPyListener(t *testing.T, p *Pool, l *pipeListener, marker string) *pyInstance {
	t.Helper()
	inR, inW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	in := &pyInstance{fed: make(chan struct{}), exited: make(chan error, 1)}
	in.cmd = exec.Command(python, "testdata/listener.py", marker)
	in.cmd.Stdin, in.cmd.Stdout, in.cmd.Stderr = inR, outW, &in.stderr
	if err := in.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	inR.Close()
	outW.Close()
	pid := in.cmd.Process.Pid
	p.ListenerSpawned("py", pid)
	l.mu.Lock()
	if l.w != nil {
		l.w.Close()
	}
	l.w = inW
	l.mu.Unlock()
	go func() {
		defer close(in.fed)
		defer outR.Close()
		buf := make([]byte, 4096)
		for {
			n, err := outR.Read(buf)
			if n > 0 {
				p.Feed("py", pid, buf[:n])
			}
			if err != nil {
				return
			}
		}
	}()
	go func() {
		<-in.fed
		in.exited <- in.cmd.Wait()
	}()
	return in
}

// wait waits for the instance to exit and returns its exit status.
func (in *pyInstance) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-in.exited:
	case <-time.After(30 * time.Second):
		_ = in.cmd.Process.Kill()
		<-in.exited
		t.Fatalf("listener did not finish; stderr:\n%s", in.stderr.String())
	}
	if err := syscall.Kill(in.cmd.Process.Pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("listener pid %d still exists after Wait: %v", in.cmd.Process.Pid, err)
	}
	return in.cmd.ProcessState.ExitCode()
}

type pyReceived struct {
	Headers map[string]string `json:"headers"`
	Payload string            `json:"payload"`
	Parsed  map[string]string `json:"parsed"` // childutils.eventdata(payload+"\n")
	Data    string            `json:"data"`
}

func (in *pyInstance) received(t *testing.T) []pyReceived {
	t.Helper()
	var out []pyReceived
	sc := bufio.NewScanner(bytes.NewReader(in.stderr.Bytes()))
	for sc.Scan() {
		var r pyReceived
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("listener stderr line %q: %v\nstderr:\n%s", sc.Text(), err, in.stderr.String())
		}
		out = append(out, r)
	}
	return out
}

type expected struct {
	serial int
	ev     *Event
	parsed map[string]string // some headers childutils.eventdata must find
}

func checkReceived(t *testing.T, who string, got []pyReceived, want []expected) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s received %d events, want %d: %+v", who, len(got), len(want), got)
	}
	for i := range min(len(got), len(want)) {
		g, w := got[i], want[i]
		hdr := map[string]string{
			"ver": "3.0", "server": "supervisor", "serial": strconv.Itoa(w.serial), "pool": "pyl",
			"poolserial": strconv.Itoa(w.serial), "eventname": w.ev.Name(),
			"len": strconv.Itoa(utf8.RuneCountInString(w.ev.Payload())),
		}
		for k, v := range hdr {
			if g.Headers[k] != v {
				t.Errorf("%s event %d: header %s=%q, want %q", who, i, k, g.Headers[k], v)
			}
		}
		if len(g.Headers) != len(hdr) {
			t.Errorf("%s event %d: headers %v", who, i, g.Headers)
		}
		if g.Payload != w.ev.Payload() {
			t.Errorf("%s event %d: payload %q, want %q", who, i, g.Payload, w.ev.Payload())
		}
		for k, v := range w.parsed {
			if g.Parsed[k] != v {
				t.Errorf("%s event %d: eventdata header %s=%q, want %q (all: %v)", who, i, k, g.Parsed[k], v, g.Parsed)
			}
		}
	}
}

// TestPythonChildutilsListener runs a real listener written with
// supervisor.childutils (Python supervisor 4.2.5) against a pool: it reads
// the envelopes, acknowledges, rejects once, dies while busy once (the
// event goes to its next instance) and quits.
func TestPythonChildutilsListener(t *testing.T) {
	if _, err := os.Stat(python); err != nil {
		t.Skip("no /usr/bin/python3")
	}
	if err := exec.Command(python, "-c", "import supervisor.childutils").Run(); err != nil {
		t.Skipf("supervisor's Python package is not installed: %v", err)
	}
	marker := filepath.Join(t.TempDir(), "marker")
	h := newHarness(t)
	l := &pipeListener{}
	t.Cleanup(func() {
		if l.w != nil {
			l.w.Close()
		}
	})
	p, err := h.bus.AddPool(PoolConfig{Name: "pyl", Events: []Type{EVENT}, Listeners: []Listener{l}})
	if err != nil {
		t.Fatal(err)
	}
	st := func(from, to string, pid int, expected bool) *Event {
		sc := StateChange{Process: "py", Group: "pyl", From: from, To: to, PID: pid, Expected: expected}
		ev, err := NewStateEvent(sc)
		if err != nil {
			t.Fatal(err)
		}
		if err := h.bus.ProcessTransition(sc); err != nil {
			t.Fatal(err)
		}
		return ev
	}
	publish := func(ev *Event) *Event { h.bus.Publish(ev); return ev }

	in1 := startPyListener(t, p, l, marker)
	pid1 := in1.cmd.Process.Pid
	e0 := st("STOPPED", "STARTING", pid1, true)
	e1 := st("STARTING", "RUNNING", pid1, true)
	e2 := publish(NewRemoteCommunicationEvent("mytype", "my data é\nsecond line"))
	e3, _ := NewLogEvent("stdout", "web", "web", 4242, []byte("bin\xff\x00'ary\n"))
	publish(e3)
	e4 := publish(NewRemoteCommunicationEvent("t", "reject-me"))
	e5 := publish(NewRemoteCommunicationEvent("t", "die"))
	if code := in1.wait(t); code != 3 {
		t.Errorf("first listener exit status %d, want 3", code)
	}
	e6 := st("RUNNING", "EXITED", pid1, false)
	e6p := map[string]string{"processname": "py", "groupname": "pyl", "from_state": "RUNNING",
		"expected": "0", "pid": strconv.Itoa(pid1)}
	if got := status(p); got != "BUSY(down) | [5 6]" {
		t.Errorf("after the busy listener died: %s", got)
	}

	in2 := startPyListener(t, p, l, marker)
	pid2 := in2.cmd.Process.Pid
	e7 := st("EXITED", "STARTING", pid2, true)
	e8 := st("STARTING", "RUNNING", pid2, true)
	e9, _ := NewTickEvent(TICK_60, 1795637857)
	publish(e9)
	e10 := publish(NewRemoteCommunicationEvent("t", "quit"))
	if code := in2.wait(t); code != 0 {
		t.Errorf("second listener exit status %d, want 0", code)
	}
	st("RUNNING", "EXITED", pid2, true)

	checkReceived(t, "first listener", in1.received(t),
		[]expected{{0, e0, nil}, {1, e1, nil}, {2, e2, map[string]string{"type": "mytype"}},
			{3, e3, map[string]string{"processname": "web", "pid": "4242", "channel": "stdout"}},
			{4, e4, nil}, {4, e4, nil}, {5, e5, nil}})
	checkReceived(t, "second listener", in2.received(t),
		[]expected{{5, e5, nil}, {6, e6, e6p}, {7, e7, nil}, {8, e8, nil},
			{9, e9, map[string]string{"when": "1795637820"}}, {10, e10, map[string]string{"type": "t"}}})
	if got := status(p); got != "ACKNOWLEDGED(down) | [11]" {
		t.Errorf("final status %s", got)
	}
	logs := h.log.take()
	for _, want := range []string{"WARN py: event was rejected", "DEBG py: event was processed"} {
		found := false
		for _, l := range logs {
			found = found || l == want
		}
		if !found {
			t.Errorf("log %q missing from %q", want, logs)
		}
	}
}
