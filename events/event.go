package events

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gosupervisor/gosupervisor/internal/pyrepr"
)

// Event is one raised event: a concrete type and its payload, rendered once
// when the event is created (Python freezes pid/tries/expected at creation
// and the rest never changes). Events are immutable and shared by the pools
// that accept them.
type Event struct {
	typ     Type
	payload string

	// For PROCESS_STATE_* events: who changed state, so a Bus can follow
	// its own listeners.
	process, group string
	pid            int
}

// Type returns the event's concrete type.
func (e *Event) Type() Type { return e.typ }

// Name returns the event's type name, as in the envelope's eventname:.
func (e *Event) Name() string { return e.typ.String() }

// Payload returns the payload text exactly as Python renders it.
func (e *Event) Payload() string { return e.payload }

// processStates are the process state names of supervisor.states, for
// from_state and for mapping a transition's target to its event type.
var processStates = map[string]Type{
	"STOPPED":  PROCESS_STATE_STOPPED,
	"STARTING": PROCESS_STATE_STARTING,
	"RUNNING":  PROCESS_STATE_RUNNING,
	"BACKOFF":  PROCESS_STATE_BACKOFF,
	"STOPPING": PROCESS_STATE_STOPPING,
	"EXITED":   PROCESS_STATE_EXITED,
	"FATAL":    PROCESS_STATE_FATAL,
	"UNKNOWN":  PROCESS_STATE_UNKNOWN,
}

// StateChange describes one process state transition with plain fields, as
// procman publishes it. From and To are Python's state names (RUNNING, ...).
type StateChange struct {
	Process  string // the process name (program name, or numprocs name)
	Group    string // its group name ("" for none)
	From, To string
	PID      int  // pid at the time of the change (the old pid for EXITED/STOPPED)
	Tries    int  // the backoff counter (STARTING and BACKOFF show it)
	Expected bool // EXITED only: the exit status was expected
}

// NewStateEvent returns the PROCESS_STATE_<To> event of a transition, with
// Python's payload:
//
//	STARTING, BACKOFF:          processname:X groupname:G from_state:S tries:N
//	RUNNING, STOPPING, STOPPED: processname:X groupname:G from_state:S pid:N
//	EXITED:                     processname:X groupname:G from_state:S expected:0|1 pid:N
//	FATAL, UNKNOWN:             processname:X groupname:G from_state:S
func NewStateEvent(sc StateChange) (*Event, error) {
	typ, ok := processStates[sc.To]
	if !ok {
		return nil, fmt.Errorf("state event for %s: unknown target state %q", sc.Process, sc.To)
	}
	if _, ok := processStates[sc.From]; !ok {
		return nil, fmt.Errorf("state event for %s: unknown source state %q", sc.Process, sc.From)
	}
	var b strings.Builder
	b.WriteString("processname:")
	b.WriteString(sc.Process)
	b.WriteString(" groupname:")
	b.WriteString(sc.Group)
	b.WriteString(" from_state:")
	b.WriteString(sc.From)
	switch typ {
	case PROCESS_STATE_STARTING, PROCESS_STATE_BACKOFF:
		b.WriteString(" tries:")
		b.WriteString(strconv.Itoa(sc.Tries))
	case PROCESS_STATE_RUNNING, PROCESS_STATE_STOPPING, PROCESS_STATE_STOPPED:
		b.WriteString(" pid:")
		b.WriteString(strconv.Itoa(sc.PID))
	case PROCESS_STATE_EXITED:
		b.WriteString(" expected:")
		if sc.Expected {
			b.WriteString("1")
		} else {
			b.WriteString("0")
		}
		b.WriteString(" pid:")
		b.WriteString(strconv.Itoa(sc.PID))
	}
	return &Event{typ: typ, payload: b.String(), process: sc.Process, group: sc.Group, pid: sc.PID}, nil
}

// channelType maps an output channel to the event type of a kind.
func channelType(channel string, stdout, stderr Type) (Type, error) {
	switch channel {
	case "stdout":
		return stdout, nil
	case "stderr":
		return stderr, nil
	}
	return 0, fmt.Errorf("unknown channel %q (want stdout or stderr)", channel)
}

// NewLogEvent returns a PROCESS_LOG_STDOUT or PROCESS_LOG_STDERR event:
// "processname:X groupname:G pid:N channel:C\n<data>".
func NewLogEvent(channel, process, group string, pid int, data []byte) (*Event, error) {
	typ, err := channelType(channel, PROCESS_LOG_STDOUT, PROCESS_LOG_STDERR)
	if err != nil {
		return nil, fmt.Errorf("log event for %s: %w", process, err)
	}
	p := "processname:" + process + " groupname:" + group + " pid:" + strconv.Itoa(pid) +
		" channel:" + channel + "\n" + pyrepr.DecodedOrUndecodable(data)
	return &Event{typ: typ, payload: p}, nil
}

// NewCommunicationEvent returns a PROCESS_COMMUNICATION_STDOUT or _STDERR
// event: "processname:X groupname:G pid:N\n<data>".
func NewCommunicationEvent(channel, process, group string, pid int, data []byte) (*Event, error) {
	typ, err := channelType(channel, PROCESS_COMMUNICATION_STDOUT, PROCESS_COMMUNICATION_STDERR)
	if err != nil {
		return nil, fmt.Errorf("communication event for %s: %w", process, err)
	}
	p := "processname:" + process + " groupname:" + group + " pid:" + strconv.Itoa(pid) +
		"\n" + pyrepr.DecodedOrUndecodable(data)
	return &Event{typ: typ, payload: p}, nil
}

// NewRemoteCommunicationEvent returns the REMOTE_COMMUNICATION event of
// supervisor.sendRemoteCommEvent(type, data): "type:T\n<data>".
func NewRemoteCommunicationEvent(typ, data string) *Event {
	return &Event{typ: REMOTE_COMMUNICATION, payload: "type:" + typ + "\n" + data}
}

// NewSupervisorStateEvent returns SUPERVISOR_STATE_CHANGE_RUNNING (running)
// or SUPERVISOR_STATE_CHANGE_STOPPING, with an empty payload.
func NewSupervisorStateEvent(running bool) *Event {
	if running {
		return &Event{typ: SUPERVISOR_STATE_CHANGE_RUNNING}
	}
	return &Event{typ: SUPERVISOR_STATE_CHANGE_STOPPING}
}

// tickPeriods are the periods of TICK_5, TICK_60 and TICK_3600, in the
// order Python raises them.
var tickPeriods = []struct {
	typ    Type
	period int64
}{{TICK_5, 5}, {TICK_60, 60}, {TICK_3600, 3600}}

// TickPeriod returns the period in seconds of TICK_5, TICK_60 or TICK_3600.
func TickPeriod(t Type) (int64, bool) {
	for _, p := range tickPeriods {
		if p.typ == t {
			return p.period, true
		}
	}
	return 0, false
}

// timeslice is supervisord.timeslice: when rounded down to a multiple of
// period (floor, also for times before the epoch, as Python's % does).
func timeslice(period, when int64) int64 {
	m := when % period
	if m < 0 {
		m += period
	}
	return when - m
}

// NewTickEvent returns a TICK_5, TICK_60 or TICK_3600 event for the time
// slice containing when: "when:<unix seconds rounded down to the period>".
func NewTickEvent(t Type, when int64) (*Event, error) {
	period, ok := TickPeriod(t)
	if !ok {
		return nil, fmt.Errorf("%s is not a tick event type", t)
	}
	return &Event{typ: t, payload: "when:" + strconv.FormatInt(timeslice(period, when), 10)}, nil
}

// NewGroupEvent returns PROCESS_GROUP_ADDED (added) or
// PROCESS_GROUP_REMOVED: "groupname:G\n".
func NewGroupEvent(group string, added bool) *Event {
	typ := PROCESS_GROUP_REMOVED
	if added {
		typ = PROCESS_GROUP_ADDED
	}
	return &Event{typ: typ, payload: "groupname:" + group + "\n"}
}

// Envelope renders what a listener reads on its stdin:
//
//	ver:3.0 server:<id> serial:<n> pool:<pool> poolserial:<n> eventname:<NAME> len:<n>\n<payload>
//
// len is the payload length in characters, as Python's len(str) counts,
// unless byteLength is set (then it is the UTF-8 byte length, which is what
// a listener reading len bytes needs).
func (e *Event) Envelope(identifier string, serial int64, pool string, poolSerial int64, byteLength bool) string {
	n := utf8.RuneCountInString(e.payload)
	if byteLength {
		n = len(e.payload)
	}
	return "ver:3.0 server:" + identifier + " serial:" + strconv.FormatInt(serial, 10) +
		" pool:" + pool + " poolserial:" + strconv.FormatInt(poolSerial, 10) +
		" eventname:" + e.typ.String() + " len:" + strconv.Itoa(n) + "\n" + e.payload
}
