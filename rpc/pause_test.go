package rpc

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestPauseLetsAFreshConnectionSendItsRequest: Pause (the upgrade) closes a
// keep-alive connection waiting for its next request at once, but leaves a
// connection that has just been accepted and not sent its first request
// yet, so that request is answered (with Connection: close) rather than
// the client's call failing with a reset.
func TestPauseLetsAFreshConnectionSendItsRequest(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "s.sock")
	l, err := Listen(ListenConfig{Section: "unix_http_server", Family: "unix", File: sock, ChownUID: -1, ChownGID: -1})
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(dispatchBackend(t), Options{})
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()

	old, oldR := dial(t, sock)
	if _, err := old.Write(rpcRequest(call("supervisor.getPID"))); err != nil {
		t.Fatal(err)
	}
	if _, err := readResponse(oldR, old, time.Second); err != nil {
		t.Fatalf("first call: %v", err)
	}
	fresh, freshR := dial(t, sock)
	deadline := time.Now().Add(30 * time.Second)
	for {
		srv.mu.Lock()
		n := len(srv.conns)
		srv.mu.Unlock()
		if n == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d connections accepted, want 2", n)
		}
		time.Sleep(time.Millisecond)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	paused := make(chan error, 1)
	go func() { paused <- srv.Pause(ctx, context.Background()) }()

	// The served connection ends: Pause has looked at both connections.
	old.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, err := oldR.ReadByte(); err == nil {
		t.Fatal("the idle keep-alive connection was not closed by Pause")
	}
	if _, err := fresh.Write(rpcRequest(call("supervisor.getPID"))); err != nil {
		t.Fatalf("write on the fresh connection: %v", err)
	}
	resp, err := readResponse(freshR, fresh, time.Second)
	if err != nil {
		t.Fatalf("the fresh connection's call failed: %v (%q)", err, resp)
	}
	if got := statusLine(resp); got != "HTTP/1.1 200 OK" {
		t.Errorf("status %q", got)
	}
	if !strings.Contains(string(resp), "Connection: close") {
		t.Errorf("an answer while paused must close the connection:\n%s", resp)
	}
	if err := <-paused; err != nil {
		t.Fatalf("Pause: %v", err)
	}
	if err := <-served; !errors.Is(err, errPaused) {
		t.Fatalf("Serve returned %v, want errPaused", err)
	}

	srv.Resume()
	again, againR := dial(t, sock)
	if _, err := again.Write(rpcRequest(call("supervisor.getPID"))); err != nil {
		t.Fatal(err)
	}
	if _, err := readResponse(againR, again, time.Second); err != nil {
		t.Fatalf("call after Resume: %v", err)
	}
	sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer scancel()
	srv.Shutdown(sctx)
}
