package rpc

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gosupervisor/gosupervisor/internal/faults"
	"github.com/gosupervisor/gosupervisor/logrot"
	"github.com/gosupervisor/gosupervisor/procman"
)

// dispatchBackend is a fake with one group "g" of p1 (running) and p2
// (stopped), a singleton "solo" with logs, and a main log.
func dispatchBackend(t *testing.T) *fakeBackend {
	dir := t.TempDir()
	b := newFakeBackend()
	b.mainLog = filepath.Join(dir, "main.log")
	os.WriteFile(b.mainLog, []byte("err line\n"), 0o600)
	p1 := b.addProc("g", "p1")
	p1.info.State, p1.info.PID = procman.Running, 11
	b.addProc("g", "p2")
	solo := b.addProc("solo", "solo")
	solo.stdout = filepath.Join(dir, "solo.out")
	solo.stderr = filepath.Join(dir, "solo.err")
	os.WriteFile(solo.stdout, []byte("err line\n"), 0o600)
	b.inactive["later"] = []*fakeProc{{info: ProcessInfo{Name: "later", Group: "later"}, cfg: ConfigInfo{Name: "later", Group: "later"}}}
	return b
}

func faultOf(err error) (int, string) {
	if err == nil {
		return 0, "<nil>"
	}
	var f *Fault
	if errors.As(err, &f) {
		return f.Code, f.String
	}
	return -1, err.Error()
}

func TestDispatchFaultsAndCoercions(t *testing.T) {
	tests := []struct {
		name      string
		method    string
		params    []any
		want      any    // expected value when no fault
		wantFault string // "CODE: text" style fault string, or "500" for an HTTP 500
	}{
		// names
		{"no dot", "getState", nil, nil, "UNKNOWN_METHOD"},
		{"three parts", "supervisor.supervisord.options.execve", []any{"/bin/sh"}, nil, "UNKNOWN_METHOD"},
		{"underscore", "supervisor._getGroupAndProcess", []any{"g"}, nil, "UNKNOWN_METHOD"},
		{"dunder", "system.__class__", nil, nil, "UNKNOWN_METHOD"},
		{"dunder ns", "__class__.mro", nil, nil, "UNKNOWN_METHOD"},
		{"unknown ns", "nope.getState", nil, nil, "UNKNOWN_METHOD"},
		{"unknown method", "supervisor.nope", nil, nil, "UNKNOWN_METHOD"},
		{"empty ns", ".getState", nil, nil, "UNKNOWN_METHOD"},
		{"trailing dot", "supervisor.", nil, nil, "UNKNOWN_METHOD"},
		{"case matters", "supervisor.getstate", nil, nil, "UNKNOWN_METHOD"},
		{"update helper", "supervisor._update", []any{"x"}, nil, "UNKNOWN_METHOD"},
		// arity
		{"too many", "supervisor.getState", []any{"x"}, nil, "INCORRECT_PARAMETERS"},
		{"too few", "supervisor.readLog", []any{int64(0)}, nil, "INCORRECT_PARAMETERS"},
		{"optional wait", "supervisor.startProcess", []any{"g:p2"}, true, ""},
		{"too many wait", "supervisor.startProcess", []any{"g:p2", true, 1}, nil, "INCORRECT_PARAMETERS"},
		// simple values
		{"api version", "supervisor.getAPIVersion", nil, "3.0", ""},
		{"version alias", "supervisor.getVersion", nil, "3.0", ""},
		{"supervisor version", "supervisor.getSupervisorVersion", nil, "4.2.5", ""},
		{"pid", "supervisor.getPID", nil, 4242, ""},
		{"state", "supervisor.getState", nil, Struct{{"statecode", 1}, {"statename", "RUNNING"}}, ""},
		// readLog coercions (int() semantics)
		{"readLog ints", "supervisor.readLog", []any{int64(2), int64(3)}, "r l", ""},
		{"readLog strings", "supervisor.readLog", []any{"5", "3"}, "ine", ""},
		{"readLog float", "supervisor.readLog", []any{1.5, int64(0)}, "rr line\n", ""},
		{"readLog bool", "supervisor.readLog", []any{true, false}, "rr line\n", ""},
		{"readLog tail", "supervisor.readLog", []any{int64(-4), int64(0)}, "ine\n", ""},
		{"readLog tail all", "supervisor.readLog", []any{int64(-400), int64(0)}, "err line\n", ""},
		{"readLog past end", "supervisor.readLog", []any{int64(100000000), int64(0)}, "", ""},
		{"readLog bad args", "supervisor.readLog", []any{int64(0), int64(-5)}, nil, "BAD_ARGUMENTS"},
		{"readLog bad args 2", "supervisor.readLog", []any{int64(-100), int64(5)}, nil, "BAD_ARGUMENTS"},
		{"readLog bad string", "supervisor.readLog", []any{"x", int64(0)}, nil, "500"},
		{"readLog list", "supervisor.readLog", []any{[]any{}, int64(0)}, nil, "INCORRECT_PARAMETERS"},
		// names and BAD_NAME
		{"bad name", "supervisor.getProcessInfo", []any{"nosuch"}, nil, "BAD_NAME: nosuch"},
		{"group spec", "supervisor.getProcessInfo", []any{"g:*"}, nil, "BAD_NAME: g:*"},
		{"group name only", "supervisor.getProcessInfo", []any{"g"}, nil, "BAD_NAME: g"},
		{"int name", "supervisor.getProcessInfo", []any{int64(5)}, nil, "500"},
		{"bool name", "supervisor.getProcessInfo", []any{true}, nil, "500"},
		{"int group", "supervisor.startProcessGroup", []any{int64(5)}, nil, "BAD_NAME: 5"},
		{"bool group", "supervisor.removeProcessGroup", []any{true}, nil, "BAD_NAME: True"},
		{"list group remove", "supervisor.removeProcessGroup", []any{[]any{}}, nil, "INCORRECT_PARAMETERS"},
		{"list group add", "supervisor.addProcessGroup", []any{[]any{}}, nil, "BAD_NAME: []"},
		{"signal list nobody running", "supervisor.signalProcessGroup", []any{"solo", []any{}}, []Result{}, ""},
		{"signal list someone running", "supervisor.signalProcessGroup", []any{"g", []any{}}, nil, "500"},
		{"signal list bad group", "supervisor.signalProcessGroup", []any{"nosuch", []any{}}, nil, "BAD_NAME: nosuch"},
		{"multicall empty string", "system.multicall", []any{""}, []any{}, ""},
		{"multicall string", "system.multicall", []any{"x"}, nil, "500"},
		// start / stop
		{"already started", "supervisor.startProcess", []any{"g:p1"}, nil, "ALREADY_STARTED: g:p1"},
		{"wait as string", "supervisor.startProcess", []any{"g:p2", "yes"}, true, ""},
		{"not running", "supervisor.stopProcess", []any{"solo"}, nil, "NOT_RUNNING: solo"},
		{"stop group spec", "supervisor.stopProcess", []any{"g:*"}, []Result{{"p1", "g", 80, "OK"}}, ""},
		{"stop group bad", "supervisor.stopProcessGroup", []any{"nosuch"}, nil, "BAD_NAME: nosuch"},
		// signals
		{"signal bad", "supervisor.signalProcess", []any{"g:p1", "NOPE"}, nil, "BAD_SIGNAL: NOPE"},
		{"signal int", "supervisor.signalProcess", []any{"g:p1", int64(1)}, true, ""},
		{"signal name", "supervisor.signalProcess", []any{"g:p1", "sigusr1"}, true, ""},
		{"signal not running", "supervisor.signalProcess", []any{"solo", "HUP"}, nil, "NOT_RUNNING: solo"},
		{"signal group spec", "supervisor.signalProcess", []any{"g:", "HUP"}, []Result{{"p1", "g", 80, "OK"}}, ""},
		{"signal list", "supervisor.signalProcess", []any{"g:p1", []any{}}, nil, "500"},
		// logs
		{"read stdout", "supervisor.readProcessStdoutLog", []any{"solo", int64(2), int64(3)}, "r l", ""},
		{"read alias", "supervisor.readProcessLog", []any{"solo", int64(-4), int64(0)}, "ine\n", ""},
		{"read missing file", "supervisor.readProcessStderrLog", []any{"solo", int64(0), int64(0)}, nil, "NO_FILE: SOLOERR"},
		{"read no file", "supervisor.readProcessStdoutLog", []any{"g:p1", int64(0), int64(0)}, nil, "NO_FILE"},
		{"read bad name", "supervisor.readProcessStdoutLog", []any{"x", int64(0), int64(0)}, nil, "BAD_NAME: x"},
		{"tail", "supervisor.tailProcessStdoutLog", []any{"solo", int64(0), int64(3)}, []any{"ne\n", int64(9), true}, ""},
		{"tail whole", "supervisor.tailProcessLog", []any{"solo", int64(5), int64(100)}, []any{"err line\n", int64(9), false}, ""},
		{"tail past", "supervisor.tailProcessStdoutLog", []any{"solo", int64(100), int64(3)}, []any{"", int64(9), false}, ""},
		{"tail negative", "supervisor.tailProcessStdoutLog", []any{"solo", int64(-5), int64(3)}, []any{"ne\n", int64(9), true}, ""},
		{"tail missing", "supervisor.tailProcessStderrLog", []any{"solo", int64(0), int64(3)}, []any{"", 0, false}, ""},
		// stdin
		{"stdin int", "supervisor.sendProcessStdin", []any{"g:p1", int64(5)}, nil, "INCORRECT_PARAMETERS: 5"},
		{"stdin not running", "supervisor.sendProcessStdin", []any{"solo", "hi"}, nil, "NOT_RUNNING: solo"},
		{"stdin ok", "supervisor.sendProcessStdin", []any{"g:p1", "hi"}, true, ""},
		// groups
		{"add already", "supervisor.addProcessGroup", []any{"g"}, nil, "ALREADY_ADDED: g"},
		{"remove running", "supervisor.removeProcessGroup", []any{"g"}, nil, "STILL_RUNNING: g"},
		{"reload", "supervisor.reloadConfig", nil, []any{[]any{[]string{"later"}, []string{}, []string{}}}, ""},
		{"comm event", "supervisor.sendRemoteCommEvent", []any{"t", "d"}, true, ""},
		// system
		{"help unknown", "system.methodHelp", []any{"x.y"}, nil, "SIGNATURE_UNSUPPORTED"},
		{"help non-string", "system.methodHelp", []any{int64(1)}, nil, "SIGNATURE_UNSUPPORTED"},
		{"signature unknown", "system.methodSignature", []any{"supervisor.nope"}, nil, "SIGNATURE_UNSUPPORTED"},
		{"signature", "system.methodSignature", []any{"supervisor.readLog"}, []string{"string", "int", "int"}, ""},
		{"multicall not list", "system.multicall", []any{int64(1)}, nil, "INCORRECT_PARAMETERS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := dispatchBackend(t)
			d := NewDispatcher(b, nil)
			solo := b.groups["solo"][0]
			got, err := d.Call(t.Context(), tt.method, tt.params)
			wantFault := strings.ReplaceAll(tt.wantFault, "SOLOERR", solo.stderr)
			if wantFault == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("value (-want +got):\n%s", diff)
				}
				return
			}
			if err == nil {
				t.Fatalf("got %#v, want fault %s", got, wantFault)
			}
			var pe *pyError
			if wantFault == "500" {
				if !errors.As(err, &pe) {
					t.Fatalf("got %v, want a Python exception (HTTP 500)", err)
				}
				return
			}
			if _, s := faultOf(err); s != wantFault {
				t.Errorf("fault %q, want %q", s, wantFault)
			}
		})
	}
}

// TestUnknownMethodsRunNothing checks CVE-2017-11610-style names are
// refused before any backend method runs.
func TestUnknownMethodsRunNothing(t *testing.T) {
	names := []string{
		"supervisor.supervisord.options.execve",
		"supervisor.supervisord.options.warnings.linecache.os.system",
		"system.__class__",
		"system.__init__",
		"supervisor.__dict__",
		"supervisor._getAllProcesses",
		"supervisor._readProcessLog",
		"__builtins__.eval",
		"supervisor.startProcess.__globals__",
		"system.multicall.__call__",
		"rpcinterface.supervisor.shutdown",
		"supervisor..shutdown",
	}
	for _, n := range names {
		b := dispatchBackend(t)
		d := NewDispatcher(b, nil)
		_, err := d.Call(t.Context(), n, []any{"g:p1", "/bin/sh"})
		if code, _ := faultOf(err); code != faults.UnknownMethod {
			t.Errorf("%s: got %v, want UNKNOWN_METHOD", n, err)
		}
		if c := b.Calls(); len(c) != 0 {
			t.Errorf("%s: backend ran %v", n, c)
		}
		// also through multicall
		v, _ := d.Call(t.Context(), "system.multicall", []any{[]any{map[string]any{"methodName": n, "params": []any{"x"}}}})
		if diff := cmp.Diff([]any{Struct{{"faultCode", 1}, {"faultString", "UNKNOWN_METHOD"}}}, v); diff != "" {
			t.Errorf("%s via multicall: %s", n, diff)
		}
	}
}

func TestShutdownState(t *testing.T) {
	b := dispatchBackend(t)
	d := NewDispatcher(b, nil)
	if _, err := d.Call(t.Context(), "supervisor.shutdown", nil); err != nil {
		t.Fatal(err)
	}
	for _, n := range d.Methods() {
		if !strings.HasPrefix(n, "supervisor.") {
			continue
		}
		m := d.methods[n]
		params := make([]any, m.minArgs)
		for i := range params {
			params[i] = "g:p1"
		}
		_, err := d.Call(t.Context(), n, params)
		code, _ := faultOf(err)
		if n == "supervisor.sendRemoteCommEvent" {
			if err != nil {
				t.Errorf("%s during shutdown: %v", n, err)
			}
			continue
		}
		if code != faults.ShutdownState {
			t.Errorf("%s during shutdown: %v, want SHUTDOWN_STATE", n, err)
		}
	}
	for _, n := range []string{"system.listMethods"} {
		if _, err := d.Call(t.Context(), n, nil); err != nil {
			t.Errorf("%s during shutdown: %v", n, err)
		}
	}
	if c := b.Calls(); len(c) != 1 || c[0] != "shutdown" {
		t.Errorf("backend calls during shutdown: %v", c)
	}
}

func TestMulticall(t *testing.T) {
	b := dispatchBackend(t)
	d := NewDispatcher(b, nil)
	calls := []any{
		map[string]any{"methodName": "supervisor.getAPIVersion"},
		map[string]any{"methodName": "supervisor.nope"},
		map[string]any{"params": []any{}},
		map[string]any{"methodName": "system.multicall", "params": []any{[]any{}}},
		map[string]any{"methodName": "supervisor.getState", "params": []any{"x"}},
		map[string]any{"methodName": "supervisor.getProcessInfo", "params": []any{int64(5)}},
		map[string]any{"methodName": "supervisor.readLog", "params": []any{"abc", int64(0)}},
		map[string]any{"methodName": int64(3)},
		map[string]any{"methodName": "supervisor.stopProcess", "params": []any{"g:p1"}},
		map[string]any{"methodName": "supervisor.startProcess", "params": []any{"g:p1"}},
		map[string]any{"methodName": "supervisor.getPID", "params": int64(3)},
	}
	v, err := d.Call(t.Context(), "system.multicall", []any{calls})
	if err != nil {
		t.Fatal(err)
	}
	fs := func(code int, s string) Struct { return Struct{{"faultCode", code}, {"faultString", s}} }
	want := []any{
		"3.0",
		fs(1, "UNKNOWN_METHOD"),
		fs(2, "INCORRECT_PARAMETERS: No methodName"),
		fs(2, "INCORRECT_PARAMETERS: Recursive system.multicall forbidden"),
		fs(2, "INCORRECT_PARAMETERS"),
		fs(30, "FAILED: <class 'AttributeError'>:'int' object has no attribute 'split'"),
		fs(30, "FAILED: <class 'AttributeError'>:type object 'Faults' has no attribute 'invalid literal for int() with base 10: 'abc''"),
		fs(30, "FAILED: <class 'AttributeError'>:'int' object has no attribute 'split'"),
		true,
		true,
		fs(2, "INCORRECT_PARAMETERS"),
	}
	if diff := cmp.Diff(want, v); diff != "" {
		t.Errorf("multicall (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"stop g:p1", "start g:p1"}, b.Calls()); diff != "" {
		t.Errorf("calls ran out of order (-want +got):\n%s", diff)
	}
	// a call that is not a struct fails the whole request (HTTP 500) after
	// the calls before it ran
	_, err = d.Call(t.Context(), "system.multicall", []any{[]any{map[string]any{"methodName": "supervisor.stopProcess", "params": []any{"g:p1"}}, "x"}})
	var pe *pyError
	if !errors.As(err, &pe) {
		t.Errorf("non-struct call: %v, want HTTP 500", err)
	}
}

// TestDescription is _interpretProcessInfo's text for each state.
func TestDescription(t *testing.T) {
	loc := time.FixedZone("X", 3600)
	stop := time.Date(2026, 11, 25, 19, 17, 0, 0, time.UTC).Unix()
	for _, c := range []struct {
		in   ProcessInfo
		want string
	}{
		{ProcessInfo{State: procman.Running, PID: 7933, Start: 100, Now: 114}, "pid 7933, uptime 0:00:14"},
		{ProcessInfo{State: procman.Running, PID: 1, Start: 0, Now: 86400 + 2*3600 + 3*60 + 4}, "pid 1, uptime 1 day, 2:03:04"},
		{ProcessInfo{State: procman.Running, PID: 1, Start: 10, Now: 10 + 3*86400 + 5}, "pid 1, uptime 3 days, 0:00:05"},
		{ProcessInfo{State: procman.Running, PID: 1, Start: 100, Now: 90}, "pid 1, uptime 0:00:00"},
		{ProcessInfo{State: procman.Running, PID: 1, Start: 0, Now: 10*3600 + 59}, "pid 1, uptime 10:00:59"},
		{ProcessInfo{State: procman.Fatal, Name: "x", SpawnErr: "Exited too quickly (process log may have details)"}, "Exited too quickly (process log may have details)"},
		{ProcessInfo{State: procman.Backoff, Name: "x"}, `unknown error (try "tail x")`},
		{ProcessInfo{State: procman.Fatal, Name: "y"}, `unknown error (try "tail y")`},
		{ProcessInfo{State: procman.Stopped}, "Not started"},
		{ProcessInfo{State: procman.Exited, Start: 5, Stop: stop}, "Nov 25 08:17 PM"},
		{ProcessInfo{State: procman.Stopped, Start: 5, Stop: stop - 12*3600}, "Nov 25 08:17 AM"},
		{ProcessInfo{State: procman.Starting}, ""},
		{ProcessInfo{State: procman.Stopping}, ""},
		{ProcessInfo{State: procman.Unknown}, ""},
	} {
		if got := c.in.describe(loc); got != c.want {
			t.Errorf("%+v: %q, want %q", c.in, got, c.want)
		}
	}
}

// TestAsFault: the fault comes from the error's type, never its text.
func TestAsFault(t *testing.T) {
	tests := []struct {
		err  error
		code int
		text string
	}{
		{NewFault(faults.BadName, "x"), faults.BadName, "BAD_NAME: x"},
		{NewFault(faults.BadName, ""), faults.BadName, "BAD_NAME: "},
		{NewFault(77), 77, "UNKNOWN"},
		{fmt.Errorf("ctx: %w", NewFault(faults.NoFile, "p")), faults.NoFile, "NO_FILE: p"},
		{&procman.Error{Kind: procman.ErrBadName, Subject: "g:x"}, faults.BadName, "BAD_NAME: g:x"},
		{&procman.Error{Kind: procman.ErrBadName}, faults.BadName, "BAD_NAME: "},
		{&procman.Error{Kind: procman.ErrShuttingDown}, faults.ShutdownState, "SHUTDOWN_STATE"},
		{fmt.Errorf("group: %w", &procman.Error{Kind: procman.ErrStillRunning, Subject: "g"}), faults.StillRunning, "STILL_RUNNING: g"},
		{&procman.Error{Kind: procman.ErrSpawnError, Subject: "p"}, faults.SpawnError, "SPAWN_ERROR: p"},
		{&procman.Error{Kind: procman.ErrFailed, Subject: "p: broken pipe"}, faults.Failed, "FAILED: p: broken pipe"},
		{errors.Join(errors.New("ctx"), logrot.ErrBadArguments), faults.BadArguments, "BAD_ARGUMENTS"},
		{fmt.Errorf("read: %w", logrot.ErrFailed), faults.Failed, "FAILED"},
		{errors.New("disk on fire"), faults.Failed, "FAILED: disk on fire"},
		{errors.New("BAD_NAME: g:x"), faults.Failed, "FAILED: BAD_NAME: g:x"},
		{context.Canceled, faults.Failed, "FAILED: context canceled"},
	}
	for _, tt := range tests {
		f := AsFault(tt.err)
		if f.Code != tt.code || f.String != tt.text {
			t.Errorf("%v: got %d %q, want %d %q", tt.err, f.Code, f.String, tt.code, tt.text)
		}
	}
}
