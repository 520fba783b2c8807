package rpc

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
)

func TestCrossSiteReason(t *testing.T) {
	tests := []struct {
		site, origin, host string
		refused            bool
	}{
		{"", "", "h:9001", false},
		{"same-origin", "", "h:9001", false},
		{"none", "", "h:9001", false},
		{"Same-Origin", "http://evil", "h:9001", false}, // Sec-Fetch-Site wins
		{"cross-site", "", "h:9001", true},
		{"same-site", "", "h:9001", true},
		{"cross-site", "http://h:9001", "h:9001", true},
		{"", "http://h:9001", "h:9001", false},
		{"", "https://H:9001", "h:9001", false},
		{"", "http://h:9002", "h:9001", true},
		{"", "http://evil.example", "h:9001", true},
		{"", "null", "h:9001", true},
		{"", "http://h:9001", "", true},
	}
	for _, tt := range tests {
		why := CrossSiteReason(tt.site, tt.origin, tt.host)
		if (why != "") != tt.refused {
			t.Errorf("site %q origin %q host %q: reason %q, want refused=%v", tt.site, tt.origin, tt.host, why, tt.refused)
		}
	}
}

// TestCrossSiteRefused: state-changing requests a browser marks as
// cross-site get 403 and never reach the backend; the same URLs without
// those headers (non-browser clients) and read-only views keep working.
func TestCrossSiteRefused(t *testing.T) {
	b := dispatchBackend(t)
	sock, _ := startServer(t, b, nil, Options{})
	rpcBody := call("supervisor.stopProcess", "g:p1")
	tests := []struct {
		name, req string
		status    string
	}{
		{"GET action cross-site", "GET /index.html?processname=g%3Ap1&action=stop HTTP/1.1\r\nHost: h\r\nSec-Fetch-Site: cross-site\r\n\r\n", "403"},
		{"GET stopall same-site", "GET /?action=stopall HTTP/1.1\r\nHost: h\r\nSec-Fetch-Site: same-site\r\n\r\n", "403"},
		{"GET action foreign Origin", "GET /?processname=g:p1&action=restart HTTP/1.1\r\nHost: h\r\nOrigin: http://evil\r\n\r\n", "403"},
		{"POST form action cross-site", "POST /index.html HTTP/1.1\r\nHost: h\r\nSec-Fetch-Site: cross-site\r\nContent-Length: 15\r\n\r\naction=stopall&", "403"},
		{"RPC2 cross-site", string(rpcRequest(rpcBody, "Sec-Fetch-Site: cross-site")), "403"},
		{"RPC2 null Origin", string(rpcRequest(rpcBody, "Origin: null")), "403"},
		{"clearlog cross-site", "GET /?processname=solo&action=clearlog HTTP/1.1\r\nHost: h\r\nSec-Fetch-Site: cross-site\r\n\r\n", "403"},
		{"refresh cross-site is harmless", "GET /?action=refresh HTTP/1.1\r\nHost: h\r\nSec-Fetch-Site: cross-site\r\n\r\n", "301"},
		{"page cross-site", "GET / HTTP/1.1\r\nHost: h\r\nSec-Fetch-Site: cross-site\r\n\r\n", "200"},
		{"tail cross-site", "GET /tail.html?processname=solo HTTP/1.1\r\nHost: h\r\nSec-Fetch-Site: cross-site\r\n\r\n", "200"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := exchange(t, sock, []byte(tt.req), 1)
			if s := statusLine(got); !strings.Contains(s, " "+tt.status+" ") {
				t.Fatalf("status %q, want %s", s, tt.status)
			}
			if tt.status == "403" && !bytes.Contains(got, []byte("cross-site request refused")) {
				t.Errorf("403 without a reason: %q", got)
			}
		})
	}
	if c := b.Calls(); len(c) != 0 {
		t.Fatalf("refused requests reached the backend: %v", c)
	}
	// The same action from this server's own page, and from a client
	// that sends neither header, is served.
	for _, req := range []string{
		"GET /index.html?processname=g%3Ap1&action=stop HTTP/1.1\r\nHost: h\r\nSec-Fetch-Site: same-origin\r\n\r\n",
		"GET /index.html?processname=g%3Ap1&action=start HTTP/1.1\r\nHost: h:9001\r\nOrigin: http://h:9001\r\n\r\n",
		"GET /index.html?processname=g%3Ap1&action=stop HTTP/1.1\r\nHost: h\r\n\r\n",
	} {
		if s := statusLine(exchange(t, sock, []byte(req), 1)); s != "HTTP/1.1 301 Moved Permanently" {
			t.Errorf("%q: %q", req, s)
		}
	}
	if got := string(exchange(t, sock, rpcRequest(call("supervisor.getAPIVersion"), "Sec-Fetch-Site: same-origin"), 1)); !strings.Contains(got, "<string>3.0</string>") {
		t.Errorf("same-origin RPC2: %q", got)
	}
}

// TestCrossSiteRoutes: a route's non-GET requests get the same check
// before its handler runs; its GETs are served.
func TestCrossSiteRoutes(t *testing.T) {
	dir := t.TempDir()
	l, err := Listen(ListenConfig{Section: "unix_http_server", Family: "unix", File: dir + "/s.sock", ChownUID: -1, ChownGID: -1})
	if err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int32
	l.Routes = []Route{{Path: "/x", Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		io.WriteString(w, "done")
	})}}
	serveListener(t, dispatchBackend(t), l, Options{})
	sock := dir + "/s.sock"
	tests := []struct{ req, status string }{
		{"POST /x HTTP/1.1\r\nHost: h\r\nSec-Fetch-Site: cross-site\r\nContent-Length: 0\r\n\r\n", "403"},
		{"PUT /x HTTP/1.1\r\nHost: h\r\nOrigin: http://evil\r\nContent-Length: 0\r\n\r\n", "403"},
		{"GET /x HTTP/1.1\r\nHost: h\r\nSec-Fetch-Site: cross-site\r\n\r\n", "200"},
		{"POST /x HTTP/1.1\r\nHost: h\r\nSec-Fetch-Site: same-origin\r\nContent-Length: 0\r\n\r\n", "200"},
		{"POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n", "200"},
	}
	for _, tt := range tests {
		if s := statusLine(exchange(t, sock, []byte(tt.req), 1)); !strings.Contains(s, " "+tt.status+" ") {
			t.Errorf("%q: %q, want %s", tt.req, s, tt.status)
		}
	}
	if n := calls.Load(); n != 3 {
		t.Errorf("handler ran %d times, want 3", n)
	}
}
