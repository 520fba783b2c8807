// Package signals owns Python supervisor's view of Linux signals: a
// signal's name (options.signame), a name or number read as a signal
// (datatypes.signal_number, for stopsignal and signalProcess) and the text
// of a wait status (options.decode_wait_status). testdata/golden.json holds
// Python's answers.
package signals

import (
	"errors"
	"fmt"
	"strings"
	"syscall"

	"github.com/gosupervisor/gosupervisor/internal/pyint"
	"github.com/gosupervisor/gosupervisor/internal/pyrepr"
)

// names is signame(): for each number the name Python's signal module
// lists last for it (SIGABRT over SIGIOT, SIGCHLD over SIGCLD, SIGPOLL
// over SIGIO).
var names = map[int]string{
	1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 5: "SIGTRAP",
	6: "SIGABRT", 7: "SIGBUS", 8: "SIGFPE", 9: "SIGKILL", 10: "SIGUSR1",
	11: "SIGSEGV", 12: "SIGUSR2", 13: "SIGPIPE", 14: "SIGALRM", 15: "SIGTERM",
	16: "SIGSTKFLT", 17: "SIGCHLD", 18: "SIGCONT", 19: "SIGSTOP", 20: "SIGTSTP",
	21: "SIGTTIN", 22: "SIGTTOU", 23: "SIGURG", 24: "SIGXCPU", 25: "SIGXFSZ",
	26: "SIGVTALRM", 27: "SIGPROF", 28: "SIGWINCH", 29: "SIGPOLL", 30: "SIGPWR",
	31: "SIGSYS", 34: "SIGRTMIN", 64: "SIGRTMAX",
}

// byName is getattr(signal, name) for every SIG name: the signals with
// their aliases, and the SIG_* constants.
var byName = map[string]int{
	"SIGHUP": 1, "SIGINT": 2, "SIGQUIT": 3, "SIGILL": 4, "SIGTRAP": 5,
	"SIGABRT": 6, "SIGIOT": 6, "SIGBUS": 7, "SIGFPE": 8, "SIGKILL": 9,
	"SIGUSR1": 10, "SIGSEGV": 11, "SIGUSR2": 12, "SIGPIPE": 13, "SIGALRM": 14,
	"SIGTERM": 15, "SIGSTKFLT": 16, "SIGCHLD": 17, "SIGCLD": 17, "SIGCONT": 18,
	"SIGSTOP": 19, "SIGTSTP": 20, "SIGTTIN": 21, "SIGTTOU": 22, "SIGURG": 23,
	"SIGXCPU": 24, "SIGXFSZ": 25, "SIGVTALRM": 26, "SIGPROF": 27, "SIGWINCH": 28,
	"SIGIO": 29, "SIGPOLL": 29, "SIGPWR": 30, "SIGSYS": 31, "SIGRTMIN": 34,
	"SIGRTMAX": 64,
	"SIG_DFL":  0, "SIG_IGN": 1, "SIG_BLOCK": 0, "SIG_UNBLOCK": 1, "SIG_SETMASK": 2,
}

// Name is Python's signame(): "SIGTERM", or "signal 33" for a number
// without a name.
func Name(sig int) string {
	if n, ok := names[sig]; ok {
		return n
	}
	return fmt.Sprintf("signal %d", sig)
}

// valid reports membership of Python's SIGNUMS, the values of every SIG
// name (0 is one: SIG_DFL).
func valid(n int) bool {
	_, ok := names[n]
	return ok || n == 0
}

// Number is datatypes.signal_number: value is a number (Python's int()) or
// a name in any case, with or without "SIG", surrounding spaces allowed.
// The error's text is Python's ValueError message.
func Number(value string) (int, error) {
	num, err := pyint.Parse(value, 10)
	if err != nil {
		name := strings.ToUpper(pyint.Strip(value))
		if !strings.HasPrefix(name, "SIG") {
			name = "SIG" + name
		}
		n, ok := byName[name]
		if !ok {
			return 0, errors.New("value " + pyrepr.Str(value) + " is not a valid signal name")
		}
		num = n
	}
	if !valid(num) {
		return 0, errors.New("value " + pyrepr.Str(value) + " is not a valid signal number")
	}
	return num, nil
}

// WaitStatus is decode_wait_status: the exit status (-1 when killed by a
// signal) and the text for the log ("exit status 1", "terminated by
// SIGKILL (core dumped)").
func WaitStatus(ws syscall.WaitStatus) (int, string) {
	switch {
	case ws.Exited():
		return ws.ExitStatus(), fmt.Sprintf("exit status %d", ws.ExitStatus())
	case ws.Signaled():
		msg := "terminated by " + Name(int(ws.Signal()))
		if ws.CoreDump() {
			msg += " (core dumped)"
		}
		return -1, msg
	}
	return -1, fmt.Sprintf("unknown termination cause 0x%04x", int(ws))
}
