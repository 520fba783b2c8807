package events

import "github.com/gosupervisor/gosupervisor/internal/pyrepr"

// ListenerOutputLogLine is the main-log DEBG message supervisord writes for
// each chunk a listener prints on its stdout (PEventListenerDispatcher's
// handle_read_event): "'<name>' stdout output:\n" and the chunk as a Python
// bytes repr (b'READY\n'), unlike ordinary processes whose output is shown
// as text.
func ListenerOutputLogLine(name, channel string, data []byte) string {
	return pyrepr.Str(name) + " " + channel + " output:\n" + pyrepr.Bytes(data)
}
