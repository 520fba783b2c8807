package rpc

import (
	"errors"
	"fmt"
	"strings"

	"github.com/gosupervisor/gosupervisor/procman"
)

// Fault codes of supervisor 4.2.5 (supervisor.xmlrpc.Faults). procman owns
// the table (its errors carry these codes); rpc re-exports it for its callers.
const (
	UnknownMethod        = procman.UnknownMethod
	IncorrectParameters  = procman.IncorrectParameters
	BadArguments         = procman.BadArguments
	SignatureUnsupported = procman.SignatureUnsupported
	ShutdownState        = procman.ShutdownState
	BadName              = procman.BadName
	BadSignal            = procman.BadSignal
	NoFile               = procman.NoFile
	NotExecutable        = procman.NotExecutable
	Failed               = procman.Failed
	AbnormalTermination  = procman.AbnormalTermination
	SpawnError           = procman.SpawnError
	AlreadyStarted       = procman.AlreadyStarted
	NotRunning           = procman.NotRunning
	Success              = procman.Success
	AlreadyAdded         = procman.AlreadyAdded
	StillRunning         = procman.StillRunning
	CantReread           = procman.CantReread
)

// faultName maps a code to its name ("" when unlisted).
func faultName(code int) string {
	if n := procman.FaultName(code); n != "UNKNOWN" {
		return n
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
