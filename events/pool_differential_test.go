package events

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestPoolMatchesPythonEventListenerPool replays random operation sequences
// (publish, listener output, exit, respawn, broken stdin) on a pool of two
// listeners with buffer_size 3 and compares, after each operation, with
// what Python 4.2.5's own EventListenerPool and PEventListenerDispatcher
// did (testdata/gen_pool.py): buffer, listener states, the envelopes each
// listener was sent (serial/poolserial) and the WARN/ERRO lines.
func TestPoolMatchesPythonEventListenerPool(t *testing.T) {
	var cases []struct {
		Ops   []string `json:"ops"`
		Steps []struct {
			Buffer    []int64  `json:"buffer"`
			Listeners []string `json:"listeners"`
			Logs      []string `json:"logs"`
		} `json:"steps"`
	}
	readJSON(t, "testdata/pool.golden.json", &cases)
	if len(cases) < 100 {
		t.Fatalf("only %d cases", len(cases))
	}
	for ci, c := range cases {
		t.Run(fmt.Sprint(ci), func(t *testing.T) {
			h := newHarness(t)
			p, fs := h.pool("p", 3, []Type{REMOTE_COMMUNICATION}, "l0", "l1")
			pids := []int{h.start(p, "l0"), h.start(p, "l1")}
			up := []bool{true, true}
			for si, op := range c.Ops {
				var i int
				var name string
				if _, err := fmt.Sscanf(strings.Replace(op, ":", " ", 1), "%s %d", &name, &i); err != nil {
					t.Fatalf("op %q: %v", op, err)
				}
				l := fmt.Sprintf("l%d", i)
				switch name {
				case "pub":
					h.remote("x")
				case "ready":
					p.Feed(l, pids[i], []byte("READY\n"))
				case "ok":
					p.Feed(l, pids[i], []byte("RESULT 2\nOK"))
				case "fail":
					p.Feed(l, pids[i], []byte("RESULT 4\nFAIL"))
				case "exit":
					h.transition("p", l, "RUNNING", "EXITED", pids[i])
					up[i] = false
				case "spawn":
					fs[i].setErr(nil)
					pids[i] = h.start(p, l)
					up[i] = true
				case "break":
					fs[i].setErr(errPipe)
				default:
					t.Fatalf("unknown op %q", op)
				}
				st := p.Status()
				want := c.Steps[si]
				var got []string
				for li, ls := range st.Listeners {
					updown := "down"
					if ls.Running {
						updown = "up"
					}
					got = append(got, fmt.Sprintf("%s %s %d %s", ls.State, updown, ls.Event,
						strings.Join(serialPairs(fs[li].received()), ",")))
				}
				buffered := st.Buffered
				if buffered == nil {
					buffered = []int64{}
				}
				if want.Buffer == nil {
					want.Buffer = []int64{}
				}
				var logs []string
				for _, line := range h.log.take() {
					if !strings.HasPrefix(line, "DEBG") {
						logs = append(logs, line)
					}
				}
				if !slices.Equal(got, want.Listeners) || !slices.Equal(buffered, want.Buffer) ||
					strings.Join(logs, "\n") != strings.Join(want.Logs, "\n") {
					t.Fatalf("after ops %v:\n got  %q buffer %v logs %q\n want %q buffer %v logs %q",
						c.Ops[:si+1], got, buffered, logs, want.Listeners, want.Buffer, want.Logs)
				}
			}
		})
	}
}

// serialPairs returns "serial/poolserial" of envelopes.
func serialPairs(envs []string) []string {
	var out []string
	for _, s := range serialsOf(envs) {
		out = append(out, strings.Fields(s)[0])
	}
	return out
}
