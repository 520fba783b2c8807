package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/internal/testcert"
)

const gosupSection = `
[rpcinterface:gosupervisor]
supervisor.rpcinterface_factory = gosupervisor.rpcinterface:make_main_rpcinterface
`

// tlsDaemon is our daemon with the gosupervisor namespace and an https
// inet server that wants a client certificate; it returns the daemon and
// the files of a client that may talk to it.
func tlsDaemon(t *testing.T) (*testDaemon, tlsFiles) {
	t.Helper()
	ca, err := testcert.NewCA("ctl test CA")
	if err != nil {
		t.Fatal(err)
	}
	d := newDaemon(t, "go")
	caFile, err := ca.Write(d.dir, "ca")
	if err != nil {
		t.Fatal(err)
	}
	issue := func(name string, client bool) (string, string) {
		leaf, err := ca.Issue(testcert.LeafOptions{Name: name, Client: client})
		if err != nil {
			t.Fatal(err)
		}
		c, k, err := leaf.Write(d.dir, name)
		if err != nil {
			t.Fatal(err)
		}
		return c, k
	}
	srvCert, srvKey := issue("server", false)
	cliCert, cliKey := issue("client", true)
	text, err := os.ReadFile(d.conf)
	if err != nil {
		t.Fatal(err)
	}
	conf := strings.Replace(string(text), "[inet_http_server]\n", fmt.Sprintf("[inet_http_server]\ntls_cert=%s\ntls_key=%s\ntls_client_ca=%s\n", srvCert, srvKey, caFile), 1)
	if err := os.WriteFile(d.conf, []byte(conf+gosupSection), 0o644); err != nil {
		t.Fatal(err)
	}
	d.start()
	return d, tlsFiles{ca: caFile, cert: cliCert, key: cliKey}
}

// TestHTTPS talks to our daemon over https: verified with tls_ca from the
// flags or from [supervisorctl], with a client certificate; refused
// without the CA (the server is verified by default) or without the
// client certificate; tail -f streams over TLS too.
func TestHTTPS(t *testing.T) {
	needBinaries(t)
	d, files := tlsDaemon(t)
	url := fmt.Sprintf("https://localhost:%d", d.port)
	auth := []string{"-s", url, "-u", "user", "-p", "pw"}
	flags := append(append([]string{}, auth...), "--tls_ca", files.ca, "--tls_cert", files.cert, "--tls_key", files.key)
	run := func(args ...string) ctlResult {
		return runCtl(t, ourCtl, ctlRun{args: args, dir: d.dir, interrupt: 0})
	}
	r := run(append(flags, "status", "sleeper")...)
	if r.Exit != 0 || !regexp.MustCompile(`^sleeper +RUNNING +pid \d+`).MatchString(r.Stdout) {
		t.Errorf("status over https with flags: exit %d\n%s%s", r.Exit, r.Stdout, r.Stderr)
	}
	ctlConf := filepath.Join(d.dir, "https.conf")
	text := fmt.Sprintf("[supervisorctl]\nserverurl=%s\nusername=user\npassword=pw\ntls_ca=%s\ntls_cert=%s\ntls_key=%s\n", url, files.ca, files.cert, files.key)
	if err := os.WriteFile(ctlConf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	r = run("-c", ctlConf, "pid", "sleeper")
	if r.Exit != 0 || !regexp.MustCompile(`^\d+\n$`).MatchString(r.Stdout) {
		t.Errorf("pid over https from [supervisorctl]: exit %d\n%s%s", r.Exit, r.Stdout, r.Stderr)
	}
	r = run(append(append([]string{}, auth...), "--tls_cert", files.cert, "--tls_key", files.key, "status")...)
	if r.Exit == 0 || !strings.HasPrefix(r.Stdout, "error: <class 'ssl.SSLCertVerificationError'>") || !strings.Contains(r.Stdout, "certificate signed by unknown authority") {
		t.Errorf("without tls_ca the server must not be trusted: exit %d\n%s%s", r.Exit, r.Stdout, r.Stderr)
	}
	r = run(append(append([]string{}, auth...), "--tls_ca", files.ca, "status")...)
	if r.Exit == 0 || !strings.Contains(r.Stdout, "error: ") {
		t.Errorf("without a client certificate the server must refuse: exit %d\n%s%s", r.Exit, r.Stdout, r.Stderr)
	}
	r = runCtl(t, ourCtl, ctlRun{args: append(flags, "tail", "-f", "talker"), dir: d.dir, interrupt: 2 * time.Second})
	if !strings.Contains(r.Stdout, "out-line") || r.Stderr != "" {
		t.Errorf("tail -f over https: exit %d\n%s%s", r.Exit, r.Stdout, r.Stderr)
	}
	d.stop()
	assertNoChildren(t)
}

// TestGosupervisorCommands checks status --json, health (table and JSON)
// and rotate against our daemon with the namespace, and what they say to
// Python's daemon, which has none.
func TestGosupervisorCommands(t *testing.T) {
	needBinaries(t)
	d := newDaemon(t, "go")
	text, err := os.ReadFile(d.conf)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(d.conf, append(text, gosupSection...), 0o644); err != nil {
		t.Fatal(err)
	}
	d.start()
	run := func(args ...string) ctlResult {
		return runCtl(t, ourCtl, ctlRun{args: append([]string{"-c", d.conf}, args...), dir: d.dir})
	}

	r := run("status", "--json", "sleeper", "grp:*", "nosuch")
	var infos []processInfo
	if err := json.Unmarshal([]byte(r.Stdout), &infos); err != nil {
		t.Fatalf("status --json: %v\n%s", err, r.Stdout)
	}
	if len(infos) != 3 || infos[0].Name != "sleeper" || infos[0].StateName != "RUNNING" || infos[0].PID == 0 ||
		infos[1].Group != "grp" || infos[2].Name != "grp_1" {
		t.Errorf("status --json: %+v", infos)
	}
	if r.Exit != statusExitUnknown || r.Stderr != "nosuch: ERROR (no such process)\n" {
		t.Errorf("status --json with an unknown name: exit %d, stderr %q", r.Exit, r.Stderr)
	}
	r = run("status", "--json", "manual")
	if err := json.Unmarshal([]byte(r.Stdout), &infos); err != nil || len(infos) != 1 || r.Exit != statusExitNotRunning {
		t.Errorf("status --json manual: exit %d %v\n%s", r.Exit, err, r.Stdout)
	}

	r = run("health", "sleeper", "fails")
	lines := strings.Split(strings.TrimSuffix(r.Stdout, "\n"), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "NAME ") ||
		!regexp.MustCompile(`^sleeper +yes +yes +0 +[0-9.]+[KM] +[0-9.]+s +-$`).MatchString(lines[1]) ||
		!regexp.MustCompile(`^fails +no +no +1 +- +[0-9.]+s +-$`).MatchString(lines[2]) {
		t.Errorf("health table:\n%s", r.Stdout)
	}
	if r.Exit != statusExitNotRunning {
		t.Errorf("health with an unhealthy process: exit %d", r.Exit)
	}
	r = run("health", "--json", "sleeper")
	var hs []processHealth
	if err := json.Unmarshal([]byte(r.Stdout), &hs); err != nil || len(hs) != 1 || !hs[0].Healthy || hs[0].RSS == 0 || r.Exit != 0 {
		t.Errorf("health --json sleeper: exit %d %v\n%s", r.Exit, err, r.Stdout)
	}

	// rotate: "rotated" and a new file where the daemon has the method
	r = run("rotate", "talker", "nosuch")
	methods, err := d.call("system.listMethods")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(fmt.Sprint(methods), "gosupervisor.rotateLogs") {
		if r.Stdout != "talker: rotated\nnosuch: ERROR (no such process)\n" || r.Exit != exitGeneric {
			t.Errorf("rotate: exit %d\n%s", r.Exit, r.Stdout)
		}
	} else if r.Stdout != noMethod("gosupervisor.rotateLogs")+"\n" || r.Exit != exitGeneric {
		t.Errorf("rotate without the method: exit %d\n%s", r.Exit, r.Stdout)
	}
	d.stop()

	if _, err := os.Stat(pyDaemon); err == nil {
		py := newDaemon(t, "python")
		py.start()
		r := runCtl(t, ourCtl, ctlRun{args: []string{"-c", py.conf, "health"}, dir: py.dir})
		if r.Stdout != noMethod("gosupervisor.getAllProcessHealth")+"\n" || r.Exit != statusExitUnknown {
			t.Errorf("health against Python: exit %d\n%s", r.Exit, r.Stdout)
		}
		py.stop()
	}
	assertNoChildren(t)
}
