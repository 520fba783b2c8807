package rpc

import (
	"errors"
	"fmt"
	"strings"
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

// faultName maps a code to its name ("" when unlisted).
func faultName(code int) string {
	switch code {
	case UnknownMethod:
		return "UNKNOWN_METHOD"
	case IncorrectParameters:
		return "INCORRECT_PARAMETERS"
	case BadArguments:
		return "BAD_ARGUMENTS"
	case SignatureUnsupported:
		return "SIGNATURE_UNSUPPORTED"
	case ShutdownState:
		return "SHUTDOWN_STATE"
	case BadName:
		return "BAD_NAME"
	case BadSignal:
		return "BAD_SIGNAL"
	case NoFile:
		return "NO_FILE"
	case NotExecutable:
		return "NOT_EXECUTABLE"
	case Failed:
		return "FAILED"
	case AbnormalTermination:
		return "ABNORMAL_TERMINATION"
	case SpawnError:
		return "SPAWN_ERROR"
	case AlreadyStarted:
		return "ALREADY_STARTED"
	case NotRunning:
		return "NOT_RUNNING"
	case Success:
		return "SUCCESS"
	case AlreadyAdded:
		return "ALREADY_ADDED"
	case StillRunning:
		return "STILL_RUNNING"
	case CantReread:
		return "CANT_REREAD"
	}
	return ""
}

// FaultName returns the symbolic name of a fault code, or "UNKNOWN" for an
// unlisted code, as Python's getFaultDescription does.
func FaultName(code int) string {
	if n := faultName(code); n != "" {
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
// code's name, followed by ": extra" when extra is given.
func NewFault(code int, extra ...any) *Fault {
	s := FaultName(code)
	if len(extra) > 0 {
		s += ": " + fmt.Sprint(extra...)
	}
	return &Fault{Code: code, String: s}
}

func (f *Fault) Error() string { return fmt.Sprintf("fault %d: %s", f.Code, f.String) }

// FaultCode implements Faulter.
func (f *Fault) FaultCode() int { return f.Code }

// FaultString implements Faulter.
func (f *Fault) FaultString() string { return f.String }

// Faulter is satisfied by any error that carries an XML-RPC fault, so other
// packages can return faults without importing rpc. FaultString is the full
// text, e.g. "BAD_NAME: foo".
type Faulter interface {
	error
	FaultCode() int
	FaultString() string
}

// AsFault extracts a fault from err: a *Fault or any Faulter in its chain;
// else an error in the chain whose text is a fault string, "NAME" or
// "NAME: extra" with a known NAME (procman.Error, logrot.ErrBadArguments),
// taken as that fault; else FAILED with the error text.
func AsFault(err error) *Fault {
	if err == nil {
		return nil
	}
	var f *Fault
	if errors.As(err, &f) {
		return f
	}
	var fl Faulter
	if errors.As(err, &fl) {
		return &Fault{Code: fl.FaultCode(), String: fl.FaultString()}
	}
	if f := textFault(err); f != nil {
		return f
	}
	return NewFault(Failed, err.Error())
}

// textFault finds an error in err's chain whose text is a fault string.
func textFault(err error) *Fault {
	for err != nil {
		text := err.Error()
		name, _, _ := strings.Cut(text, ": ")
		if code, ok := faultCodeByName(name); ok {
			return &Fault{Code: code, String: text}
		}
		switch u := err.(type) {
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				if f := textFault(e); f != nil {
					return f
				}
			}
			return nil
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		default:
			return nil
		}
	}
	return nil
}

// faultCodeByName is the inverse of faultName.
func faultCodeByName(name string) (int, bool) {
	for code := 1; code <= CantReread; code++ {
		if n := faultName(code); n != "" && n == name {
			return code, true
		}
	}
	return 0, false
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
