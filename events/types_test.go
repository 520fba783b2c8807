package events

import (
	"testing"
)

func TestTypeHierarchy(t *testing.T) {
	for _, tc := range []struct {
		t, sub Type
		want   bool
	}{
		{PROCESS_STATE_RUNNING, PROCESS_STATE, true},
		{PROCESS_STATE_RUNNING, EVENT, true},
		{PROCESS_STATE_RUNNING, PROCESS_STATE_RUNNING, true},
		{PROCESS_STATE_RUNNING, PROCESS_STATE_EXITED, false},
		{PROCESS_STATE, PROCESS_STATE_RUNNING, false},
		{PROCESS_LOG_STDERR, PROCESS_LOG, true},
		{PROCESS_LOG_STDERR, PROCESS_COMMUNICATION, false},
		{PROCESS_COMMUNICATION_STDOUT, PROCESS_COMMUNICATION, true},
		{REMOTE_COMMUNICATION, EVENT, true},
		{REMOTE_COMMUNICATION, PROCESS_COMMUNICATION, false},
		{SUPERVISOR_STATE_CHANGE_STOPPING, SUPERVISOR_STATE_CHANGE, true},
		{TICK_3600, TICK, true},
		{TICK_60, TICK_5, false},
		{PROCESS_GROUP_REMOVED, PROCESS_GROUP, true},
		{EVENT, EVENT, true},
		{Type(99), EVENT, false},
	} {
		if got := tc.t.Is(tc.sub); got != tc.want {
			t.Errorf("%v.Is(%v) = %v, want %v", tc.t, tc.sub, got, tc.want)
		}
	}
	abstract := map[Type]bool{EVENT: true, PROCESS_STATE: true, PROCESS_COMMUNICATION: true, PROCESS_LOG: true,
		SUPERVISOR_STATE_CHANGE: true, TICK: true, PROCESS_GROUP: true}
	if numTypes != 27 {
		t.Errorf("%d types, want Python's 27", numTypes)
	}
	for ty := Type(0); ty < numTypes; ty++ {
		if ty.Abstract() != abstract[ty] {
			t.Errorf("%v.Abstract() = %v", ty, ty.Abstract())
		}
		back, ok := TypeByName(ty.String())
		if !ok || back != ty {
			t.Errorf("TypeByName(%v) = %v, %v", ty, back, ok)
		}
	}
}

func TestParseEventTypes(t *testing.T) {
	for _, tc := range []struct {
		value string
		want  []Type
		err   string
	}{
		{"PROCESS_STATE", []Type{PROCESS_STATE}, ""},
		{"process_state_exited, tick_60 ,Tick_5", []Type{PROCESS_STATE_EXITED, TICK_60, TICK_5}, ""},
		{"TICK_5,tick_5", []Type{TICK_5}, ""},
		{"", nil, `[eventlistener:e] section requires an "events" line`},
		{"PROCESS_STATE,bogus", nil, "Unknown event type BOGUS in [eventlistener:e] events"},
		{"TICK_5,", nil, "Unknown event type  in [eventlistener:e] events"},
		{"EventRejectedEvent", nil, "Unknown event type EVENTREJECTEDEVENT in [eventlistener:e] events"},
	} {
		got, err := ParseEventTypes(tc.value, "eventlistener:e")
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("ParseEventTypes(%q) error = %v, want %q", tc.value, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseEventTypes(%q): %v", tc.value, err)
			continue
		}
		if len(got) != len(tc.want) {
			t.Errorf("ParseEventTypes(%q) = %v, want %v", tc.value, got, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("ParseEventTypes(%q) = %v, want %v", tc.value, got, tc.want)
			}
		}
	}
}

func TestParsePyInt(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want bool
	}{
		{"2", 2, true}, {" 2 ", 2, true}, {"+4", 4, true}, {"010", 10, true}, {"1_0", 10, true},
		{"", 0, false}, {"x", 0, false}, {"1__0", 0, false}, {"_1", 0, false}, {"1_", 0, false},
		{"-1", 0, false}, {"2 OK", 0, false}, {"99999999999999999999999", 0, false},
	} {
		n, ok := parsePyInt([]byte(tc.in))
		if ok != tc.want || (ok && n != tc.n) {
			t.Errorf("parsePyInt(%q) = %d, %v", tc.in, n, ok)
		}
	}
}
