package rpc

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// blockingFollower is a /logtail stream that reports when it began and
// runs until the server cancels it: a connection busy in a handler.
type blockingFollower struct{ entered chan struct{} }

func (f blockingFollower) Follow(ctx context.Context, _ string, _ int64, _ func([]byte) error) error {
	f.entered <- struct{}{}
	<-ctx.Done()
	return ctx.Err()
}

// closedByServer reports whether the server closed c without answering:
// EOF, or a reset when it closed with our request unread.
func closedByServer(t *testing.T, br *bufio.Reader, c net.Conn) bool {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	n, err := io.Copy(io.Discard, br)
	var ne net.Error
	return n == 0 && !(errors.As(err, &ne) && ne.Timeout())
}

// TestMaxConnsEvictsLongestWaiting: at the connection cap a new client
// evicts the connection that has waited longest for a request, so idle
// connections cannot lock out a real client.
func TestMaxConnsEvictsLongestWaiting(t *testing.T) {
	sock, _ := startServer(t, dispatchBackend(t), nil, Options{MaxConns: 2})
	ask := func(c net.Conn, br *bufio.Reader) string {
		t.Helper()
		c.Write(rpcRequest(call("supervisor.getState")))
		resp, err := readResponse(br, c, time.Second)
		if err != nil {
			t.Fatalf("getState: %v (%q)", err, resp)
		}
		return statusLine(resp)
	}
	// The single accept loop takes connections in the order they queued,
	// so a is the longest-waiting once c is accepted.
	a, abr := dial(t, sock)
	b, bbr := dial(t, sock)
	c, cbr := dial(t, sock)
	if got := ask(c, cbr); got != "HTTP/1.1 200 OK" {
		t.Fatalf("the new client got %q", got)
	}
	if !closedByServer(t, abr, a) {
		t.Errorf("the longest-waiting connection was not evicted")
	}
	if got := ask(b, bbr); got != "HTTP/1.1 200 OK" {
		t.Errorf("the younger idle connection got %q", got)
	}
}

// TestMaxConnsNeverEvictsBusy: connections running a handler (here two
// /logtail streams) are never evicted; the new connection is refused.
func TestMaxConnsNeverEvictsBusy(t *testing.T) {
	f := blockingFollower{entered: make(chan struct{}, 2)}
	sock, _ := startServer(t, dispatchBackend(t), nil, Options{MaxConns: 2, Follower: f})
	var streams []net.Conn
	for range 2 {
		c, _ := dial(t, sock)
		c.Write([]byte("GET /logtail/solo/stdout HTTP/1.1\r\nHost: localhost\r\n\r\n"))
		streams = append(streams, c)
		select {
		case <-f.entered:
		case <-time.After(10 * time.Second):
			t.Fatal("the /logtail stream did not start")
		}
	}
	c, br := dial(t, sock)
	c.Write(rpcRequest(call("supervisor.getState")))
	if !closedByServer(t, br, c) {
		t.Errorf("a connection beyond the cap was served while every connection was busy")
	}
	for _, s := range streams {
		s.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		var buf [1]byte
		if _, err := s.Read(buf[:]); err != nil && !strings.Contains(err.Error(), "timeout") {
			t.Errorf("a busy stream was closed: %v", err)
		}
	}
}
