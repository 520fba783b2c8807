package rpc

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/gosupervisor/gosupervisor/internal/testcert"
)

// unixClient is an HTTP client that dials sock whatever the URL says.
func unixClient(sock string) *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		},
		DisableKeepAlives: true,
	}}
}

func get(t *testing.T, c *http.Client, url string, header ...string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func TestRoutes(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "s.sock")
	private := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		w.Header().Add("Vary", "Accept")
		io.WriteString(w, "private "+r.Method+" "+r.URL.RawQuery+" "+r.Header.Get("Accept"))
	})
	public := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, "down")
	})
	l, err := Listen(ListenConfig{Section: "unix_http_server", Family: "unix", File: sock, ChownUID: -1, ChownGID: -1,
		Username: "user", Password: "pw",
		Routes: []Route{{Path: "/metrics", Handler: private}, {Path: "/healthz", Public: true, Handler: public}}})
	if err != nil {
		t.Fatal(err)
	}
	serveListener(t, newFakeBackend(), l, Options{})
	c := unixClient(sock)
	basic := "Basic dXNlcjpwdw==" // user:pw
	tests := []struct {
		name     string
		url      string
		header   []string
		wantCode int
		wantBody string
	}{
		{"private without auth", "http://x/metrics", nil, 401, "Error code 401"},
		{"private with auth", "http://x/metrics?a=b", []string{"Authorization", basic, "Accept", "text/plain"}, 200, "private GET a=b text/plain"},
		{"public without auth", "http://x/healthz", nil, 503, "down"},
		{"public with a wrong password", "http://x/healthz", []string{"Authorization", "Basic eDp5"}, 503, "down"},
		{"other paths unchanged", "http://x/metricsx", []string{"Authorization", basic}, 404, "Error code 404"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, h, body := get(t, c, tc.url, tc.header...)
			if code != tc.wantCode || !strings.Contains(body, tc.wantBody) {
				t.Fatalf("GET %s = %d %q, want %d with %q", tc.url, code, body, tc.wantCode, tc.wantBody)
			}
			if code == 200 && (h.Get("Content-Type") != "text/plain; version=0.0.4" || h.Get("Vary") != "Accept" || h.Get("Server") != "Medusa/1.12") {
				t.Fatalf("headers = %v", h)
			}
		})
	}
}

func TestCountRPC(t *testing.T) {
	var mu sync.Mutex
	var got []string
	b := newFakeBackend()
	b.addProc("a", "a")
	sock, _ := startServer(t, b, nil, Options{CountRPC: func(method, fault string) {
		mu.Lock()
		got = append(got, method+"/"+fault)
		mu.Unlock()
	}})
	for _, body := range []string{
		call("supervisor.getState"),
		call("supervisor.getProcessInfo", "<string>nope</string>"),
		call("supervisor.noSuchMethod"),
		call("random.name" + strings.Repeat("x", 100)),
	} {
		exchange(t, sock, rpcRequest(body, "Connection: close"), 1)
	}
	want := []string{"supervisor.getState/", "supervisor.getProcessInfo/BAD_NAME", "unknown/UNKNOWN_METHOD", "unknown/UNKNOWN_METHOD"}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("CountRPC got %q, want %q", got, want)
	}
}

// tlsServer serves a fake backend over TLS with the given server
// configuration and returns its https URL.
func tlsServer(t *testing.T, cfg *tls.Config) string {
	t.Helper()
	l, err := Listen(ListenConfig{Section: "inet_http_server", Family: "inet", Host: "127.0.0.1", Port: 0, TLS: cfg})
	if err != nil {
		t.Fatal(err)
	}
	serveListener(t, newFakeBackend(), l, Options{})
	return "https://" + l.Addr().String()
}

func TestTLS(t *testing.T) {
	ca, err := testcert.NewCA("ca")
	must(t, err)
	other, err := testcert.NewCA("other ca")
	must(t, err)
	leaf := func(ca *testcert.CA, o testcert.LeafOptions) tls.Certificate {
		l, err := ca.Issue(o)
		must(t, err)
		c, err := l.TLS()
		must(t, err)
		return c
	}
	server := leaf(ca, testcert.LeafOptions{Name: "server"})
	expiredServer := leaf(ca, testcert.LeafOptions{Name: "server", Expired: true})
	client := leaf(ca, testcert.LeafOptions{Name: "client", Client: true})
	expiredClient := leaf(ca, testcert.LeafOptions{Name: "client", Client: true, Expired: true})
	strangerClient := leaf(other, testcert.LeafOptions{Name: "client", Client: true})

	plain := tlsServer(t, &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{server}})
	expired := tlsServer(t, &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{expiredServer}})
	mutual := tlsServer(t, &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{server},
		ClientCAs: ca.Pool(), ClientAuth: tls.RequireAndVerifyClientCert})

	tests := []struct {
		name    string
		url     string
		client  *tls.Config
		wantErr string // "" : the call must succeed
	}{
		{"trusted", plain, &tls.Config{RootCAs: ca.Pool()}, ""},
		{"untrusted server", plain, &tls.Config{RootCAs: other.Pool()}, "certificate signed by unknown authority"},
		{"expired server", expired, &tls.Config{RootCAs: ca.Pool()}, "expired"},
		{"TLS 1.1 refused", plain, &tls.Config{RootCAs: ca.Pool(), MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}, "protocol version"},
		{"client cert", mutual, &tls.Config{RootCAs: ca.Pool(), Certificates: []tls.Certificate{client}}, ""},
		{"no client cert", mutual, &tls.Config{RootCAs: ca.Pool()}, "certificate required"},
		{"expired client cert", mutual, &tls.Config{RootCAs: ca.Pool(), Certificates: []tls.Certificate{expiredClient}}, "expired certificate"},
		// The client sees the server accepts only ca and sends nothing.
		{"client cert of another CA", mutual, &tls.Config{RootCAs: ca.Pool(), Certificates: []tls.Certificate{strangerClient}}, "certificate required"},
		{"client cert of another CA, forced", mutual, &tls.Config{RootCAs: ca.Pool(), GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return &strangerClient, nil
		}}, "unknown certificate authority"},
	}
	// Redirects name the https URL.
	noFollow := &http.Client{
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool()}, DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	port := plain[strings.LastIndexByte(plain, ':')+1:]
	for path, want := range map[string]string{
		"/stylesheets":                            "https://localhost/stylesheets/",
		"/index.html?action=stopall":              "https://127.0.0.1:" + port + "/?message=",
		"/index.html?action=refresh&processname=": "https://127.0.0.1:" + port + "/?message=",
	} {
		resp, err := noFollow.Get(plain + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); !strings.HasPrefix(loc, want) {
			t.Errorf("GET %s over TLS: Location %q, want %q...", path, loc, want)
		}
	}

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := &http.Transport{TLSClientConfig: tc.client, DisableKeepAlives: true}
			defer tr.CloseIdleConnections()
			c := &http.Client{Transport: tr}
			resp, err := c.Post(tc.url+"/RPC2", "text/xml", strings.NewReader(call("supervisor.getState")))
			if tc.wantErr != "" {
				if err == nil {
					resp.Body.Close()
					t.Fatalf("call succeeded, want an error with %q", tc.wantErr)
				}
				if !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %q, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 200 || !strings.Contains(string(b), "<string>RUNNING</string>") {
				t.Fatalf("getState over TLS: %d %s", resp.StatusCode, b)
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// peerChildEnv makes the test binary, re-executed, dial a socket, send
// getState and print the status line it got (or "closed").
const peerChildEnv = "RPC_TEST_PEER_DIAL"

func peerChild(sock string) {
	c, err := net.Dial("unix", sock)
	if err != nil {
		os.Stdout.WriteString("dial: " + err.Error() + "\n")
		os.Exit(0)
	}
	c.Write(rpcRequest(call("supervisor.getState"), "Connection: close", "Authorization: Basic dXNlcjpwdw=="))
	b, _ := io.ReadAll(c)
	line, _, _ := strings.Cut(string(b), "\r\n")
	if line == "" {
		line = "closed"
	}
	os.Stdout.WriteString(line + "\n")
	os.Exit(0)
}

func TestPeerCredentials(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to run a client as nobody")
	}
	const nobody = 65534
	dir := t.TempDir()
	// nobody must reach the socket and the binary.
	must(t, os.Chmod(filepath.Dir(dir), 0o755))
	must(t, os.Chmod(dir, 0o755))
	self, err := os.ReadFile(os.Args[0])
	must(t, err)
	bin := filepath.Join(dir, "client.test")
	must(t, os.WriteFile(bin, self, 0o755))
	tests := []struct {
		name       string
		uids, gids []int
		asUID      int
		want       string
		refused    bool
	}{
		{"nobody not listed", []int{0}, nil, nobody, "closed", true},
		{"nobody by uid", []int{0, nobody}, nil, nobody, "HTTP/1.1 200 OK", false},
		{"nobody by group", []int{0}, []int{nobody}, nobody, "HTTP/1.1 200 OK", false},
		{"root listed", []int{0}, nil, 0, "HTTP/1.1 200 OK", false},
		{"root not listed", []int{1000}, []int{1000}, 0, "closed", true},
		{"root by supplementary group", nil, []int{4242}, 0, "HTTP/1.1 200 OK", false},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sock := filepath.Join(dir, "s"+string(rune('a'+i))+".sock")
			var mu sync.Mutex
			var refused []string
			l, err := Listen(ListenConfig{Section: "unix_http_server", Family: "unix", File: sock, Chmod: 0o777,
				ChownUID: -1, ChownGID: -1, Username: "user", Password: "pw",
				AllowUIDs: tc.uids, AllowGIDs: tc.gids,
				Refused: func(msg string) { mu.Lock(); refused = append(refused, msg); mu.Unlock() }})
			must(t, err)
			serveListener(t, newFakeBackend(), l, Options{})
			cmd := exec.Command(bin, "-test.run", "^$")
			cmd.Env = append(os.Environ(), peerChildEnv+"="+sock)
			// Root runs with a supplementary group 4242 that is not
			// its primary group; nobody with its own group only.
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(tc.asUID), Gid: uint32(tc.asUID), Groups: []uint32{4242}}}
			if tc.asUID == nobody {
				cmd.SysProcAttr.Credential.Groups = []uint32{nobody}
			}
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("client: %v", err)
			}
			if got := strings.TrimSpace(string(out)); got != tc.want {
				t.Fatalf("client as uid %d got %q, want %q", tc.asUID, got, tc.want)
			}
			mu.Lock()
			defer mu.Unlock()
			if tc.refused != (len(refused) == 1) {
				t.Fatalf("refusals logged: %q", refused)
			}
			if tc.refused && !strings.Contains(refused[0], "not in allow_uids or allow_groups") {
				t.Fatalf("refusal message %q", refused[0])
			}
		})
	}
}
