package handover

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/procman"
)

func TestEncodeDecode(t *testing.T) {
	at := time.Unix(1700000000, 123456789).UTC()
	st := &State{From: "gosupervisor 1", MainLog: "/var/log/s.log",
		Listeners: []Listener{{Family: "unix", File: "/run/s.sock", FD: 5}},
		Processes: []procman.Adopted{{Group: "g", Name: "p", State: procman.Backoff, PID: 0, StdinFD: -1, Timer: "retry", TimerAt: at, Backoff: 2}},
		Pipes:     []Pipe{{Group: "g", Process: "p", Channel: "stdout", PID: 9, FD: 7}},
		Reply:     &Reply{FD: 8, HTTPVersion: "1.1"}}
	b, err := st.Encode()
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if got.Processes[0].Timer != "retry" || !got.Processes[0].TimerAt.Equal(at) || got.Processes[0].State != procman.Backoff {
		t.Errorf("process: %+v", got.Processes[0])
	}
	if fds := got.FDs(); len(fds) != 3 || fds[0] != 5 || fds[1] != 7 || fds[2] != 8 {
		t.Errorf("FDs: %v", fds)
	}
	for _, bad := range []string{`{"format":"99"}`, `{`, `[]`} {
		if _, err := Decode([]byte(bad)); err == nil {
			t.Errorf("Decode(%s) accepted", bad)
		}
	}
}

func TestParseEnv(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"1:5:6", true}, {"1:5", false}, {"1:x:6", false}, {"1:2:6", false}, {"", false}, {"1:5:6:7", false},
	} {
		v, err := parseEnv(tc.in)
		if (err == nil) != tc.ok {
			t.Errorf("parseEnv(%q): %v", tc.in, err)
		}
		if tc.ok && v.String() != tc.in {
			t.Errorf("parseEnv(%q).String() = %q", tc.in, v)
		}
	}
}

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		path, want, err string
	}{
		{write("ok", "#!/bin/sh\necho 'gosupervisor 2.0 (supervisord 4.2.5 compatible)'\n", 0o755), "gosupervisor 2.0 (supervisord 4.2.5 compatible)", ""},
		{filepath.Join(dir, "missing"), "", "no such file"},
		{dir, "", "not a regular file"},
		{write("noexec", "#!/bin/sh\necho gosupervisor 1\n", 0o644), "", "not executable"},
		{write("other", "#!/bin/sh\necho supervisord 4.2.5\n", 0o755), "", "not a gosupervisor version"},
		{write("fails", "#!/bin/sh\nexit 1\n", 0o755), "", "exit status 1"},
	} {
		got, err := Check(tc.path)
		if got != tc.want || (err == nil) != (tc.err == "") || err != nil && !strings.Contains(err.Error(), tc.err) {
			t.Errorf("Check(%s) = %q, %v; want %q, %q", filepath.Base(tc.path), got, err, tc.want, tc.err)
		}
	}
}

// TestMemfdAndCloexec: the state file reads back from its start, and the
// descriptors' close-on-exec flag follows setCloexec.
func TestMemfdAndCloexec(t *testing.T) {
	fd, err := memfd([]byte("hello state"))
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	b, err := readAll(fd)
	if err != nil || string(b) != "hello state" {
		t.Fatalf("readAll: %q %v", b, err)
	}
	flags := func() uintptr {
		r, _, e := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_GETFD, 0)
		if e != 0 {
			t.Fatal(e)
		}
		return r
	}
	if flags()&syscall.FD_CLOEXEC == 0 {
		t.Error("state file not close-on-exec")
	}
	if err := setCloexec([]int{fd}, false); err != nil || flags()&syscall.FD_CLOEXEC != 0 {
		t.Errorf("cleared: %v %d", err, flags())
	}
	if err := setCloexec([]int{fd}, true); err != nil || flags()&syscall.FD_CLOEXEC == 0 {
		t.Errorf("set: %v %d", err, flags())
	}
	if err := setCloexec([]int{-1}, true); err == nil {
		t.Error("a bad descriptor was accepted")
	}
}
