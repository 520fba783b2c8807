package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kolo/xmlrpc"

	"github.com/gosupervisor/gosupervisor/internal/testcert"
	"github.com/gosupervisor/gosupervisor/internal/testchild"
)

const prometheusBin = "/usr/bin/prometheus"

func httpGet(t *testing.T, c *http.Client, u, user, pass string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestMetricsScrapedByPrometheus runs Debian's Prometheus against the
// daemon's /metrics with basic auth and asks Prometheus's own API for
// node_supervisord_up of each program.
func TestMetricsScrapedByPrometheus(t *testing.T) {
	if _, err := os.Stat(prometheusBin); err != nil {
		t.Skip("Debian's prometheus package is not installed (" + prometheusBin + ")")
	}
	port := freePort(t)
	e := newEnv(t, fmt.Sprintf(`
[inet_http_server]
port = 127.0.0.1:%d
username = scraper
password = s3cret
metrics = true
healthz = true
`, port), map[string]string{
		"web":    "[program:web]\ncommand=/bin/sleep 600\nnumprocs=2\nprocess_name=%(program_name)s_%(process_num)d\n",
		"worker": "[program:worker]\ncommand=/bin/sh -c 'echo hello; exec /bin/sleep 600'\n",
		"idle":   "[program:idle]\ncommand=/bin/sleep 600\nautostart=false\n",
	})
	d := e.startForeground()
	e.waitStates(map[string]string{"web:web_0": "RUNNING", "web:web_1": "RUNNING", "worker:worker": "RUNNING"})
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	c := &http.Client{Timeout: 30 * time.Second}

	if code, _ := httpGet(t, c, base+"/metrics", "", ""); code != 401 {
		t.Fatalf("GET /metrics without credentials: %d, want 401", code)
	}
	if code, _ := httpGet(t, c, base+"/metrics", "scraper", "wrong"); code != 401 {
		t.Fatalf("GET /metrics with a wrong password: %d, want 401", code)
	}
	if code, body := httpGet(t, c, base+"/healthz", "", ""); code != 200 || body != "ok" {
		t.Fatalf("GET /healthz: %d %q, want 200 ok", code, body)
	}
	code, body := httpGet(t, c, base+"/metrics", "scraper", "s3cret")
	if code != 200 {
		t.Fatalf("GET /metrics: %d", code)
	}
	for _, want := range []string{
		`node_supervisord_up{group="web",name="web_0"} 1`,
		`node_supervisord_up{group="idle",name="idle"} 0`,
		`supervisord_process_log_bytes_total{channel="stdout",group="worker",name="worker"}`,
		`supervisord_rpc_requests_total{fault="none",method="supervisor.getAllProcessInfo"}`,
		`supervisord_events_total{type="PROCESS_STATE_RUNNING"}`,
		`supervisord_process_resident_memory_bytes{group="web",name="web_1"}`,
	} {
		if !strings.Contains(body, "\n"+want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}

	dir := t.TempDir()
	promPort := freePort(t)
	promConf := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(promConf, []byte(fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: supervisord
    basic_auth:
      username: scraper
      password: s3cret
    static_configs:
      - targets: ['127.0.0.1:%d']
`, port)), 0o644); err != nil {
		t.Fatal(err)
	}
	prom := exec.Command(prometheusBin, "--config.file="+promConf, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		fmt.Sprintf("--web.listen-address=127.0.0.1:%d", promPort))
	var promOut testchild.Buffer
	prom.Stdout, prom.Stderr = &promOut, &promOut
	if err := prom.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		prom.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { prom.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			prom.Process.Kill()
			<-done
		}
	}()

	query := fmt.Sprintf("http://127.0.0.1:%d/api/v1/query?query=%s", promPort, url.QueryEscape("node_supervisord_up"))
	var got map[string]string
	waitFor(t, 90*time.Second, "Prometheus to scrape node_supervisord_up", func() bool {
		resp, err := c.Get(query)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var r struct {
			Status string
			Data   struct {
				Result []struct {
					Metric map[string]string
					Value  [2]any
				}
			}
		}
		if json.NewDecoder(resp.Body).Decode(&r) != nil || r.Status != "success" {
			return false
		}
		got = map[string]string{}
		for _, s := range r.Data.Result {
			v, _ := s.Value[1].(string)
			got[s.Metric["group"]+":"+s.Metric["name"]] = v
		}
		return len(got) == 4
	})
	want := map[string]string{"web:web_0": "1", "web:web_1": "1", "worker:worker": "1", "idle:idle": "0"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("Prometheus: node_supervisord_up{%s} = %q, want %q (all: %v)", k, got[k], v, got)
		}
	}
	if t.Failed() {
		t.Logf("prometheus output:\n%s", promOut.String())
	}
	d.signal(syscall.SIGTERM)
	d.wait(30 * time.Second)
}

func TestHealthzHandler(t *testing.T) {
	d := &daemon{ping: make(chan chan struct{})}
	serve := func(method string) (int, string) {
		rec := httptest.NewRecorder()
		d.healthz(rec, httptest.NewRequest(method, "/healthz", nil))
		return rec.Code, rec.Body.String()
	}
	// Nothing answers: the loop is stuck.
	if code, body := serve("GET"); code != 503 || body != "unavailable" {
		t.Fatalf("stuck loop: %d %q, want 503", code, body)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { // the main loop
		for {
			select {
			case r := <-d.ping:
				close(r)
			case <-ctx.Done():
				return
			}
		}
	}()
	tests := []struct {
		method   string
		wantCode int
		wantBody string
	}{
		{"GET", 200, "ok"},
		{"HEAD", 200, "ok"},
		{"POST", 405, ""},
	}
	for _, tc := range tests {
		if code, body := serve(tc.method); code != tc.wantCode || body != tc.wantBody {
			t.Errorf("%s /healthz = %d %q, want %d %q", tc.method, code, body, tc.wantCode, tc.wantBody)
		}
	}
}

// tlsFiles writes a CA, a server certificate and key, and returns the
// CA and the paths.
func tlsFiles(t *testing.T, dir, prefix string) (ca *testcert.CA, caFile, cert, key string) {
	t.Helper()
	ca, err := testcert.NewCA(prefix + " CA")
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := ca.Issue(testcert.LeafOptions{Name: "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	if cert, key, err = leaf.Write(dir, prefix+"-server"); err != nil {
		t.Fatal(err)
	}
	if caFile, err = ca.Write(dir, prefix+"-ca"); err != nil {
		t.Fatal(err)
	}
	return ca, caFile, cert, key
}

// pyGetState calls supervisor.getState with Python's xmlrpc.client over
// https, trusting caFile (and presenting a client certificate when set).
// It returns the state name or the error Python raised.
func pyGetState(t *testing.T, port int, caFile, clientCert, clientKey string) string {
	t.Helper()
	script := `
import ssl, sys, xmlrpc.client
ctx = ssl.create_default_context(cafile=sys.argv[2])
if sys.argv[3]:
    ctx.load_cert_chain(sys.argv[3], sys.argv[4])
try:
    p = xmlrpc.client.ServerProxy("https://localhost:%s/RPC2" % sys.argv[1], context=ctx)
    print(p.supervisor.getState()["statename"])
except Exception as e:
    print("ERROR", type(e).__name__, e)
`
	out, err := exec.Command("/usr/bin/python3", "-c", script, fmt.Sprint(port), caFile, clientCert, clientKey).CombinedOutput()
	if err != nil {
		t.Fatalf("python3: %v: %s", err, out)
	}
	return strings.TrimSpace(string(out))
}

// goGetState does the same with the Go XML-RPC client.
func goGetState(port int, pool *tls.Config) (string, error) {
	tr := &http.Transport{TLSClientConfig: pool}
	defer tr.CloseIdleConnections()
	c, err := xmlrpc.NewClient(fmt.Sprintf("https://localhost:%d/RPC2", port), tr)
	if err != nil {
		return "", err
	}
	defer c.Close()
	var st struct {
		Name string `xmlrpc:"statename"`
	}
	err = c.Call("supervisor.getState", nil, &st)
	return st.Name, err
}

func TestTLSInetServer(t *testing.T) {
	if _, err := os.Stat("/usr/bin/python3"); err != nil {
		t.Skip("no /usr/bin/python3")
	}
	port := freePort(t)
	e := newEnv(t, "", nil)
	ca, caFile, cert, key := tlsFiles(t, e.dir, "first")
	other, otherFile, _, _ := tlsFiles(t, e.dir, "other")
	clientCA, clientCAFile, _, _ := tlsFiles(t, e.dir, "client")
	clientLeaf, err := clientCA.Issue(testcert.LeafOptions{Name: "ctl", Client: true})
	if err != nil {
		t.Fatal(err)
	}
	clientCert, clientKey, err := clientLeaf.Write(e.dir, "ctl")
	if err != nil {
		t.Fatal(err)
	}
	conf := func(clientCA string) {
		extra := fmt.Sprintf("\n[inet_http_server]\nport = 127.0.0.1:%d\ntls_cert = %s\ntls_key = %s\n", port, cert, key)
		if clientCA != "" {
			extra += "tls_client_ca = " + clientCA + "\n"
		}
		e.write("supervisord.conf", strings.Replace(baseConf, "{SUPERVISORD}", extra, 1))
	}
	conf("")
	d := e.startForeground()

	if got := pyGetState(t, port, caFile, "", ""); got != "RUNNING" {
		t.Fatalf("Python over https: %q", got)
	}
	if got := pyGetState(t, port, otherFile, "", ""); !strings.Contains(got, "CERTIFICATE_VERIFY_FAILED") {
		t.Fatalf("Python trusting another CA: %q, want a verification failure", got)
	}
	if got, err := goGetState(port, &tls.Config{RootCAs: ca.Pool()}); err != nil || got != "RUNNING" {
		t.Fatalf("Go client over https: %q, %v", got, err)
	}
	if _, err := goGetState(port, &tls.Config{RootCAs: other.Pool()}); err == nil || !strings.Contains(err.Error(), "unknown authority") {
		t.Fatalf("Go client trusting another CA: %v", err)
	}
	// Plain HTTP on the TLS port gets no XML-RPC answer.
	if _, err := xmlrpcPlain(port); err == nil {
		t.Fatalf("plain http on the TLS port answered")
	}

	// A reload re-reads the files: now client certificates are required.
	conf(clientCAFile)
	d.signal(syscall.SIGHUP)
	waitFor(t, 30*time.Second, "the reload to require client certificates", func() bool {
		return strings.HasPrefix(pyGetState(t, port, caFile, "", ""), "ERROR")
	})
	if got := pyGetState(t, port, caFile, clientCert, clientKey); got != "RUNNING" {
		t.Fatalf("Python with a client certificate: %q", got)
	}
	clientPair, err := clientLeaf.TLS()
	if err != nil {
		t.Fatal(err)
	}
	if got, err := goGetState(port, &tls.Config{RootCAs: ca.Pool(), Certificates: []tls.Certificate{clientPair}}); err != nil || got != "RUNNING" {
		t.Fatalf("Go client with a client certificate: %q, %v", got, err)
	}
	if _, err := goGetState(port, &tls.Config{RootCAs: ca.Pool()}); err == nil {
		t.Fatalf("Go client without a client certificate was let in")
	}
	d.signal(syscall.SIGTERM)
	d.wait(30 * time.Second)
}

func xmlrpcPlain(port int) (string, error) {
	c, err := xmlrpc.NewClient(fmt.Sprintf("http://127.0.0.1:%d/RPC2", port), &http.Transport{})
	if err != nil {
		return "", err
	}
	defer c.Close()
	var st struct {
		Name string `xmlrpc:"statename"`
	}
	err = c.Call("supervisor.getState", nil, &st)
	return st.Name, err
}

// TestBadHTTPOptionsStopTheStart: a missing TLS file or a bad value is a
// config error at start that names the file.
func TestBadHTTPOptionsStopTheStart(t *testing.T) {
	tests := []struct {
		name  string
		extra string
		want  string
	}{
		{"missing cert", "\n[inet_http_server]\nport = 127.0.0.1:1\ntls_cert = %(here)s/nope.crt\ntls_key = %(here)s/nope.key\n", "tls_cert: cannot read "},
		{"bad metrics", "\n[inet_http_server]\nport = 127.0.0.1:1\nmetrics = perhaps\n", "metrics: not a valid boolean value: 'perhaps' in section 'inet_http_server'"},
		{"unknown group", "\n[unix_http_server:b]\nfile = %(here)s/b.sock\nallow_groups = no-such-group-xyz\n", "allow_groups: unknown group 'no-such-group-xyz'"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.extra, nil)
			out, err := exec.Command(ourBin, "-n", "-c", e.conf).CombinedOutput()
			ee, ok := err.(*exec.ExitError)
			if !ok || ee.ExitCode() != 2 {
				t.Fatalf("supervisord: %v (want exit 2): %s", err, out)
			}
			if !strings.Contains(string(out), tc.want) || !strings.Contains(string(out), e.conf) {
				t.Fatalf("output %q lacks %q and the file name", out, tc.want)
			}
		})
	}
}

// TestUnixPeerAllowLists: allow_uids/allow_groups from the config guard a
// socket: a peer that matches is served (password still required), any
// other is closed before a byte is read and logged. (rpc's
// TestPeerCredentials runs the refused and admitted client as nobody.)
func TestUnixPeerAllowLists(t *testing.T) {
	uid := os.Getuid()
	e := newEnv(t, fmt.Sprintf(`
[unix_http_server:mine]
file = %%(here)s/mine.sock
username = u
password = p
allow_uids = %d

[unix_http_server:theirs]
file = %%(here)s/theirs.sock
allow_uids = %d
allow_groups = %d
`, uid, uid+1, os.Getgid()+1), nil)
	d := e.startForeground()
	ask := func(sock, auth string) string {
		c, err := net.Dial("unix", filepath.Join(e.dir, sock))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		body := "<?xml version='1.0'?><methodCall><methodName>supervisor.getState</methodName><params></params></methodCall>"
		fmt.Fprintf(c, "POST /RPC2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n%sContent-Length: %d\r\n\r\n%s", auth, len(body), body)
		c.SetReadDeadline(time.Now().Add(30 * time.Second))
		b, _ := io.ReadAll(c)
		line, _, _ := strings.Cut(string(b), "\r\n")
		return line
	}
	if got := ask("mine.sock", "Authorization: Basic dTpw\r\n"); got != "HTTP/1.1 200 OK" {
		t.Errorf("listed uid with the password: %q", got)
	}
	if got := ask("mine.sock", ""); got != "HTTP/1.1 401 Unauthorized" {
		t.Errorf("listed uid without the password: %q, want 401", got)
	}
	if got := ask("theirs.sock", ""); got != "" {
		t.Errorf("unlisted uid and groups: %q, want the connection closed unanswered", got)
	}
	waitFor(t, 10*time.Second, "the refusal in the main log", func() bool {
		return strings.Contains(e.mainLog(), "WARN refused a connection on "+filepath.Join(e.dir, "theirs.sock")+" from pid")
	})
	d.signal(syscall.SIGTERM)
	d.wait(30 * time.Second)
}
