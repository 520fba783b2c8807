package rpc

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gosupervisor/gosupervisor/internal/faults"
)

// fakeExt answers the gosupervisor namespace from a fakeBackend's table,
// with per-process health set by the test.
type fakeExt struct {
	b       *fakeBackend
	health  map[string]ProcessHealth // by "group:name"
	rotated []string                 // RotateLogs names
}

// Upgrade refuses as a daemon whose binary is gone does.
func (x *fakeExt) Upgrade(context.Context) error {
	return NewFault(faults.Failed, "upgrade: /nonexistent: no such file or directory")
}

func (x *fakeExt) Version() string { return "gosupervisor 9.9.9 (supervisord 4.2.5 compatible)" }

func (x *fakeExt) RotateLogs(name string) error {
	x.b.mu.Lock()
	defer x.b.mu.Unlock()
	switch name {
	case "main", "all", "g:*", "solo:*":
	case "syslogmain":
		return NewFault(faults.NoFile, "syslog")
	default:
		if _, p, err := x.b.lookup(name); err != nil || p == nil {
			return NewFault(faults.BadName, name)
		}
	}
	x.rotated = append(x.rotated, name)
	return nil
}

func (x *fakeExt) ProcessHealth(ns string) (ProcessHealth, error) {
	x.b.mu.Lock()
	defer x.b.mu.Unlock()
	g, p, err := x.b.lookup(ns)
	if err != nil {
		return ProcessHealth{}, err
	}
	if p == nil {
		return ProcessHealth{}, NewFault(faults.BadName, ns)
	}
	return x.of(g, p.info.Name), nil
}

func (x *fakeExt) of(group, name string) ProcessHealth {
	h, ok := x.health[group+":"+name]
	if !ok {
		h = ProcessHealth{Name: name, Group: group}
	}
	return h
}

func (x *fakeExt) AllProcessHealth() []ProcessHealth {
	x.b.mu.Lock()
	defer x.b.mu.Unlock()
	var out []ProcessHealth
	for g, ps := range x.b.groups {
		for _, p := range ps {
			out = append(out, x.of(g, p.info.Name))
		}
	}
	return out
}

func healthDispatcher(t *testing.T) (*fakeBackend, *Dispatcher) {
	b, _, d := extDispatcher(t)
	return b, d
}

func extDispatcher(t *testing.T) (*fakeBackend, *fakeExt, *Dispatcher) {
	b := dispatchBackend(t)
	x := &fakeExt{b: b, health: map[string]ProcessHealth{
		"g:p1": {Name: "p1", Group: "g", Ready: true, Healthy: true, LastCheck: 1700000000,
			Restarts: 3, DependsOn: []string{"solo", "db:*"}, RSS: 5 << 30, CPUSeconds: 1.25},
		"solo:solo": {Name: "solo", Group: "solo", LastError: "tcp 127.0.0.1:1: connection refused"},
	}}
	d := NewDispatcher(b, nil)
	d.enableExtensions(x)
	return b, x, d
}

func TestGosupervisorNamespaceOffByDefault(t *testing.T) {
	d := NewDispatcher(dispatchBackend(t), nil)
	if n := len(d.Methods()); n != 41 {
		t.Fatalf("listMethods without [rpcinterface:gosupervisor]: %d methods, want Python's 41", n)
	}
	for _, call := range []struct {
		method string
		params []any
		fault  string
	}{
		{"gosupervisor.getProcessHealth", []any{"g:p1"}, "UNKNOWN_METHOD"},
		{"gosupervisor.getAllProcessHealth", nil, "UNKNOWN_METHOD"},
		{"gosupervisor.rotateLogs", []any{"all"}, "UNKNOWN_METHOD"},
		{"gosupervisor.upgrade", nil, "UNKNOWN_METHOD"},
		{"system.methodHelp", []any{"gosupervisor.getProcessHealth"}, "SIGNATURE_UNSUPPORTED"},
		{"system.methodSignature", []any{"gosupervisor.getAllProcessHealth"}, "SIGNATURE_UNSUPPORTED"},
	} {
		_, err := d.Call(t.Context(), call.method, call.params)
		if _, s := faultOf(err); s != call.fault {
			t.Errorf("%s: %s, want %s", call.method, s, call.fault)
		}
	}
}

func TestGosupervisorNamespace(t *testing.T) {
	_, d := healthDispatcher(t)
	p1 := Struct{{"name", "p1"}, {"group", "g"}, {"ready", true}, {"healthy", true},
		{"last_check", int64(1700000000)}, {"last_error", ""}, {"restarts", 3},
		{"depends_on", []string{"solo", "db:*"}}, {"rss", int64(5 << 30)}, {"cpu_seconds", 1.25}}
	p2 := Struct{{"name", "p2"}, {"group", "g"}, {"ready", false}, {"healthy", false},
		{"last_check", int64(0)}, {"last_error", ""}, {"restarts", 0},
		{"depends_on", []string{}}, {"rss", int64(0)}, {"cpu_seconds", 0.0}}
	solo := Struct{{"name", "solo"}, {"group", "solo"}, {"ready", false}, {"healthy", false},
		{"last_check", int64(0)}, {"last_error", "tcp 127.0.0.1:1: connection refused"}, {"restarts", 0},
		{"depends_on", []string{}}, {"rss", int64(0)}, {"cpu_seconds", 0.0}}
	tests := []struct {
		name   string
		method string
		params []any
		want   any
		fault  string
	}{
		{"one", "gosupervisor.getProcessHealth", []any{"g:p1"}, p1, ""},
		{"singleton", "gosupervisor.getProcessHealth", []any{"solo"}, solo, ""},
		{"all sorted", "gosupervisor.getAllProcessHealth", nil, []Struct{p1, p2, solo}, ""},
		{"unknown", "gosupervisor.getProcessHealth", []any{"nope"}, nil, "BAD_NAME: nope"},
		{"group spec", "gosupervisor.getProcessHealth", []any{"g:*"}, nil, "BAD_NAME: g:*"},
		{"not a string", "gosupervisor.getProcessHealth", []any{int64(3)}, nil, "AttributeError: 'int' object has no attribute 'split'"},
		{"no args", "gosupervisor.getProcessHealth", nil, nil, "INCORRECT_PARAMETERS"},
		{"version", "gosupervisor.getVersion", nil, "gosupervisor 9.9.9 (supervisord 4.2.5 compatible)", ""},
		{"upgrade refused", "gosupervisor.upgrade", nil, nil, "FAILED: upgrade: /nonexistent: no such file or directory"},
		{"upgrade takes no args", "gosupervisor.upgrade", []any{"x"}, nil, "INCORRECT_PARAMETERS"},
		{"extra arg", "gosupervisor.getAllProcessHealth", []any{"x"}, nil, "INCORRECT_PARAMETERS"},
		{"no reflection", "gosupervisor.enableExtensions", nil, nil, "UNKNOWN_METHOD"},
		{"help", "system.methodSignature", []any{"gosupervisor.getProcessHealth"}, []string{"struct", "string"}, ""},
		{"help all", "system.methodSignature", []any{"gosupervisor.getAllProcessHealth"}, []string{"array"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := d.Call(t.Context(), tt.method, tt.params)
			if tt.fault != "" {
				_, s := faultOf(err)
				if s != tt.fault {
					t.Fatalf("fault %q, want %q", s, tt.fault)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}

	names := d.Methods()
	if len(names) != 46 || !slices.IsSorted(names) {
		t.Errorf("listMethods: %d names (sorted %v), want 46 sorted", len(names), slices.IsSorted(names))
	}
	for _, n := range []string{"gosupervisor.getProcessHealth", "gosupervisor.getAllProcessHealth", "gosupervisor.rotateLogs", "gosupervisor.upgrade", "gosupervisor.getVersion"} {
		if !slices.Contains(names, n) {
			t.Errorf("listMethods lacks %s", n)
		}
		h, err := d.Call(t.Context(), "system.methodHelp", []any{n})
		if err != nil || !strings.Contains(h.(string), "@return") {
			t.Errorf("%s help: %v %v", n, h, err)
		}
	}
}

func TestGosupervisorShutdownAndMulticall(t *testing.T) {
	b, d := healthDispatcher(t)
	got, err := d.Call(t.Context(), "system.multicall", []any{[]any{
		map[string]any{"methodName": "gosupervisor.getProcessHealth", "params": []any{"nope"}},
		map[string]any{"methodName": "gosupervisor.getAllProcessHealth"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	rs := got.([]any)
	if f, ok := rs[0].(Struct); !ok || f[1].Value != "BAD_NAME: nope" {
		t.Errorf("multicall fault: %#v", rs[0])
	}
	if all, ok := rs[1].([]Struct); !ok || len(all) != 3 {
		t.Errorf("multicall result: %#v", rs[1])
	}
	b.Shutdown()
	for n, params := range map[string][]any{
		"gosupervisor.getProcessHealth":    {"g:p1"},
		"gosupervisor.getAllProcessHealth": nil,
	} {
		if _, err := d.Call(t.Context(), n, params); err == nil {
			t.Errorf("%s during shutdown succeeded", n)
		} else if c, _ := faultOf(err); c != faults.ShutdownState {
			t.Errorf("%s during shutdown: %v, want SHUTDOWN_STATE", n, err)
		}
	}
}

// TestGosupervisorWire checks the XML types: booleans, an int beyond 32
// bits, a double and an empty array, through a served socket.
func TestGosupervisorWire(t *testing.T) {
	b, _ := healthDispatcher(t)
	x := &fakeExt{b: b, health: map[string]ProcessHealth{
		"g:p1": {Name: "p1", Group: "g", Ready: true, LastCheck: 1 << 40},
	}}
	sock, _ := startServer(t, b, nil, Options{Extensions: x})
	got := string(exchange(t, sock, rpcRequest("<?xml version='1.0'?>\n<methodCall>\n<methodName>gosupervisor.getProcessHealth</methodName>\n<params>\n<param>\n<value><string>g:p1</string></value>\n</param>\n</params>\n</methodCall>\n"), 1))
	want := "<value><struct>\n" +
		"<member>\n<name>name</name>\n<value><string>p1</string></value>\n</member>\n" +
		"<member>\n<name>group</name>\n<value><string>g</string></value>\n</member>\n" +
		"<member>\n<name>ready</name>\n<value><boolean>1</boolean></value>\n</member>\n" +
		"<member>\n<name>healthy</name>\n<value><boolean>0</boolean></value>\n</member>\n" +
		"<member>\n<name>last_check</name>\n<value><int>1099511627776</int></value>\n</member>\n" +
		"<member>\n<name>last_error</name>\n<value><string></string></value>\n</member>\n" +
		"<member>\n<name>restarts</name>\n<value><int>0</int></value>\n</member>\n" +
		"<member>\n<name>depends_on</name>\n<value><array><data>\n</data></array></value>\n</member>\n" +
		"<member>\n<name>rss</name>\n<value><int>0</int></value>\n</member>\n" +
		"<member>\n<name>cpu_seconds</name>\n<value><double>0.0</double></value>\n</member>\n" +
		"</struct></value>\n"
	if !strings.Contains(got, want) {
		t.Errorf("response:\n%s\nwant body:\n%s", got, want)
	}
}

// TestGosupervisorRotateLogs: rotateLogs passes the name through and
// answers true, or the fault the daemon chose.
func TestGosupervisorRotateLogs(t *testing.T) {
	_, x, d := extDispatcher(t)
	for _, tc := range []struct {
		params []any
		fault  string
	}{
		{[]any{"main"}, ""},
		{[]any{"all"}, ""},
		{[]any{"g:*"}, ""},
		{[]any{"g:p1"}, ""},
		{[]any{"solo"}, ""},
		{[]any{"nope"}, "BAD_NAME: nope"},
		{[]any{"syslogmain"}, "NO_FILE: syslog"},
		{[]any{int64(1)}, "AttributeError: 'int' object has no attribute 'split'"},
		{nil, "INCORRECT_PARAMETERS"},
		{[]any{"a", "b"}, "INCORRECT_PARAMETERS"},
	} {
		got, err := d.Call(t.Context(), "gosupervisor.rotateLogs", tc.params)
		if tc.fault != "" {
			if _, s := faultOf(err); s != tc.fault {
				t.Errorf("rotateLogs%v: fault %q, want %q", tc.params, s, tc.fault)
			}
			continue
		}
		if err != nil || got != true {
			t.Errorf("rotateLogs%v = %v, %v; want true", tc.params, got, err)
		}
	}
	if want := []string{"main", "all", "g:*", "g:p1", "solo"}; !slices.Equal(x.rotated, want) {
		t.Errorf("rotated %v, want %v", x.rotated, want)
	}
	sig, err := d.Call(t.Context(), "system.methodSignature", []any{"gosupervisor.rotateLogs"})
	if err != nil || !slices.Equal(sig.([]string), []string{"boolean", "string"}) {
		t.Errorf("signature %v, %v", sig, err)
	}
}
