package events

import (
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestProtocolMatchesPythonDispatcher replays listener output streams
// through a pool and compares, chunk by chunk, with what Python 4.2.5's own
// PEventListenerDispatcher did on the same chunks (testdata/gen_protocol.py).
func TestProtocolMatchesPythonDispatcher(t *testing.T) {
	var cases []struct {
		Chunks []string `json:"chunks"`
		Steps  []struct {
			State string   `json:"state"`
			Event int64    `json:"event"`
			Queue []int64  `json:"queue"`
			Logs  []string `json:"logs"`
		} `json:"steps"`
	}
	readJSON(t, "testdata/protocol.golden.json", &cases)
	if len(cases) < 100 {
		t.Fatalf("only %d cases", len(cases))
	}
	for ci, c := range cases {
		t.Run(fmt.Sprint(ci), func(t *testing.T) {
			h := newHarness(t)
			p, _ := h.pool("p", 100, []Type{REMOTE_COMMUNICATION}, "l1")
			pid := h.start(p, "l1")
			for range 6 {
				h.remote("x")
			}
			h.bus.Sync()
			h.log.take()
			for si, chunk := range c.Chunks {
				data, err := hex.DecodeString(chunk)
				if err != nil {
					t.Fatal(err)
				}
				p.Feed("l1", pid, data)
				st := p.Status()
				want := c.Steps[si]
				l := st.Listeners[0]
				buffered := st.Buffered
				if buffered == nil {
					buffered = []int64{}
				}
				if want.Queue == nil {
					want.Queue = []int64{}
				}
				if l.State.String() != want.State || l.Event != want.Event || !slices.Equal(buffered, want.Queue) {
					t.Fatalf("chunk %d %q: state %s event %d buffer %v; Python: %s %d %v (chunks %q)",
						si, data, l.State, l.Event, buffered, want.State, want.Event, want.Queue, c.Chunks)
				}
				var logs []string
				for _, line := range h.log.take() {
					if strings.HasPrefix(line[5:], "l1: ") { // the dispatcher's lines
						logs = append(logs, line)
					}
				}
				if !slices.Equal(logs, want.Logs) && !(len(logs) == 0 && len(want.Logs) == 0) {
					t.Fatalf("chunk %d %q: logs\n%s\nPython:\n%s", si, data,
						strings.Join(logs, "\n"), strings.Join(want.Logs, "\n"))
				}
			}
		})
	}
}
