package logrot

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// settleTimeout is far longer than any case below needs: a Settle that
// returns true before it was woken, never by running out of time.
const settleTimeout = time.Hour

// heldStream is a channel with one pipe of pid whose stream the test holds
// as a Hub worker would (busy), so a Settle started now must wait; the
// test serves it with the worker's own code (serve) when it chooses.
func heldStream(t *testing.T, pid int) (c *Channel, st *stream, w *os.File, path string) {
	t.Helper()
	h := NewHub(nil)
	t.Cleanup(func() { h.Close() })
	path = filepath.Join(t.TempDir(), "x.log")
	c, err := h.NewChannel(ChannelConfig{ProcessName: "x", GroupName: "x", Channel: "stdout", Path: path})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	c.Consume(r, pid)
	c.mu.Lock()
	for s := range c.streams {
		st = s
	}
	c.mu.Unlock()
	st.mu.Lock()
	if st.state != streamArmed {
		t.Fatalf("stream state %d after Consume, want armed", st.state)
	}
	st.state = streamBusy // what the poller's ready does
	st.mu.Unlock()
	return c, st, w, path
}

// settleWaiting starts Settle in a goroutine and returns once it waits.
func settleWaiting(t *testing.T, c *Channel, pid int) <-chan bool {
	t.Helper()
	done := make(chan bool, 1)
	go func() { done <- c.Settle(pid, settleTimeout) }()
	for c.wake.waiters.Load() == 0 {
		select {
		case ok := <-done:
			t.Fatalf("Settle returned %v while the stream was busy", ok)
		default:
		}
		time.Sleep(100 * time.Microsecond)
	}
	return done
}

func settleResult(t *testing.T, done <-chan bool) {
	t.Helper()
	select {
	case ok := <-done:
		if !ok {
			t.Fatal("Settle timed out")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Settle was not woken")
	}
}

// TestSettleWokenByEOF: a Settle waiting while the child's last output is
// being handled returns, true, when the pipe reaches EOF and the stream
// ends, with the output in the file.
func TestSettleWokenByEOF(t *testing.T) {
	c, st, w, path := heldStream(t, 7)
	done := settleWaiting(t, c, 7)
	if _, err := w.WriteString("last words\n"); err != nil {
		t.Fatal(err)
	}
	w.Close() // the child exits
	c.serve(st)
	settleResult(t, done)
	if b, _ := os.ReadFile(path); string(b) != "last words\n" {
		t.Fatalf("file holds %q when Settle returned", b)
	}
	if n := c.wake.waiters.Load(); n != 0 {
		t.Fatalf("%d waiters left", n)
	}
}

// TestSettleWokenWhenIdle: a grandchild keeps the pipe open, so it never
// reaches EOF; a waiting Settle returns once what was written is handled
// and the stream is back, idle, in the poller.
func TestSettleWokenWhenIdle(t *testing.T) {
	c, st, w, path := heldStream(t, 8) // w stays open: the grandchild's copy
	done := settleWaiting(t, c, 8)
	if _, err := w.WriteString("child's last words\n"); err != nil {
		t.Fatal(err)
	}
	c.serve(st)
	settleResult(t, done)
	if b, _ := os.ReadFile(path); string(b) != "child's last words\n" {
		t.Fatalf("file holds %q when Settle returned", b)
	}
	if !c.Settle(99, settleTimeout) {
		t.Fatal("Settle of a pid without streams did not return true")
	}
}

// TestSettleBounded: a stream that stays busy makes Settle give up after
// its timeout and say so.
func TestSettleBounded(t *testing.T) {
	c, st, _, _ := heldStream(t, 9)
	if c.Settle(9, 10*time.Millisecond) {
		t.Fatal("Settle reported a busy stream settled")
	}
	c.serve(st) // hand it back for Close
}

// TestSettleWake: a waiter's channel is closed by the next notify, and a
// notify with nobody waiting makes no channel (the capture path pays one
// atomic load).
func TestSettleWake(t *testing.T) {
	var w settleWake
	w.notify()
	if w.ch != nil {
		t.Fatal("notify without waiters made a channel")
	}
	w.waiters.Add(1)
	ch := w.next()
	if w.next() != ch {
		t.Fatal("next changed without a notify")
	}
	select {
	case <-ch:
		t.Fatal("closed before notify")
	default:
	}
	w.notify()
	select {
	case <-ch:
	default:
		t.Fatal("notify did not close the waiter's channel")
	}
	if w.next() == ch {
		t.Fatal("next returned a closed channel")
	}
}

// TestSettleNotifyWithoutWaiters: streams that end and are armed with
// nobody waiting make no wake-up channel.
func TestSettleNotifyWithoutWaiters(t *testing.T) {
	h := NewHub(nil)
	defer h.Close()
	c, err := h.NewChannel(ChannelConfig{ProcessName: "x", Channel: "stdout", Path: filepath.Join(t.TempDir(), "x.log")})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		c.Consume(r, 20+i)
		w.WriteString("x\n")
		w.Close()
	}
	c.Wait()
	c.wake.mu.Lock()
	made := c.wake.ch != nil
	c.wake.mu.Unlock()
	if made {
		t.Fatal("a wake-up channel was made with no Settle waiting")
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
}
