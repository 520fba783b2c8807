package rpc

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/procman"
)

// memConn is a net.Conn reading from a fixed input and recording output.
type memConn struct {
	r   io.Reader
	out bytes.Buffer
}

func (m *memConn) Read(p []byte) (int, error)       { return m.r.Read(p) }
func (m *memConn) Write(p []byte) (int, error)      { return m.out.Write(p) }
func (m *memConn) Close() error                     { return nil }
func (m *memConn) LocalAddr() net.Addr              { return &net.UnixAddr{Name: "fuzz", Net: "unix"} }
func (m *memConn) RemoteAddr() net.Addr             { return &net.UnixAddr{Name: "client", Net: "unix"} }
func (m *memConn) SetDeadline(time.Time) error      { return nil }
func (m *memConn) SetReadDeadline(time.Time) error  { return nil }
func (m *memConn) SetWriteDeadline(time.Time) error { return nil }

// FuzzServeConn feeds arbitrary bytes to one server connection: the HTTP
// parser, auth, routing, UI and RPC handlers must never panic or hang, and
// every response must start with a status line.
func FuzzServeConn(f *testing.F) {
	f.Add([]byte("POST /RPC2 HTTP/1.1\r\nHost: \r\nContent-Length: 90\r\n\r\n<methodCall><methodName>supervisor.getState</methodName><params></params></methodCall>\r\n\r\n"))
	f.Add([]byte("GET /logtail/g:p1/stderr HTTP/1.1\r\nAuthorization: Basic dXNlcjoxMjM=\r\n\r\n"))
	f.Add([]byte("GET /?action=stop&processname=g%3Ap1 HTTP/1.0\r\n\r\nGET /tail.html?processname=g:p1&limit=99999 HTTP/1.1\r\n\r\n"))
	f.Add([]byte("POST /index.html HTTP/1.1\r\nContent-Length: 14\r\n\r\naction=refresh"))
	f.Add([]byte("GET /images HTTP/1.1\r\n X: continued\r\n\r\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		b := newFakeBackend()
		p := b.addProc("g", "p1")
		p.info.State, p.info.PID = procman.Running, 7
		srv := NewServer(b, Options{MaxBodyBytes: 4096, MaxHeaderBytes: 4096})
		defer srv.cancel()
		mc := &memConn{r: bytes.NewReader(in)}
		auth := (*Credentials)(nil)
		if len(in) > 0 && in[0]&1 == 1 {
			auth = &Credentials{Username: "user", Password: "123"}
		}
		c := &conn{srv: srv, nc: mc, br: bufio.NewReaderSize(mc, 4096), auth: auth, serverName: "<unix domain socket>"}
		srv.conns[c] = struct{}{}
		srv.wg.Add(1)
		done := make(chan struct{})
		go func() { c.serve(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("connection hung on %q", in)
		}
		out := mc.out.String()
		if out != "" && !strings.HasPrefix(out, "HTTP/1.") {
			t.Fatalf("response does not start with a status line: %q", out)
		}
	})
}
