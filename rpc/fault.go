package rpc

import (
	"errors"
	"fmt"

	"github.com/gosupervisor/gosupervisor/internal/faults"
	"github.com/gosupervisor/gosupervisor/logrot"
	"github.com/gosupervisor/gosupervisor/procman"
)

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
	s := faults.Name(code)
	if len(extra) > 0 {
		s += ": " + fmt.Sprint(extra...)
	}
	return &Fault{Code: code, String: s}
}

func (f *Fault) Error() string { return fmt.Sprintf("fault %d: %s", f.Code, f.String) }

// procmanFaults is the fault each kind of procman error is sent as; the
// fault text is the error's Subject.
var procmanFaults = map[error]int{
	procman.ErrBadName:             faults.BadName,
	procman.ErrBadSignal:           faults.BadSignal,
	procman.ErrNoFile:              faults.NoFile,
	procman.ErrNotExecutable:       faults.NotExecutable,
	procman.ErrSpawnError:          faults.SpawnError,
	procman.ErrAbnormalTermination: faults.AbnormalTermination,
	procman.ErrAlreadyStarted:      faults.AlreadyStarted,
	procman.ErrNotRunning:          faults.NotRunning,
	procman.ErrAlreadyAdded:        faults.AlreadyAdded,
	procman.ErrStillRunning:        faults.StillRunning,
	procman.ErrFailed:              faults.Failed,
}

// logFaults are the faults of logrot's read errors; like Python's
// readFile ValueError('BAD_ARGUMENTS'), they carry no text.
var logFaults = []struct {
	err  error
	code int
}{
	{logrot.ErrBadArguments, faults.BadArguments},
	{logrot.ErrNoFile, faults.NoFile},
	{logrot.ErrFailed, faults.Failed},
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
			return NewFault(faults.ShutdownState)
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
	return NewFault(faults.Failed, err.Error())
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
	return &Fault{Code: faults.Failed, String: fmt.Sprintf("FAILED: <class '%s'>:%s", e.class, e.msg)}
}
