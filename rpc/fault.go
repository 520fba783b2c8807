package rpc

import (
	"errors"
	"fmt"

	"github.com/gosupervisor/gosupervisor/logrot"
	"github.com/gosupervisor/gosupervisor/procman"
)

// Fault codes of supervisor 4.2.5 (supervisor.xmlrpc.Faults).
const (
	UnknownMethod        = 1
	IncorrectParameters  = 2
	BadArguments         = 3
	SignatureUnsupported = 4
	ShutdownState        = 6
	BadName              = 10
	BadSignal            = 11
	NoFile               = 20
	NotExecutable        = 21
	Failed               = 30
	AbnormalTermination  = 40
	SpawnError           = 50
	AlreadyStarted       = 60
	NotRunning           = 70
	Success              = 80
	AlreadyAdded         = 90
	StillRunning         = 91
	CantReread           = 92
)

var faultNames = map[int]string{
	UnknownMethod:        "UNKNOWN_METHOD",
	IncorrectParameters:  "INCORRECT_PARAMETERS",
	BadArguments:         "BAD_ARGUMENTS",
	SignatureUnsupported: "SIGNATURE_UNSUPPORTED",
	ShutdownState:        "SHUTDOWN_STATE",
	BadName:              "BAD_NAME",
	BadSignal:            "BAD_SIGNAL",
	NoFile:               "NO_FILE",
	NotExecutable:        "NOT_EXECUTABLE",
	Failed:               "FAILED",
	AbnormalTermination:  "ABNORMAL_TERMINATION",
	SpawnError:           "SPAWN_ERROR",
	AlreadyStarted:       "ALREADY_STARTED",
	NotRunning:           "NOT_RUNNING",
	Success:              "SUCCESS",
	AlreadyAdded:         "ALREADY_ADDED",
	StillRunning:         "STILL_RUNNING",
	CantReread:           "CANT_REREAD",
}

// FaultName returns the symbolic name of a fault code, or "UNKNOWN" for an
// unlisted code, as Python's getFaultDescription does.
func FaultName(code int) string {
	if n, ok := faultNames[code]; ok {
		return n
	}
	return "UNKNOWN"
}

// Fault is an XML-RPC fault: a code and the full fault string
// ("NAME" or "NAME: extra").
type Fault struct {
	Code   int
	String string
}

// NewFault builds a Fault the way Python's RPCError does: the string is the
// code's name, followed by ": extra" when extra is given (even when it is
// empty: RPCError(BAD_NAME, "") is "BAD_NAME: ").
func NewFault(code int, extra ...any) *Fault {
	s := FaultName(code)
	if len(extra) > 0 {
		s += ": " + fmt.Sprint(extra...)
	}
	return &Fault{Code: code, String: s}
}

func (f *Fault) Error() string { return fmt.Sprintf("fault %d: %s", f.Code, f.String) }

// procmanFaults is the fault each kind of procman error is sent as; the
// fault text is the error's Subject.
var procmanFaults = map[error]int{
	procman.ErrBadName:             BadName,
	procman.ErrBadSignal:           BadSignal,
	procman.ErrNoFile:              NoFile,
	procman.ErrNotExecutable:       NotExecutable,
	procman.ErrSpawnError:          SpawnError,
	procman.ErrAbnormalTermination: AbnormalTermination,
	procman.ErrAlreadyStarted:      AlreadyStarted,
	procman.ErrNotRunning:          NotRunning,
	procman.ErrAlreadyAdded:        AlreadyAdded,
	procman.ErrStillRunning:        StillRunning,
	procman.ErrFailed:              Failed,
}

// logFaults are the faults of logrot's read errors; like Python's
// readFile ValueError('BAD_ARGUMENTS'), they carry no text.
var logFaults = []struct {
	err  error
	code int
}{
	{logrot.ErrBadArguments, BadArguments},
	{logrot.ErrNoFile, NoFile},
	{logrot.ErrFailed, Failed},
}

// AsFault chooses the fault for err from its type: a *Fault in the chain is
// sent as it is; a *procman.Error by its Kind, with its Subject as the text
// (SHUTDOWN_STATE has none); logrot's read errors by kind, with no text;
// anything else is FAILED with the error's text.
func AsFault(err error) *Fault {
	if err == nil {
		return nil
	}
	var f *Fault
	if errors.As(err, &f) {
		return f
	}
	var pe *procman.Error
	if errors.As(err, &pe) {
		if pe.Kind == procman.ErrShuttingDown {
			return NewFault(ShutdownState)
		}
		if code, ok := procmanFaults[pe.Kind]; ok {
			return NewFault(code, pe.Subject)
		}
	}
	for _, lf := range logFaults {
		if errors.Is(err, lf.err) {
			return NewFault(lf.code)
		}
	}
	return NewFault(Failed, err.Error())
}

// pyError stands for a non-RPC Python exception (ValueError, TypeError,
// AttributeError...). At the top level Python answers these with HTTP 500;
// inside system.multicall they become FAILED faults.
type pyError struct {
	class string // e.g. "ValueError"
	msg   string
}

func (e *pyError) Error() string { return fmt.Sprintf("%s: %s", e.class, e.msg) }

// multicallFault renders a pyError as multicall does: FAILED: <class 'X'>:msg.
func (e *pyError) multicallFault() *Fault {
	return &Fault{Code: Failed, String: fmt.Sprintf("FAILED: <class '%s'>:%s", e.class, e.msg)}
}
