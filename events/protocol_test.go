package events

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

type step struct {
	feed    string // bytes the listener writes on stdout
	publish int    // this many REMOTE_COMMUNICATION events
	status  string // status(p) after the step
	got     []string
	logs    []string // every log line of the step (nil: none)
}

// runSteps drives one listener "l1" of pool "p" (buffer 10) that was
// spawned and is RUNNING, with two events (serials 0, 1) buffered.
func runSteps(t *testing.T, handler ResultHandler, steps []step) {
	h := newHarness(t)
	f := &fakeListener{name: "l1"}
	p, err := h.bus.AddPool(PoolConfig{Name: "p", Events: []Type{REMOTE_COMMUNICATION}, Listeners: []Listener{f},
		ResultHandler: handler})
	if err != nil {
		t.Fatal(err)
	}
	h.start(p, "l1")
	h.remote("a")
	h.remote("b")
	if got := status(p); got != "ACKNOWLEDGED | [0 1]" {
		t.Fatalf("setup: %s", got)
	}
	h.log.take()
	for i, s := range steps {
		if s.feed != "" {
			p.Feed("l1", 0, []byte(s.feed))
		}
		for range s.publish {
			h.remote("x")
		}
		if got := status(p); got != s.status {
			t.Errorf("step %d (%q): status %q, want %q", i, s.feed, got, s.status)
		}
		if got := serialsOf(f.received()); !slices.Equal(got, s.got) {
			t.Errorf("step %d (%q): listener got %q, want %q", i, s.feed, got, s.got)
		}
		if got := h.log.take(); !slices.Equal(got, s.logs) {
			t.Errorf("step %d (%q): logs\n%s\nwant\n%s", i, s.feed, strings.Join(got, "\n"), strings.Join(s.logs, "\n"))
		}
	}
}

const (
	logAckReady   = "DEBG l1: ACKNOWLEDGED -> READY"
	logBusyAck    = "DEBG l1: BUSY -> ACKNOWLEDGED"
	logProcessed  = "DEBG l1: event was processed"
	logRejected   = "WARN l1: event was rejected"
	logUnknownMsg = "WARN l1: has entered the UNKNOWN state and will no longer receive events, this usually indicates the process violated the eventlistener protocol"
)

func sent(serial int) string { return fmt.Sprintf("DEBG event %d sent to listener l1", serial) }

func TestListenerProtocol(t *testing.T) {
	for _, tc := range []struct {
		name    string
		handler ResultHandler
		steps   []step
	}{
		{name: "ready then ok", steps: []step{
			{feed: "READY\n", status: "BUSY[0] | [1]", got: []string{"0/0 REMOTE_COMMUNICATION"},
				logs: []string{logAckReady, sent(0)}},
			{feed: "RESULT 2\nOK", status: "ACKNOWLEDGED | [1]",
				logs: []string{logProcessed, logBusyAck}},
			{feed: "READY\n", status: "BUSY[1] | []", got: []string{"1/1 REMOTE_COMMUNICATION"},
				logs: []string{logAckReady, sent(1)}},
			{feed: "RESULT 2\nOK", status: "ACKNOWLEDGED | []", logs: []string{logProcessed, logBusyAck}},
			{feed: "READY\n", status: "READY | []", logs: []string{logAckReady}},
			{publish: 1, status: "BUSY[2] | []", got: []string{"2/2 REMOTE_COMMUNICATION"}, logs: []string{sent(2)}},
		}},
		{name: "partial writes", steps: []step{
			{feed: "R", status: "ACKNOWLEDGED | [0 1]"},
			{feed: "EADY", status: "ACKNOWLEDGED | [0 1]"},
			{feed: "\n", status: "BUSY[0] | [1]", got: []string{"0/0 REMOTE_COMMUNICATION"},
				logs: []string{logAckReady, sent(0)}},
			{feed: "RESU", status: "BUSY[0] | [1]"},
			{feed: "LT 2", status: "BUSY[0] | [1]"},
			{feed: "\nO", status: "BUSY[0] | [1]"},
			{feed: "K", status: "ACKNOWLEDGED | [1]", logs: []string{logProcessed, logBusyAck}},
			{feed: "READY", status: "ACKNOWLEDGED | [1]"},
			{feed: "\n", status: "BUSY[1] | []", got: []string{"1/1 REMOTE_COMMUNICATION"},
				logs: []string{logAckReady, sent(1)}},
		}},
		{name: "result and ready in one write", steps: []step{
			{feed: "READY\n", status: "BUSY[0] | [1]", got: []string{"0/0 REMOTE_COMMUNICATION"},
				logs: []string{logAckReady, sent(0)}},
			{feed: "RESULT 2\nOKREADY\n", status: "BUSY[1] | []", got: []string{"1/1 REMOTE_COMMUNICATION"},
				logs: []string{logProcessed, logBusyAck, logAckReady, sent(1)}},
			{feed: "RESULT 2\nOKREADY\n", status: "READY | []", logs: []string{logProcessed, logBusyAck, logAckReady}},
		}},
		{name: "rejected event goes back to the head", steps: []step{
			{feed: "READY\n", status: "BUSY[0] | [1]", got: []string{"0/0 REMOTE_COMMUNICATION"},
				logs: []string{logAckReady, sent(0)}},
			{feed: "RESULT 4\nFAIL", status: "ACKNOWLEDGED | [0 1]",
				logs: []string{logRejected, logBusyAck, "DEBG rebuffering event 0 for pool p (buf size=1, max=10)"}},
			{feed: "READY\n", status: "BUSY[0] | [1]", got: []string{"0/0 REMOTE_COMMUNICATION"},
				logs: []string{logAckReady, sent(0)}},
		}},
		{name: "empty result waits for more data, then rejects", steps: []step{
			{feed: "READY\n", status: "BUSY[0] | [1]", got: []string{"0/0 REMOTE_COMMUNICATION"},
				logs: []string{logAckReady, sent(0)}},
			{feed: "RESULT 0\n", status: "BUSY[0] | [1]"},
			{feed: "READY\n", status: "BUSY[0] | [1]", got: []string{"0/0 REMOTE_COMMUNICATION"},
				logs: []string{logRejected, logBusyAck, "DEBG rebuffering event 0 for pool p (buf size=1, max=10)",
					logAckReady, sent(0)}},
		}},
		{name: "result token text is not checked", steps: []step{
			{feed: "READY\n", status: "BUSY[0] | [1]", got: []string{"0/0 REMOTE_COMMUNICATION"},
				logs: []string{logAckReady, sent(0)}},
			{feed: "XXXXXX 2\nOK", status: "ACKNOWLEDGED | [1]", logs: []string{logProcessed, logBusyAck}},
		}},
		{name: "garbage instead of READY", steps: []step{
			{feed: "HELLO", status: "ACKNOWLEDGED | [0 1]"},
			{feed: "!", status: "UNKNOWN | [0 1]", logs: []string{"DEBG l1: ACKNOWLEDGED -> UNKNOWN", logUnknownMsg}},
			{feed: "READY\n", status: "UNKNOWN | [0 1]"},
			{publish: 1, status: "UNKNOWN | [0 1 2]"},
		}},
		{name: "output while READY", steps: []step{
			{feed: "READY\nRESULT 2\nOK", status: "UNKNOWN | [0 1]",
				logs: []string{logAckReady, "DEBG l1: READY -> UNKNOWN", logUnknownMsg}},
		}},
		{name: "output while READY with nothing buffered", steps: []step{
			{feed: "READY\n", status: "BUSY[0] | [1]", got: []string{"0/0 REMOTE_COMMUNICATION"},
				logs: []string{logAckReady, sent(0)}},
			{feed: "RESULT 2\nOKREADY\n", status: "BUSY[1] | []", got: []string{"1/1 REMOTE_COMMUNICATION"},
				logs: []string{logProcessed, logBusyAck, logAckReady, sent(1)}},
			{feed: "RESULT 2\nOKREADY\nx", status: "UNKNOWN | []",
				logs: []string{logProcessed, logBusyAck, logAckReady, "DEBG l1: READY -> UNKNOWN", logUnknownMsg}},
		}},
		{name: "bad result line rebuffers", steps: []step{
			{feed: "READY\n", status: "BUSY[0] | [1]", got: []string{"0/0 REMOTE_COMMUNICATION"},
				logs: []string{logAckReady, sent(0)}},
			{feed: "RESULT two\nOK", status: "UNKNOWN | [0 1]",
				logs: []string{"WARN l1: bad result line: 'RESULT two'", "DEBG l1: BUSY -> UNKNOWN", logUnknownMsg,
					"DEBG rebuffering event 0 for pool p (buf size=1, max=10)"}},
		}},
		{name: "undecodable bad result line", steps: []step{
			{feed: "READY\n", status: "BUSY[0] | [1]", got: []string{"0/0 REMOTE_COMMUNICATION"},
				logs: []string{logAckReady, sent(0)}},
			{feed: "RESULT \xff'\n", status: "UNKNOWN | [0 1]",
				logs: []string{`WARN l1: bad result line: 'Undecodable: b"RESULT \xff'"'`, "DEBG l1: BUSY -> UNKNOWN", logUnknownMsg,
					"DEBG rebuffering event 0 for pool p (buf size=1, max=10)"}},
		}},
		{name: "result handler error", handler: func(*Event, []byte) error { return fmt.Errorf("boom") }, steps: []step{
			{feed: "READY\n", status: "BUSY[0] | [1]", got: []string{"0/0 REMOTE_COMMUNICATION"},
				logs: []string{logAckReady, sent(0)}},
			{feed: "RESULT 2\nOK", status: "UNKNOWN | [0 1]",
				logs: []string{"WARN l1: event caused an error", "DEBG l1: BUSY -> UNKNOWN", logUnknownMsg,
					"DEBG rebuffering event 0 for pool p (buf size=1, max=10)"}},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) { runSteps(t, tc.handler, tc.steps) })
	}
}
