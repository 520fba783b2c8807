package procman

import (
	"fmt"
	"strconv"
	"strings"
	"syscall"
)

// signalNames maps a signal number to Python's signame() on Linux (the last
// alias in Python's signal module wins: SIGABRT, SIGCHLD, SIGPOLL).
var signalNames = map[int]string{
	1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 5: "SIGTRAP",
	6: "SIGABRT", 7: "SIGBUS", 8: "SIGFPE", 9: "SIGKILL", 10: "SIGUSR1",
	11: "SIGSEGV", 12: "SIGUSR2", 13: "SIGPIPE", 14: "SIGALRM", 15: "SIGTERM",
	16: "SIGSTKFLT", 17: "SIGCHLD", 18: "SIGCONT", 19: "SIGSTOP", 20: "SIGTSTP",
	21: "SIGTTIN", 22: "SIGTTOU", 23: "SIGURG", 24: "SIGXCPU", 25: "SIGXFSZ",
	26: "SIGVTALRM", 27: "SIGPROF", 28: "SIGWINCH", 29: "SIGPOLL", 30: "SIGPWR",
	31: "SIGSYS", 34: "SIGRTMIN", 64: "SIGRTMAX",
}

// signalByName is every name Python's signal module resolves for
// signal_number(): the SIG* names with aliases, and the SIG_* constants.
var signalByName = map[string]int{
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

// SigName is Python's signame(): "SIGTERM", or "signal 33" for a number
// without a name.
func SigName(sig int) string {
	if n, ok := signalNames[sig]; ok {
		return n
	}
	return fmt.Sprintf("signal %d", sig)
}

// validSignum reports membership of Python's SIGNUMS (0 is in it, because of
// SIG_BLOCK/SIG_DFL).
func validSignum(n int) bool {
	if n == 0 {
		return true
	}
	_, ok := signalNames[n]
	return ok
}

// ParseSignal converts a signal given as a name ("HUP", "sigusr1", any case,
// surrounding spaces allowed) or a number ("9") to its number, as Python's
// datatypes.signal_number does. A bad value gets BAD_SIGNAL with the value as
// given.
func ParseSignal(value string) (syscall.Signal, error) {
	n, err := strconv.Atoi(strings.TrimSpace(value))
	if err != nil {
		name := strings.ToUpper(strings.TrimSpace(value))
		if !strings.HasPrefix(name, "SIG") {
			name = "SIG" + name
		}
		num, ok := signalByName[name]
		if !ok {
			return 0, reqError(ErrBadSignal, value)
		}
		n = num
	}
	if !validSignum(n) {
		return 0, reqError(ErrBadSignal, value)
	}
	return syscall.Signal(n), nil
}
