package events

import (
	"fmt"
	"slices"
	"strings"
)

// Type is an event type of supervisor.events.EventTypes. Abstract types
// (EVENT, PROCESS_STATE, ...) are only subscribed to, never raised.
type Type int

// The event types, with Python's names.
const (
	EVENT Type = iota
	PROCESS_STATE
	PROCESS_STATE_STOPPED
	PROCESS_STATE_EXITED
	PROCESS_STATE_STARTING
	PROCESS_STATE_STOPPING
	PROCESS_STATE_BACKOFF
	PROCESS_STATE_FATAL
	PROCESS_STATE_RUNNING
	PROCESS_STATE_UNKNOWN
	PROCESS_COMMUNICATION
	PROCESS_COMMUNICATION_STDOUT
	PROCESS_COMMUNICATION_STDERR
	PROCESS_LOG
	PROCESS_LOG_STDOUT
	PROCESS_LOG_STDERR
	REMOTE_COMMUNICATION
	SUPERVISOR_STATE_CHANGE
	SUPERVISOR_STATE_CHANGE_RUNNING
	SUPERVISOR_STATE_CHANGE_STOPPING
	TICK
	TICK_5
	TICK_60
	TICK_3600
	PROCESS_GROUP
	PROCESS_GROUP_ADDED
	PROCESS_GROUP_REMOVED
	numTypes
)

type typeInfo struct {
	name     string
	parent   Type // EVENT's parent is itself
	abstract bool
}

var typeTable = [numTypes]typeInfo{
	EVENT:                            {"EVENT", EVENT, true},
	PROCESS_STATE:                    {"PROCESS_STATE", EVENT, true},
	PROCESS_STATE_STOPPED:            {"PROCESS_STATE_STOPPED", PROCESS_STATE, false},
	PROCESS_STATE_EXITED:             {"PROCESS_STATE_EXITED", PROCESS_STATE, false},
	PROCESS_STATE_STARTING:           {"PROCESS_STATE_STARTING", PROCESS_STATE, false},
	PROCESS_STATE_STOPPING:           {"PROCESS_STATE_STOPPING", PROCESS_STATE, false},
	PROCESS_STATE_BACKOFF:            {"PROCESS_STATE_BACKOFF", PROCESS_STATE, false},
	PROCESS_STATE_FATAL:              {"PROCESS_STATE_FATAL", PROCESS_STATE, false},
	PROCESS_STATE_RUNNING:            {"PROCESS_STATE_RUNNING", PROCESS_STATE, false},
	PROCESS_STATE_UNKNOWN:            {"PROCESS_STATE_UNKNOWN", PROCESS_STATE, false},
	PROCESS_COMMUNICATION:            {"PROCESS_COMMUNICATION", EVENT, true},
	PROCESS_COMMUNICATION_STDOUT:     {"PROCESS_COMMUNICATION_STDOUT", PROCESS_COMMUNICATION, false},
	PROCESS_COMMUNICATION_STDERR:     {"PROCESS_COMMUNICATION_STDERR", PROCESS_COMMUNICATION, false},
	PROCESS_LOG:                      {"PROCESS_LOG", EVENT, true},
	PROCESS_LOG_STDOUT:               {"PROCESS_LOG_STDOUT", PROCESS_LOG, false},
	PROCESS_LOG_STDERR:               {"PROCESS_LOG_STDERR", PROCESS_LOG, false},
	REMOTE_COMMUNICATION:             {"REMOTE_COMMUNICATION", EVENT, false},
	SUPERVISOR_STATE_CHANGE:          {"SUPERVISOR_STATE_CHANGE", EVENT, true},
	SUPERVISOR_STATE_CHANGE_RUNNING:  {"SUPERVISOR_STATE_CHANGE_RUNNING", SUPERVISOR_STATE_CHANGE, false},
	SUPERVISOR_STATE_CHANGE_STOPPING: {"SUPERVISOR_STATE_CHANGE_STOPPING", SUPERVISOR_STATE_CHANGE, false},
	TICK:                             {"TICK", EVENT, true},
	TICK_5:                           {"TICK_5", TICK, false},
	TICK_60:                          {"TICK_60", TICK, false},
	TICK_3600:                        {"TICK_3600", TICK, false},
	PROCESS_GROUP:                    {"PROCESS_GROUP", EVENT, true},
	PROCESS_GROUP_ADDED:              {"PROCESS_GROUP_ADDED", PROCESS_GROUP, false},
	PROCESS_GROUP_REMOVED:            {"PROCESS_GROUP_REMOVED", PROCESS_GROUP, false},
}

func (t Type) valid() bool { return t >= 0 && t < numTypes }

// String returns the type's Python name (PROCESS_STATE_RUNNING, ...).
func (t Type) String() string {
	if !t.valid() {
		return fmt.Sprintf("Type(%d)", int(t))
	}
	return typeTable[t].name
}

// Abstract reports whether t is only subscribable (EVENT, PROCESS_STATE,
// PROCESS_COMMUNICATION, PROCESS_LOG, SUPERVISOR_STATE_CHANGE, TICK,
// PROCESS_GROUP): no event of that exact type is ever raised.
func (t Type) Abstract() bool { return t.valid() && typeTable[t].abstract }

// Parent returns the type t derives from (EVENT for EVENT).
func (t Type) Parent() Type {
	if !t.valid() {
		return EVENT
	}
	return typeTable[t].parent
}

// Is reports whether t is sub or one of its subtypes, the way Python's
// isinstance(event, sub) matches a subscription.
func (t Type) Is(sub Type) bool {
	if !t.valid() || !sub.valid() {
		return false
	}
	for {
		if t == sub {
			return true
		}
		if t == EVENT {
			return false
		}
		t = typeTable[t].parent
	}
}

// TypeByName returns the type named name, case-insensitively.
func TypeByName(name string) (Type, bool) {
	up := strings.ToUpper(name)
	for i := range typeTable {
		if typeTable[i].name == up {
			return Type(i), true
		}
	}
	return 0, false
}

// ParseEventType parses one name of an [eventlistener:x] events= line,
// case-insensitively, failing with Python's message.
func ParseEventType(name, section string) (Type, error) {
	t, ok := TypeByName(name)
	if !ok {
		//lint:ignore ST1005 Python's exact message, shown to users of config validation
		return 0, fmt.Errorf("Unknown event type %s in [%s] events", strings.ToUpper(name), section)
	}
	return t, nil
}

// ParseEventTypes parses an events= value like Python's options.py: names
// split on commas and stripped (an empty name between commas is an unknown
// type, as in Python), upper-cased, duplicates dropped (first occurrence
// order kept).
func ParseEventTypes(value, section string) ([]Type, error) {
	if value == "" {
		return nil, fmt.Errorf("[%s] section requires an \"events\" line", section)
	}
	var out []Type
	for _, f := range strings.Split(value, ",") {
		t, err := ParseEventType(strings.TrimSpace(f), section)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out, nil
}
