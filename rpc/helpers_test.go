package rpc

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// startServer serves b on a fresh unix socket and returns its path.
func startServer(t testing.TB, b Backend, auth *Credentials, opts Options) (string, *Server) {
	t.Helper()
	dir := t.TempDir()
	sock := filepath.Join(dir, "s.sock")
	l, err := Listen(ListenConfig{Section: "unix_http_server", Family: "unix", File: sock, ChownUID: -1, ChownGID: -1})
	if err != nil {
		t.Fatal(err)
	}
	l.Auth = auth
	return sock, serveListener(t, b, l, opts)
}

// serveListener serves b on l until the test ends.
func serveListener(t testing.TB, b Backend, l net.Listener, opts Options) *Server {
	t.Helper()
	srv := NewServer(b, opts)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		if err := <-done; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve returned %v", err)
		}
	})
	return srv
}

// readResponse reads one HTTP response (Content-Length framed, or until
// the connection is idle for idle when unframed).
func readResponse(br *bufio.Reader, c net.Conn, idle time.Duration) ([]byte, error) {
	var out bytes.Buffer
	c.SetReadDeadline(time.Now().Add(30 * time.Second)) // a bound for a hang
	length := -1
	for {
		line, err := br.ReadString('\n')
		out.WriteString(line)
		if err != nil {
			return out.Bytes(), err
		}
		if line == "\r\n" {
			break
		}
		if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(k, "Content-Length") {
			length, _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
	if length >= 0 {
		body := make([]byte, length)
		_, err := io.ReadFull(br, body)
		out.Write(body)
		return out.Bytes(), err
	}
	buf := make([]byte, 4096)
	for {
		c.SetReadDeadline(time.Now().Add(idle))
		n, err := br.Read(buf)
		out.Write(buf[:n])
		if err != nil {
			return out.Bytes(), nil
		}
	}
}

// readUntil reads from br until what it read holds want or limit passes,
// and returns what it read.
func readUntil(br *bufio.Reader, c net.Conn, want []byte, limit time.Duration) []byte {
	var out []byte
	buf := make([]byte, 4096)
	c.SetReadDeadline(time.Now().Add(limit))
	for !bytes.Contains(out, want) {
		n, err := br.Read(buf)
		out = append(out, buf[:n]...)
		if err != nil {
			break
		}
	}
	return out
}

// exchange sends raw bytes and reads n responses.
func exchange(t testing.TB, sock string, req []byte, n int) []byte {
	t.Helper()
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write(req); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	var out []byte
	if n == 0 {
		buf := make([]byte, 4096)
		for {
			c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
			k, err := br.Read(buf)
			out = append(out, buf[:k]...)
			if err != nil {
				return out
			}
		}
	}
	for i := 0; i < n; i++ {
		r, err := readResponse(br, c, 300*time.Millisecond)
		out = append(out, r...)
		if err != nil {
			break
		}
	}
	return out
}

// rpcRequest builds a POST /RPC2 like Python's client.
func rpcRequest(body string, extraHeaders ...string) []byte {
	var b strings.Builder
	b.WriteString("POST /RPC2 HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/xml\r\n")
	for _, h := range extraHeaders {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body)
	return []byte(b.String())
}

// call builds a methodCall body with already-encoded params.
func call(method string, params ...string) string {
	var b strings.Builder
	b.WriteString("<?xml version='1.0'?>\n<methodCall>\n<methodName>" + method + "</methodName>\n<params>\n")
	for _, p := range params {
		b.WriteString("<param>\n<value>" + p + "</value>\n</param>\n")
	}
	b.WriteString("</params>\n</methodCall>\n")
	return b.String()
}

// body returns the part after the first blank line.
func bodyOf(resp []byte) string {
	_, b, _ := bytes.Cut(resp, []byte("\r\n\r\n"))
	return string(b)
}
