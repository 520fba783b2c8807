package rpc

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/internal/testchild"
	"github.com/gosupervisor/gosupervisor/logrot"
)

func needPython(t *testing.T) {
	t.Helper()
	for _, p := range []string{"/usr/bin/python3", "/usr/bin/supervisorctl", "/usr/lib/python3/dist-packages/supervisor/xmlrpc.py"} {
		if _, err := os.Stat(p); err != nil {
			t.Skipf("Python supervisor not installed: %v", err)
		}
	}
}

// runCmd runs a command with a timeout and returns stdout, stderr, rc.
func runCmd(t *testing.T, name string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(name, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("%s %v timed out; stdout %q stderr %q", name, args, out.String(), errb.String())
	}
	return out.String(), errb.String(), cmd.ProcessState.ExitCode()
}

const pyClient = `
import sys, json, xmlrpc.client
sys.path.insert(0, '/usr/lib/python3/dist-packages')
from supervisor.xmlrpc import SupervisorTransport
t = SupervisorTransport(None, None, 'unix://' + sys.argv[1])
s = xmlrpc.client.ServerProxy('http://127.0.0.1', transport=t)
out = {}
def rec(name, f):
    try:
        out[name] = f()
    except xmlrpc.client.Fault as e:
        out[name] = {'fault': e.faultCode, 'text': e.faultString}
    except Exception as e:
        out[name] = {'error': repr(e)}
rec('version', lambda: s.supervisor.getVersion())
rec('state', lambda: s.supervisor.getState())
rec('methods', lambda: len(s.system.listMethods()))
rec('info', lambda: s.supervisor.getProcessInfo('g:p1')['statename'])
rec('all', lambda: [i['name'] for i in s.supervisor.getAllProcessInfo()])
rec('badname', lambda: s.supervisor.getProcessInfo('nosuch'))
rec('cve', lambda: s.supervisor.supervisord.options.execve('/bin/sh', [], {}))
rec('log', lambda: s.supervisor.readProcessStdoutLog('solo', 0, 0))
rec('tail', lambda: s.supervisor.tailProcessStdoutLog('solo', 0, 100))
rec('binary_name', lambda: s.supervisor.getProcessInfo(xmlrpc.client.Binary(b'solo'))['name'])
rec('multicall', lambda: s.system.multicall([{'methodName': 'supervisor.getPID'}, {'methodName': 'x'}]))
rec('stop_group', lambda: s.supervisor.stopProcess('g:*'))
rec('start_wait', lambda: s.supervisor.startProcess('g:p2', True))
rec('stdin', lambda: s.supervisor.sendProcessStdin('g:p2', 'h\u00e9'))
rec('config', lambda: sorted(s.supervisor.getAllConfigInfo()[0].keys()))
json.dump(out, sys.stdout)
`

func TestPythonXMLRPCClient(t *testing.T) {
	needPython(t)
	b := dispatchBackend(t)
	solo := b.groups["solo"][0]
	os.WriteFile(solo.stdout, []byte("color \x1b[31mred\x1b[0m\r\nbad \xff byte\n"), 0o600)
	sock, _ := startServer(t, b, nil, Options{})
	stdout, stderr, rc := runCmd(t, "/usr/bin/python3", "-c", pyClient, sock)
	if rc != 0 {
		t.Fatalf("python rc %d: %s", rc, stderr)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("%v: %s", err, stdout)
	}
	want := map[string]any{
		"version":     "3.0",
		"state":       map[string]any{"statecode": 1.0, "statename": "RUNNING"},
		"methods":     41.0,
		"info":        "RUNNING",
		"all":         []any{"p1", "p2", "solo"},
		"badname":     map[string]any{"fault": 10.0, "text": "BAD_NAME: nosuch"},
		"cve":         map[string]any{"fault": 1.0, "text": "UNKNOWN_METHOD"},
		"log":         "color \uFFFD[31mred\uFFFD[0m\r\nbad \uFFFD byte\n",
		"tail":        []any{"color \uFFFD[31mred\uFFFD[0m\r\nbad \uFFFD byte\n", 31.0, false},
		"binary_name": "solo",
		"multicall":   []any{4242.0, map[string]any{"faultCode": 1.0, "faultString": "UNKNOWN_METHOD"}},
		"stop_group":  []any{map[string]any{"name": "p1", "group": "g", "status": 80.0, "description": "OK"}},
		"start_wait":  true,
		"stdin":       true,
	}
	for k, w := range want {
		gj, _ := json.Marshal(got[k])
		wj, _ := json.Marshal(w)
		if string(gj) != string(wj) {
			t.Errorf("%s: got %s, want %s", k, gj, wj)
		}
	}
	if cfg, ok := got["config"].([]any); !ok || len(cfg) != 29 {
		t.Errorf("config keys: %v", got["config"])
	}
	if string(b.groups["g"][1].stdin) != "h\u00e9" {
		t.Errorf("stdin got %q", b.groups["g"][1].stdin)
	}
}

func TestPythonSupervisorctl(t *testing.T) {
	needPython(t)
	b := dispatchBackend(t)
	solo := b.groups["solo"][0]
	os.WriteFile(solo.stdout, []byte("hello from solo\n"), 0o600)
	os.WriteFile(solo.stderr, []byte("err line\n"), 0o600)
	sock, _ := startServer(t, b, nil, Options{Follower: logrot.Files{Poll: 20 * time.Millisecond}})
	conf := filepath.Join(t.TempDir(), "ctl.conf")
	os.WriteFile(conf, []byte("[supervisorctl]\nserverurl=unix://"+sock+"\n"), 0o600)
	ctl := func(args ...string) (string, string, int) {
		return runCmd(t, "/usr/bin/supervisorctl", append([]string{"-c", conf}, args...)...)
	}
	out, _, rc := ctl("version")
	if strings.TrimSpace(out) != "4.2.5" || rc != 0 {
		t.Errorf("version: %q rc %d", out, rc)
	}
	out, _, rc = ctl("status")
	if rc != 3 || !strings.Contains(out, "g:p1") || !strings.Contains(out, "RUNNING   pid 11, uptime") || !strings.Contains(out, "STOPPED   Not started") {
		t.Errorf("status rc %d:\n%s", rc, out)
	}
	out, _, rc = ctl("start", "g:p2")
	if rc != 0 || strings.TrimSpace(out) != "g:p2: started" {
		t.Errorf("start: %q rc %d", out, rc)
	}
	out, _, rc = ctl("start", "g:p2")
	if !strings.Contains(out, "g:p2: ERROR (already started)") {
		t.Errorf("start again: %q rc %d", out, rc)
	}
	out, _, rc = ctl("stop", "g:*")
	if rc != 0 || !strings.Contains(out, "g:p1: stopped") || !strings.Contains(out, "g:p2: stopped") {
		t.Errorf("stop group: %q rc %d", out, rc)
	}
	out, _, _ = ctl("stop", "nosuch")
	if !strings.Contains(out, "nosuch: ERROR (no such process)") {
		t.Errorf("stop nosuch: %q", out)
	}
	out, _, rc = ctl("tail", "solo")
	if rc != 0 || out != "hello from solo\n\n" {
		t.Errorf("tail: %q rc %d", out, rc)
	}
	out, _, rc = ctl("tail", "solo", "stderr")
	if rc != 0 || out != "err line\n\n" {
		t.Errorf("tail stderr: %q rc %d", out, rc)
	}
	out, _, rc = ctl("maintail")
	if rc != 0 || out != "err line\n\n" {
		t.Errorf("maintail: %q rc %d", out, rc)
	}
	// (supervisorctl prints a log read plus a newline.)
	// tail -f reads the /logtail stream; stop it once it printed the log
	cmd := exec.Command("/usr/bin/supervisorctl", "-c", conf, "tail", "-f", "solo")
	var buf testchild.Buffer
	cmd.Stdout = &buf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(buf.String(), "hello from solo") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	f, _ := os.OpenFile(solo.stdout, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("second line\n")
	f.Close()
	for !strings.Contains(buf.String(), "second line") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	cmd.Process.Kill()
	cmd.Wait()
	if got := buf.String(); !strings.Contains(got, "hello from solo\n") || !strings.Contains(got, "second line\n") {
		t.Errorf("tail -f printed %q", got)
	}
}

// TestPythonOverInetWithAuth uses plain xmlrpc.client (credentials in the
// URL) and supervisorctl (username/password) over TCP with a {SHA} password.
func TestPythonOverInetWithAuth(t *testing.T) {
	needPython(t)
	b := dispatchBackend(t)
	l, err := Listen(ListenConfig{Section: "inet_http_server", Family: "inet", Host: "127.0.0.1", Port: 0,
		Username: "user", Password: "{SHA}a94a8fe5ccb19ba61c4c0873d391e987982fbbd3"})
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(b, Options{})
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	defer func() {
		srv.Shutdown(t.Context())
		<-done
	}()
	addr := l.Addr().String()
	script := `
import sys, xmlrpc.client
good = xmlrpc.client.ServerProxy('http://user:test@' + sys.argv[1] + '/RPC2')
print(good.supervisor.getIdentification())
bad = xmlrpc.client.ServerProxy('http://user:nope@' + sys.argv[1] + '/RPC2')
try:
    bad.supervisor.getIdentification()
except xmlrpc.client.ProtocolError as e:
    print(e.errcode, e.errmsg)
`
	out, stderr, rc := runCmd(t, "/usr/bin/python3", "-c", script, addr)
	if rc != 0 || out != "supervisor\n401 Unauthorized\n" {
		t.Errorf("python: %q %q rc %d", out, stderr, rc)
	}
	conf := filepath.Join(t.TempDir(), "ctl.conf")
	os.WriteFile(conf, []byte("[supervisorctl]\nserverurl=http://"+addr+"\nusername=user\npassword=test\n"), 0o600)
	out, _, rc = runCmd(t, "/usr/bin/supervisorctl", "-c", conf, "pid")
	if rc != 0 || strings.TrimSpace(out) != "4242" {
		t.Errorf("supervisorctl pid: %q rc %d", out, rc)
	}
	os.WriteFile(conf, []byte("[supervisorctl]\nserverurl=http://"+addr+"\nusername=user\npassword=wrong\n"), 0o600)
	out, _, _ = runCmd(t, "/usr/bin/supervisorctl", "-c", conf, "pid")
	if !strings.Contains(out, "Server requires authentication") {
		t.Errorf("supervisorctl with a wrong password: %q", out)
	}
}
