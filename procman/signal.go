package procman

import (
	"syscall"

	"github.com/gosupervisor/gosupervisor/internal/signals"
)

// ParseSignal converts a signal given as a name ("HUP", "sigusr1", any case,
// surrounding spaces allowed) or a number ("9") to its number, as Python's
// datatypes.signal_number does. A bad value is ErrBadSignal with the value
// as given.
func ParseSignal(value string) (syscall.Signal, error) {
	n, err := signals.Number(value)
	if err != nil {
		return 0, reqError(ErrBadSignal, value)
	}
	return syscall.Signal(n), nil
}
