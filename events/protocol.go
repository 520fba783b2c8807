package events

import (
	"bytes"
	"errors"
	"strconv"
)

// ListenerState is an event listener's protocol state
// (supervisor.states.EventListenerStates).
type ListenerState int

// The listener states, with Python's codes.
const (
	ListenerReady        ListenerState = 10
	ListenerBusy         ListenerState = 20
	ListenerAcknowledged ListenerState = 30 // the initial state
	ListenerUnknown      ListenerState = 40
)

// String returns Python's name of the state (READY, BUSY, ...).
func (s ListenerState) String() string {
	switch s {
	case ListenerReady:
		return "READY"
	case ListenerBusy:
		return "BUSY"
	case ListenerAcknowledged:
		return "ACKNOWLEDGED"
	case ListenerUnknown:
		return "UNKNOWN"
	}
	return "ListenerState(" + strconv.Itoa(int(s)) + ")"
}

// The protocol tokens of PEventListenerDispatcher.
var (
	readyToken       = []byte("READY\n")
	resultTokenStart = len("RESULT ")
)

// ErrRejected is returned by a ResultHandler to reject an event: the
// listener goes back to ACKNOWLEDGED and the event is put back at the head
// of its pool's buffer (Python's RejectEvent).
var ErrRejected = errors.New("event rejected")

// ResultHandler judges a listener's RESULT body, like an eventlistener's
// result_handler: nil accepts the event, ErrRejected (possibly wrapped)
// rejects it, any other error is "event caused an error" (the listener
// goes to UNKNOWN and the event is rebuffered).
type ResultHandler func(ev *Event, result []byte) error

// DefaultResultHandler is supervisor.dispatchers:default_handler: the body
// OK accepts, anything else rejects.
func DefaultResultHandler(_ *Event, result []byte) error {
	if string(result) != "OK" {
		return ErrRejected
	}
	return nil
}

// parsePyInt parses a RESULT length the way Python's int(bytes) does:
// surrounding ASCII whitespace, an optional sign, decimal digits with
// single underscores between them. Negative lengths are refused (Python
// would slice from the end; no listener sends them).
func parsePyInt(b []byte) (int, bool) {
	b = bytes.Trim(b, " \t\n\r\v\f")
	if len(b) > 0 && b[0] == '+' {
		b = b[1:]
	}
	if len(b) == 0 {
		return 0, false
	}
	digits := make([]byte, 0, len(b))
	for i, c := range b {
		switch {
		case c >= '0' && c <= '9':
			digits = append(digits, c)
		case c == '_' && i > 0 && i < len(b)-1 && b[i-1] != '_' && b[i+1] >= '0' && b[i+1] <= '9':
		default:
			return 0, false
		}
	}
	n, err := strconv.Atoi(string(digits))
	if err != nil {
		return 0, false
	}
	return n, true
}

// DefaultResultHandlerName is the result_handler default of an
// [eventlistener:x] section.
const DefaultResultHandlerName = "supervisor.dispatchers:default_handler"
