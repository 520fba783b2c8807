package procman

// Fault codes of supervisor's xmlrpc.Faults (reference §4).
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

// FaultName is the name Python gives a fault code, or "UNKNOWN".
func FaultName(code int) string {
	if n, ok := faultNames[code]; ok {
		return n
	}
	return "UNKNOWN"
}

// Error is an RPC fault raised by a procman operation: Code is the fault
// code, Text the extra text (often the namespec); it may be empty.
type Error struct {
	Code int
	Text string
}

// Error returns the XML-RPC faultString: "NAME" or "NAME: text".
func (e *Error) Error() string {
	if e.Text == "" {
		return FaultName(e.Code)
	}
	return FaultName(e.Code) + ": " + e.Text
}

// FaultCode and FaultString let the RPC layer send the error as a fault
// without a conversion step (rpc.Faulter).
func (e *Error) FaultCode() int { return e.Code }

// FaultString is the XML-RPC faultString, the same as Error.
func (e *Error) FaultString() string { return e.Error() }

func fault(code int, text string) *Error { return &Error{Code: code, Text: text} }
