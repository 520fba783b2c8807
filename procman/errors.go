package procman

import "errors"

// The kinds of error a request to the Supervisor can end with. They are
// returned inside an *Error that names the subject; test for them with
// errors.Is. The rpc package chooses the XML-RPC fault from the kind.
var (
	ErrShuttingDown        = errors.New("supervisor is shutting down")
	ErrBadName             = errors.New("no such process or group")
	ErrBadSignal           = errors.New("bad signal")
	ErrNoFile              = errors.New("no such file")
	ErrNotExecutable       = errors.New("not executable")
	ErrSpawnError          = errors.New("spawn error")
	ErrAbnormalTermination = errors.New("exited before it was running")
	ErrAlreadyStarted      = errors.New("already started")
	ErrNotRunning          = errors.New("not running")
	ErrAlreadyAdded        = errors.New("group already added")
	ErrStillRunning        = errors.New("group still running")
	ErrFailed              = errors.New("failed")
)

// Error is a request that failed: Kind is one of the Err* values, Subject
// what Python's fault text carries after the fault name: the namespec,
// group name or signal as the caller gave it (possibly empty), or for
// ErrFailed, ErrNoFile and ErrNotExecutable the message. ErrShuttingDown
// has no subject.
type Error struct {
	Kind    error
	Subject string
}

// Error is "kind: subject".
func (e *Error) Error() string {
	if e.Kind == ErrShuttingDown {
		return e.Kind.Error()
	}
	return e.Kind.Error() + ": " + e.Subject
}

// Unwrap returns Kind, for errors.Is.
func (e *Error) Unwrap() error { return e.Kind }

func reqError(kind error, subject string) *Error { return &Error{Kind: kind, Subject: subject} }
