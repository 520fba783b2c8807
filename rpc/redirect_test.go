package rpc

import (
	"bufio"
	"context"
	"errors"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// locationOf sends one request on network/addr and returns the response's
// status line and Location header.
func locationOf(t *testing.T, network, addr, req string) (status, location string) {
	t.Helper()
	c, err := net.Dial(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	resp, err := readResponse(bufio.NewReader(c), c, time.Second)
	if err != nil && len(resp) == 0 {
		t.Fatalf("%q: %v", req, err)
	}
	for _, l := range strings.Split(string(resp), "\r\n") {
		if v, ok := strings.CutPrefix(l, "Location: "); ok {
			location = v
		}
	}
	return statusLine(resp), location
}

// pythonServerName asks the oracle for the server_name Python's inet HTTP
// server bound to 127.0.0.1 has on this machine.
func pythonServerName(t *testing.T) string {
	out, err := exec.Command("/usr/bin/python3", "-c",
		"import socket\ntry:\n print(socket.gethostbyaddr('127.0.0.1')[0])\nexcept OSError:\n print('127.0.0.1')").Output()
	if err != nil {
		t.Skipf("no /usr/bin/python3 to ask for the server name: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// TestRedirectLocation checks both 301s against what Python 4.2.5 sends
// (observed with /usr/bin/supervisord): the static directory redirect
// always uses the server's name, without port, whatever the Host; the web
// UI's action redirect uses the first non-empty Host (":80" dropped), else
// the server's name and port, which for a unix socket is its path.
func TestRedirectLocation(t *testing.T) {
	b := dispatchBackend(t)
	sock, _ := startServer(t, b, nil, Options{})
	il, err := Listen(ListenConfig{Section: "inet_http_server", Family: "inet", Host: "127.0.0.1", Port: 0})
	if err != nil {
		t.Fatal(err)
	}
	serveListener(t, b, il, Options{})
	inetAddr := il.Addr().String()
	port := strconv.Itoa(il.Addr().(*net.TCPAddr).Port)
	name := pythonServerName(t)
	if il.ServerName != name {
		t.Errorf("inet ServerName = %q, Python's server_name is %q", il.ServerName, name)
	}

	const action = "/?action=restartall"
	tests := []struct {
		headers, path string
		unix, inet    string // Location up to '?'; {sock} {name} {port} filled in
	}{
		{"", "/images", "http://<unix domain socket>/images/", "http://{name}/images/"},
		{"", "//stylesheets", "http://<unix domain socket>/stylesheets/", "http://{name}/stylesheets/"},
		{"", action, "http://<unix domain socket>:{sock}/", "http://{name}:{port}/"},
		{"Host: h\r\n", "/images", "http://<unix domain socket>/images/", "http://{name}/images/"},
		{"Host: h\r\n", action, "http://h/", "http://h/"},
		{"Host: h:80\r\n", "/stylesheets", "http://<unix domain socket>/stylesheets/", "http://{name}/stylesheets/"},
		{"Host: h:80\r\n", action, "http://h/", "http://h/"},
		{"Host: h:\r\n", action, "http://h/", "http://h/"},
		{"Host: h:8080\r\n", action, "http://h:8080/", "http://h:8080/"},
		{"Host:   \r\nHost: second:81\r\n", action, "http://second:81/", "http://second:81/"},
		{"Host: [::1]:9\r\n", action, "http://[::1]:9/", "http://[::1]:9/"},
		{"Host: a:b\r\n", action, "http://a:b/", "http://a:b/"},
	}
	fill := strings.NewReplacer("{sock}", sock, "{name}", name, "{port}", port)
	for _, tt := range tests {
		req := "GET " + tt.path + " HTTP/1.0\r\n" + tt.headers + "\r\n"
		for _, seat := range []struct{ network, addr, want string }{
			{"unix", sock, tt.unix},
			{"tcp", inetAddr, tt.inet},
		} {
			status, loc := locationOf(t, seat.network, seat.addr, req)
			if !strings.HasPrefix(status, "HTTP/1.0 301 ") {
				t.Errorf("%s %q: status %q, want 301", seat.network, req, status)
				continue
			}
			got, _, _ := strings.Cut(loc, "?")
			if want := fill.Replace(seat.want); got != want {
				t.Errorf("%s %q: Location %q, Python sends %q", seat.network, req, got, want)
			}
		}
	}
}

func TestPySplitPort(t *testing.T) {
	tests := []struct{ in, host, port string }{
		{"h", "h", ""},
		{"h:9001", "h", "9001"},
		{"h:", "h", ""},
		{"a:b", "a:b", ""},
		{"a:1:2", "a:1", "2"},
		{"[::1]:9", "[::1]", "9"},
		{"[::1]", "[::1]", ""},
		{"::1", ":", "1"},
		{"h:٣", "h:٣", ""}, // [0-9] is ASCII only
	}
	for _, tt := range tests {
		if h, p := pySplitPort(tt.in); h != tt.host || p != tt.port {
			t.Errorf("pySplitPort(%q) = %q, %q; want %q, %q", tt.in, h, p, tt.host, tt.port)
		}
	}
}

// fakeResolver answers from maps; a missing entry is a lookup error.
type fakeResolver struct {
	ips   map[string][]net.IP // key: network + " " + host
	names map[string][]string
}

func (r fakeResolver) LookupIP(_ context.Context, network, host string) ([]net.IP, error) {
	if ips, ok := r.ips[network+" "+host]; ok {
		return ips, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

func (r fakeResolver) LookupAddr(_ context.Context, addr string) ([]string, error) {
	if names, ok := r.names[addr]; ok {
		return names, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: addr, IsNotFound: true}
}

func TestPyServerName(t *testing.T) {
	r := fakeResolver{
		ips: map[string][]net.IP{
			"ip vm":      {net.ParseIP("127.0.0.1")},
			"ip4 box":    {net.ParseIP("10.0.0.5"), net.ParseIP("10.0.0.6")},
			"ip4 lonely": {net.ParseIP("10.0.0.9")},
		},
		names: map[string][]string{
			"127.0.0.1": {"localhost", "vm"},
			"10.0.0.5":  {"box.example.com."},
			"10.1.2.3":  {},
		},
	}
	okHost := func(name string) func() (string, error) {
		return func() (string, error) { return name, nil }
	}
	tests := []struct {
		host     string
		hostname func() (string, error)
		want     string
	}{
		{"127.0.0.1", okHost("box"), "localhost"}, // gethostbyaddr(ip)[0]
		{"vm", okHost("box"), "localhost"},        // a name is resolved first
		{"127.0.0.2", okHost("box"), "127.0.0.2"}, // reverse lookup fails: the ip
		{"10.1.2.3", okHost("box"), "10.1.2.3"},   // no names: the ip
		{"nosuch", okHost("box"), "nosuch"},       // unresolvable: as given
		{"", okHost("box"), "box.example.com"},    // gethostbyname(gethostname())
		{"", okHost("lonely"), "10.0.0.9"},        // ... whose reverse lookup fails
		{"", okHost("unknown"), "unknown"},        // Python refuses to start here
		{"", func() (string, error) { return "", errors.New("no hostname") }, ""},
	}
	for _, tt := range tests {
		if got := pyServerName(context.Background(), r, tt.host, tt.hostname); got != tt.want {
			t.Errorf("pyServerName(%q) = %q, want %q", tt.host, got, tt.want)
		}
	}
}
