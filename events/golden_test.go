package events

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"
)

// goldenCase is one input of testdata/cases.json (also read by
// testdata/gen_golden.py, which rendered the expected envelopes with
// Python supervisor 4.2.5's own classes).
type goldenCase struct {
	Name     string `json:"name"`
	Kind     string `json:"kind"`
	Process  string `json:"process"`
	Group    string `json:"group"`
	From     string `json:"from"`
	To       string `json:"to"`
	Tries    int    `json:"tries"`
	PID      int    `json:"pid"`
	Expected *bool  `json:"expected"`
	Channel  string `json:"channel"`
	DataHex  string `json:"data_hex"`
	Type     string `json:"type"`
	Data     string `json:"data"`
	Running  bool   `json:"running"`
	When     int64  `json:"when"`
	Added    bool   `json:"added"`
}

type goldenEnvelope struct {
	Name       string `json:"name"`
	Identifier string `json:"identifier"`
	Pool       string `json:"pool"`
	Serial     int64  `json:"serial"`
	PoolSerial int64  `json:"poolserial"`
	Envelope   string `json:"envelope"`
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func buildEvent(t *testing.T, c goldenCase) *Event {
	t.Helper()
	data, err := hex.DecodeString(c.DataHex)
	if err != nil {
		t.Fatal(err)
	}
	var ev *Event
	switch c.Kind {
	case "state":
		expected := c.Expected == nil || *c.Expected
		ev, err = NewStateEvent(StateChange{Process: c.Process, Group: c.Group, From: c.From, To: c.To,
			PID: c.PID, Tries: c.Tries, Expected: expected})
	case "log":
		ev, err = NewLogEvent(c.Channel, c.Process, c.Group, c.PID, data)
	case "comm":
		ev, err = NewCommunicationEvent(c.Channel, c.Process, c.Group, c.PID, data)
	case "remote":
		ev = NewRemoteCommunicationEvent(c.Type, c.Data)
	case "supervisor":
		ev = NewSupervisorStateEvent(c.Running)
	case "tick":
		typ, ok := TypeByName(c.Type)
		if !ok {
			t.Fatalf("bad tick type %q", c.Type)
		}
		ev, err = NewTickEvent(typ, c.When)
	case "group":
		ev = NewGroupEvent(c.Group, c.Added)
	default:
		t.Fatalf("unknown kind %q", c.Kind)
	}
	if err != nil {
		t.Fatalf("%s: %v", c.Name, err)
	}
	return ev
}

func TestEnvelopesMatchPython(t *testing.T) {
	var cases []goldenCase
	var golden []goldenEnvelope
	readJSON(t, "testdata/cases.json", &cases)
	readJSON(t, "testdata/envelopes.golden.json", &golden)
	if len(cases) != len(golden) || len(cases) < 30 {
		t.Fatalf("%d cases, %d golden envelopes: regenerate with testdata/gen_golden.py", len(cases), len(golden))
	}
	for i, c := range cases {
		g := golden[i]
		t.Run(c.Name, func(t *testing.T) {
			if g.Name != c.Name {
				t.Fatalf("golden %d is %q, want %q", i, g.Name, c.Name)
			}
			ev := buildEvent(t, c)
			got := ev.Envelope(g.Identifier, g.Serial, g.Pool, g.PoolSerial, false)
			if got != g.Envelope {
				t.Errorf("envelope\n got %q\nwant %q", got, g.Envelope)
			}
		})
	}
}

func TestEnvelopeByteLength(t *testing.T) {
	ev := NewRemoteCommunicationEvent("mytype", "my data é")
	if got, want := ev.Envelope("s", 1, "p", 2, false), "ver:3.0 server:s serial:1 pool:p poolserial:2 eventname:REMOTE_COMMUNICATION len:21\ntype:mytype\nmy data é"; got != want {
		t.Errorf("character length: got %q want %q", got, want)
	}
	if got, want := ev.Envelope("s", 1, "p", 2, true), "ver:3.0 server:s serial:1 pool:p poolserial:2 eventname:REMOTE_COMMUNICATION len:22\ntype:mytype\nmy data é"; got != want {
		t.Errorf("byte length: got %q want %q", got, want)
	}
}

func TestEventConstructorErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  func() error
	}{
		{"bad to", func() error {
			_, err := NewStateEvent(StateChange{Process: "x", From: "STOPPED", To: "NOPE"})
			return err
		}},
		{"bad from", func() error {
			_, err := NewStateEvent(StateChange{Process: "x", From: "nope", To: "RUNNING"})
			return err
		}},
		{"bad log channel", func() error { _, err := NewLogEvent("stdin", "x", "g", 1, nil); return err }},
		{"bad comm channel", func() error { _, err := NewCommunicationEvent("", "x", "g", 1, nil); return err }},
		{"not a tick", func() error { _, err := NewTickEvent(TICK, 5); return err }},
	} {
		if tc.err() == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}

func TestTimesliceNegative(t *testing.T) {
	// Python: int(-7 - (-7 % 5)) == -10
	if got := timeslice(5, -7); got != -10 {
		t.Errorf("timeslice(5,-7) = %d, want -10", got)
	}
}
